"""affwild-2021 under ``reproduce``: a description of the user's Aff-Wild2 annotations.

No number of the paper has been retrieved, so there is nothing to judge. What ``reproduce``
can state honestly is what the linked (verified) copy holds: per task (VA, EXPR, AU) and
partition, the videos, the frames and the annotated frames (frames without the −5 / −1
marker), recorded as ``<task>.<partition>.<measure>`` and tabled in report.json. Scoring
predictions with the ABAW2 rules is ``affrepro evaluate affwild-2021 --predictions DIR``.
"""
from __future__ import annotations

from affrepro.reproductions.affwild_2021 import evaluation as ev


def corpus_summary(root) -> list[dict]:
    """One row per task and partition present: videos, frames, annotated frames."""
    rows = []
    for task in ev.TASKS:
        for part in ev.PARTITIONS:
            folder = ev.task_folder(root, task, part)
            if folder is None:
                continue
            frames = annotated = 0
            files = ev._list(folder)
            for path in files.values():
                values = ev.read_task_file(path, task)
                frames += values.shape[0]
                annotated += int((~(values == ev.INVALID[task]).any(axis=1)).sum())
            rows.append({"task": task, "partition": part, "videos": len(files),
                         "frames": frames, "annotated_frames": annotated})
    return rows


def run(ctx) -> dict[str, float]:
    root = ctx.data_path(ev.DATASET)
    ctx.stage("describing the Aff-Wild2 annotations")
    rows = corpus_summary(root)
    for r in rows:
        for measure in ("videos", "frames", "annotated_frames"):
            ctx.record(f"{r['task']}.{r['partition']}.{measure}", float(r[measure]))
    ctx.note("corpus", {"rows": rows, "claims": "none: the paper's numbers were not retrieved",
                        "evaluate": "affrepro evaluate affwild-2021 --predictions DIR scores "
                                    "predictions with the ABAW2 rules (P_VA, P_EXPR, P_AU)"})
    return {}
