"""The executor behind ``ctx.map`` on a real Dask LocalCluster of 2 worker processes:
the same results as in-process, a child MLflow run per unit logged by the driver, and the
faults of issue 23 (a worker killed mid-task, a unit that raises, the driver SIGTERMed and
resumed, an unreachable scheduler, Dask not installed)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="the cluster tests need affrepro[cluster] (Dask distributed)")

from affrepro.errors import DataError  # noqa: E402
from affrepro.executor import ClusterError, DataRef, check_spec  # noqa: E402
from affrepro.runner import reproduce  # noqa: E402

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import cluster_toy as toy  # noqa: E402

toy.by_value()


@pytest.fixture
def dask2(dask_local2):
    return dask_local2


def _runs(uri: str):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(toy.SLUG)
    return client, client.search_runs([exp.experiment_id], max_results=1000)


def _children(uri: str, parent: str):
    _, runs = _runs(uri)
    return [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent]


def _attempts(folder: Path) -> list[int]:
    log = folder / "marks" / "attempts.log"
    return [int(line.split()[0]) for line in log.read_text().splitlines()] if log.exists() else []


def test_a_cluster_run_gives_the_local_runs_results_and_a_child_run_per_unit(dask2, tmp_path):
    uri = f"sqlite:///{tmp_path}/m.db"
    local = reproduce(toy.SLUG, output_dir=tmp_path / "local", tracking_uri=uri,
                      registries=toy.state(tmp_path / "a").registries)
    remote = reproduce(toy.SLUG, output_dir=tmp_path / "remote", tracking_uri=uri,
                       registries=toy.state(tmp_path / "b").registries, cluster=dask2)
    assert local.status == remote.status == "FINISHED"
    assert [r.measured for r in local.results] == [r.measured for r in remote.results] == [toy.expected_sum()]
    workers = {u["worker"] for u in remote.details["units"].values()}
    assert len(workers) >= 1 and all(str(os.getpid()) not in w.split(":")[1] for w in workers)
    assert {u["worker"] for u in local.details["units"].values()} == {f"{os.uname().nodename}:{os.getpid()}"}
    for report in (local, remote):
        kids = _children(uri, report.run_id)
        assert sorted(k.data.tags["affrepro.unit"] for k in kids) == [f"u{i}" for i in range(toy.N_UNITS)]
        assert all(k.info.status == "FINISHED" for k in kids)
        got = {k.data.tags["affrepro.unit"]: k.data.metrics["square"] for k in kids}
        assert got == {f"u{i}": float((3 + i) ** 2) for i in range(toy.N_UNITS)}
    # nothing to resume once a run finished
    assert not list((Path(os.environ["AFFREPRO_HOME"]) / "units").glob("*/*.pkl"))


def test_a_worker_killed_mid_task_is_rerun_elsewhere_and_counted_once(dask2, tmp_path):
    uri = f"sqlite:///{tmp_path}/m.db"
    report = reproduce(toy.SLUG, output_dir=tmp_path / "o", tracking_uri=uri,
                       registries=toy.state(tmp_path, "kill-worker").registries, cluster=dask2)
    assert (tmp_path / "marks" / "killed").exists()  # the worker really died mid-task
    assert _attempts(tmp_path).count(2) == 2  # ... and unit 2 ran again
    assert report.status == "FINISHED" and report.results[0].measured == toy.expected_sum()
    kids = _children(uri, report.run_id)
    assert sorted(k.data.tags["affrepro.unit"] for k in kids) == [f"u{i}" for i in range(toy.N_UNITS)]


def test_a_unit_that_raises_is_an_error_with_its_traceback_and_the_run_fails_naming_it(dask2, tmp_path):
    uri = f"sqlite:///{tmp_path}/m.db"
    report = reproduce(toy.SLUG, output_dir=tmp_path / "o", tracking_uri=uri,
                       registries=toy.state(tmp_path, "raise").registries, cluster=dask2)
    assert report.status == "FAILED"
    assert sorted(_attempts(tmp_path)) == list(range(toy.N_UNITS))  # the others all ran
    assert "u5" in report.results[0].reason and report.results[0].verdict.value == "error"
    tb = report.details["failed_units"]["u5"]
    assert "ValueError: unit 5 cannot be computed" in tb and "cluster_toy.py" in tb
    assert report.details["units"]["seed3/squares/u5"]["status"] == "error"
    kids = {k.data.tags["affrepro.unit"]: k for k in _children(uri, report.run_id)}
    assert kids["u5"].info.status == "FAILED" and "cannot be computed" in kids["u5"].data.tags["affrepro.unit.traceback"]
    assert all(kids[f"u{i}"].info.status == "FINISHED" for i in range(toy.N_UNITS) if i != 5)
    client, _ = _runs(uri)
    assert client.get_run(report.run_id).info.status == "FAILED"
    written = json.loads((tmp_path / "o" / "report.json").read_text())
    assert written["status"] == "FAILED"


DRIVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {here!r})
    from pathlib import Path
    import cluster_toy as toy
    from affrepro.runner import reproduce
    if __name__ == "__main__":
        toy.by_value()
        reproduce(toy.SLUG, output_dir=Path({out!r}), tracking_uri={uri!r},
                  registries=toy.state(Path({folder!r}), "slow").registries, cluster="local:2")
""")


