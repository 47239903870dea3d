"""The araus-2022 protocol: ISO pleasantness/eventfulness, the paper's folds, label-mean
and ElasticNet, MSE per fold and the mean over the five folds.

Folds (``code/replication_code.ipynb``): fold_r −1 (the common practice/attention/
consistency stimulus) is never used. For validation fold k ∈ {1..5}: train on every
response with fold_r ≠ k and fold_r > 0, validate on fold_r = k, and test on fold 0
averaged per (soundscape, masker, smr) — the 48 stimuli every test participant rated —
so the test targets are mean labels (and mean `_r` features, identical within a stimulus).
Each claim is the mean over the five folds of that fold's MSE. Both baselines are
deterministic; the seeds are recorded and change nothing.

The CNN (model ``araus-cnn``, ``cnn.py``) trains on the same folds for each seed (the
paper's 10, ``cnn.PAPER_SEEDS``, unless ``--seeds`` names others); its claims are the mean
over seeds of the five folds' mean MSE. It needs the WAV folders and runs with
``--device cuda``; on the CPU its claims are skipped with the reason (a CPU run takes
hundreds of hours) unless ``AFFREPRO_ARAUS_CNN_CPU=1``. Features are cached per stimulus
under ``AFFREPRO_ARAUS_CNN_CACHE`` (default ``<data dir>/features/araus-cnn``, ~8 GB for
the release) and streamed from there; ``AFFREPRO_ARAUS_CNN_WORKERS`` sets the DataLoader
processes. A dry run trains one epoch for one seed on the synthetic WAVs (a deviation).

The real-data extension on the International Soundscape Database (``isd.py``) runs in
the same protocol when the ``isd`` dataset is available and is recorded, not claimed.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any

from affrepro.reproductions.araus_2022 import columns as C
from affrepro.reproductions.araus_2022.folds import SPLITS, fold_split  # noqa: F401  (shared with cnn.py)
from affrepro.reproductions.araus_2022.iso import eventfulness, pleasantness

TARGETS = {"pleasantness": pleasantness, "eventfulness": eventfulness}
MODELS = ("label-mean", "elasticnet")


def claim_id(target: str, model: str, split: str) -> str:
    return f"{target}-{model}-{split}-mse"


def labelled_responses(responses: Any) -> Any:
    """responses.csv with the ISO ``pleasantness`` and ``eventfulness`` of every row."""
    import pandas as pd

    labels = pd.DataFrame({name: fn(responses) for name, fn in TARGETS.items()}, index=responses.index)
    return pd.concat([responses.drop(columns=list(TARGETS), errors="ignore"), labels], axis=1)


def cross_validate(frame: Any, target: str, model_factory, features: tuple[str, ...] | None,
                   mse) -> dict[str, Any]:
    """Per-fold train/val/test MSE of one model, and their means over the five folds."""
    return fold_means({k: fit_fold(frame, target, model_factory, features, mse, k) for k in C.CV_FOLDS})


def fold_means(per_fold: dict[int, dict[str, Any]]) -> dict[str, Any]:
    import numpy as np

    means = {s: float(np.mean([f[s] for f in per_fold.values()])) for s in SPLITS}
    return {"mean": means, "folds": per_fold}


def fit_fold(frame: Any, target: str, model_factory, features: tuple[str, ...] | None, mse,
             k: int) -> dict[str, Any]:
    """Train on the folds but ``k`` (and > 0), validate on ``k``, test on fold 0: the MSEs."""
    import numpy as np

    train, val, test = fold_split(frame, k)
    cols = list(features) if features else None
    X = {s: (d[cols].to_numpy(dtype=np.float64) if cols else np.zeros((len(d), 1)))
         for s, d in (("train", train), ("val", val), ("test", test))}
    y = {s: d[target].to_numpy(dtype=np.float64)
         for s, d in (("train", train), ("val", val), ("test", test))}
    model = model_factory()
    model.fit(X["train"], y["train"])
    out: dict[str, Any] = {s: float(mse(y[s], model.predict(X[s]))) for s in SPLITS}
    out.update({f"n_{s}": len(y[s]) for s in SPLITS})
    if hasattr(model, "coef_"):
        out["nonzero_coefficients"] = int(np.sum(np.abs(model.coef_) > 0))
        out["intercept"] = float(model.intercept_)
    elif hasattr(model, "mean_"):
        out["label_mean"] = model.mean_
    return out


_FRAMES: dict[str, Any] = {}


def fold_unit(root: Any, target: str, model_factory, features: tuple[str, ...] | None, mse,
              k: int) -> dict[str, Any]:
    """One unit of the baselines (``ctx.map``): a model on ISO ``target`` for fold ``k``,
    reading responses.csv from ``root`` where the unit runs (once per process)."""
    from affrepro.reproductions.araus_2022.loaders import read, table_path

    st = table_path(root, "responses").stat()  # a file rewritten in place is read again
    key = f"{root}|{st.st_mtime_ns}|{st.st_size}"
    if key not in _FRAMES:
        responses = read(root, "responses")
        _FRAMES[key] = labelled_responses(responses[responses["fold_r"] <= 5])
    return fit_fold(_FRAMES[key], target, model_factory, features, mse, k)


def check_folds(frame: Any, ctx) -> None:
    """Deviation notes when the folds are not the ARAUSv1 ones the paper used."""
    present = sorted(int(f) for f in frame["fold_r"].unique())
    if any(f > 5 for f in present):
        ctx.deviation("responses.csv holds ARAUSv2 folds 6/7; the paper's rule `fold_r > 0` would train "
                      "on them, so they were removed to keep the ARAUSv1 protocol")
    missing = [k for k in (C.FOLD_TEST,) + C.CV_FOLDS if k not in present]
    if missing:
        from affrepro.errors import DataError

        raise DataError(f"responses.csv has no responses in fold(s) {missing}; the protocol needs "
                        "folds 0 (test) and 1-5")


# replication_code.ipynb prints 20160 train / 5040 val / 48 test responses for every fold
NOTEBOOK_COUNTS = {"n_train": 20_160, "n_val": 5_040, "n_test": C.TEST_STIMULI}


def check_counts(tables: dict[str, Any], ctx) -> None:
    """A deviation when the fold sizes differ from those the authors' notebook printed."""
    for name, folds in tables.items():
        for k, f in folds.items():
            diff = {c: f[c] for c, want in NOTEBOOK_COUNTS.items() if f[c] != want}
            if diff:
                ctx.deviation(f"fold {k} ({name}) has {diff}; the authors' notebook has {NOTEBOOK_COUNTS}")
                return


