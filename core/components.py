"""The component types plugins register: datasets, models, metrics, features, reproductions."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from affrepro.errors import DataError

if TYPE_CHECKING:
    from affrepro.audit import DatasetAudit
    from affrepro.card import Card, EvaluationProtocol
    from affrepro.registry import Registries

Access = Literal["public", "licensed"]
StageCallback = Callable[[str], None]
ProgressCallback = Callable[[str, int, int], None]  # (task label, done, total)
_RECORD_NAME = re.compile(r"^[A-Za-z0-9_\-. /:]+$")  # what MLflow accepts as a metric name


def check_plain_name(name: str, what: str) -> str:
    """A name that becomes one folder: no separators, no '..', not absolute, not empty."""
    if (not isinstance(name, str) or not name.strip() or name in (".", "..") or "/" in name
            or "\\" in name or "\x00" in name):
        raise ValueError(f"{what} {name!r}: must be one plain name (no '/', '\\', '..' or NUL)")
    return name


def check_relative_name(name: str, what: str) -> str:
    """A path inside a folder: relative, no '..' part, no backslash or NUL."""
    from pathlib import PurePosixPath

    bad = (not isinstance(name, str) or not name.strip() or "\\" in name or "\x00" in name
           or name.startswith("/") or any(p in ("..", "") for p in name.split("/"))
           or PurePosixPath(name).is_absolute())
    if bad:
        raise ValueError(f"{what} {name!r}: must be a relative path inside the dataset folder "
                         "(no '..', no leading '/', no '\\' or NUL)")
    return name


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
    local_source: bool = False  # the plugin declares a file:// URL on purpose (see docs/reliability.md)

    def __post_init__(self) -> None:
        check_relative_name(self.name, "data file name")

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
    expected: str | None = None  # set for a checksum mismatch: "sha256 <hex>" declared ...
    actual: str | None = None    # ... and found

    @property
    def integrity(self) -> bool:
        """A file that is there but not the declared one (a checksum mismatch)."""
        return self.expected is not None

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
    splits: str = ""  # "module:function" -> list[affrepro.splits.Partition], audited with every run

    def __post_init__(self) -> None:
        check_plain_name(self.name, "dataset name")
        if self.mirror_name is not None:
            check_plain_name(self.mirror_name, "dataset mirror_name")

    @classmethod
    def licensed_in(cls, module: str, **fields: Any) -> Dataset:
        """A licensed dataset whose ``verify(folder)`` and ``synthesize(folder, seed)`` are
        functions of ``module``, imported on first use (registering stays cheap)."""
        from affrepro.lazy import lazy

        return cls(access="licensed", verify=lazy(f"{module}:verify"),
                   synthesize=lazy(f"{module}:synthesize"), **fields)

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
    ``stacks``: ``extract`` keeps leading axes and treats each slice alone, so signals of
    one shape can be stacked (stimuli, [channels,] samples) and extracted in one call;
    ``features extract --backend triton`` (or ``--batch N``) then runs a batch of files at
    once (corpus extraction on a GPU).
    """

    name: str
    extract: Callable[..., Any]
    description: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    numba_parallel: bool = True
    columns: Callable[[Mapping[str, Any], int], Sequence[str]] | None = None
    stacks: bool = False


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