@pytest.mark.slow
def test_a_sigtermed_driver_ends_killed_writes_nothing_half_and_the_rerun_resumes(dask2, tmp_path):
    uri = f"sqlite:///{tmp_path}/m.db"
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(here=str(HERE), out=str(tmp_path / "o"), uri=uri, folder=str(tmp_path)))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    started = tmp_path / "marks" / "slow-started"
    deadline = time.time() + 120
    journal = Path(os.environ["AFFREPRO_HOME"]) / "units"
    while not (started.exists() and len(list(journal.glob("*/*.pkl"))) >= 4):
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "the driver never got to its slow units"
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0, err
    (run,) = _runs(uri)[1][:0] or [r for r in _runs(uri)[1] if "mlflow.parentRunId" not in r.data.tags]
    assert run.info.status == "KILLED"
    assert not (tmp_path / "o" / "report.json").exists()
    assert not [p for p in (tmp_path / "o").rglob("*") if p.name.startswith(".")] if (tmp_path / "o").exists() else True
    recorded = len(list(journal.glob("*/*.pkl")))
    assert recorded >= 4
    before = _attempts(tmp_path)
    # the re-run (same paper, protocol, data and code) takes the recorded units as they are
    report = reproduce(toy.SLUG, output_dir=tmp_path / "o", tracking_uri=uri,
                       registries=toy.state(tmp_path, "ok").registries, cluster=dask2)
    assert report.status == "FINISHED" and report.results[0].measured == toy.expected_sum()
    again = _attempts(tmp_path)[len(before):]
    resumed = [n for n, u in report.details["units"].items() if u["resumed"]]
    assert len(resumed) == recorded and len(again) == toy.N_UNITS - recorded
    assert not set(again) & {int(n.rsplit("/u", 1)[1]) for n in resumed}
    assert not list(journal.glob("*/*.pkl"))  # finished: the journal is gone


def test_an_unreachable_scheduler_fails_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setenv("AFFREPRO_CLUSTER_TIMEOUT", "2")
    uri = f"sqlite:///{tmp_path}/m.db"
    t0 = time.perf_counter()
    with pytest.raises(ClusterError, match=r"tcp://127\.0\.0\.1:9: .*unreachable"):
        reproduce(toy.SLUG, output_dir=tmp_path / "o", tracking_uri=uri,
                  registries=toy.state(tmp_path).registries, cluster="tcp://127.0.0.1:9")
    assert time.perf_counter() - t0 < 30
    assert _attempts(tmp_path) == [] and not (tmp_path / "o").exists()
    assert [r for r in _runs(uri)[1]] == []


