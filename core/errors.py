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
