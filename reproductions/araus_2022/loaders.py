"""Readers and the layout verifier of the ARAUS release (DR-NTU doi:10.21979/N9/9OTEVX).

The linked folder is the one ``code/download.py`` of github ntudsp/araus-dataset-baseline-models
fills (its parent directory ``..``)::

    data/responses.csv  data/soundscapes.csv  data/maskers.csv  data/participants.csv
    soundscapes/*.wav   (binaural, 44.1 kHz, 30 s)
    maskers/*.wav       (mono, 44.1 kHz, 30 s)

The four tables are needed by every baseline; the WAV folders only by the CNN, so they
are checked when present (every WAV that responses.csv names must exist, at 44.1 kHz with
the right channel count and 30 s long).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from affrepro.components import Problem
from affrepro.reproductions.araus_2022 import columns as C
from affrepro.reproductions.araus_2022.tables import ColumnRule, TableSpec, raise_first, read_table

SYNTHETIC_MARKER = "SYNTHETIC.txt"  # written by the generator: counts are not the release's

_RATING = ColumnRule("int", low=1, high=5, what="an integer rating 1-5")
_FOLD = ColumnRule("int", low=-1, high=7, what="a fold in -1…7")

RESPONSES = TableSpec(
    "responses.csv", C.RESPONSE_COLUMNS,
    rules={
        "participant": ColumnRule("str", what="a participant ID ARAUS_#####"),
        "fold_r": _FOLD,
        "soundscape": ColumnRule("str", what="a soundscape file name"),
        "masker": ColumnRule("str", what="a masker file name"),
        "smr": ColumnRule("int", allowed=C.SMRS, what="an SMR in {-6, -3, 0, 3, 6} dB"),
        "stimulus_index": ColumnRule("int", low=1, high=51, what="an integer 1-51"),
        "time_taken": ColumnRule("float", low=0, what="seconds ≥ 0"),
        "is_attention": ColumnRule("int", allowed=(0, 1), what="0 or 1"),
        **{r: _RATING for r in C.RATINGS},
        # the ElasticNet predictors must be numbers (scikit-learn refuses NaN); the other
        # indicators may be blank or ±inf without stopping the baselines
        **{f: ColumnRule("float", what="a number") for f in C.ELASTICNET_FEATURES},
    },
    default=ColumnRule("float", nullable=True, finite=False, what="a number"),
    unique=("participant", "stimulus_index"),
)
SOUNDSCAPES = TableSpec(
    "soundscapes.csv", C.SOUNDSCAPE_COLUMNS,
    rules={"soundscape": ColumnRule("str", what="a file name"), "fold_s": _FOLD,
           "gain_s": ColumnRule("float", low=0, what="a gain > 0")},
    default=ColumnRule("float", what="a number"),
    unique=("soundscape",),
)
MASKERS = TableSpec(
    "maskers.csv", C.MASKER_COLUMNS,
    rules={"masker": ColumnRule("str", what="a file name"),
           "fold_m": ColumnRule("int", low=0, high=7, what="a fold in 0…7"),
           "class": ColumnRule("str", allowed=C.MASKER_CLASSES),
           "site": ColumnRule("str", nullable=True), "site_index": ColumnRule("int", low=0),
           "citation": ColumnRule("str", nullable=True), "license": ColumnRule("str", nullable=True),
           "comments": ColumnRule("str", nullable=True)},
    # a silent masker's indicators may be blank or -inf (the level of all-zero audio)
    default=ColumnRule("float", nullable=True, finite=False, what="a number"),
    unique=("masker",),
)
PARTICIPANTS = TableSpec(
    "participants.csv", C.PARTICIPANT_COLUMNS,
    rules={"participant": ColumnRule("str"), "fold_p": ColumnRule("int", low=0, high=7, what="a fold in 0…7")},
    # questionnaire codes: not used by the protocol, so only their being numbers is checked
    default=ColumnRule("float", nullable=True, what="a numeric code"),
    unique=("participant",),
)
TABLES = {"responses": RESPONSES, "soundscapes": SOUNDSCAPES, "maskers": MASKERS,
          "participants": PARTICIPANTS}


def table_path(root: Path, table: str) -> Path:
    return Path(root) / "data" / f"{table}.csv"


def read(root: Path, table: str) -> Any:
    """One ARAUS table as a DataFrame; the first problem is raised (file, line, column)."""
    frame, problems = read_table(table_path(root, table), TABLES[table])
    raise_first(problems)
    return frame


def read_soundscapes_file(path: Path) -> Any:
    """``soundscapes.csv`` on its own (the public copy), checked the same way."""
    frame, problems = read_table(Path(path), SOUNDSCAPES)
    raise_first(problems)
    return frame


def verify_araus(root: Path, release_counts: bool | None = None) -> list[Problem]:
    """Every problem with an ARAUS folder: tables, rows, cross-table folds, counts, WAVs.

    ``release_counts`` (default: unless the folder holds the synthetic marker) also
    compares the table sizes with the ARAUSv1 release.
    """
    root = Path(root)
    if release_counts is None:
        release_counts = not (root / SYNTHETIC_MARKER).exists()
    frames, problems = {}, []
    for name, spec in TABLES.items():
        frame, p = read_table(table_path(root, name), spec)
        frames[name] = frame
        problems.extend(p)
    if any(f is None for f in frames.values()) or any(p.line == 1 for p in problems):
        return problems  # without every table and column, the rest cannot be checked
    problems.extend(check_structure(root, frames))
    if release_counts:
        problems.extend(check_release_counts(root, frames))
    # synthetic audio is short; the release's is 30 s
    problems.extend(check_wavs(root, frames["responses"], seconds=C.STIMULUS_SECONDS if release_counts else None))
    problems.extend(check_archives(root))
    return problems


def check_archives(root: Path) -> list[Problem]:
    """sha512 of the other downloads of code/manifest.csv still in the folder (the archives
    the dataset declares are checked by ``affrepro data verify`` itself)."""
    import hashlib

    from affrepro.reproductions.araus_2022.datasets import ARAUS_ARCHIVES, MANIFEST

    declared = {f.name for f in ARAUS_ARCHIVES}
    problems = []
    for url, name, sha512 in MANIFEST:
        if name in declared:
            continue
        path = Path(root) / name
        if not path.is_file():
            continue
        h = hashlib.sha512()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        if h.hexdigest() != sha512:
            problems.append(Problem(str(path), f"sha512 {h.hexdigest()[:16]}…, expected {sha512[:16]}… "
                                    f"(code/manifest.csv); download it again from {url}"))
    return problems


def check_structure(root: Path, frames: dict[str, Any]) -> list[Problem]:
    """Folds and keys across tables, as the README defines them."""
    import numpy as np

    r, s, m, p = (frames[k] for k in ("responses", "soundscapes", "maskers", "participants"))
    path = str(table_path(root, "responses"))
    problems: list[Problem] = []
    lines = np.arange(len(r)) + 2

    def first_rows(mask, message, column):
        idx = np.flatnonzero(np.asarray(mask))
        for i in idx[:5]:
            problems.append(Problem(path, message(i), line=int(lines[i]), column=column))
        if len(idx) > 5:
            problems.append(Problem(path, f"… and {len(idx) - 5} more rows like these", column=column))

    fold_s = dict(zip(s["soundscape"], s["fold_s"]))
    fold_m = dict(zip(m["masker"], m["fold_m"]))
    fold_p = dict(zip(p["participant"], p["fold_p"]))
    first_rows(~r["soundscape"].isin(fold_s.keys()),
               lambda i: f"soundscape {r['soundscape'].iloc[i]!r} is not in data/soundscapes.csv", "soundscape")
    first_rows(~r["masker"].isin(fold_m.keys()),
               lambda i: f"masker {r['masker'].iloc[i]!r} is not in data/maskers.csv", "masker")
    first_rows(~r["participant"].isin(fold_p.keys()),
               lambda i: f"participant {r['participant'].iloc[i]!r} is not in data/participants.csv", "participant")
    fr = r["fold_r"].to_numpy()
    fs = r["soundscape"].map(fold_s).to_numpy(dtype=float)
    first_rows(~np.isnan(fs) & (fs != fr),
               lambda i: f"fold_r {fr[i]:g} differs from fold_s {fs[i]:g} of {r['soundscape'].iloc[i]}", "fold_r")
    for col, mapping, other in (("masker", fold_m, "fold_m"), ("participant", fold_p, "fold_p")):
        fo = r[col].map(mapping).to_numpy(dtype=float)
        first_rows((fr != C.FOLD_COMMON) & ~np.isnan(fo) & (fo != fr),
                   lambda i, fo=fo, col=col, other=other:
                   f"fold_r {fr[i]:g} differs from {other} {fo[i]:g} of {r[col].iloc[i]}", "fold_r")
    # attention stimuli: the common stimulus with every rating fixed at 3 (README "is_attention")
    att = r["is_attention"].to_numpy() == 1
    first_rows(att & (fr != C.FOLD_COMMON),
               lambda i: f"an attention stimulus (is_attention 1) in fold {fr[i]:g}; they are fold -1", "is_attention")
    not3 = (r.loc[:, list(C.RATINGS)].to_numpy() != 3).any(axis=1)
    first_rows(att & not3, lambda i: "an attention stimulus whose ratings are not all 3", "is_attention")
    # one fold per participant outside the common stimulus; 45 (CV) or 51 (test) stimuli each
    main = r[fr != C.FOLD_COMMON]
    folds_per_participant = main.groupby("participant")["fold_r"].nunique()
    for who in folds_per_participant[folds_per_participant > 1].index[:5]:
        problems.append(Problem(path, f"participant {who} has responses in several folds "
                                f"({sorted(main.loc[main['participant'] == who, 'fold_r'].unique())})",
                                column="fold_r"))
    sizes = r.groupby("participant").size()
    pfold = main.groupby("participant")["fold_r"].first()
    for who, n in sizes.items():
        f = pfold.get(who)
        if f is None:
            continue
        want = C.STIMULI_PER_TEST_PARTICIPANT if f == C.FOLD_TEST else C.STIMULI_PER_CV_PARTICIPANT
        if n != want:
            problems.append(Problem(path, f"participant {who} (fold {f:g}) has {n} responses; every "
                                    f"participant of that fold rated {want} stimuli", column="participant"))
    common = r[fr == C.FOLD_COMMON].groupby("participant").size()
    for who, n in common[common != C.COMMON_STIMULI_PER_PARTICIPANT].items():
        problems.append(Problem(path, f"participant {who} has {n} fold -1 responses; expected 3 (first, "
                                "attention, last)", column="fold_r"))
    test = r[fr == C.FOLD_TEST]
    if len(test):
        stimuli = test.groupby("participant").apply(
            lambda g: frozenset(zip(g["soundscape"], g["masker"], g["smr"])), include_groups=False)
        n_unique = test.groupby(["soundscape", "masker", "smr"]).ngroups
        if stimuli.nunique() != 1 or n_unique != C.TEST_STIMULI:
            problems.append(Problem(path, f"the test fold (fold_r 0) must be the same {C.TEST_STIMULI} "
                                    f"(soundscape, masker, smr) stimuli for every test participant; found "
                                    f"{n_unique} distinct stimuli over {len(stimuli)} participants",
                                    column="fold_r"))
    if (fr > 5).any():
        problems.append(Problem(path, "responses in folds 6/7 (the ARAUSv2 test set): this is `datav2/`; "
                                "the paper's protocol is ARAUSv1 — link the folder whose data/ holds the "
                                "v1 tables", column="fold_r"))
    return problems


def check_release_counts(root: Path, frames: dict[str, Any]) -> list[Problem]:
    problems = []
    for name, want in C.RELEASE_COUNTS.items():
        n = len(frames[name.removesuffix(".csv")])
        if n != want:
            problems.append(Problem(str(root / "data" / name),
                                    f"{n} data rows; the ARAUSv1 release has {want}"))
    r = frames["responses"]
    for k in C.CV_FOLDS:
        n = int((r["fold_r"] == k).sum())
        if n != C.RESPONSES_PER_CV_FOLD:
            problems.append(Problem(str(table_path(root, "responses")),
                                    f"fold {k} has {n} responses; the release has {C.RESPONSES_PER_CV_FOLD}",
                                    column="fold_r"))
    n_test = int((r["fold_r"] == C.FOLD_TEST).sum())
    if n_test != C.TEST_RESPONSES:
        problems.append(Problem(str(table_path(root, "responses")),
                                f"fold 0 has {n_test} responses; the release has {C.TEST_RESPONSES}",
                                column="fold_r"))
    return problems


def check_wavs(root: Path, responses: Any, seconds: float | None = C.STIMULUS_SECONDS) -> list[Problem]:
    """The WAVs responses.csv names, when the audio folders are there."""
    import numpy as np

    problems: list[Problem] = []
    lines = np.arange(len(responses)) + 2
    for folder, column, channels in (("soundscapes", "soundscape", C.SOUNDSCAPE_CHANNELS),
                                     ("maskers", "masker", C.MASKER_CHANNELS)):
        d = Path(root) / folder
        if not d.is_dir():
            continue
        names = responses[column].to_numpy()
        first_line = {}
        for i, n in enumerate(names):
            first_line.setdefault(n, int(lines[i]))
        for name, line in first_line.items():
            problems.extend(check_wav(d / name, channels, referenced=(table_path(root, "responses"), line, column),
                                      seconds=seconds))
    return problems


def check_wav(path: Path, channels: int, referenced: tuple[Path, int, str] | None = None,
              seconds: float | None = C.STIMULUS_SECONDS) -> list[Problem]:
    """One WAV: present, 44.1 kHz, ``channels`` channels, ``seconds`` long."""
    import soundfile as sf

    if not path.is_file():
        if referenced:
            table, line, column = referenced
            return [Problem(str(table), f"names {path.name}, which is missing from {path.parent}",
                            line=line, column=column)]
        return [Problem(str(path), "missing")]
    try:
        info = sf.info(str(path))
    except Exception as exc:  # soundfile raises RuntimeError/LibsndfileError for non-audio
        return [Problem(str(path), f"not a readable WAV file ({exc})")]
    problems = []
    if info.samplerate != C.SAMPLE_RATE:
        problems.append(Problem(str(path), f"sample rate {info.samplerate} Hz; expected {C.SAMPLE_RATE} Hz"))
    if info.channels != channels:
        kind = "binaural (2 channels)" if channels == 2 else "mono (1 channel)"
        problems.append(Problem(str(path), f"{info.channels} channel(s); expected {kind}"))
    if seconds is not None and info.frames != round(seconds * info.samplerate):
        problems.append(Problem(str(path), f"{info.frames / info.samplerate:.3f} s long; expected {seconds} s"))
    return problems


def verify_soundscapes(folder: Path) -> list[Problem]:
    """Problems of the public ``soundscapes.csv`` copy (dataset araus-soundscapes)."""
    path = Path(folder) / "soundscapes.csv"
    if not path.is_file():
        return []  # the core lists it as missing
    _, problems = read_table(path, SOUNDSCAPES)
    return problems
