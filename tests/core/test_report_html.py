"""report.html: the plots carry report.json's numbers where they belong, the page is
self-contained, confusion matrices agree with scikit-learn, and the page renders in a
real headless Chromium (Debian's `chromium`) with no console error; the screenshot is
kept as an artifact (AFFREPRO_TEST_ARTIFACTS, else the test's tmp dir)."""
from __future__ import annotations

import csv
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from affrepro.formatting import fmt
from affrepro.runner import reproduce

sys.path.insert(0, str(Path(__file__).parent))
from toy_plugin import CARD, SLUG, ToyPlugin, write_predictions  # noqa: E402

NOISY = CARD.replace('deviations = ["the toy model is a lookup table"]',
                     'deviations = ["the toy model is a lookup table"]\n'
                     'noise = { stochastic = ["evaluation subsample of 40 rows"] }')
SVG = "{http://www.w3.org/2000/svg}"


class Subsampling(ToyPlugin):
    """Accuracy on a seeded 40-row subsample: a claim that moves with the seed."""

    def protocol(self, ctx):
        with open(ctx.data_path("toy-licensed") / "predictions.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        pick = np.random.default_rng(ctx.seeds[0]).choice(len(rows), 40, replace=False)
        acc = ctx.metric("accuracy")([rows[i]["y_true"] for i in pick], [rows[i]["y_pred"] for i in pick])
        ctx.record("toy.subsample_acc", acc)
        ctx.record("toy.n", len(rows))
        return {"acc": acc}


def _run(tmp_path: Path, seeds=(0, 1, 2)):
    from affrepro.plugin_manager import build_plugin_manager

    (tmp_path / "card").mkdir(exist_ok=True)
    (tmp_path / "card" / "paper.toml").write_text(NOISY)
    write_predictions(tmp_path / "d", correct=75)
    state = build_plugin_manager(extra_plugins=[("toy", Subsampling(tmp_path / "card" / "paper.toml"))],
                                 load_entry_points=False)
    return reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "d"}, seeds=seeds, output_dir=tmp_path / "o",
                     track=False, registries=state.registries)


class _Collect(HTMLParser):
    """Tags and attributes of a page, and the <tr data-claim> rows' raw HTML spans."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _claim_svg(page: str, claim_id: str) -> ET.Element:
    row = re.search(rf'<tr id="claim-{re.escape(claim_id)}".*?</tr>', page, re.S).group(0)
    svg = re.search(r"<svg.*?</svg>", row, re.S).group(0)
    return ET.fromstring(svg)


def _xs(group: ET.Element) -> list[float]:
    """x of each marker (<use x=…>) or of each path's first point, in SVG pixels."""
    out = [float(u.get("x")) for u in group.iter(f"{SVG}use")]
    if not out:
        out = [float(re.match(r"M\s*([-\d.]+)", p.get("d")).group(1)) for p in group.iter(f"{SVG}path")]
    return out


def _group(svg: ET.Element, suffix: str) -> ET.Element:
    (g,) = [g for g in svg.iter(f"{SVG}g") if (g.get("id") or "").endswith(suffix)]
    return g


def test_claim_plot_puts_paper_band_measured_and_seeds_where_report_json_says(tmp_path):
    report = _run(tmp_path)
    page = (tmp_path / "o" / "report.html").read_text()
    c = report.as_dict()["claims"][0]
    sp = c["spread"]
    assert sp["n"] == 3 and not sp["deterministic"]
    svg = _claim_svg(page, "acc")
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert f"paper {fmt(c['value'])}" in texts and f"measured {fmt(c['measured'])}" in texts
    # pixel scale from the seed range, a line from the lowest to the highest seed value
    path = _group(svg, "-seed-range").find(f".//{SVG}path").get("d")
    x_lo, x_hi = (float(v) for v in re.findall(r"[ML]\s*([-\d.]+)", path))
    lo, hi = min(sp["values"]), max(sp["values"])

    def px(v: float) -> float:
        return x_lo + (v - lo) * (x_hi - x_lo) / (hi - lo)

    assert sorted(_xs(_group(svg, "-seeds"))) == pytest.approx(sorted(px(v) for v in sp["values"]), abs=0.05)
    assert _xs(_group(svg, "-paper")) == pytest.approx([px(0.75)], abs=0.05)
    assert _xs(_group(svg, "-measured")) == pytest.approx([px(c["measured"])], abs=0.05)
    band = _group(svg, "-band").find(f".//{SVG}path").get("d")
    band_x = sorted({float(v) for v in re.findall(r"[ML]\s*([-\d.]+)", band)})
    assert band_x == pytest.approx([px(0.745), px(0.755)], abs=0.05)
    row = re.search(r'<tr id="claim-acc".*?</tr>', page, re.S).group(0)
    assert f">{c['verdict']}<" in row
    # the results that move with the seed: toy.subsample_acc (not toy.n), each seed's deviation
    # from the mean, on the scale of the figure's x ticks
    rec = report.as_dict()["details"]["noise"]["records"]["toy.subsample_acc"]
    (fig,) = [ET.fromstring(s) for s in re.findall(r"<svg.*?</svg>", page, re.S)
              if "minus the mean over seeds" in s]
    labels = [t.text for t in fig.iter(f"{SVG}text")]
    assert "toy.subsample_acc" in labels and "toy.n" not in labels
    ticks = [(float(_xs(g)[0]), float(g.find(f".//{SVG}text").text.replace("\u2212", "-")))
             for g in fig.iter(f"{SVG}g") if re.fullmatch(r"xtick_\d+", g.get("id") or "")
             and g.find(f".//{SVG}text") is not None]
    (x0, v0), (x1, v1) = ticks[0], ticks[-1]
    seen = sorted(v0 + (x - x0) * (v1 - v0) / (x1 - x0) for x in _xs(_group(fig, "seedrow-0")))
    assert seen == pytest.approx(sorted(v - rec["mean"] for v in rec["values"]), abs=2e-3)
    # inside the band exactly when the tolerance is met
    assert (band_x[0] <= px(c["measured"]) <= band_x[1]) == (c["verdict"] == "reproduced")


