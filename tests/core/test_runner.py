"""reproduce(): data resolution, verdicts, skips with reasons, reports, dry runs."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from affrepro.errors import TrackingError, UnknownNameError
from affrepro.runner import reproduce

sys.path.insert(0, str(Path(__file__).parent))
from toy_plugin import SLUG, state_with_toy, write_card, write_predictions  # noqa: E402


@pytest.fixture
def toy(tmp_path):
    return lambda behaviour="ok": state_with_toy(write_card(tmp_path / "card"), behaviour).registries


def test_measured_claims_get_verdicts_and_unmet_requirements_are_skipped(toy, tmp_path):
    data = tmp_path / "licensed"
    write_predictions(data, correct=75)
    report = reproduce(SLUG, data_dirs={"toy-licensed": data}, output_dir=tmp_path / "out",
                       track=False, registries=toy())
    by_id = {r.claim.id: r for r in report.results}
    assert by_id["acc"].verdict.value == "reproduced" and by_id["acc"].measured == 0.75
    # an LLM backend is always there now (the embedded default): the claim is measurable,
    # and a protocol that leaves it unmeasured is named
    assert by_id["needs-llm"].verdict.value == "error"
    assert "did not measure" in by_id["needs-llm"].reason
    d = json.loads((tmp_path / "out" / "report.json").read_text())
    # ... and that `error` verdict fails the run (issue 21)
    assert d["paper"] == SLUG and d["seeds"] == [7] and d["status"] == "FAILED"
    assert d["deviations"] == ["the toy model is a lookup table"]
    assert d["data"]["toy-licensed"]["sha256"]["predictions.csv"]
    assert d["records"] == {"toy.n": 100.0}
    assert {"cpu", "python"} <= set(d["hardware"]) and "numpy" in d["versions"]
    assert "| acc | accuracy | 0.7500 | 0.7500 |" in (tmp_path / "out" / "report.md").read_text()


def test_a_wrong_value_is_not_reproduced(toy, tmp_path):
    write_predictions(tmp_path / "d", correct=70)
    report = reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "d"}, output_dir=tmp_path / "o",
                       track=False, registries=toy())
    acc = report.results[0]
    assert acc.verdict.value == "not reproduced" and acc.difference == pytest.approx(-0.05)


def test_missing_licensed_data_skips_with_how_to_get_it(toy, tmp_path):
    report = reproduce(SLUG, output_dir=tmp_path / "o", track=False, registries=toy())
    acc = report.results[0]
    assert acc.verdict.value == "skipped"
    assert "toy-licensed" in acc.reason and "affrepro data link toy-licensed PATH" in acc.reason


def test_malformed_licensed_data_is_reported_not_run(toy, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "predictions.csv").write_text("truth,guess\n1,1\n")
    report = reproduce(SLUG, data_dirs={"toy-licensed": bad}, output_dir=tmp_path / "o",
                       track=False, registries=toy())
    assert report.results[0].verdict.value == "skipped"
    assert "predictions.csv:1" in report.results[0].reason and "expected y_true,y_pred" in report.results[0].reason


def test_a_failing_protocol_gives_error_verdicts_and_a_failed_report(toy, tmp_path):
    write_predictions(tmp_path / "d", correct=75)
    report = reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "d"}, output_dir=tmp_path / "o",
                       track=False, registries=toy("raise"))
    assert report.status == "FAILED" and "the toy protocol failed" in report.error
    assert report.results[0].verdict.value == "error"
    assert json.loads((tmp_path / "o" / "report.json").read_text())["status"] == "FAILED"


def test_a_nan_measurement_is_an_error_not_a_verdict(toy, tmp_path):
    write_predictions(tmp_path / "d", correct=75)
    report = reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "d"}, output_dir=tmp_path / "o",
                       track=False, registries=toy("nan"))
    assert report.results[0].verdict.value == "error" and "nan" in report.results[0].reason


def test_dry_run_uses_the_synthetic_corpus_and_compares_nothing(toy, tmp_path):
    report = reproduce(SLUG, dry_run=True, output_dir=tmp_path / "o", track=False, registries=toy())
    acc = report.results[0]
    assert acc.verdict.value == "skipped" and acc.measured == 0.6
    assert "dry run" in acc.reason
    assert report.data["toy-licensed"]["status"] == "synthetic"


def test_unknown_paper_suggests_close_names(toy):
    with pytest.raises(UnknownNameError) as err:
        reproduce("toy-paper", track=False, registries=toy())
    assert "did you mean 'toy-paper-2024'" in str(err.value)


def test_an_unreachable_store_stops_the_run_before_anything_is_written(toy, tmp_path):
    write_predictions(tmp_path / "d", correct=75)
    with pytest.raises(TrackingError, match="unreachable"):
        reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "d"}, output_dir=tmp_path / "o",
                  tracking_uri=f"sqlite:///{tmp_path}/no/such/dir/mlflow.db", registries=toy())
    assert not (tmp_path / "o").exists()
    with pytest.raises(TrackingError, match="unreachable"):
        reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "d"}, output_dir=tmp_path / "o",
                  tracking_uri="http://127.0.0.1:9", registries=toy())
    assert not (tmp_path / "o").exists()


def test_a_protocol_can_skip_one_claim_with_its_reason(tmp_path):
    from affrepro.plugin_manager import build_plugin_manager
    from toy_plugin import ToyPlugin

    class Skipper(ToyPlugin):
        def protocol(self, ctx):
            ctx.skip("acc", "the toy GPU model needs --device cuda")
            return {}

    card = write_card(tmp_path / "card")
    write_predictions(tmp_path / "d", correct=75)
    state = build_plugin_manager(extra_plugins=[("toy", Skipper(card))], load_entry_points=False)
    report = reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "d"}, output_dir=tmp_path / "o",
                       track=False, registries=state.registries)
    acc = report.results[0]
    assert acc.verdict.value == "skipped" and acc.reason == "the toy GPU model needs --device cuda"


def test_record_names_mlflow_would_refuse_are_refused_at_once(toy, tmp_path):
    from affrepro.runner import RunContext

    reg = toy()
    rep = reg.reproductions.get(SLUG)
    ctx = RunContext(paper=rep, card=rep.card, data={}, claims_to_measure=[], seeds=(0,), device="cpu",
                     dry_run=False, output_dir=tmp_path, registries=reg)
    ctx.record("baselines/lr macro-F1:pooled.0", 0.5)
    with pytest.raises(ValueError, match="'a>b'"):
        ctx.record("a>b", 1.0)


def test_progress_reaches_the_callback(tmp_path):
    from affrepro.plugin_manager import build_plugin_manager
    from toy_plugin import ToyPlugin

    class Counting(ToyPlugin):
        def protocol(self, ctx):
            for i in range(3):
                ctx.progress("folds", i + 1, 3)
            return {}

    seen = []
    state = build_plugin_manager(extra_plugins=[("toy", Counting(write_card(tmp_path / "c")))],
                                 load_entry_points=False)
    write_predictions(tmp_path / "d", correct=75)
    reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "d"}, output_dir=tmp_path / "o", track=False,
              registries=state.registries, progress=lambda *a: seen.append(a))
    assert seen == [("folds", 1, 3), ("folds", 2, 3), ("folds", 3, 3)]


def test_one_failed_claim_is_an_error_and_the_others_keep_their_verdicts(tmp_path):
    from affrepro.plugin_manager import build_plugin_manager
    from toy_plugin import ToyPlugin

    class HalfFailing(ToyPlugin):
        def protocol(self, ctx):
            ctx.fail("acc", "the GPU ran out of memory")
            return {}

    card = write_card(tmp_path / "card")
    write_predictions(tmp_path / "d", correct=75)
    state = build_plugin_manager(extra_plugins=[("toy", HalfFailing(card))], load_entry_points=False)
    report = reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "d"}, output_dir=tmp_path / "o",
                       track=False, registries=state.registries)
    assert report.status == "FAILED"  # an `error` verdict fails the run (issue 21)
    acc, llm = report.results
    assert acc.verdict.value == "error" and acc.reason == "the GPU ran out of memory"
    assert llm.verdict.value == "error"


def test_git_commit_outside_a_checkout_takes_affrepro_git_commit(monkeypatch):
    """An installed copy of the tree (the GPU kit's) is no checkout: the commit it was
    copied from comes through AFFREPRO_GIT_COMMIT, else "unknown"."""
    import subprocess as sp_

    from affrepro import runner

    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(sp_, "run", no_git)
    monkeypatch.delenv("AFFREPRO_GIT_COMMIT", raising=False)
    assert runner.git_commit() == "unknown"
    monkeypatch.setenv("AFFREPRO_GIT_COMMIT", "abc123-dirty")
    assert runner.git_commit() == "abc123-dirty"


def test_a_paper_whose_extra_is_missing_is_skipped_with_the_install_command(tmp_path):
    """A card names the extras its protocol needs; one not installed here (this one affrepro
    does not even declare) skips the measurable claims with what to install."""
    from affrepro.status import missing_extras
    from toy_plugin import CARD

    assert missing_extras(["natural-hazards"]) == {}  # the dev extra installs it
    card = tmp_path / "card" / "paper.toml"
    card.parent.mkdir()
    card.write_text(CARD.replace("seeds = [7]\n", 'seeds = [7]\nextras = ["toy-lexicons"]\n'))
    write_predictions(tmp_path / "d", correct=75)
    report = reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "d"}, output_dir=tmp_path / "o",
                       track=False, registries=state_with_toy(card).registries)
    acc = report.results[0]
    assert acc.verdict.value == "skipped" and report.status == "FINISHED"
    assert "needs the toy-lexicons extra" in acc.reason
    assert "pip install 'affrepro[toy-lexicons]'" in acc.reason
    assert report.details["protocol_not_run"].startswith("needs the toy-lexicons extra")


UNIT_CALLS: list = []


def _answer(engine, x):
    UNIT_CALLS.append((engine.fingerprint, x))
    return f"{engine.fingerprint}:{x}"


def test_model_units_resume_only_from_the_same_weights(toy, tmp_path):
    """An interrupted run's journal gives back model units only when the model's fingerprint
    is the same: a spec naming a file whose content changed computes them again."""
    from affrepro.journal import UnitJournal
    from affrepro.runner import RunContext

    class Model:  # what map_model reads of the run's engine in-process: its identity, no cache
        cache = None

        def __init__(self, fingerprint):
            self.fingerprint = fingerprint

    reg = toy()
    rep = reg.reproductions.get(SLUG)

    def units(fingerprint):
        ctx = RunContext(paper=rep, card=rep.card, data={}, claims_to_measure=[], seeds=(0,), device="cpu",
                         dry_run=False, output_dir=tmp_path, registries=reg,
                         journal=UnitJournal(tmp_path / "journal"), _engine=Model(fingerprint))
        return ctx.map_model(_answer, {"a": (1,), "b": (2,)}, label="tasks")

    UNIT_CALLS.clear()
    assert units("sha256:old") == {"a": "sha256:old:1", "b": "sha256:old:2"}
    assert units("sha256:old") == {"a": "sha256:old:1", "b": "sha256:old:2"}  # from the journal
    assert UNIT_CALLS == [("sha256:old", 1), ("sha256:old", 2)]
    assert units("sha256:new") == {"a": "sha256:new:1", "b": "sha256:new:2"}
    assert UNIT_CALLS[2:] == [("sha256:new", 1), ("sha256:new", 2)]
