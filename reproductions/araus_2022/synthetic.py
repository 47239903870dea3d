"""Small synthetic corpora in exactly the real formats (tests and ``reproduce --dry-run``).

``write_araus`` writes ``data/{responses,soundscapes,maskers,participants}.csv`` with the
release's columns and fold structure: five cross-validation folds whose participants each
rate 42 stimuli of their fold plus the common stimulus three times (first, attention
with all ratings 3, last), and a test fold whose five participants rate the same 48
stimuli (6 soundscapes x 8 masker/SMR conditions). Only the number of participants,
soundscapes and maskers per fold is smaller. Ratings follow a latent pleasantness and
eventfulness that the `_r` indicators partly carry, so the ElasticNet has signal to find.
WAVs are written only on request (``audio_seconds``), and short: 30 s binaural audio per
soundscape is not cheap.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from affrepro.reproductions.araus_2022 import columns as C
from affrepro.reproductions.araus_2022.loaders import SYNTHETIC_MARKER

CV_PARTICIPANTS_PER_FOLD = 3
TEST_PARTICIPANTS = 5
SOUNDSCAPES_PER_FOLD = 6
MASKERS_PER_CLASS_PER_FOLD = 2
COMMON_SOUNDSCAPE = "R0091_segment_binaural_44100_1.wav"
_NOTE = ("Synthetic ARAUS written by affrepro (araus-2022) for tests and dry runs: the real "
         "columns and fold structure, fewer participants, random numbers. Not research data.\n")


def _indicators(rng: np.random.Generator, n: int, level: np.ndarray) -> dict[str, np.ndarray]:
    """141 indicator columns; levels/loudness follow ``level`` (dB), the rest are noise."""
    out = {}
    for name in C.INDICATORS:
        if name.startswith(("LA", "LC", "M")) and "arg" not in name:
            out[name] = np.round(level + rng.normal(0, 2, n) - (10 if name.startswith("M") else 0), 4)
        elif name.startswith("N") and "arg" not in name:
            out[name] = np.round(np.maximum(2 ** ((level - 40) / 10) + rng.normal(0, 0.5, n), 0.1), 4)
        elif "arg" in name:
            out[name] = np.round(rng.uniform(0, 30, n), 3)
        else:
            out[name] = np.round(np.abs(rng.normal(1.5, 0.4, n)), 4)
    return out


def _ratings(rng: np.random.Generator, p: np.ndarray, e: np.ndarray) -> dict[str, np.ndarray]:
    def r(x):
        return np.clip(np.round(3 + 1.6 * x + rng.normal(0, 0.8, len(x))), 1, 5).astype(int)

    return {"pleasant": r(p), "eventful": r(e), "chaotic": r((e - p) / 1.4),
            "vibrant": r((e + p) / 1.4), "uneventful": r(-e), "calm": r((p - e) / 1.4),
            "annoying": r(-p), "monotonous": r(-(e + p) / 1.4), "appropriate": r(p)}


def _soundscapes(rng: np.random.Generator):
    import pandas as pd

    rows = [(COMMON_SOUNDSCAPE, -1)]
    rows += [(f"R{100 + 10 * k + i:04d}_segment_binaural_44100_{1 + i % 2}.wav", k)
             for k in C.CV_FOLDS for i in range(SOUNDSCAPES_PER_FOLD)]
    rows += [(f"S{i + 1:04d}_1min_SQobold_bin_44100_1.wav", 0) for i in range(6)]
    rows += [("R0999_segment_binaural_44100_2.wav", -1)]  # a soundscape in no fold
    n = len(rows)
    leq = np.round(rng.uniform(55, 75, n), 2)
    df = pd.DataFrame({"soundscape": [r[0] for r in rows], "fold_s": [r[1] for r in rows],
                       "insitu_leq": leq, "gain_s": np.round(rng.uniform(1, 20, n), 4),
                       **{f"{k}_s": v for k, v in _indicators(rng, n, leq).items()}})
    return df[list(C.SOUNDSCAPE_COLUMNS)]


def _maskers(rng: np.random.Generator):
    import pandas as pd

    rows = []
    for k in (0,) + C.CV_FOLDS:
        rows.append((f"silence_{k:05d}.wav", k, "silence"))
        per_class = 1 if k == 0 else MASKERS_PER_CLASS_PER_FOLD
        for cls in ("bird", "construction", "traffic", "water", "wind"):
            rows += [(f"{cls}_{k}{i:04d}.wav", k, cls) for i in range(per_class)]
    n = len(rows)
    silent = np.array([r[2] == "silence" for r in rows])
    gains = {f"gain_{db}dB": np.where(silent, 1.0, np.round(10 ** ((db - 65) / 20) * rng.uniform(0.5, 2, n), 6))
             for db in C.MASKER_GAIN_LEVELS}
    leqs = {f"leq_at_gain_{db}dB": np.where(silent, float(db), np.round(db + rng.normal(0, 0.3, n), 2))
            for db in C.MASKER_GAIN_LEVELS}
    df = pd.DataFrame({
        "masker": [r[0] for r in rows], "fold_m": [r[1] for r in rows], "class": [r[2] for r in rows],
        "site": np.where(silent, "NIL", "Freesound"), "site_index": np.where(silent, 0, 1000 + np.arange(n)),
        "citation": np.where(silent, "NIL", "synthetic"), "license": np.where(silent, "NIL", "Creative Commons 0"),
        "comments": "", **gains, **leqs,
        **{f"{k}_m": v for k, v in _indicators(rng, n, np.full(n, 65.0)).items()},
    })
    return df[list(C.MASKER_COLUMNS)]


def write_audio(folder: Path, seed: int = 0, seconds: float = 1.0) -> None:
    """WAVs for every soundscape (binaural) and masker (mono) of a synthetic ARAUS, at
    44.1 kHz; ``seconds`` long (1 s by default to stay cheap: the verifier checks the 30 s
    of the release only on real data). Silent maskers are all zeros, as in the release."""
    import pandas as pd
    import soundfile as sf

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    n = int(round(seconds * C.SAMPLE_RATE))
    t = np.arange(n) / C.SAMPLE_RATE
    for sub, table, col, channels in (("soundscapes", "soundscapes", "soundscape", 2),
                                      ("maskers", "maskers", "masker", 1)):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        for name in pd.read_csv(folder / "data" / f"{table}.csv", usecols=[col])[col]:
            if name.startswith("silence"):
                x = np.zeros(n)
            else:
                x = 0.05 * rng.normal(size=(n, channels)) + 0.1 * np.sin(2 * np.pi * rng.uniform(100, 4000) * t)[:, None]
                x = x[:, 0] if channels == 1 else x
            sf.write(folder / sub / name, x, C.SAMPLE_RATE, subtype="PCM_16")


def write_araus(folder: Path, seed: int = 0, audio_seconds: float | None = None) -> None:
    """The synthetic ARAUS release under ``folder`` (see the module docstring); with
    ``audio_seconds``, also the soundscape and masker WAVs (``write_audio``)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    sc, mk = _soundscapes(rng), _maskers(rng)
    # latent affect of each soundscape and masker class
    sc_p = dict(zip(sc["soundscape"], rng.normal(0, 0.5, len(sc))))
    sc_e = dict(zip(sc["soundscape"], rng.normal(0, 0.5, len(sc))))
    cls_p = {"silence": 0.0, "bird": 0.5, "water": 0.3, "wind": 0.1, "traffic": -0.4, "construction": -0.6}
    mk_cls = dict(zip(mk["masker"], mk["class"]))

    participants, rows = [], []
    pid = 10000

    def stimulus(who, fold, index, s, m, smr, attention=False):
        rows.append({"participant": who, "fold_r": fold, "soundscape": s, "masker": m, "smr": smr,
                     "stimulus_index": index, "is_attention": int(attention)})

    def common(who, index, attention=False):
        stimulus(who, -1, index, COMMON_SOUNDSCAPE, "silence_00000.wav", 6, attention)

    for k in C.CV_FOLDS:
        pool_s = sc.loc[sc["fold_s"] == k, "soundscape"].tolist()
        pool_m = mk.loc[mk["fold_m"] == k, "masker"].tolist()
        for _ in range(CV_PARTICIPANTS_PER_FOLD):
            pid += 1
            who = f"ARAUS_{pid:05d}"
            participants.append((who, k))
            attention_at = int(rng.integers(15, 26))
            common(who, 1)
            n = 0
            for index in range(2, C.STIMULI_PER_CV_PARTICIPANT):
                if index == attention_at:
                    common(who, index, attention=True)
                    continue
                stimulus(who, k, index, pool_s[n % len(pool_s)], str(rng.choice(pool_m)),
                         int(rng.choice(C.SMRS)))
                n += 1
            common(who, C.STIMULI_PER_CV_PARTICIPANT)
    test_s = sc.loc[sc["fold_s"] == 0, "soundscape"].tolist()
    test_m = mk.loc[mk["fold_m"] == 0, "masker"].tolist()  # 1 silence + 5 maskers
    conditions = [(test_m[0], 6), (test_m[0], 0)] + [(m, smr) for m in test_m[1:] for smr in (0, 6)][:6]
    test_stimuli = [(s, m, smr) for s in test_s for m, smr in conditions]
    assert len(test_stimuli) == C.TEST_STIMULI
    for _ in range(TEST_PARTICIPANTS):
        pid += 1
        who = f"ARAUS_{pid:05d}"
        participants.append((who, 0))
        order = rng.permutation(len(test_stimuli))
        attention_at = int(rng.integers(15, 26))
        common(who, 1)
        n = 0
        for index in range(2, C.STIMULI_PER_TEST_PARTICIPANT):
            if index == attention_at:
                common(who, index, attention=True)
                continue
            s, m, smr = test_stimuli[order[n]]
            stimulus(who, 0, index, s, m, smr)
            n += 1
        common(who, C.STIMULI_PER_TEST_PARTICIPANT)

    r = pd.DataFrame(rows)
    n = len(r)
    masker_share = 1 / (1 + 10 ** (r["smr"].to_numpy() / 10))
    p = (r["soundscape"].map(sc_p).to_numpy()
         + masker_share * r["masker"].map(mk_cls).map(cls_p).to_numpy())
    e = r["soundscape"].map(sc_e).to_numpy()
    level = (r["soundscape"].map(dict(zip(sc["soundscape"], sc["insitu_leq"]))).to_numpy()
             + 3 * masker_share - 4 * p)
    ratings = _ratings(rng, p + rng.normal(0, 0.4, n), e + rng.normal(0, 0.4, n))
    att = r["is_attention"].to_numpy() == 1
    for name in C.RATINGS:
        ratings[name][att] = 3
    extra = pd.DataFrame({"time_taken": np.round(30 + rng.exponential(15, n), 2), **ratings,
                          **{f"{k}_r": v for k, v in _indicators(rng, n, level).items()},
                          "Leq_L_r": np.round(level + 8 + rng.normal(0, 1, n), 4),
                          "Leq_R_r": np.round(level + 8 + rng.normal(0, 1, n), 4)}, index=r.index)
    r = pd.concat([r, extra], axis=1)[list(C.RESPONSE_COLUMNS)]

    part = pd.DataFrame({"participant": [w for w, _ in participants], "fold_p": [f for _, f in participants]})
    m = len(part)
    codes = {"language_a": (0, 1), "language_b": (-1, 0, 1), "language_c": (-1, 0, 1), "age": range(18, 76),
             "gender": (0, 1), "ethnic": range(4), "occupation": range(5), "education_a": range(10),
             "education_b": (-1, 0, 2, 3, 4, 5, 6, 7, 8, 9), "dwelling": range(5), "citizen": (0, 1),
             "residence_length": (0, 1), "annoyance_freq": range(11), "quality": range(11),
             "wnss": range(10, 51), "pss": range(41), "who": range(26), "panas_pos": range(10, 51),
             "panas_neg": range(10, 51)}
    for col, values in codes.items():
        part[col] = rng.choice(list(values), m)

    r.to_csv(folder / "data" / "responses.csv", index=False)
    sc.to_csv(folder / "data" / "soundscapes.csv", index=False)
    mk.to_csv(folder / "data" / "maskers.csv", index=False)
    part[list(C.PARTICIPANT_COLUMNS)].to_csv(folder / "data" / "participants.csv", index=False)
    (folder / SYNTHETIC_MARKER).write_text(_NOTE, encoding="utf-8")
    if audio_seconds:
        write_audio(folder, seed, audio_seconds)


