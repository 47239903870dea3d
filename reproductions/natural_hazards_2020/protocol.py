"""The natural-hazards-2020 protocol: load, check the dataset's stated size, audit the
labels against lexicon labellers, and run the sentiment baselines.

Only the dataset size is a claim (the paper's classifier table was not retrieved); the
label audit and the baselines are recorded results (``ctx.record``), with their tables in
report.json (``details``), in ``tables.md`` and as plots in the run's output folder.
"""
from __future__ import annotations

import math
from typing import Any

from affrepro.reproductions.natural_hazards_2020.audit import RULES, run_audit
from affrepro.reproductions.natural_hazards_2020.baselines import METRICS, MODELS, run_baselines
from affrepro.reproductions.natural_hazards_2020.loaders import load_corpus


def metric_name(rule: str) -> str:
    """MLflow metric names allow letters, digits, _ - . space : / only: ``textblob>=0`` ->
    ``textblob_ge_0``."""
    return rule.replace(">=", "_ge_").replace(">", "_gt_")


def dataset_summary(corpus) -> dict[str, Any]:
    t = corpus.table
    per_event = {}
    for info in corpus.files:
        g = t[t["file"] == info.file]
        per_event[g["event"].iloc[0] if len(g) else info.file] = {
            "file": info.file, "records": info.records, "kept": int(len(g)),
            "set_aside": info.set_aside, "label_1": int(g["label"].sum()), "label_0": int((g["label"] == 0).sum()),
            "label_1_share": float(g["label"].mean()) if len(g) else math.nan,
            "distinct_texts": int(g["group"].nunique()),
            "first": str(g["timestamp"].min()), "last": str(g["timestamp"].max()),
            "header": info.header, "bom": info.bom, "timestamp_formats": info.timestamp_formats,
            "mojibake_repaired": info.mojibake_repaired, "embedded_line_breaks": info.embedded_line_breaks,
            "num_in_scientific_notation": info.num_in_scientific_notation,
        }
    reasons: dict[str, int] = {}
    for a in corpus.set_aside:
        key = "duplicate record" if a["reason"].startswith("duplicate") else a["reason"]
        reasons[key] = reasons.get(key, 0) + 1
    conflicting = t.groupby("group")["label"].nunique()
    return {
        "records_in_files": corpus.n_records,
        "kept": int(len(t)),
        "set_aside": reasons,
        "distinct_texts": int(t["group"].nunique()),
        "texts_repeated_with_conflicting_labels": int((conflicting > 1).sum()),
        "texts_in_more_than_one_event": int((t.groupby("group")["event"].nunique() > 1).sum()),
        "label_1_share": float(t["label"].mean()),
        "per_event": per_event,
    }


def run(ctx) -> dict[str, float]:
    root = ctx.data_path("natural-hazards")
    seed = ctx.seeds[0]  # one per run: the card declares random steps, so the runner loops over --seeds
    ctx.stage("loading the nine event files")
    corpus = load_corpus(root)
    table = corpus.table
    summary = dataset_summary(corpus)
    ctx.note("dataset", summary)
    ctx.note("set_aside_records", [{k: v for k, v in a.items() if k != "raw_text"} for a in corpus.set_aside])
    ctx.record("dataset.records_in_files", summary["records_in_files"])
    ctx.record("dataset.kept_after_setting_aside", summary["kept"])
    ctx.record("dataset.distinct_texts", summary["distinct_texts"])
    for ev, s in summary["per_event"].items():
        ctx.record(f"dataset.{ev}.records", s["records"])
        ctx.record(f"dataset.{ev}.label_1_share", s["label_1_share"])

    ctx.stage("label audit: TextBlob and VADER")
    audit = run_audit(table, ctx.progress)
    ctx.note("label_audit", audit)
    for scope, row in audit["by_text"]["text"].items():
        for rule in RULES:
            ctx.record(f"audit.{scope}.{metric_name(rule)}.agree_1_is_not_positive",
                       row[rule]["agree_1_is_not_positive"])
        for lex in ("textblob", "vader"):
            if math.isfinite(row[f"{lex}_auc"]):
                ctx.record(f"audit.{scope}.{lex}.auc_label_1", row[f"{lex}_auc"])

    ctx.stage("sentiment baselines")
    base = run_baselines(table, seed=seed, stage=ctx.stage, progress=ctx.progress, root=ctx.data_ref("natural-hazards"),
                         map_units=lambda fn, units: ctx.map(fn, units, label="baselines"))
    check_metrics(ctx, base, table)
    results = base["results"]
    for r in results:
        for m in METRICS:
            name = f"baseline.{r['protocol']}.{r['scope']}.{r['model']}.{m}"
            ctx.record(name, r[m])
            ctx.record(name + ".ci_low", r[f"{m}_ci"][0])
            ctx.record(name + ".ci_high", r[f"{m}_ci"][1])
    ctx.note("baselines", {"results": results, "confusion": base["confusion"], "n_folds": base["n_folds"],
                           "seconds": base["seconds"], "seed": seed,
                           "loeo_training_tweets_removed_as_duplicates_of_test":
                               base["loeo_training_tweets_removed_as_duplicates_of_test"],
                           "bootstrap": "95% percentile bootstrap over tweets, 1000 resamples, drawn as "
                                        "multinomial confusion counts (same distribution as "
                                        "resampling pairs; checked against "
                                        "affrepro.plugins.metrics.bootstrap.bootstrap_ci)"})

    ctx.stage("plots and tables")
    from affrepro.reproductions.natural_hazards_2020.plots import write_plots
    from affrepro.reproductions.natural_hazards_2020.tables import write_tables

    ctx.output_dir.mkdir(parents=True, exist_ok=True)
    written = write_plots(ctx.output_dir, base, audit, summary)
    written.append(write_tables(ctx.output_dir, summary, audit, results))
    ctx.note("artifacts", [p.name for p in written])

    measured = {"dataset-size": float(summary["records_in_files"]),
                "dataset-size-abstract": float(summary["records_in_files"])}
    return {cid: measured[cid] for cid in ctx.claims_to_measure if cid in measured}


def check_metrics(ctx, base, table) -> None:
    """The local confusion-matrix formulas must equal the registered metrics."""
    y = table["label"].to_numpy(int)
    checks = {}
    for (proto, scope, model), pred in base["predictions"].items():
        if scope != "all":
            continue
        mask = pred >= 0
        row = next(r for r in base["results"] if (r["protocol"], r["scope"], r["model"]) == (proto, scope, model))
        for m in METRICS:
            registered = ctx.metric(m)(y[mask].tolist(), pred[mask].tolist())
            checks[f"{proto}/{model}/{m}"] = abs(registered - row[m]) < 1e-9
    ctx.note("metric_consistency_with_registered_metrics", all(checks.values()))
    if not all(checks.values()):
        bad = [k for k, ok in checks.items() if not ok]
        raise AssertionError(f"local metric formulas disagree with the registered metrics: {bad}")


__all__ = ["run", "MODELS"]
