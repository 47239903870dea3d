"""The rule-based polarization scorer of polarization-2025 (Chowdhury, Rashid &
Terejanu, FAB 2025), as the authors' ``classify_interaction`` and their plotting
notebooks define it (github hasanjawad001/llm-social-media-polarization @ 7c90a53).

- **Interaction class** of a reply and its parent, from (same stance, any affect,
  agreement): same stance = the reply's "Tweet Stance" equals the parent's (string
  equality, so two "don't know" stances are the same); any affect = the reply's or the
  parent's "Tweet Affect" is "yes"; agreement = the reply's "Tweets Agreement" is "yes":

  ====== ========== =========  =====
  same   any affect agreement  class
  ====== ========== =========  =====
  yes    yes        yes        10
  yes    yes        no         8
  yes    no         yes        6
  yes    no         no         2
  no     yes        yes        6
  no     yes        no         8
  no     no         yes        0
  no     no         no         4
  ====== ========== =========  =====

- **Conversation score**: mean interaction class over the conversation's replies
  (rows without a class — the root — are ignored; a conversation with none has no score).
- **Event windows**: with the event's first and last day s, e: before = [s − 3 d, s),
  during = [s, e], after = (e, e + 3 d], by the conversation's (root tweet's) date.
- **Mean ± SEM** per window; the authors' plots use np.std (ddof = 0) / √n and 0 for
  n ≤ 1.
- **Share of extreme conversations**: percent of a window's conversations with score
  ≥ 7.5. The authors' bins are ``lower <= x <= upper`` for (0, 2.5), (2.5, 7.5),
  (7.5, ∞) and are labelled "x > 7.5", so a score of exactly 7.5 lands in both the
  middle and the extreme bin; ``inclusive=False`` gives the strict "> 7.5" of the labels.
- **Welch's t-test** between the scores of two windows.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

WINDOW_DAYS = 3
EXTREME_THRESHOLD = 7.5
WINDOWS = ("before", "during", "after")

#: (same stance, any affect, agreement) -> interaction class
INTERACTION_CLASSES: Mapping[tuple[bool, bool, bool], int] = {
    (True, True, True): 10, (True, True, False): 8, (True, False, True): 6, (True, False, False): 2,
    (False, True, True): 6, (False, True, False): 8, (False, False, True): 0, (False, False, False): 4,
}

#: The events of the paper's figures (authors' plotting notebooks): (first day, last day).
EVENTS: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "climate change": {
        "ipcc_report": ("2021-08-09", "2021-08-09"),
        "hurricane_ida": ("2021-08-26", "2021-09-04"),
        "heat_wave": ("2021-06-25", "2021-07-07"),
        "un_environment_assembly": ("2022-02-28", "2022-03-02"),
    },
    "gun control": {
        "shooting_texas": ("2022-05-24", "2022-05-24"),
        "shooting_illinois": ("2022-07-04", "2022-07-04"),
        "shooting_MIV": ("2022-06-07", "2022-06-07"),
        "shooting_colorado": ("2022-11-19", "2022-11-20"),
    },
}


def _yes(value) -> bool:
    return isinstance(value, str) and value.strip().lower() == "yes"


def interaction_class(reply_stance, parent_stance, reply_affect, parent_affect, agreement) -> int:
    """The interaction class (0, 2, 4, 6, 8 or 10) of a reply and its parent."""
    same = reply_stance == parent_stance
    affect = _yes(reply_affect) or _yes(parent_affect)
    return INTERACTION_CLASSES[(same, affect, _yes(agreement))]


def conversation_score(classes: Iterable) -> float:
    """Mean interaction class, ignoring missing (None/NaN) entries; NaN when none."""
    vals = [float(c) for c in classes if c is not None and not (isinstance(c, float) and math.isnan(c))]
    return sum(vals) / len(vals) if vals else math.nan


def _date(d) -> dt.date:
    if isinstance(d, dt.datetime):
        return d.date()
    if isinstance(d, dt.date):
        return d
    return dt.date.fromisoformat(str(d))


def window_of(day, start, end, days: int = WINDOW_DAYS) -> str | None:
    """'before', 'during', 'after' or None for a conversation dated ``day``."""
    day, start, end = _date(day), _date(start), _date(end)
    delta = dt.timedelta(days=days)
    if start - delta <= day < start:
        return "before"
    if start <= day <= end:
        return "during"
    if end < day <= end + delta:
        return "after"
    return None


def split_windows(scored: Iterable[tuple[object, float]], start, end,
                  days: int = WINDOW_DAYS) -> dict[str, list[float]]:
    """Group (date, conversation score) pairs into the three windows (NaN scores dropped,
    as the authors' ``dropna().mean()`` + ``isna`` check does)."""
    out: dict[str, list[float]] = {w: [] for w in WINDOWS}
    for day, score in scored:
        if score is None or (isinstance(score, float) and math.isnan(score)):
            continue
        w = window_of(day, start, end, days)
        if w is not None:
            out[w].append(float(score))
    return out


def share_extreme(scores: Sequence[float], threshold: float = EXTREME_THRESHOLD,
                  inclusive: bool = True) -> float:
    """Percent of conversations whose score is ≥ threshold (> with inclusive=False);
    0 for an empty window, as the authors plot it."""
    if len(scores) == 0:
        return 0.0
    hits = sum(1 for s in scores if (s >= threshold if inclusive else s > threshold))
    return 100.0 * hits / len(scores)


def mean_sem(scores: Sequence[float], ddof: int = 0) -> tuple[float, float]:
    """(mean, SEM) as the authors plot them: SEM = std(ddof)/√n, 0 when n ≤ 1;
    (0, 0) for an empty window (their bar height)."""
    n = len(scores)
    if n == 0:
        return 0.0, 0.0
    m = sum(scores) / n
    if n <= max(1, ddof):
        return m, 0.0
    var = sum((s - m) ** 2 for s in scores) / (n - ddof)
    return m, math.sqrt(var) / math.sqrt(n)


@dataclass(frozen=True)
class WindowSummary:
    window: str
    n: int
    mean: float
    sem: float
    extreme_percent: float

    def as_dict(self) -> dict:
        return {"window": self.window, "n": self.n, "mean": self.mean, "sem": self.sem,
                "extreme_percent": self.extreme_percent}


def summarize(windows: Mapping[str, Sequence[float]], ddof: int = 0,
              inclusive: bool = True) -> list[WindowSummary]:
    out = []
    for w in WINDOWS:
        scores = windows.get(w, [])
        m, s = mean_sem(scores, ddof)
        out.append(WindowSummary(w, len(scores), m, s, share_extreme(scores, inclusive=inclusive)))
    return out


def welch_between(windows: Mapping[str, Sequence[float]], a: str, b: str):
    """Welch's t-test between two windows' conversation scores."""
    from affrepro.plugins.stats.functions import welch_ttest

    return welch_ttest(windows[a], windows[b])
