"""Statistics used by the survey-style LLM papers (persona-binding-2025,
diversity-of-thought-2023, polarization-2025) and by the prompt papers
(emotionprompt-2023, negativeprompt-2024).

Every function states its formula; each is tested against SciPy on hand-made cases.
Degenerate input (an empty sample, a zero baseline, zero variance) warns and returns
NaN instead of a silent 0.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass


def _arr(x):
    import numpy as np

    return np.asarray(x, dtype=float).ravel()


def _nan(msg: str) -> float:
    warnings.warn(msg, RuntimeWarning, stacklevel=3)
    return math.nan


# ---------------------------------------------------------------- percentages

def relative_gain_percent(base: float, treated: float) -> float:
    """Relative gain of a score, in percent: 100 · (treated − base) / |base|.

    EmotionPrompt and NegativePrompt report "relative performance improvement" of a
    task score with a stimulus over the same prompt without it. A zero baseline has no
    relative gain: warns and returns NaN.
    """
    base, treated = float(base), float(treated)
    if base == 0 or not math.isfinite(base):
        return _nan(f"relative gain undefined for baseline {base}")
    return 100.0 * (treated - base) / abs(base)


def relative_improvement_percent(base_distance: float, new_distance: float) -> float:
    """Improvement of a distance/error (lower is better), in percent:
    100 · (base − new) / base.

    persona-binding-2025 ("up to 87% improvement measured by Wasserstein distance")
    and cage-2024 ("7% lower RMSE") report this. A zero baseline distance warns and
    returns NaN.
    """
    base, new = float(base_distance), float(new_distance)
    if base == 0 or not math.isfinite(base):
        return _nan(f"relative improvement undefined for baseline distance {base}")
    return 100.0 * (base - new) / base


def percent(flags: Sequence) -> float:
    """Share of true items in percent: 100 · Σ flags / n (NaN with a warning when empty)."""
    x = _arr(flags)
    if x.size == 0:
        return _nan("percent of an empty sample")
    return 100.0 * float(x.sum()) / x.size


def count(items: Sequence) -> float:
    """Number of items, n (as a float, so that it can be a claim's measured value)."""
    return float(len(items))


def mean(values: Sequence) -> float:
    """Arithmetic mean Σx / n (NaN with a warning when empty)."""
    x = _arr(values)
    if x.size == 0:
        return _nan("mean of an empty sample")
    return float(x.mean())


# ---------------------------------------------------------------- mean ± SEM

def sem(values: Sequence, ddof: int = 1) -> float:
    """Standard error of the mean: s / √n with s = sqrt(Σ(x − x̄)² / (n − ddof)).

    ``ddof=1`` is scipy.stats.sem's default. polarization-2025's plotting code uses
    ``np.std(x) / sqrt(n)`` (ddof=0) and draws 0 when n ≤ 1; pass ``ddof=0`` for that.
    n ≤ ddof warns and returns NaN.
    """
    x = _arr(values)
    if x.size <= ddof:
        return _nan(f"SEM needs more than {ddof} values, got {x.size}")
    return float(x.std(ddof=ddof) / math.sqrt(x.size))


# ---------------------------------------------------------------- effect size

def cohens_d(a: Sequence, b: Sequence) -> float:
    """Cohen's d for two independent samples with the pooled standard deviation:

        d = (mean(a) − mean(b)) / s_p,
        s_p = sqrt(((n_a − 1)·s_a² + (n_b − 1)·s_b²) / (n_a + n_b − 2)),

    s² the unbiased (ddof=1) variances. Warns and returns NaN when n_a + n_b < 3 or
    s_p = 0.
    """
    import numpy as np

    x, y = _arr(a), _arr(b)
    na, nb = x.size, y.size
    if na < 1 or nb < 1 or na + nb < 3:
        return _nan("Cohen's d needs at least one value per group and three in all")
    va = x.var(ddof=1) if na > 1 else 0.0
    vb = y.var(ddof=1) if nb > 1 else 0.0
    sp = math.sqrt(((na - 1) * va + (nb - 1) * vb) / (na + nb - 2))
    if sp == 0 or not np.isfinite(sp):
        return _nan("Cohen's d undefined: pooled standard deviation is 0")
    return float((x.mean() - y.mean()) / sp)


# ---------------------------------------------------------------- tests

@dataclass(frozen=True)
class TestResult:
    statistic: float
    pvalue: float
    df: float | None = None


def welch_ttest(a: Sequence, b: Sequence) -> TestResult:
    """Welch's unequal-variance t-test (two-sided):

        t = (x̄_a − x̄_b) / sqrt(s_a²/n_a + s_b²/n_b),
        ν = (s_a²/n_a + s_b²/n_b)² / ((s_a²/n_a)²/(n_a − 1) + (s_b²/n_b)²/(n_b − 1)),
        p = 2 · (1 − F_t(|t|; ν)).

    Same result as scipy.stats.ttest_ind(a, b, equal_var=False). Fewer than 2 values
    in a group, or zero variance in both, warns and returns NaN.
    """
    from scipy import stats

    x, y = _arr(a), _arr(b)
    if x.size < 2 or y.size < 2:
        nan = _nan("Welch's t-test needs at least 2 values per group")
        return TestResult(nan, nan, nan)
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    if va + vb == 0:
        nan = _nan("Welch's t-test undefined: both groups are constant")
        return TestResult(nan, nan, nan)
    t = (x.mean() - y.mean()) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (x.size - 1) + vb ** 2 / (y.size - 1))
    p = 2.0 * float(stats.t.sf(abs(t), df))
    return TestResult(float(t), p, float(df))