@dataclass
class RunContext:
    """What a protocol sees, and the API every protocol uses.

    Read: ``card``, ``claims_to_measure`` (the claim ids whose requirements are met),
    ``seeds``, ``device``, ``dry_run`` (synthetic data in the real layout), ``output_dir``,
    ``data_path(name)`` (a verified dataset folder), ``metric(name)`` (a registered metric),
    ``registries``. Report: return ``{claim_id: value}``; ``record(name, value)`` (a result
    that is not a claim), ``skip(claim_id, reason)``, ``fail(claim_id, reason)``,
    ``deviation(text)``, ``note(key, value)`` (structured detail for report.json),
    ``stage(message)`` and ``progress(label, done, total)``. Language models: ``model`` (the
    run's ``--model`` behind the cached engine, loaded on first use), ``limited(items)``
    (``--limit``), ``sample_log(task, row)`` (per-sample JSONL artifact).
    """

    paper: Reproduction
    card: Card
    data: dict[str, Path]
    claims_to_measure: list[str]
    seeds: tuple[int, ...]
    device: str
    dry_run: bool
    output_dir: Path
    registries: Registries
    records: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    deviations: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    stage: StageCallback = lambda msg: None
    progress: ProgressCallback = lambda label, done, total: None
    model_spec: str | None = None  # --model; None: AFFREPRO_MODEL or the embedded default
    limit: int | None = None       # --limit N: the first N items per task (lm-eval's convention)
    no_cache: bool = False         # --no-cache: every request goes to the model
    # builds the engine from this context (set by the runner: core's layers keep
    # components below the language-model modules)
    model_opener: Callable[[RunContext], Any] | None = field(default=None, repr=False)
    _engine: Any = field(default=None, repr=False)
    # scale-out (affrepro.executor): where ctx.map computes units, the driver's journal of
    # finished units (resume), what the driver does with each outcome (a child run), and
    # the sha256 of each dataset's files (checked again where a unit runs)
    executor: Any = field(default=None, repr=False)
    journal: Any = field(default=None, repr=False)
    on_unit: Callable[[str, Any], None] | None = field(default=None, repr=False)
    data_sha256: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def data_ref(self, name: str):
        """Dataset ``name`` as a unit argument (:class:`affrepro.executor.DataRef`): the
        unit receives its folder where it runs, verified there by checksum."""
        from affrepro.executor import DataRef

        folder = self.data_path(name)
        mirror = self.registries.datasets.get(name).mirror_dir if name in self.registries.datasets else ""
        return DataRef(name, str(folder), mirror, dict(self.data_sha256.get(name, {})))

    def map(self, fn: Callable[..., Any], units: Mapping[str, Any], *, label: str = "units",
            ordered: bool = False, on_result: Callable[[Any], None] | None = None,
            journal_scope: str = "") -> dict[str, Any]:
        """``{name: fn(*args)}`` for the independent ``units`` (``{name: args}``), computed
        by the run's executor (in-process, or Dask workers with ``--cluster``); ``fn`` must
        be a module-level function. Units recorded by an interrupted earlier run of the same
        protocol are taken from its journal. Every unit runs even when some raise; then
        :class:`affrepro.executor.UnitsFailed` names the failed ones with their tracebacks.
        ``on_result(outcome)`` is called on the driver for each unit that finished, as it
        comes in (``ordered``: in the units' order, resumed ones first). ``journal_scope``
        is added to the units' journal keys: a unit recorded under another scope (e.g. other
        model weights) is computed again."""
        from affrepro.executor import LocalExecutor, UnitsFailed, items_of

        items = items_of(units)
        ex = self.executor or LocalExecutor()
        results: dict[str, Any] = {}
        failed = []
        todo = []
        log = self.details.setdefault("units", {})
        key = f"{label}@{journal_scope}" if journal_scope else label
        for name, args in items:
            prev = self.journal.get(f"{key}/{name}", self.seeds) if self.journal else None
            if prev is not None:
                import dataclasses

                prev = dataclasses.replace(prev, resumed=True)
                results[name] = prev.value
                self._unit_done(label, prev, log)
                if on_result is not None:
                    on_result(prev)
            else:
                todo.append((name, args))
        done = len(items) - len(todo)
        self.progress(label, done, len(items))
        for out in ex.run(fn, todo, ordered=ordered):
            if out.ok:
                results[out.name] = out.value
                if self.journal is not None:
                    self.journal.put(f"{key}/{out.name}", out, self.seeds)
            else:
                failed.append(out)
            self._unit_done(label, out, log)
            if out.ok and on_result is not None:
                on_result(out)
            done += 1
            self.progress(label, done, len(items))
        if failed:
            raise UnitsFailed(failed)
        return {name: results[name] for name, _ in items}

    def map_model(self, fn: Callable[..., Any], units: Mapping[str, Any], *, label: str = "units",
                  on_result: Callable[[str, Any], None] | None = None) -> dict[str, Any]:
        """:meth:`map` for units that call the run's language model: ``{name: fn(model,
        *args)}``, in the units' order. In-process the units share the run's engine; on Dask
        workers each worker loads the model once (not once per unit) and reads the request
        cache, and the driver writes what the units computed into it and adds their counts
        to the run's (:mod:`affrepro.lm_units`). ``on_result(name, value)`` as each unit
        finishes, in order. Journal entries are scoped by the model's fingerprint (the
        weights' sha256, the server's model id): an interrupted run resumes only units its
        model computed, even where the spec names a file whose content changed."""
        from affrepro import lm_units
        from affrepro.executor import items_of

        engine = self.model
        if getattr(self.executor, "kind", "local") == "local":
            call, first = lm_units.call_with_engine, engine
        else:
            call, first = lm_units.call_with_model, engine.unit_ref(self.model_spec or "")

        def take(out: Any) -> None:
            lm_units.record(engine, out.value, resumed=out.resumed)
            if on_result is not None:
                on_result(out.name, out.value.value)

        wrapped = {name: (fn, first, *args) for name, args in items_of(units)}
        journal = self.journal
        if self.no_cache:  # --no-cache: every request goes to the model, none comes from a journal
            self.journal = None
        try:
            done = self.map(call, wrapped, label=label, ordered=True, on_result=take,
                            journal_scope=engine.fingerprint)
        finally:
            self.journal = journal
        return {name: r.value for name, r in done.items()}

    def _unit_done(self, label: str, out: Any, log: dict[str, Any]) -> None:
        entry = {"status": "ok" if out.ok else "error", "seconds": round(out.seconds, 3),
                 "worker": out.worker, "resumed": out.resumed}
        if not out.ok:
            entry["traceback"] = out.error
        seed = f"seed{self.seeds[0]}/" if len(self.seeds) == 1 else ""
        log[f"{seed}{label}/{out.name}"] = entry
        if self.on_unit is not None:
            self.on_unit(f"{seed}{label}", out)

    @property
    def model(self):
        """The run's language model (an :class:`affrepro.lm_engine.Engine`), loaded on first use."""
        if self._engine is None:
            if self.model_opener is None:
                from affrepro.errors import ModelError

                raise ModelError("this run context has no language model (model_opener is unset; "
                                 "affrepro.runner.reproduce sets it)")
            self.stage(f"loading language model {self.model_spec or 'default'}")
            self._engine = self.model_opener(self)
        return self._engine

    def limited(self, items):
        """``items`` cut to ``--limit`` (a list; the run records the limit as a deviation)."""
        items = list(items)
        return items[:self.limit] if self.limit is not None else items

    def sample_log(self, task: str, row: Mapping[str, Any]) -> None:
        """Append one per-sample row (prompt, answer, score, ...) to ``samples/<task>.jsonl``
        in the output folder (an MLflow artifact). Each row is one complete line, written
        with a single append: a kill leaves whole rows only."""
        from affrepro.fileio import append_jsonl

        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", task).strip("._")
        if not name:
            raise ValueError(f"task name {task!r} has no usable characters for a file name")
        append_jsonl(self.output_dir / "samples" / f"{name}.jsonl", row)

    def data_path(self, name: str) -> Path:
        """The verified folder of dataset ``name`` for this run (fetched, linked, or the
        synthetic corpus of a dry run); DataError if the run did not resolve it."""
        try:
            return self.data[name]
        except KeyError:
            raise DataError(f"the protocol asked for dataset {name!r}, which this run did not resolve; "
                            f"declare it in the Reproduction's datasets") from None

    def metric(self, name: str) -> Metric:
        """The registered metric ``name`` (``metric(name)(y_true, y_pred)``)."""
        return self.registries.metrics.get(name)

    def record(self, name: str, value: float) -> None:
        """An extra measured result that is not a claim (logged and reported).

        The name must be one MLflow accepts (letters, digits, ``_ - . / :`` and spaces),
        checked here rather than when the run is logged at the end."""
        if not _RECORD_NAME.match(name):
            raise ValueError(f"record name {name!r}: use letters, digits, '_', '-', '.', '/', ':' "
                             "and spaces only (MLflow's rule for metric names)")
        self.records[name] = float(value)

    def skip(self, claim_id: str, reason: str) -> None:
        """Leave one claim unmeasured on purpose (say why and how to get there)."""
        self.card.claim(claim_id)
        self.skipped[claim_id] = reason

    def fail(self, claim_id: str, reason: str) -> None:
        """One claim's measurement failed (verdict ``error``); the others keep theirs."""
        self.card.claim(claim_id)
        self.failed[claim_id] = reason

    def deviation(self, text: str) -> None:
        """A departure from the paper's method; every one lands in the report."""
        if text not in self.deviations:
            self.deviations.append(text)

    def note(self, key: str, value: Any) -> None:
        """Structured detail for report.json (tables, consistency checks)."""
        self.details[key] = value


