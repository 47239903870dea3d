"""MLflow tracking: statuses (FINISHED/FAILED/KILLED), refused non-finite metrics, artifacts,
and several processes logging to one SQLite store at once."""
from __future__ import annotations

import math
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from affrepro.errors import NonFiniteMetricError
from affrepro.runner import reproduce
from affrepro.tracking import MlflowTracker, check_finite

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from toy_plugin import SLUG, state_with_toy, write_card, write_predictions  # noqa: E402

CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {here!r})
    from pathlib import Path
    from toy_plugin import SLUG, state_with_toy
    from affrepro.runner import reproduce
    state = state_with_toy(Path({card!r}), {behaviour!r}, {started!r})
    reproduce(SLUG, data_dirs={{"toy-licensed": Path({data!r})}}, output_dir=Path({out!r}),
              tracking_uri={uri!r}, registries=state.registries)
""")


def runs(uri: str, experiment: str = SLUG):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    return client, (client.search_runs([exp.experiment_id]) if exp else [])


@pytest.fixture
def toy_files(tmp_path):
    card = write_card(tmp_path / "card", llm_claim=False)  # a run that can end FINISHED
    data = tmp_path / "data"
    write_predictions(data, correct=75)
    return card, data


def child(tmp_path, card, data, uri, behaviour="ok", name="run"):
    script = CHILD.format(here=str(HERE), card=str(card), behaviour=behaviour,
                          started=str(tmp_path / f"{name}.started"), data=str(data),
                          out=str(tmp_path / name), uri=uri)
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_check_finite_names_the_metric():
    assert check_finite({"a": 1, "b": 2.5}) == {"a": 1.0, "b": 2.5}
    for bad in (math.nan, math.inf, -math.inf, "x"):
        with pytest.raises(NonFiniteMetricError, match="'claim.acc'"):
            check_finite({"ok": 1.0, "claim.acc": bad})


def test_a_finished_run_holds_params_metrics_tags_and_the_report(toy_files, tmp_path, tracking_uri):
    card, data = toy_files
    state = state_with_toy(card)
    report = reproduce(SLUG, data_dirs={"toy-licensed": data}, output_dir=tmp_path / "o",
                       tracking_uri=tracking_uri, registries=state.registries)
    client = runs(tracking_uri)[0]
    run = client.get_run(report.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["claim.acc.measured"] == 0.75
    assert run.data.metrics["verdicts.reproduced"] == 1
    assert run.data.params["seeds"] == "7" and run.data.params["paper"] == SLUG
    tags = run.data.tags
    assert tags["paper"] == SLUG and tags["plugin"].startswith("toy@")
    assert tags["verdict.acc"] == "reproduced" and tags["cpu"] and "git_commit" in tags
    assert len(tags["protocol_hash"]) == 16
    assert {a.path for a in client.list_artifacts(report.run_id)} >= {"report.json", "report.md"}


def test_the_tracker_refuses_non_finite_metrics_before_writing(tmp_path):
    tracker = MlflowTracker(f"sqlite:///{tmp_path}/m.db", experiment="refuse")
    tracker.start("r", {})
    with pytest.raises(NonFiniteMetricError, match="'bad'"):
        tracker.log_metrics({"good": 1.0, "bad": math.nan})
    tracker.end("FINISHED")
    client = runs(tracker.uri, "refuse")[0]
    assert client.get_run(tracker.run_id).data.metrics == {}


def test_a_failing_protocol_ends_the_run_failed(toy_files, tmp_path, tracking_uri):
    card, data = toy_files
    report = reproduce(SLUG, data_dirs={"toy-licensed": data}, output_dir=tmp_path / "o",
                       tracking_uri=tracking_uri, registries=state_with_toy(card, "raise").registries)
    client = runs(tracking_uri)[0]
    assert client.get_run(report.run_id).info.status == "FAILED"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_ctrl_c_end_the_run_killed(toy_files, tmp_path, sig):
    card, data = toy_files
    uri = f"sqlite:///{tmp_path}/killed.db"
    proc = child(tmp_path, card, data, uri, behaviour="slow")
    started = tmp_path / "run.started"
    deadline = time.time() + 60
    while not started.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "the child never started its protocol"
        time.sleep(0.1)
    proc.send_signal(sig)
    proc.wait(30)
    assert proc.returncode != 0
    (run,) = runs(uri)[1]
    assert run.info.status == "KILLED"
    assert not (tmp_path / "run" / "report.json").exists()


def test_four_processes_log_to_one_sqlite_store_at_once(toy_files, tmp_path):
    card, data = toy_files
    uri = f"sqlite:///{tmp_path}/shared.db"  # a fresh store: creation races too
    procs = [child(tmp_path, card, data, uri, name=f"run{i}") for i in range(4)]
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
    found = runs(uri)[1]
    assert len(found) == 4
    for run in found:
        assert run.info.status == "FINISHED"
        assert run.data.metrics["claim.acc.measured"] == 0.75
        assert run.data.metrics["toy.n"] == 100
        assert run.data.tags["verdict.acc"] == "reproduced"


def test_tracked_run_is_the_one_lifecycle(tracking_uri):
    """reproduce, evaluate and bench all run inside tracked_run: FINISHED, FAILED after
    run.fail() or an exception, KILLED on Ctrl-C; without a tracker it logs nothing."""
    from mlflow.tracking import MlflowClient

    from affrepro.tracking import open_tracker, tracked_run

    def status(run_id):
        return MlflowClient(tracking_uri).get_run(run_id).info.status

    with tracked_run(open_tracker(tracking_uri, "lifecycle"), "ok", {"t": "1"}) as run:
        run.log_metrics({"m": 1.0})
    assert status(run.run_id) == "FINISHED"
    with tracked_run(open_tracker(tracking_uri, "lifecycle"), "handled", {}) as run:
        run.fail()
    assert status(run.run_id) == "FAILED"
    for exc, expected in ((ValueError("boom"), "FAILED"), (KeyboardInterrupt(), "KILLED")):
        with pytest.raises(type(exc)):
            with tracked_run(open_tracker(tracking_uri, "lifecycle"), "raises", {}) as run:
                raise exc
        assert status(run.run_id) == expected
    with tracked_run(open_tracker(tracking_uri, "lifecycle", track=False), "untracked") as run:
        run.log_metrics({"m": float("nan")})  # not even checked: nothing is logged
    assert run.run_id is None and run.uri is None
