"""Domain errors. The CLI turns each into a one-line message; Python callers catch them."""
from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class AffreproError(Exception):
    """Base class of every error affrepro raises on purpose."""


class UnknownNameError(AffreproError, KeyError):
    """A paper, dataset, metric, model or plugin name that is not registered."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        self.kind, self.name = kind, name
        known = sorted(known)
        self.suggestions = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        if not self.suggestions:  # substring matches help with partial slugs ("araus")
            self.suggestions = [k for k in known if name.lower() in k.lower()][:3]
        msg = f"unknown {kind} {name!r}"
        if self.suggestions:
            msg += "; did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?"
        else:
            msg += f"; `affrepro list` shows the {len(known)} known"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class CardError(AffreproError):
    """A paper card (paper.toml) that does not follow the schema."""


class PluginError(AffreproError):
    """A plugin that failed to load or register (fatal only in strict mode)."""


class DuplicateNameError(PluginError):
    """Two plugins registered the same name in one registry."""


class DataError(AffreproError):
    """Dataset acquisition or verification failed."""


class MissingDataError(DataError):
    """Data a run needs is not on this machine; the message says how to get it."""


class ChecksumError(DataError):
    """A file whose sha256 differs from the one the dataset declares."""

    def __init__(self, path: Path | str, expected: str, actual: str, source: str = "",
                 algorithm: str = "sha256"):
        self.path, self.expected, self.actual = Path(path), expected, actual
        self.algorithm, self.source = algorithm, source
        where = f" (from {source})" if source else ""
        super().__init__(
            f"checksum mismatch for {self.path.name}{where}: expected {algorithm} {expected}, "
            f"got {actual}; the download was discarded"
        )


class DownloadError(DataError):
    """A download that failed or was cut short; a partial file is kept for resuming."""


class MalformedFileError(DataError):
    """A data file whose content is not what its format promises."""

    def __init__(self, path: Path | str, message: str, line: int | None = None,
                 column: str | int | None = None):
        self.path, self.line, self.column, self.detail = Path(path), line, column, message
        where = str(self.path)
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {message}")


class TrackingError(AffreproError):
    """The MLflow store could not be reached or refused a value."""


class NonFiniteMetricError(TrackingError, ValueError):
    """A metric value that is NaN or infinite; MLflow runs hold finite numbers only."""


class ModelError(AffreproError):
    """A language model that could not be loaded or did not answer as its interface promises."""


class UnknownModelSpec(ModelError):
    """A ``--model`` spec that no backend understands; the message lists the known ones."""

    def __init__(self, spec: str, known: Iterable[str]):
        self.spec, self.known = spec, sorted(known)
        super().__init__(f"unknown model {spec!r}; known models and backends: "
                         + ", ".join(self.known)
                         + " (e.g. smollm2-135m, local:/path/model.gguf, "
                           "openai:http://127.0.0.1:8000/v1#MODEL)")


class ModelFileError(ModelError):
    """A model file that is missing, truncated or whose sha256 differs from the recorded one."""


class ModelServerError(ModelError):
    """A model server that is unreachable, or answered with an error or malformed content.

    ``status`` is the HTTP status when there was one; ``retried`` how many attempts were made."""

    def __init__(self, message: str, status: int | None = None, attempts: int = 1):
        self.status, self.attempts = status, attempts
        super().__init__(message)


class ModelAuthError(ModelServerError):
    """The server refused the key (HTTP 401/403); never retried."""


class ContextTooLong(ModelError):
    """A prompt (plus the tokens to generate) that does not fit the model's context window."""

    def __init__(self, model: str, n_tokens: int, max_context: int, what: str = "prompt"):
        self.model, self.n_tokens, self.max_context = model, n_tokens, max_context
        super().__init__(f"{what} of {n_tokens} tokens does not fit the context of model "
                         f"{model!r} ({max_context} tokens)")


class CapabilityMissing(ModelError):
    """The model cannot do what a protocol asks (chat, log-likelihoods)."""

    def __init__(self, model: str, capability: str, detail: str = ""):
        self.model, self.capability = model, capability
        super().__init__(f"model {model!r} lacks the {capability!r} capability"
                         + (f": {detail}" if detail else ""))