def test_the_page_is_self_contained(tmp_path):
    _run(tmp_path, seeds=(0,))
    page = (tmp_path / "o" / "report.html").read_text()
    p = _Collect()
    p.feed(page)
    names = [t for t, _ in p.tags]
    assert "script" not in names and "link" not in names and "iframe" not in names
    for tag, attrs in p.tags:
        for key in ("src", "href", "xlink:href"):
            value = attrs.get(key) or ""
            assert not re.match(r"(https?:)?//", value), (tag, key, value)
    assert "@import" not in page and "url(http" not in page
    assert names.count("svg") >= 1 and "<style>" in page


def _confusion_cells(page: str, title: str) -> list[list[str]]:
    """The counts drawn in the confusion matrix titled ``title``, as rows."""
    svgs = [ET.fromstring(s) for s in re.findall(r"<svg.*?</svg>", page, re.S)]
    (svg,) = [s for s in svgs if title in [t.text for t in s.iter(f"{SVG}text")]]
    cells = {}
    for g in svg.iter(f"{SVG}g"):
        m = re.search(r"-cell-(\d+)-(\d+)$", g.get("id") or "")
        if m:
            cells[int(m[1]), int(m[2])] = g.find(f".//{SVG}text").text
    n = max(i for i, _ in cells) + 1
    return [[cells[i, j] for j in range(n)] for i in range(n)]


def test_confusion_matrices_agree_with_scikit_learn(tmp_path):
    from sklearn.metrics import confusion_matrix

    from affrepro.report import render_markdown
    from affrepro.report_html import render_html

    d = _run(tmp_path, seeds=(0,)).as_dict()
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 60).tolist()
    pred = [t if rng.random() < 0.7 else 1 - t for t in y]
    d["details"]["dev_predictions"] = {"y_true": y, "model-a": pred}
    d["details"]["baselines"] = {"confusion": {"cv/all/svm": [11, 4, 3, 22]}}  # tn, fp, fn, tp
    d["details"]["regression"] = {"y_true": [0.5, 1.25, 2.0], "ridge": [0.4, 1.3, 2.2]}  # not classes
    page = render_html(d, render_markdown(d))
    assert "regression: ridge" not in page
    cm = confusion_matrix(y, pred, labels=[0, 1])  # rows: true label, columns: predicted
    assert _confusion_cells(page, "dev_predictions: model-a") == [[str(v) for v in row] for row in cm]
    assert _confusion_cells(page, "cv/all/svm") == [["11", "4"], ["3", "22"]]


