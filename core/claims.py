"""Paper claims and their verdicts.

A claim is one published number. ``judge`` compares it with a measured value:

- ``reproduced``: |measured − value| ≤ tolerance;
- ``not reproduced``: measured, but outside the tolerance (the difference is shown);
- ``within noise``: outside the tolerance, but the paper's value lies inside the range
  measured over several seeds (set by ``affrepro.noise``, see docs/verdicts.md);
- ``skipped``: a requirement is missing (the reason says what and how to get it);
- ``error``: the protocol failed, or produced a non-finite number.

The tolerance is one of: ``absolute`` (|Δ| ≤ a), ``relative`` (|Δ| ≤ r·|value|) or
``std_multiple`` (|Δ| ≤ k·std, with the paper's reported spread), always with a one-line
justification ``why``.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

# Published values are rounded; comparisons allow for float noise beyond that.
_FLOAT_SLACK = 1e-12


class Verdict(str, Enum):
    REPRODUCED = "reproduced"
    NOT_REPRODUCED = "not reproduced"
    WITHIN_NOISE = "within noise"  # tolerance missed, paper's value inside the seeds' range (affrepro.noise)
    SKIPPED = "skipped"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Tolerance:
    kind: str  # "absolute" | "relative" | "std_multiple"
    amount: float
    why: str

    def bound(self, value: float, std: float | None) -> float:
        """The largest |measured − value| still counted as reproduced."""
        if self.kind == "absolute":
            return self.amount
        if self.kind == "relative":
            return self.amount * abs(value)
        if std is None:
            raise ValueError("a std_multiple tolerance needs the claim's std")
        return self.amount * std

    def describe(self) -> str:
        if self.kind == "absolute":
            return f"±{self.amount:g}"
        if self.kind == "relative":
            return f"±{self.amount:.3g}×|value|"
        return f"±{self.amount:g}·std"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "amount": self.amount, "why": self.why}


@dataclass(frozen=True)
class Requirements:
    datasets: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    llm: bool = False
    gpu: bool = False
    # the language model(s) the published number was measured on: a run on another model
    # reports its value without a verdict
    model: tuple[str, ...] = ()
    # what the language model must do: "chat", "logprobs"
    capabilities: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"datasets": list(self.datasets), "models": list(self.models),
                "llm": self.llm, "gpu": self.gpu, "model": list(self.model),
                "capabilities": list(self.capabilities)}


@dataclass(frozen=True)
class Claim:
    id: str
    description: str
    source: str
    metric: str
    value: float
    tolerance: Tolerance
    higher_is_better: bool
    requires: Requirements = field(default_factory=Requirements)
    std: float | None = None
    n_seeds: int | None = None


@dataclass
class ClaimResult:
    """A claim with its verdict, as report.json holds it."""

    claim: Claim
    verdict: Verdict
    measured: float | None = None
    reason: str = ""
    spread: dict[str, Any] | None = None  # over seeds (affrepro.noise.Spread.as_dict)

    @property
    def difference(self) -> float | None:
        if self.measured is None or not math.isfinite(self.measured):
            return None
        return self.measured - self.claim.value

    def as_dict(self) -> dict[str, Any]:
        c = self.claim
        return {
            "id": c.id,
            "description": c.description,
            "metric": c.metric,
            "value": c.value,
            "std": c.std,
            "measured": json_number(self.measured),
            "difference": self.difference,
            "tolerance": c.tolerance.as_dict(),
            "higher_is_better": c.higher_is_better,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "spread": self.spread,
            "source": c.source,
            "requires": c.requires.as_dict(),
        }


def json_number(value: float | None) -> float | str | None:
    """A number for JSON: finite as is, NaN/±inf as the strings 'nan', 'inf', '-inf'
    (JSON has no such numbers; dropping them would hide a failed measurement)."""
    if value is None or math.isfinite(value):
        return value
    return str(float(value))


def judge(claim: Claim, measured: float | None) -> ClaimResult:
    """Compare one measured value with the claim's published value."""
    if measured is None:
        return ClaimResult(claim, Verdict.ERROR, None, "the protocol did not measure this claim")
    try:
        measured = float(measured)
    except (TypeError, ValueError):
        return ClaimResult(claim, Verdict.ERROR, None, f"measured value {measured!r} is not a number")
    if not math.isfinite(measured):
        return ClaimResult(claim, Verdict.ERROR, measured, f"measured value is {measured}")
    bound = claim.tolerance.bound(claim.value, claim.std)
    diff = measured - claim.value
    if abs(diff) <= bound + _FLOAT_SLACK:
        return ClaimResult(claim, Verdict.REPRODUCED, measured,
                           f"|Δ| = {abs(diff):.3g} ≤ {bound:.3g} ({claim.tolerance.why})")
    direction = "better" if (diff > 0) == claim.higher_is_better else "worse"
    return ClaimResult(claim, Verdict.NOT_REPRODUCED, measured,
                       f"|Δ| = {abs(diff):.3g} > {bound:.3g}; measured is {direction} than published")


def skipped(claim: Claim, reason: str) -> ClaimResult:
    return ClaimResult(claim, Verdict.SKIPPED, None, reason)


def errored(claim: Claim, reason: str) -> ClaimResult:
    return ClaimResult(claim, Verdict.ERROR, None, reason)


def claim_to_dict(claim: Claim) -> dict[str, Any]:
    d = asdict(claim)
    d["requires"] = claim.requires.as_dict()
    return d