def write_araus_dry_run(folder: Path, seed: int = 0) -> None:
    """The synthetic release of a dry run: with short WAVs, so the CNN stage runs too."""
    from affrepro.reproductions.araus_2022.cnn import DRY_RUN_AUDIO_SECONDS

    write_araus(folder, seed, audio_seconds=DRY_RUN_AUDIO_SECONDS)


def write_soundscapes_only(folder: Path, seed: int = 0) -> None:
    """A synthetic ``soundscapes.csv`` alone (the public araus-soundscapes layout)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _soundscapes(np.random.default_rng(seed)).to_csv(folder / "soundscapes.csv", index=False)


def write_isd(folder: Path, seed: int = 0, locations: int = 6, per_location: int = 30) -> None:
    """A synthetic ``ISD v1.0 Data.csv``: the real header, PAQs 1-5 with a few blanks, the
    acoustic indicators present at most locations (as in ISD, where many rows lack them)."""
    import pandas as pd

    from affrepro.reproductions.araus_2022.isd import HEADER, PAQS, SYNTHETIC_MARKER as ISD_MARKER

    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = locations * per_location
    loc = np.repeat([f"Site{i:02d}" for i in range(locations)], per_location)
    level = np.repeat(rng.uniform(50, 75, locations), per_location) + rng.normal(0, 2, n)
    p = -(level - 62) / 10 + rng.normal(0, 0.5, n)
    e = (level - 62) / 15 + rng.normal(0, 0.5, n)
    ratings = _ratings(rng, p, e)
    cols: dict = {c: [""] * n for c in HEADER}
    cols["LocationID"] = loc
    cols["SessionID"] = [f"{site}{1 + i % 2}" for i, site in enumerate(loc)]
    cols["GroupID"] = [f"G{i // 3:04d}" for i in range(n)]
    cols["RecordID"] = [str(1000 + i) for i in range(n)]
    cols["Language"] = ["eng"] * n
    for name in PAQS:
        vals = ratings[name].astype(float)
        vals[rng.random(n) < 0.01] = np.nan
        cols[name] = vals
    has_audio = np.repeat(np.arange(locations) != locations - 1, per_location)  # last site: none
    for col in HEADER[HEADER.index("RecordingLength"):]:
        v = np.round(level + rng.normal(0, 1, n), 2) if col.startswith(("L", "N_")) else np.round(
            np.abs(rng.normal(1, 0.3, n)), 4)
        cols[col] = np.where(has_audio, v, np.nan)
    pd.DataFrame(cols)[list(HEADER)].to_csv(folder / "ISD v1.0 Data.csv", index=False)
    (folder / ISD_MARKER).write_text(_NOTE.replace("ARAUS", "ISD"), encoding="utf-8")
