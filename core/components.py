"""The component types plugins register: datasets, models, metrics, features, reproductions."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from affrepro.audit import DatasetAudit
    from affrepro.card import Card
    from affrepro.runner import RunContext

Access = Literal["public", "licensed"]


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset: its path inside the dataset folder, digest, and origin.

    The digest is ``sha256``, or ``sha512`` where that is what the authors publish.
    ``extract=True`` marks a ZIP archive whose members ``fetch`` unpacks into the dataset
    folder (paths inside the archive are kept); the unpacked files are then checked by the
    dataset's own ``verify``, and the archive may be deleted once unpacked.
    """

    name: str
    sha256: str | None
    url: str | None = None
    size: int | None = None
    sha512: str | None = None
    extract: bool = False

    @property
    def digest(self) -> tuple[str, str] | None:
        """(algorithm, hex digest) to check this file against, or None if none is declared."""
        if self.sha256:
            return "sha256", self.sha256
        if self.sha512:
            return "sha512", self.sha512
        return None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a data folder, as ``data verify`` lists it."""

    path: str
    message: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
        if self.column is not None:
            where += f" [{self.column}]"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Dataset:
    """A dataset a reproduction reads.

    Public datasets list every file with its URL and sha256 and are fetched; licensed
    datasets are never downloaded: the user links a folder, ``verify`` checks its layout,
    and ``synthesize`` writes a small synthetic corpus in exactly the real format.
    """

    name: str
    description: str
    access: Access
    licence: str
    homepage: str
    files: tuple[DataFile, ...] = ()
    how_to_get: str = ""
    verify: Callable[[Path], list[Problem]] | None = None
    synthesize: Callable[[Path, int], None] | None = None
    mirror_name: str | None = None
    auto_fetch: bool = True  # False: `reproduce` never downloads it (large), `data fetch` does
    audit: DatasetAudit | None = None  # its published statistics as claims (affrepro.audit)

    @property
    def mirror_dir(self) -> str:
        """Folder name under ``AFFREPRO_DATA_MIRROR`` (default: the name with ``_`` for ``-``)."""
        return self.mirror_name or self.name.replace("-", "_")


@dataclass(frozen=True)
class Metric:
    """A metric: ``fn(y_true, y_pred, **kw) -> float``; its docstring carries the formula.

    ``streaming``, when given, makes the same metric's update/merge/compute accumulator.
    """

    name: str
    fn: Callable[..., float]
    higher_is_better: bool
    description: str = ""
    streaming: Callable[[], Any] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> float:
        return self.fn(*args, **kwargs)


@dataclass(frozen=True)
class Model:
    """A model family: ``factory(**params)`` returns an object with fit/predict."""

    name: str
    factory: Callable[..., Any]
    description: str = ""


@dataclass(frozen=True)
class Feature:
    """A feature extractor: ``extract(signal, sample_rate, **settings) -> array``.

    ``numba_parallel``: whether it runs Numba kernels compiled with ``parallel=True``; two
    such kernels at once abort the process under Numba's 'workqueue' threading layer, so
    ``features extract -j N`` then takes one file at a time (False lets it run in parallel).
    ``columns(settings, n)``: names of the ``n`` feature columns (the rows of a frame-wise
    feature, the last axis of a per-file one) for tabular output (``.parquet``); None names
    them ``<name>_0``, ``<name>_1``... (zero-padded).
    """

    name: str
    extract: Callable[..., Any]
    description: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    numba_parallel: bool = True
    columns: Callable[[Mapping[str, Any], int], Sequence[str]] | None = None


@dataclass(frozen=True)
class EvaluationProtocol:
    """How ``affrepro evaluate`` scores a user's prediction files for a paper with its
    challenge's official rules: ``module`` defines ``DATASET`` (the annotations' dataset),
    ``evaluate(annotations, predictions, *, length_policy)`` and
    ``synthesize_predictions(annotations, out, seed)``; ``length_policy`` is what a
    prediction file of the wrong length gets by default (the official script's behaviour).
    On a card: ``[protocol.evaluation] module = ".evaluation"``."""

    LENGTH_POLICIES = ("error", "crop-pad")

    module: str
    length_policy: str = "error"


@dataclass(frozen=True)
class Reproduction:
    """A paper: its card (``paper.toml``) and the protocol that measures its claims.

    ``protocol(ctx)`` returns ``{claim_id: measured_value}`` for the claims in
    ``ctx.claims_to_measure``; it may record extra results with ``ctx.record`` and leave a
    claim unmeasured on purpose with ``ctx.skip(claim_id, reason)``, or report that one
    claim's measurement failed with ``ctx.fail(claim_id, reason)`` (verdict ``error``, the
    other claims keep theirs). The protocol runs when
    its ``datasets`` are available and some claim is measurable, or always when
    ``run_without_claims`` is set (for extension results that are not claims).
    ``evaluation``: how ``affrepro evaluate`` scores prediction files for this paper, if it can.

    In-repo papers are built from their cards (``[protocol] run = "module:function"``, see
    :mod:`affrepro.catalogue`); a plugin package may also construct one in its hooks.
    """

    slug: str
    card_path: Path
    protocol: Callable[[RunContext], Mapping[str, float]] | None = None
    datasets: tuple[str, ...] = ()
    run_without_claims: bool = False
    evaluation: EvaluationProtocol | None = None

    @property
    def card(self) -> Card:
        from affrepro.card import load_card

        return load_card(self.card_path)