# What a protocol reads from its RunContext, for docs/plugin-api.md (generated; a test
# fails when a public field of RunContext is missing here or a name here is not a field).
RUN_CONTEXT_FIELDS: dict[str, str] = {
    "paper": "The Reproduction being run.",
    "card": "Its parsed paper.toml (affrepro.card.Card); `card.raw` is the TOML as read.",
    "data": "Dataset name -> verified folder (prefer `data_path(name)`).",
    "claims_to_measure": "Ids of the claims whose requirements this run meets.",
    "seeds": "The run's seeds (`--seeds`, else the card's protocol.seeds).",
    "device": "cpu, cuda or cuda:N.",
    "dry_run": "True on `--dry-run`: synthetic data in the real layout for licensed datasets.",
    "output_dir": "The run's folder (report.json, report.md, artifacts).",
    "registries": "Every registered dataset, model, metric, feature and reproduction.",
    "records": "Written by `record()`.",
    "skipped": "Written by `skip()`.",
    "failed": "Written by `fail()`.",
    "deviations": "Written by `deviation()`; starts with the card's protocol.deviations.",
    "details": "Written by `note()`.",
    "stage": "`stage(message)`: say what the protocol is doing (a line on the terminal or the log).",
    "progress": "`progress(label, done, total)`: a counter (a bar on a terminal, a line now and then on a log).",
    "model_spec": "`--model` (None: AFFREPRO_MODEL or the embedded default).",
    "limit": "`--limit N`: at most N items per task (see `limited()`).",
    "no_cache": "`--no-cache`: every LM request goes to the model.",
    "model_opener": "Set by the runner: builds the engine behind `model`.",
    "executor": "Set by the runner: where `map()` computes its units (in-process, or Dask workers with `--cluster`).",
    "journal": "Set by the runner: the driver's journal of finished units, from which a resumed run takes them.",
    "on_unit": "Set by the runner: what the driver does with each finished unit (a child run).",
    "data_sha256": "Set by the runner: dataset name -> file -> sha256, checked by a worker that reads the data (`data_ref()`).",
}