def run(ctx) -> dict[str, float]:
    from affrepro.reproductions.araus_2022.loaders import read

    root = ctx.data_path("araus")
    mse = ctx.metric("mse")
    ctx.stage("reading ARAUS responses.csv")
    responses = read(root, "responses")
    check_folds(responses, ctx)
    frame = labelled_responses(responses[responses["fold_r"] <= 5])
    models = {name: ctx.registries.models.get(name).factory for name in MODELS}
    features = {"label-mean": None, "elasticnet": C.ELASTICNET_FEATURES}
    measured: dict[str, float] = {}
    tables: dict[str, Any] = {}
    wanted = set(ctx.claims_to_measure)
    # every combination runs in a dry run (the pipeline end to end); otherwise only what a
    # claim asks for; each (target, model, fold) is one unit of the run's executor
    combos = [(t, m) for t in TARGETS for m in MODELS
              if ctx.dry_run or wanted & {claim_id(t, m, s) for s in SPLITS}]
    ctx.stage(f"label-mean and ElasticNet: {len(combos)} target/model pair(s) x 5 folds")
    fits = ctx.map(fold_unit, {f"{t}/{m}/fold{k}": (ctx.data_ref("araus"), t, models[m], features[m], mse, k)
                               for t, m in combos for k in C.CV_FOLDS}, label="baselines")
    for target, model in combos:
        ids = {s: claim_id(target, model, s) for s in SPLITS}
        out = fold_means({k: fits[f"{target}/{model}/fold{k}"] for k in C.CV_FOLDS})
        tables[f"{target}.{model}"] = out["folds"]
        for s in SPLITS:
            measured[ids[s]] = out["mean"][s]
            ctx.record(f"araus.{target}.{model}.{s}_mse", out["mean"][s])
            for k, f in out["folds"].items():
                ctx.record(f"araus.{target}.{model}.fold{k}.{s}_mse", f[s])
    if not ctx.dry_run:
        check_counts(tables, ctx)
    ctx.note("araus_folds", {
        "rule": "train: fold_r != k and fold_r > 0; val: fold_r == k; test: fold_r == 0 averaged "
                "per (soundscape, masker, smr); fold_r == -1 excluded",
        "per_fold": tables, "seeds": list(ctx.seeds),
        "elasticnet": "sklearn.linear_model.ElasticNet() defaults on the 132 _r features "
                      "(affrepro.reproductions.araus_2022.columns.ELASTICNET_FEATURES)",
    })
    compare_soundscapes(root, ctx)
    isd_extension(ctx, models)
    try:  # last: on the real data it takes hours
        measured.update(cnn_claims(ctx, root, frame))
    except Exception as exc:  # e.g. out of GPU memory: the baselines keep their verdicts
        import traceback

        for cid in CNN_CLAIMS:
            if cid in ctx.claims_to_measure:
                ctx.fail(cid, f"the CNN stage failed: {type(exc).__name__}: {exc}")
        ctx.note("cnn_error", "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return {cid: v for cid, v in measured.items() if cid in wanted}


CNN_MODEL = "araus-cnn"
CNN_TARGET = "pleasantness"
CNN_CLAIMS = tuple(claim_id(CNN_TARGET, "cnn", s) for s in SPLITS)


def _cuda_problem() -> str | None:
    import torch

    if torch.cuda.is_available():
        return None
    return (f"--device cuda was given but torch {torch.__version__} sees no CUDA GPU "
            f"(CUDA build: {torch.version.cuda or 'none, a CPU-only wheel'}); install a CUDA build of "
            "torch on a machine with an NVIDIA GPU")


def cnn_plan(ctx, root) -> dict[str, Any] | str:
    """How the CNN runs in this context: its settings, or why its claims are skipped."""
    import os

    from affrepro.reproductions.araus_2022 import cnn

    if CNN_MODEL not in ctx.registries.models:
        return f"needs model {CNN_MODEL!r}, which no plugin registers"
    if not ((root / "soundscapes").is_dir() and (root / "maskers").is_dir()):
        return ("needs the ARAUS audio: the soundscapes/ and maskers/ WAV folders beside data/ "
                "(soundscapes.zip and maskers.zip of the release; `affrepro data fetch araus` gets them)")
    device = ctx.device
    if ctx.dry_run:
        if device.startswith("cuda") and _cuda_problem():
            ctx.deviation(f"dry run: {_cuda_problem()}; the CNN stage ran on the CPU")
            device = "cpu"
        return {"device": device, "seeds": tuple(ctx.seeds), "train": dict(cnn.TRAINING) | cnn.DRY_RUN_BUDGET,
                "workers": 0}
    if device.startswith("cuda"):
        problem = _cuda_problem()
        if problem:
            return problem
        workers = min(8, max(1, (os.cpu_count() or 2) - 2))
    elif os.environ.get(cnn.CPU_OPT_IN, "") not in ("", "0"):
        workers = 0
    else:
        return (f"the CNN trains on a GPU: run with --device cuda (the paper's 10 seeds x 5 folds, up to "
                f"{cnn.TRAINING['epochs']} epochs each); {cnn.CPU_ESTIMATE}. To train on the {device} "
                f"anyway, set {cnn.CPU_OPT_IN}=1")
    workers = int(os.environ.get(cnn.WORKERS_ENV, workers))
    if tuple(ctx.seeds) == tuple(ctx.card.seeds):
        seeds = cnn.PAPER_SEEDS
    else:
        seeds = tuple(ctx.seeds)
        if len(seeds) != len(cnn.PAPER_SEEDS):
            ctx.deviation(f"the CNN ran with {len(seeds)} seed(s) ({', '.join(map(str, seeds))}); the "
                          f"published mean ± std is over {len(cnn.PAPER_SEEDS)} seeded runs")
    return {"device": device, "seeds": seeds, "train": dict(cnn.TRAINING), "workers": workers}


def cnn_cache_dir() -> Any:
    """The feature cache of real runs: ``AFFREPRO_ARAUS_CNN_CACHE`` or <data dir>/features/araus-cnn."""
    import os
    from pathlib import Path

    from affrepro import paths
    from affrepro.reproductions.araus_2022 import cnn

    env = os.environ.get(cnn.CACHE_ENV)
    return Path(env).expanduser() if env else paths.data_dir() / "features" / "araus-cnn"


@contextmanager
def _torch_threads(n: int | None):
    """torch's intra-op threads set to ``n`` (None: unchanged) for the block."""
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def cnn_claims(ctx, root, frame) -> dict[str, float]:
    """The CNN claims: trained and evaluated over the paper's folds and seeds on CUDA (or on
    the CPU when the user opts in), skipped with the reason otherwise; in a dry run, one
    seed and one epoch on the synthetic WAVs so every stage runs."""
    import time

    from affrepro.reproductions.araus_2022 import cnn
    from affrepro.scratch import scratch_dir
    from affrepro.reproductions.araus_2022.loaders import read

    wanted = [c for c in CNN_CLAIMS if c in ctx.claims_to_measure]
    if not wanted and not ctx.dry_run:
        return {}
    plan = cnn_plan(ctx, root)
    if isinstance(plan, str):
        for cid in wanted:
            ctx.skip(cid, plan)
        return {}
    if ctx.dry_run:
        ctx.deviation(f"dry run: the CNN trained {plan['train']['epochs']} epoch(s) (early-stopping patience "
                      f"{plan['train']['patience']}) with {len(plan['seeds'])} seed(s) on the synthetic corpus's short WAVs, to run "
                      f"every stage; the paper trains up to {cnn.TRAINING['epochs']} epochs (patience "
                      f"{cnn.TRAINING['patience']}) with {len(cnn.PAPER_SEEDS)} seeds on 30 s stimuli "
                      f"({cnn.N_FRAMES} frames)")
    import torch

    if plan["device"].startswith("cuda"):
        torch.backends.cudnn.benchmark = True
    ctx.stage(f"CNN on ISO {CNN_TARGET}: {len(plan['seeds'])} seed(s) x 5 folds on {plan['device']}")
    t0 = time.perf_counter()
    # the dry run's tiny inputs train several times faster on one thread than on threads
    # contending for a small, shared machine
    with scratch_dir("araus-cnn") as tmp, \
            _torch_threads(1 if ctx.dry_run else None):
        cache = cnn_cache_dir() if not ctx.dry_run else tmp
        out = cnn.cross_validate_cnn(
            frame, root, read(root, "soundscapes"), read(root, "maskers"), plan["seeds"], cache,
            target=CNN_TARGET, device=plan["device"], stage=ctx.stage, progress=ctx.progress,
            model_factory=ctx.registries.models.get(CNN_MODEL).factory, workers=plan["workers"],
            map_units=lambda fn, units: ctx.map(fn, units, label="cnn"), **plan["train"])
    measured = {}
    for s in SPLITS:
        measured[claim_id(CNN_TARGET, "cnn", s)] = out["mean"][s]
        ctx.record(f"araus.{CNN_TARGET}.cnn.{s}_mse", out["mean"][s])
        ctx.record(f"araus.{CNN_TARGET}.cnn.{s}_mse_std", out["std"][s])
        for seed, v in out["per_seed"].items():
            ctx.record(f"araus.{CNN_TARGET}.cnn.seed{seed}.{s}_mse", v[s])
    ctx.note("seed_values", {claim_id(CNN_TARGET, "cnn", s): {seed: v[s] for seed, v in out["per_seed"].items()}
                              for s in SPLITS})
    ctx.note("araus_cnn", {
        "model": CNN_MODEL, "device": plan["device"], "seeds": list(plan["seeds"]),
        "training": plan["train"], "features": cnn.FEATURE_SETTINGS,
        "feature_cache": "temporary (dry run)" if ctx.dry_run else str(cache),
        "gpu": torch.cuda.get_device_name() if plan["device"].startswith("cuda") else None,
        "dataloader_workers": plan["workers"], "seconds": round(time.perf_counter() - t0, 1),
        "value": "mean over seeds of the five folds' mean MSE; std over seeds (ddof 1)",
        "per_seed": out["per_seed"], "folds": out["folds"],
    })
    return measured


def _public(ctx, name: str):
    """The folder of a public dataset if it verifies (fetching it once if needed), else None
    with the reason noted. Kept out of the Reproduction's datasets on purpose: a missing
    public copy must not stop the ARAUS claims."""
    from affrepro import data as datamod
    from affrepro.errors import AffreproError

    ds = ctx.registries.datasets.get(name)
    problems = datamod.verify(ds)
    if problems:
        try:
            datamod.fetch(ds)
            problems = datamod.verify(ds)
        except AffreproError as exc:
            problems = [str(exc)]
    if problems:
        ctx.note(f"{name}_unavailable", [str(p) for p in problems][:5])
        return None
    ctx.note(f"{name}_sha256", datamod.checksums(ds))
    return datamod.dataset_path(ds)


def compare_soundscapes(root, ctx) -> None:
    """Whether the user's data/soundscapes.csv is the public copy (byte for byte)."""
    if ctx.dry_run:
        return
    from affrepro.fileio import sha256_file
    from affrepro.reproductions.araus_2022.datasets import SOUNDSCAPES_SHA256

    same = sha256_file(root / "data" / "soundscapes.csv") == SOUNDSCAPES_SHA256
    ctx.note("soundscapes_csv_is_public_copy", same)
    if not same:
        ctx.deviation("data/soundscapes.csv differs from the public copy (sha256 "
                      f"{SOUNDSCAPES_SHA256[:12]}…): another release version of ARAUS")


def isd_extension(ctx, models) -> None:
    """The ISD extension (records only): synthetic in a dry run, the real ISD otherwise."""
    from pathlib import Path

    from affrepro.reproductions.araus_2022.datasets import ISD_FILE
    from affrepro.scratch import scratch_dir
    from affrepro.reproductions.araus_2022.isd import run_extension

    ctx.stage("ISD extension: label-mean and ElasticNet, leave-one-location-out")
    if ctx.dry_run:
        from affrepro.reproductions.araus_2022.synthetic import write_isd

        with scratch_dir("isd") as tmp:
            write_isd(Path(tmp), ctx.seeds[0])
            run_extension(Path(tmp) / ISD_FILE, models, record=ctx.record, note=ctx.note)
        return
    folder = _public(ctx, "isd")
    if folder is not None:
        run_extension(folder / ISD_FILE, models, record=ctx.record, note=ctx.note)
