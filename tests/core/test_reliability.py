"""Issue 21, "nothing lost, nothing silent": the store appears whole or not at all and a
damaged one is repairable, SIGKILLed runs are swept to KILLED, scratch is swept,
non-finite numbers stay visible, and bad input is refused by name."""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import wave
from pathlib import Path

import pytest

from affrepro.errors import AffreproError

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from toy_plugin import SLUG, state_with_toy, write_card, write_predictions  # noqa: E402


def _wait_for(predicate, proc, what: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert proc.poll() is None, (what, proc.communicate())
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


# -- 1. store safety ---------------------------------------------------------------------

@pytest.mark.slow  # a real MLflow store built in a subprocess: ~25-35 s on a loaded 2-core machine
def test_a_sigkill_while_mlflow_builds_the_store_leaves_no_store_and_the_next_open_works(tmp_path):
    from affrepro.tracking import MlflowTracker

    db = tmp_path / "home" / "mlflow.db"
    child = subprocess.Popen([sys.executable, "-c",
                              f"from pathlib import Path; from affrepro.store import ensure; ensure(Path({str(db)!r}))"],
                             stderr=subprocess.PIPE, text=True)
    building = lambda: any(db.parent.glob(".mlflow.db.building-*")) if db.parent.is_dir() else False  # noqa: E731
    _wait_for(building, child, "the store build to start")
    time.sleep(0.3)  # well inside MLflow's migrations
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    assert child.returncode == -signal.SIGKILL
    assert not db.exists(), "a half-built store reached its final path"
    tracker = MlflowTracker("sqlite:///" + str(db), experiment="after-kill")
    assert tracker.preflight()
    assert not list(db.parent.glob(".mlflow.db.building-*")), "the killed build was not swept"


@pytest.mark.slow  # builds, damages and repairs a real MLflow store: ~25 s on a loaded 2-core machine
def test_a_damaged_store_is_named_and_repair_keeps_its_runs(tmp_path, cli_runner, monkeypatch):
    from affrepro.store import StoreDamagedError
    from affrepro.tracking import MlflowTracker

    db = tmp_path / "mlflow.db"
    uri = "sqlite:///" + str(db)
    tracker = MlflowTracker(uri, experiment="kept")
    tracker.preflight()
    run_id = tracker.start("to keep", {"k": "v"})
    tracker.log_metrics({"m": 1.5})
    tracker.end("FINISHED")
    with sqlite3.connect(db) as con:  # what an interrupted MLflow migration leaves behind
        con.execute("CREATE TABLE _alembic_tmp_experiments (experiment_id INTEGER)")

    with pytest.raises(StoreDamagedError) as err:
        MlflowTracker(uri, experiment="kept").preflight()
    assert str(db) in str(err.value) and "affrepro store repair" in str(err.value)

    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    assert cli_runner("store", "check").exit_code == 1
    res = cli_runner("store", "repair")
    assert res.exit_code == 0, res.output
    assert "1 run(s) kept" in res.output
    assert list(tmp_path.glob("mlflow.db.damaged-*")), "the damaged file was not kept"
    assert cli_runner("store", "check").exit_code == 0

    again = MlflowTracker(uri, experiment="kept")
    again.preflight()
    run = again.client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.metrics["m"] == 1.5 and run.data.tags["k"] == "v"


# -- 2. stale runs, 4. scratch -------------------------------------------------------------

CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {here!r})
    from pathlib import Path
    from toy_plugin import SLUG, state_with_toy
    from affrepro.runner import reproduce
    state = state_with_toy(Path({card!r}), "slow", {started!r})
    reproduce(SLUG, data_dirs={{"toy-licensed": Path({data!r})}}, output_dir=Path({out!r}),
              tracking_uri={uri!r}, registries=state.registries)
