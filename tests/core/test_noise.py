"""The noise floor: seeds parsing, spread over seeds, the 'within noise' rule, per-seed runs."""
from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from affrepro.claims import Claim, Tolerance, Verdict, judge
from affrepro.errors import CardError
from affrepro.noise import Spread, noise_verdict, parse_seeds
from affrepro.runner import reproduce

sys.path.insert(0, str(Path(__file__).parent))
from toy_plugin import CARD, SLUG, ToyPlugin, write_predictions  # noqa: E402


@pytest.mark.parametrize("text, seeds", [("0-4", (0, 1, 2, 3, 4)), ("3", (3,)), ("0,3,7", (0, 3, 7)),
                                         ("0-2, 9", (0, 1, 2, 9)), ("5-5", (5,))])
def test_seeds_take_lists_and_ranges(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text, message", [("4-0", "backwards"), ("a-b", "'a-b' is not"), ("", "no seed"),
                                           ("0-2,1", "seed(s) 1 given twice"), ("1.5", "'1.5' is not")])
def test_bad_seeds_say_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_seeds(text)


def test_spread_agrees_with_numpy():
    values = {0: 0.71, 1: 0.74, 2: 0.78, 3: 0.7}
    s = Spread(values)
    ref = np.array(list(values.values()))
    assert s.mean == pytest.approx(ref.mean()) and s.std == pytest.approx(ref.std(ddof=1))
    assert (s.low, s.high, s.n) == (0.7, 0.78, 4)
    assert Spread({0: 0.5}).std == 0.0


def _claim(value: float) -> Claim:
    return Claim(id="acc", description="d", source="s", metric="accuracy", value=value,
                 tolerance=Tolerance("absolute", 0.005, "two decimals"), higher_is_better=True)


def test_within_noise_needs_the_paper_value_inside_the_seeds_range():
    spread = Spread({0: 0.71, 1: 0.74, 2: 0.78})
    mean = spread.mean  # 0.7433...
    inside = noise_verdict(judge(_claim(0.76), mean), spread)
    assert inside.verdict is Verdict.WITHIN_NOISE and "[0.71, 0.78] over 3 seeds" in inside.reason
    outside = noise_verdict(judge(_claim(0.80), mean), spread)
    assert outside.verdict is Verdict.NOT_REPRODUCED
    close = noise_verdict(judge(_claim(0.745), mean), spread)
    assert close.verdict is Verdict.REPRODUCED and close.as_dict()["spread"]["std"] == pytest.approx(spread.std)
    # a deterministic value never becomes 'within noise', and neither does one seed
    assert noise_verdict(judge(_claim(0.76), 0.74), Spread({0: 0.74, 1: 0.74}, True)).verdict is Verdict.NOT_REPRODUCED
    assert noise_verdict(judge(_claim(0.76), 0.74), Spread({0: 0.74})).verdict is Verdict.NOT_REPRODUCED


NOISY_CARD = CARD.replace('deviations = ["the toy model is a lookup table"]',
                          'deviations = ["the toy model is a lookup table"]\n'
                          'noise = { stochastic = ["evaluation subsample of 40 rows"] }')


class Subsampling(ToyPlugin):
    """Accuracy on a seeded random 40-row subsample: a number that moves with the seed."""

    def protocol(self, ctx):
        seed = ctx.seeds[0]  # a stochastic card gets one seed per run
        with open(ctx.data_path("toy-licensed") / "predictions.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        pick = np.random.default_rng(seed).choice(len(rows), 40, replace=False)
        acc = ctx.metric("accuracy")([rows[i]["y_true"] for i in pick], [rows[i]["y_pred"] for i in pick])
        ctx.record("toy.subsample_acc", acc)
        ctx.record("toy.n", len(rows))
        return {"acc": acc}


def _subsample_acc(seed: int, correct: int = 75) -> float:
    pick = np.random.default_rng(seed).choice(100, 40, replace=False)
    return float(np.mean(pick < correct))  # write_predictions: the first `correct` rows are right


def _run(tmp_path, card_text: str, seeds, tracking_uri: str | None = None, out: str = "o"):
    from affrepro.plugin_manager import build_plugin_manager

    (tmp_path / "card").mkdir(exist_ok=True)
    (tmp_path / "card" / "paper.toml").write_text(card_text)
    write_predictions(tmp_path / "d", correct=75)
    state = build_plugin_manager(extra_plugins=[("toy", Subsampling(tmp_path / "card" / "paper.toml"))],
                                 load_entry_points=False)
    return reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "d"}, seeds=seeds, output_dir=tmp_path / out,
                     track=tracking_uri is not None, tracking_uri=tracking_uri, registries=state.registries)


