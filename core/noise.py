"""The noise floor: how much each measured number moves with the seed.

A card declares its protocol's stochastic steps in ``[protocol.noise]``::

    [protocol.noise]
    stochastic = ["fold assignment (shuffled stratified k-fold)", "model initialisation"]
    seeds_in_protocol = false   # true: the protocol loops over ctx.seeds itself

With stochastic steps and several seeds (``reproduce --seeds 0-4``) the runner runs the
protocol once per seed (``ctx.seeds == (seed,)``) and reports, per claim and per record,
the mean over seeds, the sample standard deviation (ddof 1) and the range. A protocol that
runs its seeds itself (``seeds_in_protocol = true``) reports each claim's per-seed values
with ``ctx.note("seed_values", {claim_id: {seed: value}})``; its other claims are
deterministic. A card without stochastic steps is deterministic: the protocol runs once
and every spread is 0.

The verdict rule (docs/verdicts.md): ``reproduced`` when |mean − paper| is within the
tolerance; ``within noise`` when it is not, but the paper's value lies inside the measured
[min, max] over at least two seeds; else ``not reproduced``.
"""
from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affrepro.claims import ClaimResult, Verdict
from affrepro.errors import CardError
from affrepro.validation import parse_seeds  # noqa: F401  (the one rule; affrepro.noise.parse_seeds as before)

_SLACK = 1e-12


@dataclass(frozen=True)
class NoiseSpec:
    """What a card says of its protocol's randomness."""

    stochastic: tuple[str, ...] = ()
    seeds_in_protocol: bool = False
    # claims of a random protocol whose value does not depend on the seed (a dataset count)
    deterministic_claims: tuple[str, ...] = ()

    @property
    def deterministic(self) -> bool:
        return not self.stochastic


def noise_spec(card: Any) -> NoiseSpec:
    """``[protocol.noise]`` of a card, checked (CardError names the card and the key)."""
    table = ((card.raw or {}).get("protocol") or {}).get("noise")
    if table is None:
        return NoiseSpec()
    where = f"{card.path}: protocol.noise"
    if not isinstance(table, dict):
        raise CardError(f"{where}: expected a table")
    unknown = set(table) - {"stochastic", "seeds_in_protocol", "deterministic_claims"}
    if unknown:
        raise CardError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
                        "expected stochastic, seeds_in_protocol, deterministic_claims")
    steps = table.get("stochastic", [])
    if not isinstance(steps, list) or not all(isinstance(s, str) and s.strip() for s in steps):
        raise CardError(f"{where}.stochastic: expected a list of non-empty strings (the random steps)")
    inside = table.get("seeds_in_protocol", False)
    if not isinstance(inside, bool):
        raise CardError(f"{where}.seeds_in_protocol: expected true or false, got {inside!r}")
    fixed = table.get("deterministic_claims", [])
    if not isinstance(fixed, list) or not all(isinstance(c, str) for c in fixed):
        raise CardError(f"{where}.deterministic_claims: expected a list of claim ids")
    ids = {c.id for c in getattr(card, "claims", ())}
    unknown_ids = [c for c in fixed if c not in ids]
    if unknown_ids:
        raise CardError(f"{where}.deterministic_claims: no claim {', '.join(map(repr, unknown_ids))} "
                        "on this card")
    return NoiseSpec(tuple(steps), inside, tuple(fixed))


