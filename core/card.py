"""Paper cards (``paper.toml``): the schema and its validation.

Every field error names the file and the field, e.g.
``paper.toml: claims[2].tolerance: needs exactly one of absolute, relative, std_multiple``.
"""
from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from affrepro.claims import Claim, Requirements, Tolerance
from affrepro.errors import CardError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PAPER_CLASSES = {
    "A": "published numbers recomputable from public data",
    "B": "licensed data: real loader and protocol, the user supplies the data",
    "C": "needs an LLM/MLLM or large weights behind a model backend",
    "D": "survey, workshop or review: no computation",
}
ACCESS = ("public", "licensed", "hub-only", "not released", "none")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*-(?:19|20)\d\d$")
CLAIM_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
URL_RE = re.compile(r"^https?://[^\s/$.?#].[^\s]*$")
TOLERANCE_KINDS = ("absolute", "relative", "std_multiple")
# "package.module:function", or ".module:function" relative to the paper's own package
MODULE_REF_RE = re.compile(r"^\.?[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
CODE_REF_RE = re.compile(MODULE_REF_RE.pattern[:-1] + r":[A-Za-z_]\w*$")
LM_CAPABILITIES = ("chat", "logprobs")


@dataclass(frozen=True)
class CardKey:
    """One key a card may hold: its dotted path (``claims[].tolerance.why``), TOML type,
    whether the parser requires it, an example value (TOML) and what it means."""

    path: str
    type: str
    required: bool
    example: str
    doc: str


# Every key of paper.toml. The parser refuses a key that is not here (a typo would
# otherwise be ignored), docs/plugin-api.md is generated from it, and a test checks it
# against the parser (tests/core/test_card_keys.py). [protocol] is open: a paper's own
# settings (shots, splits, ...) go there and reach the protocol as card.raw["protocol"].
CARD_KEYS: tuple[CardKey, ...] = (
    CardKey("slug", "string", True, '"araus-2022"', "`<shortname>-<year>` in lower case; the paper's name on the command line."),
    CardKey("title", "string", True, '"ARAUS: A Large-Scale Dataset and Baseline Models of ..."', "The paper's title."),
    CardKey("authors", "list of strings", False, '["Kenneth Ooi", "Zhen-Ting Ong"]', "Authors, in the paper's order."),
    CardKey("venue", "string", True, '"IEEE Transactions on Affective Computing"', "Where it was published."),
    CardKey("year", "integer", True, "2022", "Year of publication."),
    CardKey("class", "string", True, '"A"', "A: public data; B: licensed data; C: needs a model backend; D: no computation."),
    CardKey("doi", "string", False, '"10.18653/v1/2024.clinicalnlp-1.8"', "DOI (10.NNNN/...)."),
    CardKey("arxiv", "string", False, '"2207.01078"', "arXiv id (NNNN.NNNNN)."),
    CardKey("published_numbers", "string", False, '"retrieved from the authors\' notebooks"', "Whether the paper's numbers were found; 'not retrieved' (the default) allows no claims."),
    CardKey("notes", "string", False, '"Class A: ..."', "Free text shown by `affrepro show`."),
    CardKey("links", "table", False, "", "Where the paper's code and data are."),
    CardKey("links.code", "list of strings", False, '["https://github.com/ntudsp/araus-dataset-baseline-models"]', "http(s) URLs of the authors' code."),
    CardKey("links.data", "list of strings", False, '["https://doi.org/10.21979/N9/9OTEVX"]', "http(s) URLs of the data."),
    CardKey("data_access", "table", False, "", "How the data can be had."),
    CardKey("data_access.access", "string", False, '"public"', "One of public, licensed, hub-only, not released, none (default none)."),
    CardKey("data_access.licence", "string", False, '"CC BY-NC 4.0"', "The data's licence."),
    CardKey("protocol", "table", False, "", "How the claims are measured; any other key here is the paper's own setting (card.raw['protocol'])."),
    CardKey("protocol.seeds", "list of integers", False, "[0]", "Default seeds (`--seeds` overrides); default [0]."),
    CardKey("protocol.deviations", "list of strings", False, '["<what differs from the paper, and why>"]', "Known departures from the paper, copied into every report."),
    CardKey("protocol.run", "string", False, '".protocol:run"', "`package.module:function` (or `.module:function` in the paper's package) taking a RunContext."),
    CardKey("protocol.datasets", "list of strings", False, '["araus"]', "Datasets the protocol reads besides those its claims require."),
    CardKey("protocol.run_without_claims", "boolean", False, "true", "Run the protocol even when no claim can be measured (its records and tables are the result)."),
    CardKey("protocol.extras", "list of strings", False, '["natural-hazards"]', "`affrepro[<extra>]` the protocol needs; `reproduce` names the one missing."),
    CardKey("protocol.evaluation", "table", False, "", "`affrepro evaluate`: scoring a user's predictions with the challenge's rules."),
    CardKey("protocol.evaluation.module", "string", True, '".evaluation"', "Module defining DATASET, evaluate() and synthesize_predictions()."),
    CardKey("protocol.evaluation.length_policy", "string", False, '"crop-pad"', "error or crop-pad: what a prediction file of the wrong length gets."),
    CardKey("protocol.noise", "table", False, "", "The protocol's randomness (docs/verdicts.md)."),
    CardKey("protocol.noise.stochastic", "list of strings", False, '["CNN weight initialisation (torch.manual_seed)"]', "What varies with the seed; empty: deterministic (run once)."),
    CardKey("protocol.noise.seeds_in_protocol", "boolean", False, "false", "The protocol loops over ctx.seeds itself."),
    CardKey("protocol.noise.deterministic_claims", "list of strings", False, '["participant-only-macro-f1"]', "Claims that do not move with the seed although the protocol does (measured once)."),
    CardKey("claims", "array of tables", False, "", "`[[claims]]`: one published number each."),
    CardKey("claims[].id", "string", True, '"participant-only-macro-f1"', "Lower case letters, digits, '-', '_' or '.'; unique in the card."),
    CardKey("claims[].description", "string", True, '"Best Participant-only InducT-GCN, dev macro-F1"', "What the number is."),
    CardKey("claims[].source", "string", True, '"github idiap/bias_in_daic-woz README \'Results\'"', "Where the paper publishes it."),
    CardKey("claims[].metric", "string", True, '"f1_macro"', "A registered metric (`affrepro plugins`)."),
    CardKey("claims[].value", "float", True, "0.8493", "The published value."),
    CardKey("claims[].higher_is_better", "boolean", True, "true", "Direction of the metric."),
    CardKey("claims[].std", "float", False, "0.002", "Published standard deviation (needed by std_multiple)."),
    CardKey("claims[].n_seeds", "integer", False, "10", "Seeds the published mean is over."),
    CardKey("claims[].tolerance", "table", True, '{ absolute = 5e-5, why = "published to 4 decimals" }', "Exactly one of absolute, relative, std_multiple, and why."),
    CardKey("claims[].tolerance.absolute", "float", False, "5e-5", "|measured - published| allowed."),
    CardKey("claims[].tolerance.relative", "float", False, "0.05", "Allowed difference as a fraction of the published value."),
    CardKey("claims[].tolerance.std_multiple", "float", False, "2.0", "Allowed difference in published standard deviations."),
    CardKey("claims[].tolerance.why", "string", True, '"published to 4 decimals"', "One line justifying the tolerance."),
    CardKey("claims[].requires", "table", False, "", "What the claim needs to be measured here."),
    CardKey("claims[].requires.datasets", "list of strings", False, '["daic-woz-bias"]', "Registered datasets."),
    CardKey("claims[].requires.models", "list of strings", False, '["inductgcn"]', "Registered models."),
    CardKey("claims[].requires.llm", "boolean", False, "true", "Needs a language-model backend (`--model`)."),
    CardKey("claims[].requires.gpu", "boolean", False, "false", "Needs a CUDA GPU."),
    CardKey("claims[].requires.model", "list of strings", False, '["smollm2-135m"]', "The model(s) the number was published for; on another model it is reported, not judged."),
    CardKey("claims[].requires.capabilities", "list of strings", False, '["logprobs"]', "LM capabilities needed: chat, logprobs."),
)
# tables whose keys are not all listed: [protocol] holds each paper's own settings
OPEN_TABLES = ("protocol",)


def _known_keys(r: "_Reader", table: dict, prefix: str, where: str | None = None) -> None:
    """Name every key of ``table`` (at ``prefix``, e.g. "claims[].") that CARD_KEYS lacks."""
    if prefix.rstrip(".") in OPEN_TABLES:
        return
    known = {k.path[len(prefix):] for k in CARD_KEYS
             if k.path.startswith(prefix) and "." not in k.path[len(prefix):].replace("[]", "")}
    for key in table:
        if key not in known:
            r.err(f"{where if where is not None else prefix}{key}",
                  f"unknown key; expected one of {', '.join(sorted(known))} (docs/plugin-api.md)")


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
class Card:
    path: Path
    slug: str
    title: str
    authors: tuple[str, ...]
    venue: str
    year: int
    paper_class: str
    doi: str = ""
    arxiv: str = ""
    code: tuple[str, ...] = ()
    data: tuple[str, ...] = ()
    data_licence: str = ""
    data_access: str = "none"
    numbers: str = "not retrieved"  # whether published numbers were found
    notes: str = ""
    seeds: tuple[int, ...] = (0,)
    deviations: tuple[str, ...] = ()
    # [protocol] run / datasets / run_without_claims / [protocol.evaluation]: the code that
    # measures the claims (see affrepro.catalogue); empty for a card-only paper
    protocol_run: str = ""
    protocol_datasets: tuple[str, ...] = ()
    run_without_claims: bool = False
    evaluation: EvaluationProtocol | None = None
    extras: tuple[str, ...] = ()  # [protocol] extras: affrepro[<extra>] the protocol needs
    claims: tuple[Claim, ...] = field(default_factory=tuple)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def claim(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(claim_id)


class _Reader:
    """Pulls typed fields out of a TOML table, collecting every problem before failing."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[str] = []

    def err(self, where: str, msg: str) -> None:
        self.problems.append(f"{where}: {msg}")

    def get(self, table: dict, key: str, typ: type | tuple, where: str, required: bool = True,
            default: Any = None) -> Any:
        if key not in table:
            if required:
                self.err(f"{where}{key}", "missing")
            return default
        value = table[key]
        if typ is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, typ) or (typ is not bool and isinstance(value, bool)):
            names = typ.__name__ if isinstance(typ, type) else " or ".join(t.__name__ for t in typ)
            self.err(f"{where}{key}", f"expected {names}, got {type(value).__name__} {value!r}")
            return default
        return value

    def str_list(self, table: dict, key: str, where: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.err(f"{where}{key}", "expected a list of strings")
            return ()
        return tuple(value)


def parse_card(path: Path, doc: dict[str, Any]) -> Card:
    r = _Reader(path)
    _known_keys(r, doc, "")
    for table in ("links", "data_access"):
        if isinstance(doc.get(table), dict):
            _known_keys(r, doc[table], f"{table}.")
    if isinstance(doc.get("protocol"), dict) and isinstance(doc["protocol"].get("evaluation"), dict):
        _known_keys(r, doc["protocol"]["evaluation"], "protocol.evaluation.")
    # [protocol.noise] is checked where it is read (affrepro.noise.noise_spec)
    slug = r.get(doc, "slug", str, "")
    if slug and not SLUG_RE.match(slug):
        r.err("slug", f"{slug!r} is not <shortname>-<year> in lower case")
    title = r.get(doc, "title", str, "")
    authors = r.str_list(doc, "authors", "")
    venue = r.get(doc, "venue", str, "", default="")
    year = r.get(doc, "year", int, "", default=0)
    paper_class = r.get(doc, "class", str, "", default="")
    if paper_class and paper_class not in PAPER_CLASSES:
        r.err("class", f"{paper_class!r} is not one of {', '.join(PAPER_CLASSES)}")
    links = doc.get("links", {})
    code = r.str_list(links, "code", "links.")
    data = r.str_list(links, "data", "links.")
    for i, url in enumerate(code + data):
        if not URL_RE.match(url):
            r.err("links", f"{url!r} is not an http(s) URL")
    doi = r.get(doc, "doi", str, "", required=False, default="")
    if doi and not re.match(r"^10\.\d{4,9}/\S+$", doi):
        r.err("doi", f"{doi!r} is not a DOI (10.NNNN/...)")
    arxiv = r.get(doc, "arxiv", str, "", required=False, default="")
    if arxiv and not re.match(r"^\d{4}\.\d{4,5}(v\d+)?$", arxiv):
        r.err("arxiv", f"{arxiv!r} is not an arXiv id (NNNN.NNNNN)")
    access = doc.get("data_access", {})
    data_licence = r.get(access, "licence", str, "data_access.", required=False, default="")
    data_mode = r.get(access, "access", str, "data_access.", required=False, default="none")
    if data_mode not in ACCESS:
        r.err("data_access.access", f"{data_mode!r} is not one of {', '.join(ACCESS)}")
    numbers = r.get(doc, "published_numbers", str, "", required=False, default="not retrieved")
    notes = r.get(doc, "notes", str, "", required=False, default="")
    protocol = doc.get("protocol", {})
    seeds = protocol.get("seeds", [0])
    if not isinstance(seeds, list) or not all(isinstance(s, int) for s in seeds):
        r.err("protocol.seeds", "expected a list of integers")
        seeds = [0]
    deviations = r.str_list(protocol, "deviations", "protocol.")
    run = r.get(protocol, "run", str, "protocol.", required=False, default="")
    if run and not CODE_REF_RE.match(run):
        r.err("protocol.run", f"{run!r} is not 'package.module:function' (or '.module:function')")
    protocol_datasets = r.str_list(protocol, "datasets", "protocol.")
    run_without_claims = r.get(protocol, "run_without_claims", bool, "protocol.", required=False,
                               default=False)
    evaluation = _parse_evaluation(r, protocol.get("evaluation"))
    extras = r.str_list(protocol, "extras", "protocol.")

    claims = []
    seen: set[str] = set()
    raw_claims = doc.get("claims", [])
    if not isinstance(raw_claims, list):
        r.err("claims", "expected an array of tables ([[claims]])")
        raw_claims = []
    for i, c in enumerate(raw_claims):
        claim = _parse_claim(r, c, f"claims[{i}].")
        if claim is None:
            continue
        if claim.id in seen:
            r.err(f"claims[{i}].id", f"duplicate claim id {claim.id!r}")
        seen.add(claim.id)
        claims.append(claim)
    if claims and numbers == "not retrieved":
        r.err("published_numbers", "says 'not retrieved' but the card has claims")

    if r.problems:
        raise CardError(f"{path}: invalid card:\n  " + "\n  ".join(r.problems))
    return Card(
        path=path, slug=slug, title=title, authors=authors, venue=venue, year=year,
        paper_class=paper_class, doi=doi, arxiv=arxiv, code=code, data=data,
        data_licence=data_licence, data_access=data_mode, numbers=numbers, notes=notes,
        seeds=tuple(seeds), deviations=deviations, protocol_run=run,
        protocol_datasets=protocol_datasets, run_without_claims=bool(run_without_claims),
        evaluation=evaluation, extras=extras, claims=tuple(claims), raw=doc,
    )


def _parse_evaluation(r: _Reader, table: Any) -> EvaluationProtocol | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        r.err("protocol.evaluation", "expected a table")
        return None
    where = "protocol.evaluation."
    module = r.get(table, "module", str, where, default="")
    if module and not MODULE_REF_RE.match(module):
        r.err(f"{where}module", f"{module!r} is not a module name (or '.module')")
    policy = r.get(table, "length_policy", str, where, required=False, default="error")
    if policy not in EvaluationProtocol.LENGTH_POLICIES:
        r.err(f"{where}length_policy",
              f"{policy!r} is not one of {', '.join(EvaluationProtocol.LENGTH_POLICIES)}")
    return EvaluationProtocol(module or "", policy or "error")


def _parse_claim(r: _Reader, c: Any, where: str) -> Claim | None:
    if not isinstance(c, dict):
        r.err(where.rstrip("."), "expected a table")
        return None
    n_before = len(r.problems)
    _known_keys(r, c, "claims[].", where)
    for sub in ("tolerance", "requires"):
        if isinstance(c.get(sub), dict):
            _known_keys(r, c[sub], f"claims[].{sub}.", f"{where}{sub}.")
    cid = r.get(c, "id", str, where, default="")
    if cid and not CLAIM_ID_RE.match(cid):
        r.err(f"{where}id", f"{cid!r}: use lower case letters, digits, '-', '_' or '.'")
    description = r.get(c, "description", str, where, default="")
    source = r.get(c, "source", str, where, default="")
    if source is not None and not source.strip():
        r.err(f"{where}source", "a claim must say where its number was published")
    metric = r.get(c, "metric", str, where, default="")
    value = r.get(c, "value", float, where, default=math.nan)
    if value is not None and not math.isfinite(value):
        r.err(f"{where}value", "must be a finite number")
    hib = r.get(c, "higher_is_better", bool, where, default=True)
    std = r.get(c, "std", float, where, required=False, default=None)
    n_seeds = r.get(c, "n_seeds", int, where, required=False, default=None)
    tol_raw = r.get(c, "tolerance", dict, where, default={}) or {}
    kinds = [k for k in TOLERANCE_KINDS if k in tol_raw]
    tolerance = None
    if len(kinds) != 1:
        r.err(f"{where}tolerance", f"needs exactly one of {', '.join(TOLERANCE_KINDS)}")
    else:
        amount = r.get(tol_raw, kinds[0], float, f"{where}tolerance.", default=0.0)
        why = r.get(tol_raw, "why", str, f"{where}tolerance.", default="")
        if why is not None and not why.strip():
            r.err(f"{where}tolerance.why", "justify the tolerance in one line")
        if amount is not None and amount < 0:
            r.err(f"{where}tolerance.{kinds[0]}", "must be ≥ 0")
        if kinds[0] == "std_multiple" and std is None:
            r.err(f"{where}std", "a std_multiple tolerance needs the published std")
        tolerance = Tolerance(kinds[0], amount or 0.0, why or "")
    req = c.get("requires", {})
    if not isinstance(req, dict):
        r.err(f"{where}requires", "expected a table")
        req = {}
    requires = Requirements(
        datasets=r.str_list(req, "datasets", f"{where}requires."),
        models=r.str_list(req, "models", f"{where}requires."),
        llm=bool(req.get("llm", False)),
        gpu=bool(req.get("gpu", False)),
        model=r.str_list(req, "model", f"{where}requires."),
        capabilities=r.str_list(req, "capabilities", f"{where}requires."),
    )
    for cap in requires.capabilities:
        if cap not in LM_CAPABILITIES:
            r.err(f"{where}requires.capabilities", f"{cap!r} is not one of {', '.join(LM_CAPABILITIES)}")
    if len(r.problems) > n_before or tolerance is None:
        return None
    return Claim(id=cid, description=description, source=source, metric=metric, value=value,
                 tolerance=tolerance, higher_is_better=hib, requires=requires, std=std,
                 n_seeds=n_seeds)


@lru_cache(maxsize=None)
def load_card(path: Path | str) -> Card:
    """Read and validate a card; raises CardError naming the file and every bad field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CardError(f"{path}: cannot read the card: {exc.strerror}") from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CardError(f"{path}: not valid TOML: {exc}") from exc
    return parse_card(path, doc)
