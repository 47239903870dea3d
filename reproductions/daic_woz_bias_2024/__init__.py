"""daic-woz-bias-2024: Burdisso et al., "DAIC-WOZ: On the Validity of Using the Therapist's
prompts in Automatic Depression Detection from Clinical Interviews" (ClinicalNLP 2024)."""
from __future__ import annotations

from affrepro import hookimpl
from affrepro.components import Metric


@hookimpl
def register_datasets(register):
    from affrepro.reproductions.daic_woz_bias_2024.datasets import PUBLIC, TRANSCRIPTS

    register(PUBLIC)
    register(TRANSCRIPTS)


def _report_cell(column: str):
    def cell(y_true, y_pred, row: str = "macro avg") -> float:
        from sklearn.metrics import classification_report

        return float(classification_report(y_true, y_pred, output_dict=True, zero_division=0)[row][column])
    formula = {"precision": "precision = TP / (TP + FP)", "recall": "recall = TP / (TP + FN)",
               "f1-score": "F1 = 2·P·R / (P + R)"}[column]
    cell.__doc__ = (f"One {column} cell of sklearn's classification_report (zero_division=0).\n\n"
                    f"Formula: {formula} for a class row; 'macro avg' is the unweighted mean over "
                    "the classes, 'weighted avg' the support-weighted mean.")
    return cell


@hookimpl
def register_metrics(register):
    for column, name in (("precision", "precision"), ("recall", "recall"), ("f1-score", "f1")):
        register(Metric(f"classification_report_{name}", _report_cell(column), True,
                        f"one {column} cell of sklearn's classification_report (row: a class label, "
                        "'macro avg' or 'weighted avg'); precision = TP/(TP+FP), recall = TP/(TP+FN), "
                        "f1 = 2PR/(P+R), macro = unweighted mean over classes, weighted = support-weighted"))
