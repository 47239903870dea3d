"""``tables.md``: the dataset, label-audit and baseline tables of a run, in Markdown."""
from __future__ import annotations

from pathlib import Path

from affrepro.fileio import atomic_write_text
from affrepro.reproductions.natural_hazards_2020.audit import RULES
from affrepro.reproductions.natural_hazards_2020.baselines import METRICS, MODELS


def _ci(r, m):
    lo, hi = r[f"{m}_ci"]
    return f"{r[m]:.3f} [{lo:.3f}, {hi:.3f}]"


def dataset_table(summary) -> list[str]:
    lines = ["## Dataset", "",
             f"Records in the nine files: **{summary['records_in_files']}**; kept: {summary['kept']}; "
             f"set aside: {summary['set_aside'] or 'none'}; distinct texts: {summary['distinct_texts']}; "
             f"texts repeated with conflicting labels: {summary['texts_repeated_with_conflicting_labels']}.", "",
             "| event | records | kept | label 0 | label 1 | share 1 | distinct texts | first | last | header | BOM | timestamps | mojibake repaired |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for ev, s in summary["per_event"].items():
        lines.append(f"| {ev} | {s['records']} | {s['kept']} | {s['label_0']} | {s['label_1']} | "
                     f"{s['label_1_share']:.3f} | {s['distinct_texts']} | {s['first'][:10]} | {s['last'][:10]} | "
                     f"`{s['header']}` | {'yes' if s['bom'] else 'no'} | {', '.join(s['timestamp_formats'])} | "
                     f"{s['mojibake_repaired']} |")
    return lines


def audit_tables(audit) -> list[str]:
    rows = audit["by_text"]["text"]
    v = audit["versions"]
    lines = ["", "## Label audit", "",
             f"TextBlob {v['textblob']} (pattern analyser), vaderSentiment {v['vaderSentiment']}, on the "
             f"ftfy-repaired text (ftfy {v['ftfy']}). Agreement of the released label with each rule, "
             "reading label 1 = **not positive** (under 1 = positive, agreement is one minus this; "
             "κ is Cohen's kappa under 1 = positive).", "",
             "| event | n | share 1 | " + " | ".join(RULES) + " | κ textblob>0 | AUC TextBlob | AUC VADER |",
             "|---|---|---|" + "---|" * (len(RULES) + 3)]
    for scope, r in rows.items():
        lines.append(f"| {scope} | {r['n']} | {r['label_1_share']:.3f} | "
                     + " | ".join(f"{r[k]['agree_1_is_not_positive']:.3f}" for k in RULES)
                     + f" | {r['textblob>0']['kappa_1_is_positive']:+.3f} | {r['textblob_auc']:.3f} | {r['vader_auc']:.3f} |")
    lines += ["", "AUC: probability that a label-1 tweet scores higher than a label-0 tweet (0 = label 1 "
              "always scores lower).", "",
              "TextBlob polarity sign by label (negative / zero / positive):", "",
              "| event | label 0 | label 1 | best TextBlob threshold | agreement |", "|---|---|---|---|---|"]
    for scope, r in rows.items():
        s = r["textblob_sign_by_label"]
        b = r["textblob_best_threshold"]
        lines.append(f"| {scope} | {s['0']['negative']} / {s['0']['zero']} / {s['0']['positive']} | "
                     f"{s['1']['negative']} / {s['1']['zero']} / {s['1']['positive']} | "
                     f"{b['rule']}, t = {b['threshold']:.3f} | {b['agreement']:.3f} |")
    raw = audit["by_text"]["raw_text"]
    lines += ["", "Same rules on the raw (unrepaired) text, overall: "
              + ", ".join(f"{k} {raw['all'][k]['agree_1_is_not_positive']:.3f}" for k in RULES) + ".",
              "", "Findings (computed):", ""]
    lines += [f"- {f}" for f in audit["findings"]]
    return lines


def baseline_table(results) -> list[str]:
    lines = ["", "## Sentiment baselines (reported results, not claims)", "",
             "Out-of-fold predictions of all folds together; 95% bootstrap intervals over tweets.", "",
             "| protocol | model | n | accuracy | macro-F1 | UA |", "|---|---|---|---|---|---|"]
    for proto in ("cv5_within_event", "cv5_pooled", "loeo"):
        for m in MODELS:
            r = next(x for x in results if x["protocol"] == proto and x["scope"] == "all" and x["model"] == m)
            lines.append(f"| {proto} | {m} | {r['n']} | " + " | ".join(_ci(r, k) for k in METRICS) + " |")
    lines += ["", "Macro-F1 per event:", "",
              "| event | " + " | ".join(f"{p} {m}" for p in ("within", "loeo") for m in MODELS) + " |",
              "|---|" + "---|" * (2 * len(MODELS))]
    events = list(dict.fromkeys(x["scope"] for x in results if x["protocol"] == "loeo" and x["scope"] != "all"))
    for ev in events:
        cells = []
        for proto in ("cv5_within_event", "loeo"):
            for m in MODELS:
                r = next(x for x in results if x["protocol"] == proto and x["scope"] == ev and x["model"] == m)
                cells.append(f"{r['f1_macro']:.3f}")
        lines.append(f"| {ev} | " + " | ".join(cells) + " |")
    return lines


def write_tables(out: Path, summary, audit, results) -> Path:
    lines = ["# natural-hazards-2020: tables", ""]
    lines += dataset_table(summary) + audit_tables(audit) + baseline_table(results)
    return atomic_write_text(Path(out) / "tables.md", "\n".join(lines) + "\n")