def _artifacts_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("AFFREPRO_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _no_chromium() -> bool:
    from affrepro.browser import find_chromium

    return find_chromium() is None


@pytest.mark.skipif(_no_chromium(), reason="Debian's `chromium` is not installed (apt-get install chromium; "
                                           ".ci/run does) and AFFREPRO_CHROMIUM names no browser")
def test_report_html_renders_in_headless_chromium_without_console_errors(tmp_path, record_property):
    from PIL import Image

    from affrepro.browser import check_page
    from affrepro.report import render_markdown
    from affrepro.report_html import write_html

    d = _run(tmp_path).as_dict()
    d["details"]["dev_predictions"] = {"y_true": [0, 1, 1, 0, 1], "model-a": [0, 1, 0, 0, 1]}
    d["details"]["folds"] = {"per_fold": {"model-a": {str(k): {"train": 0.1 * k, "val": 0.2, "test": 0.3}
                                                      for k in range(1, 6)}}}
    d["details"]["baselines"] = {"results": [
        {"protocol": "cv", "scope": "all", "model": m, "f1_macro": f, "f1_macro_ci": [f - 0.02, f + 0.02]}
        for m, f in (("lr", 0.7), ("svm", 0.74))]}
    html = write_html(d, tmp_path / "report.html", render_markdown(d))
    shot = _artifacts_dir(tmp_path) / "report_html_toy.png"
    check = check_page(html, shot)
    record_property("screenshot", str(shot))
    print(f"screenshot: {shot}")
    assert check.console_errors == []
    assert check.network_requests == []
    assert check.broken_images == 0
    assert check.title.startswith(SLUG)
    assert check.svg_count >= 4  # the claim, a confusion matrix, the folds, the CIs
    with Image.open(shot) as im:
        assert im.size[0] >= 1000 and im.size[1] == check.height
        colours = {c for _, c in im.convert("RGB").getcolors(maxcolors=1 << 20)}
    assert (0xb7, 0xe4, 0xc7) in colours  # the tolerance band was painted
    assert len(colours) > 50  # text and plots, not a blank page


def test_split_overlap_table_counts_shared_speakers_and_copies_per_split(tmp_path):
    from affrepro.report import render_markdown
    from affrepro.report_html import render_html
    from affrepro.splits import Partition, audit_partition

    rows = [{"split": s, "speaker": spk, "item": text, "label": lab} for s, spk, text, lab in [
        ("train", "ann", "hello there", "joy"), ("train", "bob", "Good morning!", "joy"),
        ("train", "cy", "so sad", "sad"), ("dev", "ann", "hello there", "joy"),
        ("dev", "dee", "good morning", "sad"), ("test", "bob", "fine", "sad"), ("test", "eve", "ok", "sad")]]
    audit = {"dataset": "toy-splits", "synthetic": False,
             "partitions": [audit_partition(Partition("train/dev/test", "split", rows, units=("speaker",)))]}
    d = _run(tmp_path, seeds=(0,)).as_dict()
    d["details"]["split_audits"] = [audit]
    page = render_html(d, render_markdown(d))
    table = re.search(r"<h3>toy-splits: train/dev/test</h3>.*?</table>", page, re.S).group(0)
    cells = {r[0]: r[1:] for r in (re.findall(r"<td[^>]*>([^<]*)</td>", tr)
                                   for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S)) if r}
    speakers = {s: {r["speaker"] for r in rows if r["split"] == s} for s in ("train", "dev", "test")}
    for s, mine in speakers.items():
        others = set().union(*(v for k, v in speakers.items() if k != s))
        n, exact, near, shared, *_ = cells[s]
        assert int(n) == sum(r["split"] == s for r in rows)
        assert int(shared) == len(mine & others)  # ann in train+dev, bob in train+test
    assert [cells[s][1] for s in ("train", "dev", "test")] == ["1", "1", "0"]  # "hello there" twice
    assert [cells[s][2] for s in ("train", "dev", "test")] == ["1", "1", "0"]  # "Good morning!" ~ "good morning"
    assert cells["test"][-1] == fmt(audit["partitions"][0]["labels"]["tv_distance_to_other_splits"]["test"], 3)


def test_a_plot_that_fails_is_a_note_in_the_page_not_a_lost_run(tmp_path, monkeypatch):
    import affrepro.report_html as rh

    def broken(*args, **kwargs):
        raise RuntimeError("no room on the canvas")

    monkeypatch.setattr(rh, "claim_plot", broken)
    report = _run(tmp_path, seeds=(0,))
    page = (tmp_path / "o" / "report.html").read_text()
    assert "plot not drawn: RuntimeError: no room on the canvas" in page
    assert page.endswith("</main></body></html>\n") and report.status in ("FINISHED", "FAILED")
    assert json.loads((tmp_path / "o" / "report.json").read_text())["claims"][0]["id"] == "acc"


def test_the_protocols_own_figures_and_tables_are_inlined(tmp_path):
    import base64

    from affrepro.report import render_markdown
    from affrepro.report_html import render_html

    d = _run(tmp_path, seeds=(0,)).as_dict()
    out = Path(d["output_dir"])
    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                        "0000000d49444154789c6360f80f0000010101005a4d6d2a0000000049454e44ae426082")
    (out / "per_event.png").write_bytes(png)
    (out / "tables.md").write_text("# toy: tables\n\n## Per event\n\n| event | n |\n|---|---|\n| 2011-tornado | 3572 |\n")
    d["details"]["artifacts"] = ["per_event.png", "tables.md", "missing.png"]
    page = render_html(d, render_markdown(d))
    assert f'src="data:image/png;base64,{base64.b64encode(png).decode()}"' in page
    assert "<td>2011-tornado</td>" in page and "<h3>Per event</h3>" in page
    assert "missing.png" not in page  # listed but not written: nothing to show, nothing broken
