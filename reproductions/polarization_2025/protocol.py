"""polarization-2025 protocol: conversation scores from the released interaction
classes, event windows, mean ± SEM, share of extreme conversations, Welch's t-tests.

The LLM annotation step (stance, affect, agreement with Llama 3.1 70B) is not run: the
protocol starts from the authors' per-conversation CSV files, which are not released;
the user links them (``affrepro data link polarization-conversations PATH``)."""
from __future__ import annotations

from affrepro.reproductions.polarization_2025 import scoring
from affrepro.reproductions.polarization_2025.loaders import load_topic

DATASET = "polarization-conversations"

#: claim id -> (topic, event, window)
CLAIM_WINDOWS = {
    "texas-n-before": ("gun control", "shooting_texas", "before"),
    "texas-n-during": ("gun control", "shooting_texas", "during"),
    "texas-n-after": ("gun control", "shooting_texas", "after"),
}


def analyse(folder, ddof: int = 0, inclusive: bool = True) -> dict:
    """Every event of both topics: window summaries, Welch's t-tests, and how often the
    released interaction class differs from the one recomputed from the labels."""
    out: dict = {}
    for topic, events in scoring.EVENTS.items():
        corpus = load_topic(folder, topic)
        mismatches = sum(1 for c in corpus.conversations
                         if c.stored_classes and c.recomputed_classes
                         and sorted(c.stored_classes) != sorted(c.recomputed_classes))
        scored = [(c.date, scoring.conversation_score(c.classes)) for c in corpus.conversations]
        topic_out = {"n_conversations": len(corpus.conversations),
                     "class_mismatches": mismatches, "events": {}}
        for event, (start, end) in events.items():
            windows = scoring.split_windows(scored, start, end)
            tests = {}
            for a, b in (("before", "during"), ("during", "after"), ("before", "after")):
                res = scoring.welch_between(windows, a, b) if min(len(windows[a]), len(windows[b])) >= 2 else None
                tests[f"{a}-{b}"] = None if res is None else {"t": res.statistic, "p": res.pvalue, "df": res.df}
            topic_out["events"][event] = {
                "start": start, "end": end,
                "windows": [s.as_dict() for s in scoring.summarize(windows, ddof, inclusive)],
                "welch": tests,
            }
        out[topic] = topic_out
    return out


def run(ctx) -> dict[str, float]:
    import warnings

    folder = ctx.data_path(DATASET)
    ctx.stage("scoring conversations and event windows")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = analyse(folder)
    ctx.note("polarization", result)
    measured: dict[str, float] = {}
    for topic, t in result.items():
        key = topic.replace(" ", "_")
        ctx.record(f"{key}.class_mismatches", t["class_mismatches"])
        for event, e in t["events"].items():
            for w in e["windows"]:
                ctx.record(f"{key}.{event}.{w['window']}.n", w["n"])
                ctx.record(f"{key}.{event}.{w['window']}.mean", w["mean"])
                ctx.record(f"{key}.{event}.{w['window']}.sem", w["sem"])
                ctx.record(f"{key}.{event}.{w['window']}.extreme_percent", w["extreme_percent"])
    for cid, (topic, event, window) in CLAIM_WINDOWS.items():
        if cid in ctx.claims_to_measure:
            windows = {w["window"]: w for w in result[topic]["events"][event]["windows"]}
            measured[cid] = float(windows[window]["n"])
    return measured