def two_proportion_ztest(successes_a: int, n_a: int, successes_b: int, n_b: int) -> TestResult:
    """Two-sided z-test for equal proportions with the pooled proportion:

        p̂ = (x_a + x_b) / (n_a + n_b),
        z = (x_a/n_a − x_b/n_b) / sqrt(p̂(1 − p̂)(1/n_a + 1/n_b)),  p = 2·(1 − Φ(|z|)).

    (z² equals the Pearson χ² of the 2×2 table without continuity correction, which is
    how it is checked against scipy.stats.chi2_contingency.) p̂ ∈ {0, 1} warns, NaN.
    """
    from scipy import stats

    if min(n_a, n_b) <= 0:
        nan = _nan("proportion test needs n > 0 in both groups")
        return TestResult(nan, nan)
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        nan = _nan("proportion test undefined: pooled proportion is 0 or 1")
        return TestResult(nan, nan)
    z = (successes_a / n_a - successes_b / n_b) / se
    return TestResult(float(z), 2.0 * float(stats.norm.sf(abs(z))))


def one_proportion_test(successes: int, n: int, p0: float = 0.5) -> TestResult:
    """Exact two-sided binomial test of H0: p = p0 (scipy.stats.binomtest); the
    statistic is the observed proportion x / n."""
    from scipy import stats

    if n <= 0:
        nan = _nan("proportion test needs n > 0")
        return TestResult(nan, nan)
    res = stats.binomtest(int(successes), int(n), p0)
    return TestResult(successes / n, float(res.pvalue))


# ---------------------------------------------------------------- ordinal distributions

def ordinal_distribution(responses: Sequence, levels: Sequence) -> list[float]:
    """Relative frequency of each ordinal level (in the order given) among responses;
    responses outside ``levels`` raise ValueError."""
    levels = list(levels)
    index = {lv: i for i, lv in enumerate(levels)}
    counts = [0] * len(levels)
    for r in responses:
        if r not in index:
            raise ValueError(f"response {r!r} is not one of the levels {levels}")
        counts[index[r]] += 1
    n = sum(counts)
    if n == 0:
        raise ValueError("no responses")
    return [c / n for c in counts]


def wasserstein_ordinal(p: Sequence, q: Sequence, positions: Sequence | None = None,
                        wasserstein=None) -> float:
    """1-D Wasserstein (earth mover's) distance between two distributions over the same
    ordinal levels, placed at ``positions`` (default 0, 1, …, K−1):

        W₁(p, q) = Σ_k |P_k − Q_k| · (x_{k+1} − x_k),  P, Q the cumulative sums.

    ``wasserstein`` is the 1-D Wasserstein function to use, called as
    ``wasserstein(u_values, v_values, u_weights, v_weights)`` (the registered
    ``wasserstein_1d`` metric when a RunContext has one); default:
    scipy.stats.wasserstein_distance.
    """
    pw, qw = _arr(p), _arr(q)
    if pw.size != qw.size or pw.size == 0:
        raise ValueError("p and q must be non-empty and over the same levels")
    x = _arr(positions) if positions is not None else _arr(range(pw.size))
    if x.size != pw.size:
        raise ValueError("one position per level")
    if pw.sum() <= 0 or qw.sum() <= 0:
        return _nan("Wasserstein distance of an empty distribution")
    if wasserstein is None:
        from scipy.stats import wasserstein_distance as wasserstein
    return float(wasserstein(x, x, pw, qw))


def wasserstein_improvement_percent(human: Sequence, baseline: Sequence, candidate: Sequence,
                                    positions: Sequence | None = None, wasserstein=None) -> float:
    """How much closer a candidate's ordinal response distribution is to the human one than
    a baseline's, in percent (persona-binding-2025's "improvement as measured by
    Wasserstein distance"):

        100 · (W₁(human, baseline) − W₁(human, candidate)) / W₁(human, baseline).

    ``human``, ``baseline``, ``candidate``: distributions (or counts) over the same levels.
    """
    base = wasserstein_ordinal(human, baseline, positions, wasserstein)
    new = wasserstein_ordinal(human, candidate, positions, wasserstein)
    return relative_improvement_percent(base, new)


def replicates(original_sign: int, effect: float, pvalue: float, alpha: float = 0.05) -> bool:
    """A replication succeeds when the new effect is significant (p < alpha) and has the
    original effect's sign (+1 or −1) — the usual Many Labs criterion used by
    diversity-of-thought-2023."""
    if original_sign not in (-1, 1):
        raise ValueError("original_sign is +1 or -1")
    return bool(pvalue < alpha and effect != 0 and math.copysign(1, effect) == original_sign)


def replication_rate_percent(outcomes: Sequence[bool]) -> float:
    """Percent of analysable studies that replicated: 100 · Σ outcomes / n."""
    return percent(outcomes)
