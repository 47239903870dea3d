"""The OMG-Empathy baseline's validation predictions, supplied by the user (licensed dataset).

The challenge README (github knowledgetechnologyuhh/OMGEmpathyChallenge, "Baseline")
publishes the validation-set CCCs of one baseline, an emotion-recognition model trained
for OMG-Emotion (Barros et al. 2018, arXiv 1808.00252), run twice: on the *listener's*
face and audio only, and on the *actor's* only, each scored on both tracks. The
predictions themselves are not published, and the README's listener-only numbers differ
between the tracks (personalized mean 0.091, generalized 0.111) although
``calculateCCC.py`` gives both tracks the same mean when scoring one folder on the single
validation story; so each track's numbers come from their own prediction files, and this
dataset keeps one folder per source and track.

Each folder is what ``calculateCCC.py`` takes as its second argument (``modelOutputFolder``):
one ``Subject_<X>_Story_<Y>.csv`` per listener and story, a header row ``valence`` and one
value per video frame. The dataset folder holds up to four of them::

    listener/personalized/Subject_1_Story_1.csv … Subject_10_Story_1.csv
    listener/generalized/…
    actor/personalized/…
    actor/generalized/…

At least one must be present; a missing one leaves its claims skipped, naming the folder.
Each present folder must hold the validation story (Story 1) for subjects 1–10; files of
other stories (e.g. training predictions) are allowed and ignored by the claims.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from affrepro.components import Problem
from affrepro.errors import MalformedFileError
from affrepro.reproductions.omg_empathy_2019 import evaluation as ev
from affrepro.scratch import scratch_dir

NAME = "omg-empathy-baseline-predictions"
SOURCES = ("listener", "actor")
TRACKS = ("personalized", "generalized")
VALIDATION_STORY = 1  # the README's generalized-track table for the validation set lists Story 1
SUBJECTS = tuple(range(1, ev.N_SUBJECTS + 1))


def _how() -> str:
    from affrepro.reproductions.omg_empathy_2019 import _how_to_get

    return _how_to_get() + f" Then `affrepro data link {NAME} <folder>`."


HOW_TO_GET = _how()


def folder_for(root: Path, source: str, track: str) -> Path:
    """Where the predictions of one source (listener/actor) and track live."""
    return Path(root) / source / track


def present(root: Path) -> list[tuple[str, str]]:
    """The (source, track) folders that exist under ``root``."""
    return [(s, t) for s in SOURCES for t in TRACKS if folder_for(root, s, t).is_dir()]


def verify(root: Path) -> list[Problem]:
    """Every problem with a folder of baseline predictions (layout in the module doc)."""
    root = Path(root)
    if not root.is_dir():
        return [Problem(str(root), "not a folder")]
    problems: list[Problem] = []
    stray = sorted(p.name for p in root.glob("*.csv"))
    if stray:
        problems.append(Problem(str(root), "prediction CSVs belong in "
                                "{listener,actor}/{personalized,generalized}/, not at the top: "
                                + ", ".join(stray[:5])))
    found = present(root)
    if not found:
        problems.append(Problem(str(root), "no prediction folders: expected at least one of "
                                + ", ".join(f"{s}/{t}/" for s in SOURCES for t in TRACKS)))
        return problems
    for source, track in found:
        folder = folder_for(root, source, track)
        for p in sorted(folder.iterdir()):
            if p.suffix == ".csv" and ev.parse_name(p.name) is None:
                problems.append(Problem(str(p), "name is not Subject_<X>_Story_<Y>.csv"))
        files = ev.list_files(folder)
        missing = [f"Subject_{s}_Story_{VALIDATION_STORY}.csv" for s in SUBJECTS
                   if (s, VALIDATION_STORY) not in files]
        if missing:
            problems.append(Problem(str(folder), f"{len(missing)} validation prediction files "
                                    "missing: " + ", ".join(missing)))
        for (subject, story), p in files.items():
            if not (1 <= subject <= ev.N_SUBJECTS and 1 <= story <= ev.N_STORIES):
                problems.append(Problem(str(p), f"subject {subject} / story {story} outside "
                                        f"1..{ev.N_SUBJECTS} / 1..{ev.N_STORIES}"))
                continue
            try:
                values = ev.read_valence(p)
            except MalformedFileError as exc:
                problems.append(Problem(str(p), exc.detail, exc.line, exc.column))
                continue
            if values.size == 0:
                problems.append(Problem(str(p), "no predicted frames"))
    return problems


def synthesize(root: Path, seed: int = 0) -> None:
    """Synthetic baseline predictions in the real layout, all four folders.

    They line up frame for frame with ``evaluation.synthesize(folder, seed)`` (the synthetic
    ``omg-empathy`` corpus of the same seed, which ``reproduce --dry-run`` writes), because
    they are derived from a private copy of that corpus; each folder gets its own noise."""
    root = Path(root)
    with scratch_dir("omg-annotations") as tmp:
        ev.synthesize(Path(tmp), seed)
        for k, (source, track) in enumerate((s, t) for s in SOURCES for t in TRACKS):
            ev.synthesize_predictions(Path(tmp), folder_for(root, source, track), seed + 10 * (k + 1))


def write_predictions(folder: Path, values: dict[int, np.ndarray], story: int = VALIDATION_STORY
                      ) -> None:
    """Write ``{subject: valence per frame}`` as one track's prediction folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for subject, v in values.items():
        ev.write_valence(folder / f"Subject_{subject}_Story_{story}.csv", v)
