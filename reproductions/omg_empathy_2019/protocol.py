"""omg-empathy-2019 protocol: the baseline's validation CCCs, scored as ``calculateCCC.py``.

Inputs (both licensed, linked by the user): ``omg-empathy`` (the annotation CSVs) and
``omg-empathy-baseline-predictions`` (the baseline's prediction CSVs, one folder per source
and track; see :mod:`.baseline_predictions`). Only the validation story (Story 1) is
scored, on both sides, because the README's baseline numbers are validation-set numbers.

Claims and where each value comes from (all from :func:`.evaluation.evaluate`):

- ``listener-personalized-subject-N-ccc``: subject N's personalized-track CCC (mean over
  the validation stories of that subject, i.e. its Story 1 CCC) on ``listener/personalized``;
- ``listener-personalized-mean-ccc``: the personalized-track mean over the 10 subjects;
- ``listener-generalized-ccc``: the generalized-track mean (over stories of the mean over
  subjects) on ``listener/generalized``;
- ``actor-personalized-ccc`` / ``actor-generalized-ccc``: the same means on
  ``actor/personalized`` / ``actor/generalized``.

A missing prediction folder skips its claims and says which folder to add. Every
aggregate of every scored folder is also recorded (``<source>.<track>.<measure>``) and
the per-file tables go to report.json.
"""
from __future__ import annotations

import re

from affrepro.reproductions.omg_empathy_2019 import baseline_predictions as bp
from affrepro.reproductions.omg_empathy_2019 import evaluation as ev

ANNOTATIONS = ev.DATASET
PREDICTIONS = bp.NAME
_SUBJECT_CLAIM = re.compile(r"^listener-personalized-subject-(\d+)-ccc$")


def claim_source(claim_id: str) -> tuple[str, str, str]:
    """(source, track, aggregate measure of evaluation.evaluate) that measures a claim."""
    m = _SUBJECT_CLAIM.match(claim_id)
    if m:
        return "listener", "personalized", f"personalized_subject_{int(m.group(1))}_ccc"
    fixed = {
        "listener-personalized-mean-ccc": ("listener", "personalized", "personalized_mean_ccc"),
        "listener-generalized-ccc": ("listener", "generalized", "generalized_mean_ccc"),
        "actor-personalized-ccc": ("actor", "personalized", "personalized_mean_ccc"),
        "actor-generalized-ccc": ("actor", "generalized", "generalized_mean_ccc"),
    }
    try:
        return fixed[claim_id]
    except KeyError:
        raise KeyError(f"omg-empathy-2019 has no rule for claim {claim_id!r}") from None


def run(ctx) -> dict[str, float]:
    annotations = ctx.data_path(ANNOTATIONS)
    predictions = ctx.data_path(PREDICTIONS)
    story = bp.VALIDATION_STORY
    gold = {k for k in ev.list_files(annotations) if k[1] == story}
    missing = [s for s in bp.SUBJECTS if (s, story) not in gold]
    if missing:
        why = (f"the linked {ANNOTATIONS} folder ({annotations}) has no validation annotations "
               f"(Subject_<X>_Story_{story}.csv) for subject(s) "
               f"{', '.join(map(str, missing))}; the baseline numbers are over all 10 subjects")
        for cid in ctx.claims_to_measure:
            ctx.skip(cid, why)
        return {}

    wanted: dict[tuple[str, str], list[str]] = {}
    for cid in ctx.claims_to_measure:
        source, track, _ = claim_source(cid)
        wanted.setdefault((source, track), []).append(cid)

    measured: dict[str, float] = {}
    tables = {}
    for (source, track), claim_ids in wanted.items():
        folder = bp.folder_for(predictions, source, track)
        if not folder.is_dir():
            why = (f"no {source}-only {track}-track baseline predictions: add the folder "
                   f"{folder} (Subject_<X>_Story_{story}.csv, header `valence`, one value per "
                   f"frame). {bp.HOW_TO_GET}")
            for cid in claim_ids:
                ctx.skip(cid, why)
            continue
        ctx.stage(f"scoring the {source}-only baseline, {track} track (calculateCCC.py rules)")
        result = ev.evaluate(annotations, folder, stories=(story,), length_policy="error")
        for measure, value in result.aggregate.items():
            ctx.record(f"{source}.{track}.{measure}", value)
        for cid in claim_ids:
            measured[cid] = result.aggregate[claim_source(cid)[2]]
        for d in result.deviations:
            ctx.deviation(f"{source}/{track}: {d}")
        tables[f"{source}/{track}"] = {
            "predictions": str(folder), "policies": {**result.policies,
                                                    "stories": f"validation story {story} only"},
            "warnings": result.warnings, "tables": [t.as_dict() for t in result.tables],
        }
    ctx.note("scoring", {"official_script": ev.OFFICIAL, "validation_story": story,
                         "folders": tables})
    return measured