def test_a_stochastic_protocol_runs_once_per_seed_and_reports_the_spread(tmp_path, tracking_uri):
    seeds = (0, 1, 2, 3, 4)
    report = _run(tmp_path, NOISY_CARD, seeds, tracking_uri)
    ref = np.array([_subsample_acc(s) for s in seeds])
    acc = report.results[0]
    assert acc.measured == pytest.approx(ref.mean())
    assert acc.spread["values"] == pytest.approx(list(ref)) and acc.spread["std"] == pytest.approx(ref.std(ddof=1))
    expected = judge(acc.claim, ref.mean()).verdict
    if expected is Verdict.NOT_REPRODUCED and ref.min() <= 0.75 <= ref.max():
        expected = Verdict.WITHIN_NOISE
    assert acc.verdict is expected
    d = json.loads((tmp_path / "o" / "report.json").read_text())
    noise = d["details"]["noise"]
    assert noise["records"]["toy.n"]["std"] == 0 and noise["records"]["toy.subsample_acc"]["max"] == ref.max()
    assert d["records"]["toy.subsample_acc"] == pytest.approx(ref.mean())
    md = (tmp_path / "o" / "report.md").read_text()
    assert "## Noise floor" in md and "evaluation subsample of 40 rows" in md
    assert "1 of 2 move with the seed" in md

    from mlflow.tracking import MlflowClient

    metrics = MlflowClient(tracking_uri).get_run(report.run_id).data.metrics
    assert metrics["claim.acc.seed_std"] == pytest.approx(ref.std(ddof=1))
    assert metrics["claim.acc.seed_min"] == ref.min() and metrics["toy.subsample_acc.seed_max"] == ref.max()

    # runs compare: this run (by MLflow run id) against one with other seeds (by folder)
    from affrepro.compare import compare, load_report

    other_seeds = (5, 6, 7)
    _run(tmp_path, NOISY_CARD, other_seeds, out="o2")
    ref2 = np.array([_subsample_acc(s) for s in other_seeds])
    c = compare(load_report(report.run_id, tracking_uri), load_report(str(tmp_path / "o2")))
    (row,) = [r for r in c["claims"] if r["id"] == "acc"]
    spread = max(np.ptp(ref), np.ptp(ref2))
    assert row["difference"] == pytest.approx(ref2.mean() - ref.mean()) and row["seed_spread"] == pytest.approx(spread)
    assert row["exceeds_spread"] == (abs(ref2.mean() - ref.mean()) > spread)
    assert (row["seeds_a"], row["seeds_b"]) == (5, 3)
    assert c["environment_differences"] == {}


def test_a_card_without_random_steps_runs_once_and_says_deterministic(tmp_path):
    report = _run(tmp_path, CARD, (0, 1, 2))
    acc = report.results[0]
    assert acc.measured == _subsample_acc(0)  # one run, with the seeds as given
    assert acc.spread["deterministic"] and acc.spread["std"] == 0
    assert "deterministic, spread 0" in (tmp_path / "o" / "report.md").read_text()


def test_a_malformed_noise_table_names_the_card_and_key(tmp_path):
    bad = CARD.replace('seeds = [7]', 'seeds = [7]\nnoise = { stochastic = "folds" }')
    with pytest.raises(CardError, match=r"paper.toml: protocol.noise.stochastic: expected a list"):
        _run(tmp_path, bad, (0, 1))


def test_compare_refuses_two_papers_and_names_a_missing_run(tmp_path):
    from affrepro.compare import compare, load_report
    from affrepro.errors import AffreproError

    report = _run(tmp_path, CARD, (0,))
    d = report.as_dict()
    with pytest.raises(AffreproError, match="different papers"):
        compare(d, dict(d, paper="other-2020"))
    with pytest.raises(AffreproError, match="no such report.json"):
        load_report(str(tmp_path / "nowhere" / "report.json"))
    same = compare(d, d)
    assert same["summary"] == {"compared": 1, "exceed_seed_spread": 0, "not_measured_in_both": 1}
    assert [r["exceeds_spread"] for r in same["claims"]] == [False, None]


def test_cli_names_bad_seeds_and_compares_two_report_folders(tmp_path, cli_runner):
    bad = cli_runner("reproduce", "natural-hazards-2020", "--seeds", "3-1", "--no-track")
    assert bad.exit_code == 2 and "runs backwards" in bad.output
    _run(tmp_path, NOISY_CARD, (0, 1, 2), out="a")
    _run(tmp_path, NOISY_CARD, (3, 4, 5), out="b")
    res = cli_runner("runs", "compare", str(tmp_path / "a"), str(tmp_path / "b" / "report.json"))
    assert res.exit_code == 0, res.output
    delta = np.mean([_subsample_acc(s) for s in (3, 4, 5)]) - np.mean([_subsample_acc(s) for s in (0, 1, 2)])
    assert f"{delta:+.4g}" in res.output and "1 claims measured in both" in res.output