@pytest.mark.parametrize("spec", ["local:0", "local:x", "127.0.0.1:8786", "http://h:1"])
def test_a_malformed_cluster_spec_is_refused_by_name(spec):
    with pytest.raises(ClusterError, match="expected local:N|positive number"):
        check_spec(spec)


def test_without_dask_the_cluster_option_says_how_to_install_it(tmp_path):
    code = ("import sys; sys.modules['distributed'] = None\n"
            "from affrepro.executor import start, ClusterError\n"
            "try:\n    start('local:2')\nexcept ClusterError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "pip install 'affrepro[cluster]'" in out.stdout, out.stderr


def _size_of(folder):
    return sum(1 for _ in folder.iterdir())


def test_data_reaches_a_worker_verified_by_checksum_there(dask2, tmp_path):
    from affrepro.fileio import sha256_file

    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "a.csv").write_text("x\n1\n")
    good = DataRef("toy", str(folder), "", {"a.csv": sha256_file(folder / "a.csv")})
    bad = DataRef("toy", str(folder), "", {"a.csv": "0" * 64})
    outs = {o.name: o for o in dask2.run(_size_of, [("good", (good,)), ("bad", (bad,))])}
    assert outs["good"].ok and outs["good"].value == 1 and outs["good"].worker.split(":")[1] != str(os.getpid())
    assert not outs["bad"].ok and "does not match" in outs["bad"].error and "a.csv" in outs["bad"].error
    with pytest.raises(DataError, match="does not match"):
        bad.resolve()


def _pid_log(path):
    with open(path, "a") as fh:
        fh.write(f"{os.getpid()}\n")


def _square(x):
    return x * x


def test_a_warm_up_runs_once_per_worker_not_once_per_task(dask2, tmp_path):
    log = tmp_path / "warm.log"
    dask2.warm(_pid_log, str(log))
    outs = list(dask2.run(_square, [(f"t{i}", (i,)) for i in range(12)], ordered=True))
    assert [o.value for o in outs] == [i * i for i in range(12)]
    pids = log.read_text().split()
    assert len(pids) == len(set(pids)) == dask2.workers == 2


def test_reproduce_all_runs_each_paper_as_a_unit_under_one_parent_run(dask2, tmp_path):
    import functools

    from affrepro.batch import reproduce_all

    uri = f"sqlite:///{tmp_path}/m.db"
    factory = functools.partial(toy.registries_of, str(tmp_path / "papers"))
    factory()  # writes the cards
    slugs = [toy.SLUG, toy.SLUG_B]
    local = reproduce_all(slugs, output_dir=tmp_path / "local", tracking_uri=uri, registries_factory=factory)
    remote = reproduce_all(slugs, cluster=dask2, output_dir=tmp_path / "remote", tracking_uri=uri,
                           registries_factory=factory)
    assert local["status"] == remote["status"] == "FINISHED"
    for slug, seed in ((toy.SLUG, 3), (toy.SLUG_B, 4)):
        a = json.loads((tmp_path / "local" / slug / "report.json").read_text())
        b = json.loads((tmp_path / "remote" / slug / "report.json").read_text())
        assert a["claims"][0]["measured"] == b["claims"][0]["measured"] == toy.expected_sum(seed)
        assert b["output_dir"] == str(tmp_path / "remote" / slug)
        assert remote["papers"][slug]["worker"].rsplit(":", 1)[1] != str(os.getpid())
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    for summary in (local, remote):
        parent = client.get_run(summary["run_id"])
        kids = client.search_runs([parent.info.experiment_id],
                                  filter_string=f"tags.mlflow.parentRunId = '{summary['run_id']}'")
        assert parent.info.status == "FINISHED"
        assert sorted(k.data.tags["paper"] for k in kids) == sorted(slugs)
        assert {k.data.tags["paper"]: k.data.metrics["claim.sum.measured"] for k in kids} == \
            {toy.SLUG: toy.expected_sum(3), toy.SLUG_B: toy.expected_sum(4)}
