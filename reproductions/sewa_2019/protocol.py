"""sewa-2019 under ``reproduce``: a description of the user's AVEC 2019 CES (SEWA) labels.

No number of the paper has been retrieved, so there is nothing to judge. What ``reproduce``
can state honestly is what the linked (verified) copy holds: per partition and culture,
the recordings, the 10 Hz frames and their duration, recorded as
``<partition>.<culture>.<measure>`` and tabled in report.json. Scoring predictions with the
AVEC 2019 rules is ``affrepro evaluate sewa-2019 --predictions DIR``.
"""
from __future__ import annotations

from affrepro.reproductions.sewa_2019 import evaluation as ev


def corpus_summary(folder) -> list[dict]:
    """One row per partition and culture present: recordings, frames, seconds."""
    groups: dict[tuple[str, str], list[int]] = {}
    for name, path in ev.list_files(folder).items():
        m = ev.FILE_RE.match(name)
        groups.setdefault((m.group(1), m.group(2)), []).append(ev.read_labels(path).shape[0])
    return [{"partition": p, "culture": c, "recordings": len(n), "frames": sum(n),
             "seconds": round(sum(n) * ev.STEP, 1)} for (p, c), n in sorted(groups.items())]


def run(ctx) -> dict[str, float]:
    folder = ctx.data_path(ev.DATASET)
    ctx.stage("describing the SEWA (AVEC 2019 CES) labels")
    rows = corpus_summary(folder)
    for r in rows:
        for measure in ("recordings", "frames", "seconds"):
            ctx.record(f"{r['partition']}.{r['culture']}.{measure}", float(r[measure]))
    ctx.note("corpus", {"rows": rows, "claims": "none: the paper's numbers were not retrieved",
                        "evaluate": "affrepro evaluate sewa-2019 --predictions DIR scores "
                                    "predictions with the AVEC 2019 CES rules (CCC per dimension)"})
    return {}
