"""`affrepro runs` lists tracked runs with their verdict counts and report paths; `runs show`
prints a run's report; long result dumps become pivot tables with CIs as `.78 [.77, .79]`;
a claim declared deterministic in a random protocol is labelled so (and checked)."""
from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from affrepro.result_tables import fmt_ci, pivot, render_markdown

sys.path.insert(0, str(Path(__file__).parent))
from toy_plugin import CARD, SLUG, ToyPlugin, state_with_toy, write_card, write_predictions  # noqa: E402


# -- affrepro runs -----------------------------------------------------------------------

def test_runs_lists_tracked_runs_and_shows_one(tmp_path, tracking_uri, cli_runner):
    from affrepro.report import render_markdown as report_md
    from affrepro.runner import reproduce

    write_card(tmp_path / "card", llm_claim=False)
    state = state_with_toy(tmp_path / "card" / "paper.toml")
    reports = []
    for correct, out in ((75, "a"), (60, "b")):  # one reproduced, one not
        write_predictions(tmp_path / f"d{out}", correct=correct)
        reports.append(reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / f"d{out}"},
                                 output_dir=tmp_path / out, tracking_uri=tracking_uri,
                                 registries=state.registries))
    res = cli_runner("runs", "--tracking-uri", tracking_uri, "--paper", SLUG, "--json")
    assert res.exit_code == 0, res.output
    rows = {r["run_id"]: r for r in json.loads(res.output)}
    for rep in reports:
        row = rows[rep.run_id]
        expected = {k.replace(" ", "_"): n for k, n in rep.verdict_counts().items()}
        assert row["verdicts"] == expected and row["paper"] == SLUG and row["status"] == rep.status
        assert row["report_exists"] and Path(row["report"]).read_text() == \
            (Path(rep.output_dir) / "report.md").read_text()
        assert Path(row["report_html"]).read_text() == (Path(rep.output_dir) / "report.html").read_text()
    order = [r["run_id"] for r in json.loads(res.output)]
    assert order.index(reports[1].run_id) < order.index(reports[0].run_id)  # newest first

    res = cli_runner("runs", "--tracking-uri", tracking_uri, "--paper", SLUG)
    assert res.exit_code == 0, res.output
    for rep in reports:
        assert rep.run_id[:8] in res.output
        assert f"{rep.run_id[:8]}  {rows[rep.run_id]['report']}" in res.output.splitlines()
    assert "1 repr" in res.output and "1 not" in res.output

    shown = cli_runner("runs", "show", reports[0].run_id[:10], "--tracking-uri", tracking_uri)
    assert shown.exit_code == 0, shown.output
    d = json.loads((tmp_path / "a" / "report.json").read_text())
    assert shown.output == report_md(d) + "\n"
    bad = cli_runner("runs", "show", "zzzz", "--tracking-uri", tracking_uri)
    assert bad.exit_code != 0 and "no run whose id starts with 'zzzz'" in bad.output


def test_runs_on_an_empty_store_says_so_and_creates_nothing(tmp_path, cli_runner):
    uri = f"sqlite:///{tmp_path / 'none' / 'mlflow.db'}"
    res = cli_runner("runs", "--tracking-uri", uri)
    assert res.exit_code == 0 and "no runs in the tracking store yet" in res.output
    assert not (tmp_path / "none").exists()


# -- pivot tables ---------------------------------------------------------------------------

@pytest.mark.parametrize("v, lo, hi, text", [
    (0.78, 0.77, 0.79, ".78 [.77, .79]"),
    (0.7812, 0.7801, 0.7809, ".781 [.780, .781]"),  # two decimals would print the bounds alike
    (1.5, 1.2, 1.8, "1.50 [1.20, 1.80]"),
    (-0.12, -0.2, -0.05, "-.12 [-.20, -.05]"),
])
def test_confidence_intervals_print_compactly(v, lo, hi, text):
    assert fmt_ci(v, lo, hi) == text


def test_records_pivot_to_split_by_model_tables_and_lose_no_number():
    rng = np.random.default_rng(0)
    protocols, scopes, models, metrics = ["cv5", "loeo"], ["all", "2011-tornado", "2019-dorian"], \
        ["tfidf_lr", "fasttext"], ["f1_macro", "uar"]
    records, truth = {}, {}
    for p in protocols:
        for s in scopes:
            for m in models:
                for k in metrics:
                    v = float(rng.uniform(0.5, 0.9))
                    name = f"baseline.{p}.{s}.{m}.{k}"
                    records.update({name: v, name + ".ci_low": v - 0.03, name + ".ci_high": v + 0.02})
                    truth[(p, k, s, m)] = fmt_ci(v, v - 0.03, v + 0.02)
    for s in scopes[1:]:
        records[f"dataset.{s}.records"] = 3572.0
        records[f"dataset.{s}.label_1_share"] = 0.7
    records["audit.all.vader_ge_0.05.agree"] = 0.62  # a dot inside a name part
    records["audit.all.vader_gt_-0.05.agree"] = 0.54
    records["lonely"] = 1.0
    tables, leftover = pivot(records)
    by_title = {t["title"]: t for t in tables}
    for (p, k, s, m), text in truth.items():
        t = by_title[f"baseline · {p} · {k}"]
        assert t["rows"] == scopes and t["columns"] == models
        assert t["cells"][(s, m)] == text
    assert by_title["dataset · breakdown"]["cells"][("2019-dorian", "records")] == "3,572"
    assert by_title["audit · agree"]["columns"] == ["vader_ge_0.05", "vader_gt_-0.05"]
    assert leftover == {"lonely": 1.0}
    cells = sum(len(t["cells"]) for t in tables)
    assert cells * 1 + len(truth) * 2 + len(leftover) == len(records)  # each CI folded into its cell
    md = "\n".join(render_markdown(records))
    assert len(md.splitlines()) < len(records) * 0.7  # one line per number before
    assert "| 2011-tornado | " + truth[("cv5", "uar", "2011-tornado", "tfidf_lr")] in md


