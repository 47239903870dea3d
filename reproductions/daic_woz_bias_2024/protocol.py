"""The daic-woz-bias-2024 protocol on the released predictions.

Macro-F1 of the best Ellie-only (E-GCN) and Participant-only (P-GCN) models on the 35
dev interviews, and of their ensemble P-GCN ^ E-GCN, which predicts "depressed" only
when both models do (``pred_ensemble`` in the authors' ``eval_all_models.py``). Before
scoring, the protocol checks that both files hold the same ground truth, that it equals
PHQ8_Binary of ``dev_IDS.txt`` in order, and that each recomputed report matches the
authors' released ``results.json``.
"""
from __future__ import annotations

import math

from affrepro.errors import DataError
from affrepro.reproductions.daic_woz_bias_2024.loaders import (
    read_classification_report, read_id_list, read_optuna_best, read_predictions)

MODELS = {"ellie": "Ellie_E-GCN", "participant": "Participant_P-GCN"}
_ROWS = {"0": "class0", "1": "class1", "macro avg": "macro", "weighted avg": "weighted"}
_CELLS = {"precision": "precision", "recall": "recall", "f1-score": "f1"}


def report_cells(model: str, y_true: list[int], y_pred: list[int]) -> dict[str, float]:
    """Every cell of sklearn's classification report (the authors' tool) as claim ids
    ``<model>.report.<class0|class1|macro|weighted>.<precision|recall|f1>`` and
    ``<model>.report.accuracy``."""
    from sklearn.metrics import classification_report

    rep = classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    cells = {f"{model}.report.accuracy": float(rep["accuracy"])}
    for row, rname in _ROWS.items():
        for col, cname in _CELLS.items():
            cells[f"{model}.report.{rname}.{cname}"] = float(rep[row][col])
    return cells


def ensemble_and(pred_a: list[int], pred_b: list[int]) -> list[int]:
    """ŷ_i = ŷ_a,i ∧ ŷ_b,i: depressed only when both models predict depressed."""
    return [int(a and b) for a, b in zip(pred_a, pred_b)]


def run(ctx) -> dict[str, float]:
    root = ctx.data_path("daic-woz-bias")
    f1_macro, accuracy, uar = ctx.metric("f1_macro"), ctx.metric("accuracy"), ctx.metric("uar")
    dev = read_id_list(root / "dev_IDS.txt")
    preds = {k: read_predictions(root / f"{v}_results_predictions.json") for k, v in MODELS.items()}

    y_true = preds["ellie"].y_true
    if preds["participant"].y_true != y_true:
        raise DataError("the Ellie and Participant prediction files hold different ground truth; "
                        "the ensemble is undefined")
    categories = [r.category for r in dev]
    checks = {
        "n_dev": len(y_true),
        "n_depressed": sum(y_true),
        "y_true_equals_dev_IDS_category": categories == y_true,
    }
    if categories != y_true:
        ctx.deviation("y_true in the prediction files differs from PHQ8_Binary in dev_IDS.txt")

    y_pred = {k: p.y_pred for k, p in preds.items()}
    y_pred["ensemble"] = ensemble_and(y_pred["participant"], y_pred["ellie"])
    scores = {k: f1_macro(y_true, p) for k, p in y_pred.items()}
    for k, p in y_pred.items():
        ctx.record(f"{k}.f1_macro", scores[k])
        ctx.record(f"{k}.accuracy", accuracy(y_true, p))
        ctx.record(f"{k}.uar", uar(y_true, p))

    for k, prefix in MODELS.items():
        released = read_classification_report(root / f"{prefix}_results.json")["macro avg"]["f1-score"]
        agrees = math.isclose(released, scores[k], abs_tol=1e-9)
        checks[f"{k}_results_json_macro_f1"] = released
        checks[f"{k}_results_json_agrees"] = agrees
        if not agrees:
            ctx.deviation(f"{prefix}_results.json reports macro-F1 {released:.6f} but its released "
                          f"predictions give {scores[k]:.6f}")
    ctx.note("consistency_checks", checks)
    ctx.note("ensemble_rule", "P-GCN ^ E-GCN (logical AND of the two models' predictions)")
    ctx.note("dev_predictions", {"y_true": y_true, **{k: v for k, v in y_pred.items()}})

    cells: dict[str, float] = {}
    for k, p in y_pred.items():
        cells.update(report_cells(k, y_true, p))
    studies = {}
    for k, prefix in MODELS.items():
        best = read_optuna_best(root / f"{prefix}_db.sqlite3")
        studies[k] = {"study": best.study_name, "direction": best.direction, "complete_trials": best.n_complete,
                      "best_value": best.best_value, "best_trial_numbers": best.best_trials,
                      "equals_released_predictions_macro_f1": math.isclose(best.best_value, scores[k], abs_tol=1e-12)}
        cells[f"{k}.optuna-best-trial"] = best.best_value
    ctx.note("optuna_studies", studies)

    measured = {
        **cells,
        "ellie-only-macro-f1": scores["ellie"],
        "participant-only-macro-f1": scores["participant"],
        "ensemble-macro-f1": scores["ensemble"],
    }
    return {cid: measured[cid] for cid in ctx.claims_to_measure if cid in measured}