""")


@pytest.mark.slow  # a real MLflow store built in a subprocess: ~25-35 s on a loaded 2-core machine
def test_a_sigkilled_run_is_swept_to_killed_and_its_scratch_removed(tmp_path, tracking_uri):
    from affrepro.scratch import scratch_root, sweep_scratch
    from affrepro.tracking import OWNER_PID, SWEPT_TAG, MlflowTracker

    card = write_card(tmp_path / "card")
    write_predictions(tmp_path / "data", correct=75)
    started = tmp_path / "started"
    script = CHILD.format(here=str(HERE), card=str(card), started=str(started),
                          data=str(tmp_path / "data"), out=str(tmp_path / "out"), uri=tracking_uri)
    child = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    _wait_for(started.exists, child, "the protocol to start")
    child.send_signal(signal.SIGKILL)
    child.wait(30)  # reaped: the pid is gone, as after any killed command

    assert list(scratch_root().iterdir()), "the killed run should have left its scratch folder"
    tracker = MlflowTracker(tracking_uri, experiment=SLUG)
    tracker.preflight()  # what every later tracked command does first
    runs = [r for r in tracker.client.search_runs([tracker.experiment_id])
            if r.data.tags.get(OWNER_PID) == str(child.pid)]
    assert len(runs) == 1
    run = runs[0]
    assert run.info.run_id in tracker.swept
    assert run.info.status == "KILLED" and run.info.end_time is not None
    assert f"pid {child.pid}" in run.data.tags[SWEPT_TAG]
    assert sweep_scratch() and not list(scratch_root().iterdir())
    assert not (tmp_path / "out" / "report.json").exists()


def test_a_live_owner_is_not_swept(tracking_uri):
    from affrepro.tracking import MlflowTracker

    tracker = MlflowTracker(tracking_uri, experiment="live-owner")
    tracker.preflight()
    run_id = tracker.start("mine", {})
    other = MlflowTracker(tracking_uri, experiment="live-owner")
    other.preflight()
    assert run_id not in other.swept
    assert other.client.get_run(run_id).info.status == "RUNNING"
    tracker.end("FINISHED")


# -- 5. numbers that vanish ------------------------------------------------------------------

def test_non_finite_records_stay_in_the_report_with_a_warning_and_an_mlflow_tag(tmp_path, tracking_uri):
    from affrepro.runner import reproduce

    card = write_card(tmp_path / "card")
    write_predictions(tmp_path / "data", correct=75)
    state = state_with_toy(card, "nan-records")
    with pytest.warns(RuntimeWarning, match="toy.undefined is nan"):
        report = reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "data"}, output_dir=tmp_path / "out",
                           tracking_uri=tracking_uri, registries=state.registries)
    d = json.loads((tmp_path / "out" / "report.json").read_text())
    assert d["records"]["toy.undefined"] == "nan" and d["records"]["toy.overflow"] == "inf"
    assert any("toy.overflow is inf" in w for w in d["warnings"])
    md = (tmp_path / "out" / "report.md").read_text()
    table = md.split("### toy · totals", 1)[1]  # the results as a pivot table (affrepro.result_tables)
    assert "| undefined | nan |" in table and "| overflow | inf |" in table
    from mlflow.tracking import MlflowClient

    tags = MlflowClient(tracking_uri).get_run(report.run_id).data.tags
    assert tags["nonfinite.toy.undefined"] == "nan" and "toy.overflow=inf" in tags["affrepro.non_finite"]


def test_an_error_verdict_fails_the_run(tmp_path, tracking_uri):
    from mlflow.tracking import MlflowClient

    from affrepro.runner import reproduce

    card = write_card(tmp_path / "card")
    write_predictions(tmp_path / "data", correct=75)
    with pytest.warns(RuntimeWarning, match="claim.acc.measured is nan"):
        report = reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "data"}, output_dir=tmp_path / "out",
                           tracking_uri=tracking_uri, registries=state_with_toy(card, "nan").registries)
    assert report.results[0].verdict.value == "error"
    assert report.status == "FAILED"
    assert MlflowClient(tracking_uri).get_run(report.run_id).info.status == "FAILED"
    assert json.loads((tmp_path / "out" / "report.json").read_text())["claims"][0]["measured"] == "nan"


# -- 6-8. inputs and names ---------------------------------------------------------------------

def test_a_blank_line_inside_predictions_is_an_error_naming_it(tmp_path):
    from affrepro.errors import MalformedFileError
    from affrepro.plugins.evaluate.common import read_columns

    f = tmp_path / "Subject_1_Story_1.csv"
    f.write_text("valence\n0.1\n0.2\n\n0.3\n")
    with pytest.raises(MalformedFileError, match=r"line 4: blank line"):
        read_columns(f, ["valence"])
    f.write_text("valence\n0.1\n0.2\n\n\n")  # trailing blank lines end the data
    assert read_columns(f, ["valence"])[:, 0].tolist() == [0.1, 0.2]


@pytest.mark.parametrize("seeds, said", [("-1", "seed -1"), ("1,,2", "no empty items"),
                                         ("a,1", "'a'"), ("4294967296", "seed 4294967296")])
def test_bad_seeds_are_refused_cleanly(cli_runner, seeds, said):
    res = cli_runner("reproduce", "natural-hazards-2020", "--dry-run", "--no-track", "--seeds", seeds)
    assert res.exit_code == 2 and "--seeds" in res.output and said in res.output, res.output
    assert "Traceback" not in res.output


def test_a_zero_frame_wav_extracts_with_a_warning(tmp_path, registries):
    from affrepro.plugins.features.extract import compute_file

    wav = tmp_path / "empty.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
    name = "logmel" if "logmel" in registries.features else registries.features.names()[0]
    with pytest.warns(UserWarning, match="empty.wav: the audio has 0 frames"):
        try:
            compute_file(name, registries.features.get(name), wav, {}, True, "float64", "auto")
        except ValueError:
            pass  # a feature may refuse empty audio by name; the warning came first


def test_a_nul_byte_in_a_tweet_warns_naming_the_row(tmp_path):
    from affrepro.reproductions.natural_hazards_2020.loaders import read_event_file

    f = tmp_path / "2012Sandy_Summary.csv"
    f.write_bytes(b"num,text,timestamp,label\r\n1,ok tweet,1/25/16 15:27,1\r\n"
                  b"2,bad\x00tweet,1/25/16 15:28,0\r\n")
    with pytest.warns(UserWarning, match=r"line 3, column text: .*NUL"):
        rows, _, _ = read_event_file(f)
    assert len(rows) == 2


@pytest.mark.parametrize("name", ["../../x", "a/b", "/abs", "..", ""])
def test_dataset_names_that_escape_are_refused(name):
    from affrepro.components import Dataset

    with pytest.raises(ValueError, match="dataset name"):
        Dataset(name=name, description="", access="public", licence="", homepage="")


@pytest.mark.parametrize("name", ["../escaped.txt", "/etc/passwd", "a/../../b", "a\\b"])
def test_data_file_names_that_escape_are_refused(name):
    from affrepro.components import DataFile

    with pytest.raises(ValueError, match="data file name"):
        DataFile(name, "0" * 64)


@pytest.mark.parametrize("url, local, ok", [
    ("https://example.org/a.csv", False, True), ("http://example.org/a.csv", False, False),
    ("file:///tmp/a.csv", False, False), ("file:///tmp/a.csv", True, True),
    ("ftp://example.org/a.csv", False, False)])
def test_fetch_accepts_https_and_declared_local_sources_only(url, local, ok):
    from affrepro.components import DataFile, Dataset
    from affrepro.data import check_url
    from affrepro.errors import DownloadError

    f = DataFile("a.csv", "0" * 64, url, local_source=local)
    ds = Dataset(name="d", description="", access="public", licence="", homepage="", files=(f,))
    if ok:
        check_url(ds, f)
    else:
        with pytest.raises(DownloadError, match="refusing to fetch"):
            check_url(ds, f)


@pytest.mark.parametrize("args", [("--index-url", "https://evil.example/simple"), ("-e", "x")])
def test_plugins_install_refuses_a_spec_that_is_an_option(cli_runner, args):
    res = cli_runner("plugins", "install", *args)
    assert res.exit_code == 2 and "starts with '-'" in res.output, res.output


def test_plugins_install_passes_the_spec_after_a_separator_and_names_the_index(cli_runner, tmp_path):
    res = cli_runner("plugins", "install", str(tmp_path / "no-such-plugin"), "--no-deps",
                     "--index-url", "https://pypi.example/simple", "--no-index")
    assert "from https://pypi.example/simple" in res.output
    assert res.exit_code == 1 and "-- " + str(tmp_path / "no-such-plugin") in res.output


def test_check_seeds_from_python():
    from affrepro.runner import check_seeds

    assert check_seeds([0, 2**32 - 1]) == (0, 2**32 - 1)
    for bad in ([-1], [1.5], [True], [2**32]):
        with pytest.raises(AffreproError):
            check_seeds(bad)


def test_atomic_savefig_writes_a_whole_image_or_leaves_the_old_one(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from affrepro.fileio import atomic_savefig

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    png = atomic_savefig(fig, tmp_path / "plot.png", dpi=50)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82")
    with pytest.raises(ValueError):  # matplotlib refuses the format after starting to render
        atomic_savefig(fig, tmp_path / "plot.png", format="no-such-format")
    plt.close(fig)
    assert png.read_bytes() == data and [p.name for p in tmp_path.iterdir()] == ["plot.png"]


PLOTTER = textwrap.dedent("""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pathlib import Path
    from affrepro.fileio import atomic_savefig
    out = Path({out!r})
    fig, ax = plt.subplots()
    ax.plot(range(2000), [i % 7 for i in range(2000)])
    for i in range(100000):
        atomic_savefig(fig, out / f"plot{{i % 3}}.png", dpi=60)
""")


def test_a_sigkill_while_plotting_leaves_only_whole_images(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", PLOTTER.format(out=str(tmp_path))],
                             stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: (tmp_path / "plot2.png").exists(), child, "the plots")
    time.sleep(0.4)  # several more rounds of writing
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    finals = sorted(tmp_path.glob("plot*.png"))
    assert [p.name for p in finals] == ["plot0.png", "plot1.png", "plot2.png"]
    for png in finals:
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82"), f"{png} is partial"