@dataclass(frozen=True)
class Spread:
    """One number's values over seeds. ``deterministic``: the protocol declares no random step."""

    values: dict[int, float]
    deterministic: bool = False

    @property
    def finite(self) -> list[float]:
        return [v for v in self.values.values() if math.isfinite(v)]

    @property
    def n(self) -> int:
        return len(self.finite)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.finite) if self.finite else math.nan

    @property
    def std(self) -> float:
        """Sample standard deviation over seeds (ddof 1); 0 for one seed or a deterministic step."""
        return statistics.stdev(self.finite) if self.n > 1 else 0.0

    @property
    def low(self) -> float:
        return min(self.finite) if self.finite else math.nan

    @property
    def high(self) -> float:
        return max(self.finite) if self.finite else math.nan

    def covers(self, value: float) -> bool:
        """The value lies inside [min, max] over at least two seeds that differ."""
        return self.n > 1 and self.high > self.low and self.low - _SLACK <= value <= self.high + _SLACK

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: a non-finite value is None (report.json holds finite numbers only)."""
        return {"seeds": sorted(self.values), "values": [_finite(self.values[s]) for s in sorted(self.values)],
                "n": self.n, "mean": _finite(self.mean), "std": _finite(self.std), "min": _finite(self.low),
                "max": _finite(self.high), "deterministic": self.deterministic}


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def noise_verdict(result: ClaimResult, spread: Spread | None) -> ClaimResult:
    """Attach the spread; a ``not reproduced`` whose paper value the seeds' range covers
    becomes ``within noise``."""
    if spread is None:
        return result
    verdict, reason = result.verdict, result.reason
    if verdict is Verdict.NOT_REPRODUCED and spread.covers(result.claim.value):
        verdict = Verdict.WITHIN_NOISE
        reason = (f"{reason}; but the paper's {result.claim.value:.4g} lies inside the measured range "
                  f"[{spread.low:.4g}, {spread.high:.4g}] over {spread.n} seeds")
    return dataclasses.replace(result, verdict=verdict, reason=reason, spread=spread.as_dict())


def run_protocol(protocol: Callable[[Any], Mapping[str, float] | None], ctx: Any,
                 spec: NoiseSpec) -> dict[str, float]:
    """Run the protocol once, or once per seed when it has random steps and several seeds
    are asked for. Per-seed runs get their own records/details; ``ctx`` receives the means,
    the first seed's details, every seed's deviations, and ``details["noise"]``."""
    seeds = tuple(ctx.seeds)
    if spec.deterministic or spec.seeds_in_protocol or len(seeds) < 2:
        measured = dict(protocol(ctx) or {})
        ctx.note("noise", _summary(spec, seeds, _from_protocol(ctx, measured, spec), {}, ctx.records))
        return measured
    per_measured: dict[int, dict[str, float]] = {}
    per_records: dict[int, dict[str, float]] = {}
    first_details: dict[str, Any] = {}
    for i, seed in enumerate(seeds):
        ctx.stage(f"seed {seed} ({i + 1} of {len(seeds)})")
        out = Path(ctx.output_dir) if i == 0 else Path(ctx.output_dir) / "seeds" / str(seed)
        sub = dataclasses.replace(ctx, seeds=(seed,), records={}, details={}, deviations=list(ctx.deviations),
                                  skipped={}, failed={}, output_dir=out)
        per_measured[seed] = {k: float(v) for k, v in (protocol(sub) or {}).items()}
        per_records[seed] = dict(sub.records)
        if i == 0:
            first_details = sub.details
        for d in sub.deviations:
            ctx.deviation(d)
        ctx.skipped.update(sub.skipped)
        ctx.failed.update(sub.failed)
    claims = _label_declared(ctx, _collect(per_measured), spec)
    records = _collect(per_records)
    ctx.details.update(first_details)
    for name, spread in records.items():
        ctx.records[name] = spread.mean
    ctx.note("noise", _summary(spec, seeds, claims, records, ctx.records))
    return {cid: s.mean for cid, s in claims.items()}


def _collect(per_seed: Mapping[int, Mapping[str, float]]) -> dict[str, Spread]:
    """{seed: {name: v}} -> {name: Spread}, for the names every seed measured."""
    names = set.intersection(*(set(v) for v in per_seed.values())) if per_seed else set()
    return {n: Spread({s: float(v[n]) for s, v in per_seed.items()})
            for n in sorted(names)}


def _label_declared(ctx: Any, claims: dict[str, Spread], spec: NoiseSpec) -> dict[str, Spread]:
    """A claim the card declares deterministic is labelled so when every seed gave the same
    value; when the seeds disagree the declaration is wrong: a deviation says so and the
    claim keeps its spread (and the noise rule)."""
    out = dict(claims)
    for cid in spec.deterministic_claims:
        s = claims.get(cid)
        if s is None:
            continue
        if s.n > 1 and s.high - s.low > _SLACK:
            ctx.deviation(f"claim {cid} is declared deterministic ([protocol.noise] deterministic_claims) "
                          f"but moved with the seed: [{s.low:.6g}, {s.high:.6g}] over {s.n} seeds; "
                          "judged with its spread")
        else:
            out[cid] = Spread(s.values, deterministic=True)
    return out


def _from_protocol(ctx: Any, measured: Mapping[str, float], spec: NoiseSpec) -> dict[str, Spread]:
    if spec.deterministic:
        return {cid: Spread({s: float(v) for s in ctx.seeds}, deterministic=True) for cid, v in measured.items()}
    if not spec.seeds_in_protocol:
        # a random protocol run once (one seed): a declared claim is deterministic, the
        # others have one seed's value and no measured spread
        return {cid: Spread({ctx.seeds[0]: float(v)}, deterministic=cid in spec.deterministic_claims)
                for cid, v in measured.items()}
    # a protocol looping over its seeds names its random claims; the others are deterministic
    given = ctx.details.get("seed_values") or {}
    return {cid: (Spread({int(s): float(v) for s, v in given[cid].items()}) if cid in given else
                  Spread({s: float(v) for s in ctx.seeds}, deterministic=True)) for cid, v in measured.items()}


def _summary(spec: NoiseSpec, seeds: tuple[int, ...], claims: Mapping[str, Spread],
             records: Mapping[str, Spread], all_records: Mapping[str, float]) -> dict[str, Any]:
    return {"stochastic_steps": list(spec.stochastic), "deterministic": spec.deterministic,
            "seeds": list(seeds), "per_seed_runs": not (spec.deterministic or spec.seeds_in_protocol),
            "claims": {k: v.as_dict() for k, v in claims.items()},
            "records": {k: v.as_dict() for k, v in records.items()}}


def claim_spreads(details: Mapping[str, Any]) -> dict[str, Spread]:
    noise = details.get("noise") or {}
    return {cid: Spread({s: math.nan if v is None else v for s, v in zip(d["seeds"], d["values"])},
                        d["deterministic"])
            for cid, d in (noise.get("claims") or {}).items()}


def mlflow_metrics(details: Mapping[str, Any]) -> dict[str, float]:
    """Spread as metrics: ``claim.ID.seed_{mean,std,min,max}`` and ``NAME.seed_{std,min,max}``."""
    noise = details.get("noise") or {}
    out: dict[str, float] = {}
    for kind, prefix in (("claims", "claim."), ("records", "")):
        for name, d in (noise.get(kind) or {}).items():
            keys = ("mean", "std", "min", "max") if kind == "claims" else ("std", "min", "max")
            for k in keys:
                v = d[k]
                if isinstance(v, (int, float)) and math.isfinite(v):
                    out[f"{prefix}{name}.seed_{k}"] = float(v)
    return out


def _f(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    if abs(v) >= 1000 and float(v).is_integer():
        return f"{v:,.0f}"  # counts as counts (41,998, not 4.2e+04)
    return f"{v:.4g}"


def render_markdown(d: Mapping[str, Any]) -> list[str]:
    """The report's "Noise floor" section, from report.json."""
    noise = (d.get("details") or {}).get("noise")
    if not noise:
        return []
    lines = ["", "## Noise floor (spread over seeds)", ""]
    if noise["deterministic"]:  # every claim's row would say the same: none is printed
        lines.append(f"The protocol declares no random step: deterministic, spread 0 (seeds {noise['seeds']}); "
                     f"this holds for each of its {len(noise['claims'])} measured claims.")
        return lines
    else:
        how = "one protocol run per seed" if noise["per_seed_runs"] else "the protocol's own seed loop"
        lines.append(f"Random steps: {'; '.join(noise['stochastic_steps'])}. Seeds {noise['seeds']} "
                     f"({how}); std is the sample std over seeds (ddof 1).")
    claims = {c["id"]: c for c in d.get("claims", [])}
    if noise["claims"]:
        lines += ["", "| claim | paper | paper std | seeds | mean | std | min | max | verdict |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for cid, s in noise["claims"].items():
            c = claims.get(cid, {})
            std = ("deterministic" if s["deterministic"] else "— (1 seed)" if s["n"] < 2 else
                   "0 (same on every seed)" if s["std"] == 0 else _f(s["std"]))
            lines.append(f"| {cid} | {_f(c.get('value'))} | {_f(c.get('std'))} | {s['n']} | {_f(s['mean'])} "
                         f"| {std} | {_f(s['min'])} | {_f(s['max'])} | {c.get('verdict', '')} |")
    moving = {k: s for k, s in noise["records"].items() if (s["std"] or 0) > 0}
    if noise["records"]:
        lines += ["", f"Other measured results: {len(moving)} of {len(noise['records'])} move with the seed."]
    if moving:
        lines += ["", "| result | seeds | mean | std | min | max |", "|---|---|---|---|---|---|"]
        lines += [f"| {k} | {s['n']} | {_f(s['mean'])} | {_f(s['std'])} | {_f(s['min'])} | {_f(s['max'])} |"
                  for k, s in moving.items()]
    return lines