# -- deterministic claims in a random protocol ------------------------------------------------

NOISY = CARD.split('\n[[claims]]\nid = "needs-llm"')[0].replace(
    'deviations = ["the toy model is a lookup table"]',
    'deviations = ["the toy model is a lookup table"]\n'
    'noise = { stochastic = ["evaluation subsample"], deterministic_claims = ["n-rows"] }') + '''
[[claims]]
id = "n-rows"
description = "rows in the file"
source = "Table 1"
metric = "n"
value = 100
higher_is_better = true
tolerance = { absolute = 0, why = "a count" }
requires = { datasets = ["toy-licensed"] }
'''


class Counting(ToyPlugin):
    """acc on a seeded subsample (random); n-rows counted from the file, or, with
    ``behaviour="seeded-count"``, wrongly made to depend on the seed."""

    def protocol(self, ctx):
        with open(ctx.data_path("toy-licensed") / "predictions.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        seed = ctx.seeds[0]
        pick = np.random.default_rng(seed).choice(len(rows), 40, replace=False)
        acc = ctx.metric("accuracy")([rows[i]["y_true"] for i in pick], [rows[i]["y_pred"] for i in pick])
        n = len(rows) + (seed if self.behaviour == "seeded-count" else 0)
        return {"acc": acc, "n-rows": float(n)}


def _noisy_run(tmp_path, seeds, behaviour="ok"):
    from affrepro.plugin_manager import build_plugin_manager
    from affrepro.runner import reproduce

    (tmp_path / "card").mkdir(exist_ok=True)
    (tmp_path / "card" / "paper.toml").write_text(NOISY)
    write_predictions(tmp_path / "d", correct=75)
    state = build_plugin_manager(extra_plugins=[("toy", Counting(tmp_path / "card" / "paper.toml", behaviour))],
                                 load_entry_points=False)
    return reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "d"}, seeds=seeds,
                     output_dir=tmp_path / f"o-{behaviour}-{len(seeds)}", track=False, registries=state.registries)


def test_a_declared_deterministic_claim_is_labelled_so_and_the_random_one_is_not(tmp_path):
    report = _noisy_run(tmp_path, (0, 1, 2))
    acc, n = report.results
    assert n.spread["deterministic"] and n.spread["values"] == [100.0] * 3 and n.verdict.value == "reproduced"
    assert not acc.spread["deterministic"] and acc.spread["n"] == 3
    md = (Path(report.output_dir) / "report.md").read_text()
    assert re.search(r"\| n-rows \| 100 \| — \| 3 \| 100 \| deterministic \|", md)
    html = (Path(report.output_dir) / "report.html").read_text()
    row = re.search(r'<tr id="claim-n-rows".*?</tr>', html, re.S).group(0)
    assert "deterministic" in row and "-seeds" not in row  # no seed strip for a deterministic claim
    one = _noisy_run(tmp_path, (0,))  # one seed: acc has no measured spread, n-rows is still deterministic
    acc1, n1 = one.results
    assert n1.spread["deterministic"] and not acc1.spread["deterministic"]
    assert "— (1 seed)" in (Path(one.output_dir) / "report.md").read_text()


def test_a_claim_wrongly_declared_deterministic_keeps_its_spread_and_says_so(tmp_path):
    report = _noisy_run(tmp_path, (0, 1, 2), behaviour="seeded-count")
    n = report.results[1]
    assert not n.spread["deterministic"] and (n.spread["min"], n.spread["max"]) == (100.0, 102.0)
    assert any("declared deterministic" in d and "n-rows" in d for d in report.deviations)


def test_deterministic_claims_must_name_claims_of_the_card(tmp_path):
    from affrepro.errors import CardError

    bad = NOISY.replace('deterministic_claims = ["n-rows"]', 'deterministic_claims = ["n-row"]')
    (tmp_path / "card").mkdir()
    (tmp_path / "card" / "paper.toml").write_text(bad)
    from affrepro.card import load_card
    from affrepro.noise import noise_spec

    with pytest.raises(CardError, match=r"deterministic_claims: no claim 'n-row' on this card"):
        noise_spec(load_card(tmp_path / "card" / "paper.toml"))
