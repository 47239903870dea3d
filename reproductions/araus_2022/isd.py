"""The real-data extension on the International Soundscape Database (ISD v1.0).

ISD holds on-site ISO 12913-2 surveys: each response rates the eight PAQs on 1-5 and,
for part of the database, carries the binaural acoustic indicators of the recording made
during the survey session (channel maximum, suffix ``_Max``). The extension applies the
ARAUS ground truth (ISO pleasantness / eventfulness, ``iso.py``) and the ARAUS baselines
(label-mean; ElasticNet with scikit-learn defaults on raw acoustic indicators).

Grouping. Responses at one location share its acoustic environment (and usually a
recording session), so random folds would leak the site into the validation data. The CV
is leave-one-location-out over ``LocationID``: each fold validates on every response of
one location and trains on all other locations. As in ARAUS, the reported MSE is the mean
over folds of the per-fold MSE (train and validation); the pooled validation MSE over all
held-out responses is recorded too. Responses with a missing PAQ are dropped; the
ElasticNet (and a label-mean on the same rows, for comparison) uses the responses whose
acoustic indicators are all present. Both models are deterministic, so seeds change nothing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from affrepro.components import Problem
from affrepro.reproductions.araus_2022.datasets import ISD_FILE
from affrepro.reproductions.araus_2022.iso import CIRCUMPLEX, eventfulness, pleasantness
from affrepro.reproductions.araus_2022.tables import ColumnRule, TableSpec, raise_first, read_table

ID_COLUMNS = ("LocationID", "SessionID", "GroupID", "RecordID")
PAQS = tuple(name for name, _ in CIRCUMPLEX)
# The ISD indicators of the families ARAUS uses for its `_r` predictors (A- and C-weighted
# levels, loudness, sharpness, roughness, tonality, fluctuation strength; statistics as ISD
# computes them: overall value, min, max, L5/10/50/90/95 exceedance levels).
_LEVEL_STATS = ("L{w}", "Min{w}", "Max{w}", "L5{w}", "L10{w}", "L50{w}", "L90{w}", "L95{w}")
FEATURES: tuple[str, ...] = (
    tuple(f"LAeq_{s.format(w='(A)')}_Max" for s in _LEVEL_STATS)
    + tuple(f"LCeq_{s.format(w='(C)')}_Max" for s in _LEVEL_STATS)
    + tuple(f"N_{s}_Max" for s in ("N5", "Min", "Max", "N10", "N50", "N90", "N95"))
    + tuple(f"{f}_{s}_Max" for f, stats in (
        ("S", ("S", "Min", "Max", "S5", "S10", "S50", "S90", "S95")),
        ("R", ("R", "Min", "Max", "R5", "R10", "R50", "R90", "R95")),
        ("T", ("TonalityHMS", "Min", "Max", "T5", "T10", "T50", "T90", "T95")),
        ("FS", ("F", "Min", "Max", "F5", "F10", "F50", "F90", "F95")),
    ) for s in stats)
)
assert len(FEATURES) == 55
# The full header of ISD v1.0 Data.csv, in order (the synthetic ISD writes exactly this).
HEADER: tuple[str, ...] = tuple((
    "LocationID,SessionID,GroupID,RecordID,start_time,end_time,latitude,longitude,Language,Survey_Ve"
    "rsion,ssi01,ssi02,ssi03,ssi04,pleasant,chaotic,vibrant,uneventful,calm,annoying,eventful,monoto"
    "nous,sss01,sss02,sss03,sss04,sss05,who01,who02,who03,who04,who05,WHO_Sum,age00,gen00,edu00,eth0"
    "0,occ00,eth00_other,occ00_other,misc03,misc03_other,misc01,use00,uni00,RecordingLength,LZeq_L_M"
    "ax,LZeq_Min_Max,LZeq_Max_Max,LZeq_L5_Max,LZeq_L10_Max,LZeq_L50_Max,LZeq_L90_Max,LZeq_L95_Max,LC"
    "eq_L(C)_Max,LCeq_Min(C)_Max,LCeq_Max(C)_Max,LCeq_L5(C)_Max,LCeq_L10(C)_Max,LCeq_L50(C)_Max,LCeq"
    "_L90(C)_Max,LCeq_L95(C)_Max,LAeq_L(A)_Max,LAeq_Min(A)_Max,LAeq_Max(A)_Max,LAeq_L5(A)_Max,LAeq_L"
    "10(A)_Max,LAeq_L50(A)_Max,LAeq_L90(A)_Max,LAeq_L95(A)_Max,N_N5_Max,N_Min_Max,N_Max_Max,N_N10_Ma"
    "x,N_N50_Max,N_N90_Max,N_N95_Max,S_S_Max,S_Min_Max,S_Max_Max,S_S5_Max,S_S10_Max,S_S50_Max,S_S90_"
    "Max,S_S95_Max,R_R_Max,R_Min_Max,R_Max_Max,R_R5_Max,R_R10_Max,R_R50_Max,R_R90_Max,R_R95_Max,T_To"
    "nalityHMS_Max,T_Min_Max,T_Max_Max,T_T5_Max,T_T10_Max,T_T50_Max,T_T90_Max,T_T95_Max,FS_F_Max,FS_"
    "Min_Max,FS_Max_Max,FS_F5_Max,FS_F10_Max,FS_F50_Max,FS_F90_Max,FS_F95_Max,I_I_Max,I_Min_Max,I_Ma"
    "x_Max,I_I5_Max,I_I10_Max,I_I50_Max,I_I90_Max,I_I95_Max,SIL4_SIL(rms)_Max,SIL4_SIL(av)_Max,SIL4_"
    "Min_Max,SIL4_Max_Max,SIL4_SIL5_Max,SIL4_SIL10_Max,SIL4_SIL50_Max,SIL4_SIL90_Max,SIL4_SIL95_Max,"
    "RA_cp_Max,RA_Min_Max,RA_Max_Max,RA_cp5_Max,RA_cp10_Max,RA_cp50_Max,RA_cp90_Max,RA_cp95_Max,THD_"
    "THD_Max,THD_Min_Max,THD_Max_Max,THD_L5_Max,THD_L10_Max,THD_L50_Max,THD_L90_Max,THD_L95_Max"
).split(","))
assert set(ID_COLUMNS + PAQS + FEATURES) <= set(HEADER)
RELEASE_ROWS = 3_589
SYNTHETIC_MARKER = "SYNTHETIC.txt"

SPEC = TableSpec(
    "ISD v1.0 Data.csv", ID_COLUMNS + PAQS + FEATURES,
    rules={"LocationID": ColumnRule("str", what="a location name"),
           "SessionID": ColumnRule("str"), "GroupID": ColumnRule("str", nullable=True),
           "RecordID": ColumnRule("str"),
           **{p: ColumnRule("int", low=1, high=5, nullable=True, what="an integer rating 1-5")
              for p in PAQS}},
    default=ColumnRule("float", nullable=True, what="a number"),
)  # RecordID is not unique in ISD v1.0 (e.g. RecordID 3 appears at several locations)


def verify_isd_folder(folder: Path) -> list[Problem]:
    """Problems of the ``isd`` dataset folder: its one CSV, when present (the core lists a
    missing file)."""
    path = Path(folder) / ISD_FILE
    return verify_isd(path) if path.is_file() else []


def verify_isd(path: Path, release_rows: bool | None = None) -> list[Problem]:
    path = Path(path)
    frame, problems = read_table(path, SPEC)
    if release_rows is None:
        release_rows = not (path.parent / SYNTHETIC_MARKER).exists()
    if frame is not None and release_rows and len(frame) != RELEASE_ROWS:
        problems.append(Problem(str(path), f"{len(frame)} data rows; ISD v1.0 has {RELEASE_ROWS}"))
    return problems


def load_isd(path: Path) -> Any:
    """The ISD table with ISO ``pleasantness``/``eventfulness`` added (NaN where a PAQ is missing)."""
    frame, problems = read_table(Path(path), SPEC)
    raise_first(problems)
    return frame.assign(pleasantness=pleasantness(frame), eventfulness=eventfulness(frame))


def grouped_cv(frame: Any, target: str, model_factory, features: tuple[str, ...] | None,
               group: str = "LocationID") -> dict[str, Any]:
    """Leave-one-group-out CV: per-fold train/val MSE, their means, pooled val MSE."""
    import numpy as np

    y = frame[target].to_numpy(dtype=np.float64)
    X = (frame[list(features)].to_numpy(dtype=np.float64) if features
         else np.zeros((len(frame), 1)))
    groups = frame[group].to_numpy()
    per_fold, pooled_err = {}, np.empty(len(frame))
    for g in sorted(set(groups)):
        val = groups == g
        model = model_factory()
        model.fit(X[~val], y[~val])
        train_mse = float(np.mean((model.predict(X[~val]) - y[~val]) ** 2))
        pred = model.predict(X[val])
        pooled_err[val] = pred - y[val]
        per_fold[str(g)] = {"train_mse": train_mse, "val_mse": float(np.mean((pred - y[val]) ** 2)),
                            "n_val": int(val.sum())}
    return {
        "train_mse": float(np.mean([f["train_mse"] for f in per_fold.values()])),
        "val_mse": float(np.mean([f["val_mse"] for f in per_fold.values()])),
        "val_mse_pooled": float(np.mean(pooled_err ** 2)),
        "folds": per_fold,
    }


def run_extension(path: Path, models: dict[str, Any], record=None, note=None) -> dict[str, float]:
    """Label-mean and ElasticNet on ISD, leave-one-location-out; returns the flat results.

    ``models``: {"label-mean": factory, "elasticnet": factory}. ``record(name, value)`` and
    ``note(key, value)`` receive the results when given (a RunContext's methods).
    """
    import numpy as np

    frame = load_isd(path)
    complete = frame[frame[list(PAQS)].notna().all(axis=1)]
    acoustic = complete[complete[list(FEATURES)].notna().all(axis=1)]
    results: dict[str, float] = {
        "isd.n_responses": len(frame), "isd.n_responses_complete_paqs": len(complete),
        "isd.n_locations": complete["LocationID"].nunique(),
        "isd.acoustic.n_responses": len(acoustic), "isd.acoustic.n_locations": acoustic["LocationID"].nunique(),
    }
    tables: dict[str, Any] = {}
    runs = [("all", complete, "label-mean", None)]
    if acoustic["LocationID"].nunique() >= 2:
        runs += [("acoustic", acoustic, "label-mean", None), ("acoustic", acoustic, "elasticnet", FEATURES)]
    for subset, data, model, feats in runs:
        for target in ("pleasantness", "eventfulness"):
            out = grouped_cv(data, target, models[model], feats)
            key = f"isd.{subset}.{target}.{model}"
            for stat in ("train_mse", "val_mse", "val_mse_pooled"):
                results[f"{key}.{stat}"] = out[stat]
            tables[key] = out["folds"]
    for k, v in results.items():
        if not np.isfinite(v):
            raise ValueError(f"ISD extension: {k} is not finite ({v})")
    if record is not None:
        for k, v in results.items():
            record(k, v)
    if note is not None:
        note("isd_extension", {
            "grouping": "leave-one-location-out over LocationID (each fold validates on one location)",
            "features": list(FEATURES), "per_location": tables,
            "dropped": "responses with any missing PAQ; for 'acoustic', also those without all indicators",
        })
    return results
