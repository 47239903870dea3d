"""report.html: the report for people who would rather look than read.

Self-contained: inline CSS, plots inlined as SVG (matplotlib, Agg backend, text kept as
text), no script and no network. Beside report.md, written atomically, from report.json.

- Claims: per claim the paper's value, its tolerance band and the measured value; with
  several seeds the seeds' values as points and their range (the noise floor's strip plot).
- Per-seed distributions of the results that move with the seed, per-fold distributions
  (a protocol's ``per_fold`` tables), confusion matrices (a
  protocol's ``confusion`` counts or released predictions), results with confidence
  intervals (model × split), per-event tables.
- The rest of report.md (noise floor, split audits, consistency checks, citation, data,
  environment) converted to HTML.
"""
from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from affrepro.fileio import atomic_write_text
from affrepro.formatting import fmt

VERDICT_COLOURS = {"reproduced": "#1a7f37", "within noise": "#9a6700", "not reproduced": "#cf222e",
                   "skipped": "#6e7781", "error": "#8250df"}
BAND, PAPER, SEED = "#b7e4c7", "#24292f", "#57606a"
MAX_CLASSES = 12  # released predictions with more distinct values are not drawn as a confusion matrix

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#24292f;
 margin:0;background:#f6f8fa}
main{max-width:1060px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;
 padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
.sub{color:#57606a;margin:0 0 12px}
.chips span{display:inline-block;padding:2px 10px;margin:0 6px 6px 0;border-radius:12px;color:#fff;font-weight:600}
.status{font-weight:700}.FAILED{color:#cf222e}.FINISHED{color:#1a7f37}
.banner{background:#fff8c5;border:1px solid #d4a72c;padding:6px 10px;border-radius:6px;margin:8px 0}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #d0d7de;padding:3px 8px;vertical-align:middle}
th{background:#f6f8fa;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.plot{padding:0;width:330px}td.plot svg{display:block}
.verdict{font-weight:600;white-space:nowrap}
.reason{color:#57606a;font-size:12px}
.figs{display:flex;flex-wrap:wrap;gap:12px}.figs figure{margin:0}
figcaption{font-size:12px;color:#57606a;max-width:520px}
pre{background:#f6f8fa;padding:8px 10px;font-size:12px;border-radius:6px;white-space:pre-wrap;
 overflow-wrap:anywhere}
code{font-size:12px}
.wide{overflow-x:auto}
"""


# -- plotting ----------------------------------------------------------------------------

def _safe(plot: Any, *args: Any) -> str:
    """A plot's SVG, or a visible note saying why it was not drawn: a figure that fails
    never costs the run its report (report.json and report.md are written before)."""
    try:
        return plot(*args)
    except Exception as exc:  # noqa: BLE001 - any plotting failure is reported in the page
        try:
            _plt().close("all")
        except Exception:  # noqa: BLE001
            pass
        return f'<p class="reason">plot not drawn: {_e(type(exc).__name__)}: {_e(exc)}</p>'

def _plt():
    """matplotlib's pyplot on the Agg backend, SVG text kept as <text> (lazy import)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "affrepro", "font.size": 8,
                         "font.family": "DejaVu Sans", "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _svg(fig: Any) -> str:
    """A figure as an inline <svg> element (no XML prolog, no date)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight", pad_inches=0.02)
    _plt().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def tolerance_band(claim: Mapping[str, Any]) -> tuple[float, float] | None:
    """[paper − tolerance, paper + tolerance] of a claim in report.json, None where unknown."""
    tol, value = claim["tolerance"], claim["value"]
    amount = {"absolute": tol["amount"], "relative": tol["amount"] * abs(value)}.get(tol["kind"])
    if amount is None:  # std_multiple: k × the paper's std
        if claim.get("std") is None:
            return None
        amount = tol["amount"] * claim["std"]
    return value - amount, value + amount


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def claim_plot(claim: Mapping[str, Any], key: str = "claim") -> str:
    """The paper's value (black line) with its tolerance band (green), the measured value
    (a diamond in the verdict's colour) and, with several seeds, each seed's value (grey
    points) and their range: one small SVG whose parts have the ids ``KEY-band``,
    ``KEY-paper``, ``KEY-measured``, ``KEY-seeds`` and ``KEY-seed-range``."""
    plt = _plt()
    paper, measured = _num(claim["value"]), _num(claim.get("measured"))
    band = tolerance_band(claim)
    spread = claim.get("spread") or {}
    seeds = [v for v in (spread.get("values") or []) if _num(v) is not None] if not spread.get("deterministic") else []
    xs = [x for x in (paper, measured, *(band or ()), *seeds) if x is not None]
    lo, hi = min(xs), max(xs)
    pad = (hi - lo) * 0.12 or max(abs(hi) * 0.02, 1e-3)
    fig, ax = plt.subplots(figsize=(4.3, 0.95 if len(seeds) > 1 else 0.72))
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(-1, 1.25)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    if band is not None:
        ax.axvspan(*band, color=BAND, lw=0, gid=f"{key}-band")
    ax.axvline(paper, color=PAPER, lw=1.6, gid=f"{key}-paper")
    ax.text(paper, 1.05, f"paper {fmt(paper)}", ha="center", va="bottom", fontsize=7.5)
    colour = VERDICT_COLOURS.get(claim["verdict"], SEED)
    if len(seeds) > 1:
        ax.plot([min(seeds), max(seeds)], [-0.45, -0.45], color=SEED, lw=1, gid=f"{key}-seed-range")
        jitter = [(-0.45 + 0.18 * ((i % 3) - 1)) for i in range(len(seeds))]
        ax.scatter(seeds, jitter, s=12, color=SEED, alpha=0.85, zorder=3, gid=f"{key}-seeds", linewidths=0)
    if measured is not None:
        ax.scatter([measured], [0.25], marker="D", s=42, color=colour, zorder=4, gid=f"{key}-measured",
                   edgecolors="white", linewidths=0.6)
        # beside the diamond, on the side with more room (the paper's label is above the band)
        left_half = measured <= (lo - pad + hi + pad) / 2
        shift = (hi - lo + 2 * pad) * 0.025 * (1 if left_half else -1)
        ax.text(measured + shift, 0.25, f"measured {fmt(measured)}", ha="left" if left_half else "right",
                va="center", fontsize=7.5, color=colour,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6, "alpha": 0.85})
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.tick_params(axis="x", labelsize=7, length=2, pad=1)
    ax.ticklabel_format(axis="x", useOffset=False, style="plain")
    return _svg(fig)


def per_fold_plot(title: str, per_fold: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    """One row per series (model), each fold's value of each split as a point."""
    plt = _plt()
    series = list(per_fold)
    metrics = [m for m in ("train", "val", "test") if any(m in f for s in per_fold.values() for f in s.values())]
    colours = {"train": "#0969da", "val": "#bf8700", "test": "#cf222e"}
    fig, ax = plt.subplots(figsize=(5.2, 0.5 + 0.42 * len(series)))
    for i, name in enumerate(series):
        for j, m in enumerate(metrics):
            vals = [f[m] for f in per_fold[name].values() if _num(f.get(m)) is not None]
            y = i + (j - 1) * 0.2
            ax.scatter(vals, [y] * len(vals), s=14, color=colours[m], label=m if i == 0 else None, zorder=3)
            if vals:
                mean = sum(vals) / len(vals)
                ax.plot([mean, mean], [y - 0.08, y + 0.08], color=colours[m], lw=2)
    ax.set_yticks(range(len(series)), series, fontsize=7)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=8, loc="left")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    ax.grid(axis="x", color="#eaeef2", lw=0.6)
    return _svg(fig)


def confusion_plot(title: str, matrix: Sequence[Sequence[float]], labels: Sequence[str], key: str = "cm") -> str:
    """A confusion matrix with its counts (rows: true label, columns: predicted); the count
    in row i, column j has the id ``KEY-cell-i-j``."""
    plt = _plt()
    n = len(matrix)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * n, 0.8 + 0.5 * n))
    top = max(max(r) for r in matrix) or 1
    ax.imshow(matrix, cmap="Blues", vmin=0, vmax=top)
    for i, row in enumerate(matrix):
        for j, v in enumerate(row):
            ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=8, gid=f"{key}-cell-{i}-{j}",
                    color="white" if v > top * 0.55 else "#24292f")
    ax.set_xticks(range(n), labels, fontsize=7)
    ax.set_yticks(range(n), labels, fontsize=7)
    ax.set_xlabel("predicted", fontsize=7)
    ax.set_ylabel("true", fontsize=7)
    ax.set_title(title, fontsize=8)
    for s in ax.spines.values():
        s.set_visible(False)
    return _svg(fig)


def ci_plot(title: str, rows: Sequence[Mapping[str, Any]], metric: str) -> str:
    """Point estimate and confidence interval per (model, split): a forest plot."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 0.45 + 0.2 * len(rows)))
    for i, r in enumerate(rows):
        ci = r.get(f"{metric}_ci") or [None, None]
        if _num(ci[0]) is not None and _num(ci[1]) is not None:
            ax.plot(ci, [i, i], color="#57606a", lw=1.2)
        ax.scatter([r[metric]], [i], s=14, color="#0969da", zorder=3)
    ax.set_yticks(range(len(rows)), [f"{r['model']} · {r['protocol']}" for r in rows], fontsize=6.5)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=8, loc="left")
    ax.grid(axis="x", color="#eaeef2", lw=0.6)
    return _svg(fig)


def seed_spread_plot(records: Mapping[str, Mapping[str, Any]], top: int = 12) -> str:
    """The results that move most with the seed (largest range over seeds): each seed's
    value minus the results' mean, one row per result (ids ``seedrow-I`` per row)."""
    plt = _plt()
    moving = sorted(((name, s) for name, s in records.items() if (s.get("max") or 0) - (s.get("min") or 0) > 0),
                    key=lambda kv: kv[1]["max"] - kv[1]["min"], reverse=True)[:top]
    fig, ax = plt.subplots(figsize=(5.6, 0.45 + 0.24 * len(moving)))
    for i, (name, s) in enumerate(moving):
        vals = [v for v in s["values"] if _num(v) is not None]
        ax.scatter([v - s["mean"] for v in vals], [i] * len(vals), s=12, color=SEED, zorder=3,
                   gid=f"seedrow-{i}", linewidths=0)
    ax.axvline(0, color=PAPER, lw=0.8)
    ax.set_yticks(range(len(moving)), [n for n, _ in moving], fontsize=6.5)
    ax.invert_yaxis()
    ax.set_title("each seed's value minus the mean over seeds", fontsize=8, loc="left")
    ax.grid(axis="x", color="#eaeef2", lw=0.6)
    return _svg(fig)


# -- what the protocols recorded ----------------------------------------------------------

def _confusions(details: Mapping[str, Any]) -> list[tuple[str, list[list[float]], list[str]]]:
    """Confusion matrices a protocol recorded: ``confusion`` tables of counts, or released
    predictions beside their labels (``{"y_true": [...], model: [...]}``)."""
    found: list[tuple[str, list[list[float]], list[str]]] = []

    def walk(obj: Any, path: str, depth: int) -> None:
        if not isinstance(obj, Mapping) or depth > 3:
            return
        for k, v in obj.items():
            where = f"{path}{k}"
            if "confusion" in str(k).lower() and isinstance(v, Mapping):
                for name, m in v.items():
                    mat = _matrix(m)
                    if mat is not None:
                        found.append((f"{name}", mat[0], mat[1]))
            elif isinstance(v, Mapping) and isinstance(v.get("y_true"), list):
                y = v["y_true"]
                for name, pred in v.items():
                    if name != "y_true" and isinstance(pred, list) and len(pred) == len(y):
                        labels = sorted({*map(str, y), *map(str, pred)})
                        if len(labels) > MAX_CLASSES or any(isinstance(x, float) and not x.is_integer()
                                                            for x in (*y, *pred)):
                            continue  # regression outputs or too many classes: not a confusion matrix
                        idx = {lab: i for i, lab in enumerate(labels)}
                        mat = [[0.0] * len(labels) for _ in labels]
                        for t, p in zip(y, pred):
                            mat[idx[str(t)]][idx[str(p)]] += 1
                        found.append((f"{k}: {name}", mat, labels))
            else:
                walk(v, where + ".", depth + 1)

    walk(details, "", 0)
    return found


def _matrix(m: Any) -> tuple[list[list[float]], list[str]] | None:
    """[[...]], [tn, fp, fn, tp], {"matrix": [[...]], "labels": [...]} or {"tn","fp","fn","tp"}
    -> (matrix, labels)."""
    if isinstance(m, list) and len(m) == 4 and all(_num(x) is not None for x in m):
        return [[m[0], m[1]], [m[2], m[3]]], ["0", "1"]  # [tn, fp, fn, tp], as sklearn's ravel()
    if isinstance(m, Mapping) and {"tn", "fp", "fn", "tp"} <= set(m):
        return [[m["tn"], m["fp"]], [m["fn"], m["tp"]]], ["0", "1"]
    if isinstance(m, Mapping) and "matrix" in m:
        mat = m["matrix"]
        return (mat, [str(x) for x in m.get("labels", range(len(mat)))]) if _square(mat) else None
    if _square(m):
        return m, [str(i) for i in range(len(m))]
    return None


def _square(m: Any) -> bool:
    return (isinstance(m, list) and len(m) > 1 and all(isinstance(r, list) and len(r) == len(m) for r in m)
            and all(_num(x) is not None for r in m for x in r))


def _per_folds(details: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """``per_fold`` tables ({series: {fold: {split: value}}}) anywhere in the details."""
    out = []
    for k, v in details.items():
        if isinstance(v, Mapping) and isinstance(v.get("per_fold"), Mapping) and v["per_fold"]:
            out.append((k, v["per_fold"]))
    return out


def _ci_results(details: Mapping[str, Any]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Result rows with confidence intervals (``{"results": [{model, protocol, scope, m, m_ci}]}``)."""
    out = []
    for k, v in details.items():
        rows = v.get("results") if isinstance(v, Mapping) else None
        if isinstance(rows, list) and rows and isinstance(rows[0], Mapping) and \
                {"model", "protocol"} <= set(rows[0]) and any(key.endswith("_ci") for key in rows[0]):
            out.append((k, rows))
    return out


# -- HTML ------------------------------------------------------------------------------------

def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _tol(c: Mapping[str, Any]) -> str:
    t = c["tolerance"]
    return {"absolute": f"±{t['amount']:g}", "relative": f"±{t['amount']:g}×|v|",
            "std_multiple": f"±{t['amount']:g}·std"}[t["kind"]]


def _claims_section(d: Mapping[str, Any]) -> list[str]:
    if not d["claims"]:
        return ["<h2>Claims</h2><p>This paper has no claim (no published number was retrieved).</p>"]
    out = ["<h2>Claims: the paper's value, its tolerance band and the measured value</h2>",
           '<p class="sub">Black line: the paper\'s value; green: the tolerance band; diamond: the '
           "measured value in its verdict's colour; grey points: each seed's value where several ran.</p>",
           '<table class="claims"><tr><th>claim</th><th>paper</th><th>measured</th><th>Δ</th>'
           "<th>tolerance</th><th>verdict</th><th>plot</th></tr>"]
    for i, c in enumerate(d["claims"]):
        colour = VERDICT_COLOURS.get(c["verdict"], SEED)
        drawable = _num(c["value"]) is not None and _num(c.get("measured")) is not None
        plot = _safe(claim_plot, c, f"claim{i}") if drawable else ""
        sp = c.get("spread") or {}
        label = ""
        if sp.get("deterministic"):
            label = '<br><span class="reason">deterministic</span>'
        elif (sp.get("n") or 0) > 1:
            label = f'<br><span class="reason">mean of {sp["n"]} seeds, std {fmt(sp.get("std"))}</span>'
        out.append(
            f'<tr id="claim-{_e(c["id"])}" data-claim="{_e(c["id"])}"><td><b>{_e(c["id"])}</b><br>'
            f'<span class="reason">{_e(c["metric"])}</span></td>'
            f'<td class="num">{fmt(c["value"])}</td><td class="num">{fmt(c.get("measured"))}{label}</td>'
            f'<td class="num">{fmt(c.get("difference"), sign="+") if c.get("difference") is not None else "—"}</td>'
            f'<td class="num">{_e(_tol(c))}</td>'
            f'<td class="verdict" style="color:{colour}">{_e(c["verdict"])}</td>'
            f'<td class="plot">{plot}</td></tr>')
        if c["verdict"] != "reproduced":  # why it is not: on the page, not behind a click
            out.append(f'<tr><td colspan="7" class="reason"><i>{_e(c["verdict"])}:</i> {_e(c["reason"])}</td></tr>')
    out.append("</table>")
    out.append("<details><summary>Each claim's description, source and tolerance</summary><ul>")
    out += [f"<li><b>{_e(c['id'])}</b>: {_e(c['description'])}. <i>Source:</i> {_e(c['source'])}. "
            f"<i>Tolerance:</i> {_e(c['tolerance']['why'])}. <i>Verdict:</i> {_e(c['reason'])}</li>"
            for c in d["claims"]]
    out.append("</ul></details>")
    return out


def _figures_section(d: Mapping[str, Any]) -> list[str]:
    details = d.get("details") or {}
    figs: list[str] = []
    seed_records = ((details.get("noise") or {}).get("records") or {})
    if any((r.get("max") or 0) - (r.get("min") or 0) > 0 for r in seed_records.values()):
        moving = sum((r.get("max") or 0) - (r.get("min") or 0) > 0 for r in seed_records.values())
        figs.append(f"<figure>{_safe(seed_spread_plot, seed_records)}<figcaption>Results that move with the seed "
                    f"({moving} of {len(seed_records)}; the 12 with the widest range).</figcaption></figure>")
    for name, per_fold in _per_folds(details):
        figs.append(f"<figure>{_safe(per_fold_plot, f'{name}: each fold (points) and the mean (bar)', per_fold)}"
                    "<figcaption>Per-fold values, by split.</figcaption></figure>")
    for name, rows in _ci_results(details):
        metric = next((m for m in ("f1_macro", "uar", "accuracy") if m in rows[0]), None)
        if metric:
            pooled = [r for r in rows if r.get("scope") in ("all", "pooled")] or rows[:30]
            figs.append(f"<figure>{_safe(ci_plot, f'{name}: {metric} with its 95% CI', pooled, metric)}"
                        f"<figcaption>{_e(metric)} and its confidence interval per model and "
                        "protocol (all events).</figcaption></figure>")
    confusions = _confusions(details)
    for n, (title, mat, labels) in enumerate(confusions[:12]):
        figs.append(f"<figure>{_safe(confusion_plot, title, mat, labels, f'cm{n}')}</figure>")
    figs += _protocol_figures(d, skip_confusion=bool(confusions))
    if not figs:
        return []
    return ["<h2>Distributions, confusion matrices and the protocol's figures</h2>", '<div class="figs">',
            *figs, "</div>"]


def _protocol_figures(d: Mapping[str, Any], skip_confusion: bool) -> list[str]:
    """The PNG/SVG figures the protocol wrote to the run folder (``details["artifacts"]``),
    inlined (base64 PNG, or the SVG itself); confusion-matrix images are left out where the
    report draws the matrices itself."""
    import base64

    folder = Path(d["output_dir"]) if d.get("output_dir") else None
    names = (d.get("details") or {}).get("artifacts") or []
    out = []
    for name in names if folder is not None and isinstance(names, list) else []:
        path = folder / str(name)
        if not path.is_file() or (skip_confusion and "confusion" in path.stem):
            continue
        if path.suffix.lower() == ".png":
            data = base64.b64encode(path.read_bytes()).decode()
            body = f'<img alt="{_e(path.name)}" style="max-width:100%" src="data:image/png;base64,{data}">'
        elif path.suffix.lower() == ".svg":
            text = path.read_text(encoding="utf-8")
            body = text[text.index("<svg"):] if "<svg" in text else ""
        else:
            continue
        out.append(f"<figure>{body}<figcaption>{_e(path.name)} (drawn by the protocol)</figcaption></figure>")
    return out


def _protocol_tables_section(d: Mapping[str, Any]) -> list[str]:
    """Markdown files the protocol wrote to the run folder (``details["artifacts"]``, e.g.
    natural-hazards-2020's per-event tables.md), as HTML."""
    from markdown_it import MarkdownIt

    folder = Path(d["output_dir"]) if d.get("output_dir") else None
    names = (d.get("details") or {}).get("artifacts") or []
    out = []
    for name in names if folder is not None and isinstance(names, list) else []:
        path = folder / str(name)
        if path.suffix.lower() != ".md" or not path.is_file():
            continue
        body = MarkdownIt("commonmark", {"html": False}).enable("table").render(path.read_text(encoding="utf-8"))
        body = re.sub(r"<h1>.*?</h1>", "", body, count=1, flags=re.S)  # its title repeats the paper's
        body = re.sub(r"<(/?)h([1-4])>", lambda m: f"<{m[1]}h{min(int(m[2]) + 1, 5)}>", body)
        out += [f"<h2>Tables the protocol wrote ({_e(path.name)})</h2>",
                body.replace("<table>", '<div class="wide"><table>').replace("</table>", "</table></div>")]
    return out


def _split_overlap_section(d: Mapping[str, Any]) -> list[str]:
    """Issue 25's overlap table: per split of each audited partition, its items, the items
    with an exact (and a near) copy in another split, the units (speakers, participants, …)
    it shares with other splits, its label shares and its label shift."""
    audits = (d.get("details") or {}).get("split_audits") or []
    out: list[str] = []
    for a in audits:
        for p in a.get("partitions") or []:
            splits = p.get("splits") or {}
            if not splits:
                continue
            dup = p.get("duplicates") or {}
            exact = dup.get("items_with_a_copy_in_another_split") or {}
            near = (dup.get("near") or {}).get("items_with_a_near_copy_in_another_split") or {}
            units = p.get("units") or {}
            labels = p.get("labels") or {}
            names = [str(x) for x in labels.get("labels") or []]
            head = ["split", _e(dup.get("kind", "items")), "exact copy elsewhere"]
            head += ["near copy elsewhere"] if near else []
            head += [f"{_e(u)}s shared" for u in units]
            head += [f"share {_e(n)}" for n in names] + (["label shift (TV)"] if labels else [])
            rows = []
            for sp, n in splits.items():
                cells = [_e(sp), f"{n:,}", f"{exact.get(sp, 0):,}"]
                cells += [f"{near.get(sp, 0):,}"] if near else []
                cells += [f"{sum(sp in v for v in (u.get('cross_split') or {}).values()):,}" for u in units.values()]
                shares = (labels.get("shares") or {}).get(sp) or {}
                cells += [fmt(shares.get(n), 3) for n in names]
                if labels:
                    cells.append(fmt((labels.get("tv_distance_to_other_splits") or {}).get(sp), 3))
                rows.append("<tr>" + "".join(f'<td class="num">{c}</td>' if i else f"<td>{c}</td>"
                                             for i, c in enumerate(cells)) + "</tr>")
            synthetic = " (synthetic data: says nothing about the corpus)" if a.get("synthetic") else ""
            out += [f"<h3>{_e(a.get('dataset'))}: {_e(p.get('partition'))}{synthetic}</h3>",
                    '<div class="wide"><table><tr>' + "".join(f"<th>{h}</th>" for h in head) + "</tr>",
                    *rows, "</table></div>"]
    if not out:
        return []
    return ["<h2>Split overlap (facts, not failures)</h2>",
            '<p class="sub">Per split: items, items with a copy in another split, units seen in another '
            "split, label shares and the label distribution's total variation distance to the other "
            "splits pooled. The details follow under \"Split audits\".</p>", *out]


def _markdown_sections(md: str) -> list[str]:
    """report.md from its first ``## `` section on (the claims come before it), as HTML."""
    from markdown_it import MarkdownIt

    start = md.find("\n## ", md.find("### Claims") if "### Claims" in md else 0)
    rest = md[start:] if start >= 0 else ""
    rest = re.sub(r"^## Warnings\n.*?(?=^## )", "", rest, flags=re.S | re.M)
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(rest)
    body = body.replace("<table>", '<div class="wide"><table>').replace("</table>", "</table></div>")
    return [body]


def render_html(d: Mapping[str, Any], markdown: str) -> str:
    """report.json (and report.md, rendered from it) -> a self-contained report.html."""
    counts = [(v, n) for v, n in d["verdicts"].items() if n]
    chips = "".join(f'<span style="background:{VERDICT_COLOURS.get(v, SEED)}">{n} {_e(v)}</span>'
                    for v, n in counts) or "<span style=\"background:#6e7781\">no claims</span>"
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(d['paper'])}: {_e(d['title'])} — affrepro report</title>",
           f"<style>{CSS}</style></head><body><main>",
           f"<h1>{_e(d['title'])}</h1>",
           f'<p class="sub">{_e(d["paper"])} · status <span class="status {_e(d["status"])}">{_e(d["status"])}</span>'
           f" · started {_e(d['started'])} · wall time {_e(d['duration_s'])} s · seeds {_e(d['seeds'])} · "
           f"device {_e(d['device'])}</p>",
           f'<div class="chips">{chips}</div>']
    if d.get("dry_run"):
        run_on = (d.get("details") or {}).get("run_on") or "dry run"  # affrepro.run_mode: what ran on what
        out.append(f'<div class="banner">{_e(run_on[:1].upper() + run_on[1:])}: the values exercise the '
                   "pipeline and are not compared with the paper.</div>")
    for w in d.get("warnings") or []:
        out.append(f'<div class="banner">{_e(w)}</div>')
    out += _claims_section(d)
    out += _figures_section(d)
    out += _split_overlap_section(d)
    out += _protocol_tables_section(d)
    out += _markdown_sections(markdown)
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"


def write_html(d: Mapping[str, Any], path: Path | str, markdown: str) -> Path:
    """report.html beside report.md, written atomically."""
    return atomic_write_text(path, render_html(d, markdown))


def screenshot_report(d: Mapping[str, Any], markdown: str, png: Path | str, width: int = 1100) -> Any:
    """Render report.json as HTML (with this version of affrepro; the protocol's figures from
    the run folder where it is on this machine), open it in headless Chromium and save a
    full-page PNG; returns affrepro.browser.PageCheck."""
    import tempfile

    from affrepro.browser import check_page

    with tempfile.TemporaryDirectory(prefix="affrepro-html-") as tmp:
        return check_page(write_html(d, Path(tmp) / "report.html", markdown), png, width=width)
