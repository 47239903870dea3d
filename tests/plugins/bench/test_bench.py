"""`affrepro bench run` / `bench compare` on a tiny stand-in suite (the real suites in
benchmarks/ take minutes and are not part of the test run)."""
import json

import pytest
from click.testing import CliRunner

FAKE_SUITE = '''
import time

def _work(n):
    s = 0
    for i in range(n):
        s += i
    return s

def test_cpu_ours(benchmark):
    benchmark.extra_info.update({"kernel": "toy", "workload": "a", "impl": "ours",
                                 "device": "cpu", "targets": {"peer": 2.0}})
    benchmark.pedantic(_work, args=(1000,), rounds=3, iterations=1)

def test_cpu_peer(benchmark):
    benchmark.extra_info.update({"kernel": "toy", "workload": "a", "impl": "peer",
                                 "device": "cpu"})
    benchmark.pedantic(_work, args=(20000,), rounds=3, iterations=1)

def test_gpu_ours(benchmark):
    import pytest
    pytest.skip("needs a CUDA GPU")
'''


def _cli():
    from affrepro.cli import cli
    from affrepro.plugins.bench import register_commands

    register_commands(cli)
    return cli


def _suite(tmp_path):
    suite = tmp_path / "benchmarks"
    suite.mkdir()
    (suite / "test_toy_bench.py").write_text(FAKE_SUITE)
    return suite


def test_bench_run_saves_machine_info_and_tracks(tmp_path, tracking_uri):
    suite = _suite(tmp_path)
    out = tmp_path / "res.json"
    res = CliRunner().invoke(_cli(), ["bench", "run", "--suite-dir", str(suite), "--kernels", "toy",
                                      "-o", str(out), "--tracking-uri", tracking_uri, "--json"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert {b["name"] for b in summary["benchmarks"]} == {"test_cpu_ours", "test_cpu_peer"}
    data = json.loads(out.read_text())
    assert not [p.name for p in tmp_path.iterdir() if ".partial" in p.name]  # published whole
    ident = data["machine_info"]["affrepro"]
    assert ident["cpu"] and ident["device_label"].startswith("cpu-")
    assert "numpy" in ident["packages"]
    from mlflow.tracking import MlflowClient

    run = MlflowClient(tracking_uri).get_run(summary["mlflow_run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.tags["cpu"] == ident["cpu"]
    assert run.data.metrics["speedup.toy.a.cpu.vs_peer"] > 1.0


def test_bench_run_unknown_kernel(tmp_path):
    suite = _suite(tmp_path)
    res = CliRunner().invoke(_cli(), ["bench", "run", "--suite-dir", str(suite), "--kernels",
                                      "nope", "--no-track"])
    assert res.exit_code != 0 and "no benchmark suite for nope" in res.output


def _result(path, label, cpu, gpu, times):
    benches = []
    for (impl, device), t in times.items():
        benches.append({"name": f"test_{device}_{impl}", "stats": {"min": t, "median": t},
                        "extra_info": {"kernel": "logmel", "workload": "a", "impl": impl,
                                       "device": device}})
    path.write_text(json.dumps({"machine_info": {"affrepro": {"cpu": cpu, "gpu": gpu,
                                                              "device_label": label}},
                                "benchmarks": benches}))
    return path


def test_bench_compare_tables_and_cross_device_labels(tmp_path):
    a = _result(tmp_path / "cpu1.json", "cpu-epyc", "AMD EPYC", None,
                {("ours", "cpu"): 0.1, ("librosa", "cpu"): 0.5, ("torch", "cpu"): 0.3})
    b = _result(tmp_path / "cpu2.json", "cpu-epyc", "AMD EPYC", None,
                {("ours", "cpu"): 0.2, ("librosa", "cpu"): 0.5})
    c = _result(tmp_path / "gpu.json", "cuda-h100", "Intel Xeon", "NVIDIA H100",
                {("ours", "cuda"): 0.002, ("torch eager", "cuda"): 0.004,
                 ("ours", "cpu"): 0.4})
    d = _result(tmp_path / "gpu2.json", "cuda-h200", "Intel Xeon", "NVIDIA H200",
                {("ours", "cuda"): 0.006})
    # a wide terminal: each row on one line (80 columns: test_bench_compare_fits_80_columns)
    res = CliRunner().invoke(_cli(), ["bench", "compare", str(a), str(b), str(c), str(d)],
                             catch_exceptions=False, env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    text = res.output
    assert "Times (min, ms)" in text and "[2] cuda" in text
    assert "5.00x" in text and "3.00x" in text and "2.00x" in text  # same-run speedups
    assert "slower (possible regression)" in text  # same CPU, ours got 2x slower
    # another GPU (or CPU model) is labelled, never called a regression; a CUDA row is
    # never set against a CPU one, nor a file against itself
    across = text.split("Across files")[1].splitlines()
    gpu_line = [ln for ln in across if "cuda:NVIDIA H100 vs cuda:NVIDIA H200" in ln]
    assert len(gpu_line) == 1 and "0.33x" in gpu_line[0] and "regression" not in gpu_line[0]
    cpu_other = [ln for ln in across if "cpu:AMD EPYC vs cpu:Intel Xeon" in ln]
    assert len(cpu_other) == 1 and "0.25x" in cpu_other[0]
    assert not [ln for ln in across if "cpu:" in ln and "cuda:" in ln]
    rows = [ln.split() for ln in across if ln.startswith("logmel")]
    assert len(rows) == 4 and all(r[3] != r[4] for r in rows)  # base file != file
    data = json.loads(CliRunner().invoke(_cli(), ["bench", "compare", str(a), str(c),
                                                  "--json"]).output)
    assert {s["peer"] for s in data["speedups"]} == {"librosa", "torch", "torch eager"}


def test_bench_compare_rejects_other_json(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{}")
    res = CliRunner().invoke(_cli(), ["bench", "compare", str(p)])
    assert res.exit_code != 0 and "not pytest-benchmark JSON" in res.output


@pytest.mark.parametrize("content", [
    '["benchmarks"]', "42", '{"benchmarks": null}',
    '{"benchmarks": [{"name": "x", "stats": null}]}', '{"benchmarks": ["x"]}',
    '{"benchmarks": [{"name": "x", "stats": {"min": "fast"}}]}'])
def test_bench_compare_names_the_file_for_json_of_the_wrong_shape(tmp_path, content):
    p = tmp_path / "odd.json"
    p.write_text(content)
    res = CliRunner().invoke(_cli(), ["bench", "compare", str(p)])
    assert res.exit_code != 0 and res.exception is None or isinstance(res.exception,
                                                                     SystemExit)
    assert "odd.json" in res.output and "not pytest-benchmark JSON" in res.output \
        or "not a number of seconds" in res.output


@pytest.mark.parametrize("content", [
    '{"machine_info": {"cpu": "str"}, "benchmarks": []}',
    '{"benchmarks": [{"name": "x", "stats": {"min": 1}, "extra_info": []}]}',
    '{"benchmarks": [{"name": "x", "stats": {"min": 1}, '
    '"extra_info": {"interleaved_speedups": 3}}]}'])
def test_bench_compare_odd_machine_info_and_extra_info(tmp_path, content):
    p = tmp_path / "odd.json"
    p.write_text(content)
    res = CliRunner().invoke(_cli(), ["bench", "compare", str(p)])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code == 0 or "odd.json" in res.output


def _with_cores(path, cores):
    data = json.loads(path.read_text())
    if cores is None:
        data["machine_info"]["affrepro"].pop("cpu_affinity", None)
    else:
        data["machine_info"]["affrepro"]["cpu_affinity"] = cores
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("cores_a,cores_b,same", [(2, 2, True), (2, None, True),
                                                  (None, None, True), (2, 64, False)])
def test_bench_compare_tells_core_counts_apart(tmp_path, cores_a, cores_b, same):
    a = _with_cores(_result(tmp_path / "a.json", "cpu-epyc", "AMD EPYC", None,
                            {("ours", "cpu"): 0.1}), cores_a)
    b = _with_cores(_result(tmp_path / "b.json", "cpu-epyc", "AMD EPYC", None,
                            {("ours", "cpu"): 0.2}), cores_b)
    res = CliRunner().invoke(_cli(), ["bench", "compare", str(a), str(b)],
                             catch_exceptions=False, env={"COLUMNS": "200"})
    line = next(ln for ln in res.output.split("Across files")[1].splitlines()
                if ln.startswith("logmel"))
    assert ("slower (possible regression)" in line) is same
    assert ("cross-device (cpu:AMD EPYC x2 vs cpu:AMD EPYC x64)" in line) is not same


def test_bench_compare_survives_a_zero_time(tmp_path):
    a = _result(tmp_path / "z.json", "cpu-epyc", "AMD EPYC", None,
                {("ours", "cpu"): 0.0, ("librosa", "cpu"): 0.5})
    b = _result(tmp_path / "z2.json", "cpu-epyc", "AMD EPYC", None,
                {("ours", "cpu"): 0.0, ("librosa", "cpu"): 0.5})
    res = CliRunner().invoke(_cli(), ["bench", "compare", str(a), str(b)],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output


def test_bench_run_k_that_selects_nothing_says_so(tmp_path):
    suite = _suite(tmp_path)
    res = CliRunner().invoke(_cli(), ["bench", "run", "--suite-dir", str(suite), "--kernels",
                                      "toy", "-k", "no_such_test", "--no-track",
                                      "-o", str(tmp_path / "r.json")])
    assert res.exit_code != 0 and "no benchmark matched" in res.output
    assert "no_such_test" in res.output and not (tmp_path / "r.json").exists()


def test_bench_compare_interleaved_speedups_with_targets(tmp_path):
    p = tmp_path / "psy.json"
    p.write_text(json.dumps({"machine_info": {"affrepro": {"cpu": "AMD EPYC", "gpu": None,
                                                           "device_label": "cpu-epyc"}},
                             "benchmarks": [{"name": "test_cpu_tv", "stats": {"min": 0.8},
                                             "extra_info": {
                                                 "kernel": "zwicker_time_varying",
                                                 "workload": "30 s", "impl": "ours",
                                                 "device": "cpu",
                                                 "interleaved_speedups": {"mosqito": 190.0},
                                                 "targets": {"mosqito": 20.0}}}]}))
    res = CliRunner().invoke(_cli(), ["bench", "compare", str(p)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.output.splitlines() if "zwicker_time_varying" in ln
                and "mosqito" in ln)
    assert "190.00x" in line and ">= 20.0x" in line


FAILING_SUITE = '''
def test_cpu_ours(benchmark):
    benchmark.extra_info.update({"kernel": "bad", "workload": "a", "impl": "ours",
                                 "device": "cpu", "interleaved_speedups": {"peer": 3.0}})
    benchmark.pedantic(sum, args=(range(10),), rounds=2, iterations=1)
    assert False, "accuracy check after the timing"

def test_cpu_peer(benchmark):
    benchmark.extra_info.update({"kernel": "bad", "workload": "a", "impl": "peer",
                                 "device": "cpu"})
    benchmark.pedantic(sum, args=(range(100000),), rounds=2, iterations=1)

def test_cpu_fine(benchmark):
    benchmark.extra_info.update({"kernel": "fine", "workload": "a", "impl": "ours",
                                 "device": "cpu", "interleaved_speedups": {"vs_peer": 2.5}})
    benchmark.pedantic(sum, args=(range(10),), rounds=2, iterations=1)
'''


def test_bench_run_marks_failed_tests_and_ends_the_mlflow_run_failed(tmp_path, tracking_uri):
    """A benchmark is timed before its test's own checks: a failed test's timing must not
    be published as a result (no speedup, no metric) and the run ends FAILED."""
    suite = tmp_path / "benchmarks"
    suite.mkdir()
    (suite / "test_bad_bench.py").write_text(FAILING_SUITE)
    out = tmp_path / "bad.json"
    res = CliRunner().invoke(
        _cli(), ["bench", "run", "--suite-dir", str(suite), "--kernels", "bad", "-o", str(out),
                 "--tracking-uri", tracking_uri, "--json"], catch_exceptions=False)
    assert res.exit_code == 1
    summary = json.loads(res.stdout)
    failed = [n for n in summary["failed_tests"]]
    assert len(failed) == 1 and failed[0].endswith("test_bad_bench.py::test_cpu_ours")
    assert "1 benchmark test(s) failed" in res.stderr
    data = json.loads(out.read_text())
    marks = {b["name"]: b.get("failed", False) for b in data["benchmarks"]}
    assert marks == {"test_cpu_ours": True, "test_cpu_peer": False, "test_cpu_fine": False}
    assert data["affrepro_run"]["pytest_exit_status"] == 1
    # the commit is that of the affrepro checkout, not of the folder pytest ran in
    from affrepro.runner import git_commit

    assert data["commit_info"]["id"] == git_commit().removesuffix("-dirty")
    from mlflow.tracking import MlflowClient

    run = MlflowClient(tracking_uri).get_run(summary["mlflow_run_id"])
    assert run.info.status == "FAILED"
    assert run.data.tags["failed_tests"] == "1"
    metrics = run.data.metrics
    assert "test_cpu_ours.min_s" not in metrics and "test_cpu_peer.min_s" in metrics
    assert not [k for k in metrics if k.startswith("speedup.bad")]
    assert metrics == {**metrics, "interleaved_speedup.fine.a.cpu.vs_peer": 2.5}
    assert not [k for k in metrics if k.startswith("interleaved_speedup.bad")]
    text = CliRunner().invoke(_cli(), ["bench", "compare", str(out)]).output
    assert "FAILED in this run (1)" in text
    line = next(ln for ln in text.splitlines() if ln.startswith("bad") and "ours" in ln)
    assert line.rstrip().endswith("FAILED")
    assert "Speedup of ours against each peer" not in text


def test_bench_run_cuda_without_a_gpu_says_so(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    suite = _suite(tmp_path)
    res = CliRunner().invoke(_cli(), ["bench", "run", "--suite-dir", str(suite), "--kernels",
                                      "toy", "--device", "cuda", "--no-track",
                                      "-o", str(tmp_path / "r.json")])
    assert res.exit_code != 0 and "torch sees no CUDA GPU" in res.output
    assert not (tmp_path / "r.json").exists()


def test_bench_compare_without_machine_info_is_not_a_regression(tmp_path):
    a = _result(tmp_path / "a.json", "x", "AMD EPYC", None, {("ours", "cpu"): 0.1})
    b = _result(tmp_path / "b.json", "x", "AMD EPYC", None, {("ours", "cpu"): 0.2})
    for p in (a, b):
        data = json.loads(p.read_text())
        del data["machine_info"]
        p.write_text(json.dumps(data))
    text = CliRunner().invoke(_cli(), ["bench", "compare", str(a), str(b)],
                              catch_exceptions=False).output
    line = next(ln for ln in text.split("Across files")[1].splitlines()
                if ln.startswith("logmel"))
    assert "unknown machine" in line and "regression" not in line


@pytest.mark.parametrize("peer_b,verdict", [
    (1.0, "slower (possible regression)"),           # the peer held still: ours changed
    (1.05, "slower (possible regression)"),          # within the noise band: as measured
    (2.0, "same relative to the peers (1.00x; they moved: librosa 0.50x)"),  # machine load
    (1.12, "slower (possible regression) relative to the peers (0.56x; they moved: "
           "librosa 0.89x)"),
    (0.5, "slower (possible regression) relative to the peers (0.25x; they moved: "
          "librosa 2.00x)")])
def test_bench_compare_judges_a_change_against_peers_that_moved(tmp_path, peer_b, verdict):
    a = _result(tmp_path / "a.json", "cpu-epyc", "AMD EPYC", None,
                {("ours", "cpu"): 0.1, ("librosa", "cpu"): 1.0})
    b = _result(tmp_path / "b.json", "cpu-epyc", "AMD EPYC", None,
                {("ours", "cpu"): 0.2, ("librosa", "cpu"): peer_b})
    d = json.loads(CliRunner().invoke(_cli(), ["bench", "compare", str(a), str(b),
                                               "--json"]).output)
    ours = next(x for x in d["across_files"] if x["impl"] == "ours")
    assert ours["verdict"] == verdict
    assert ours["others_vs_base"] == {"librosa": pytest.approx(1.0 / peer_b)}


@pytest.mark.parametrize("extra,message", [
    ({"kernel": "k", "interleaved_speedups": {"librosa": "fast"}},
     "extra_info.interleaved_speedups['librosa'] is 'fast', not a number"),
    ({"kernel": "k", "targets": {"librosa": True}}, "extra_info.targets['librosa'] is True"),
    ({"kernel": ["k"]}, "extra_info.kernel is ['k'], not a name")])
def test_bench_compare_names_malformed_extra_info(tmp_path, extra, message):
    p = tmp_path / "odd.json"
    p.write_text(json.dumps({"benchmarks": [{"name": "x", "stats": {"min": 1.0},
                                             "extra_info": extra}]}))
    res = CliRunner().invoke(_cli(), ["bench", "compare", str(p)])
    assert res.exit_code != 0 and "odd.json" in res.output and message in res.output


def test_bench_compare_null_names_fall_back(tmp_path):
    p = tmp_path / "nulls.json"
    p.write_text(json.dumps({"benchmarks": [
        {"name": "a", "group": "grp", "stats": {"min": 1.0},
         "extra_info": {"kernel": None, "impl": None}},
        {"name": "b", "stats": {"min": 2.0}, "extra_info": {"kernel": "k", "impl": "ours"}}]}))
    res = CliRunner().invoke(_cli(), ["bench", "compare", str(p)], catch_exceptions=False)
    assert res.exit_code == 0 and "grp" in res.output


def test_bench_compare_fits_80_columns_and_says_whether_each_target_is_met():
    """The committed CPU results held 183-character lines (284 with longer names); at 80
    columns every line fits, every ratio is whole, and a ratio with a target says met or
    not met."""
    from pathlib import Path

    from affrepro.plugins.bench import runner

    results = Path(__file__).parents[3] / "benchmarks" / "results" / "cpu-amd-epyc"
    files = sorted(results.glob("*.json"))[-3:]
    loaded = [runner.load(f) for f in files]
    d = runner.compare_data(loaded)
    text = CliRunner().invoke(_cli(), ["bench", "compare", *map(str, files)], catch_exceptions=False,
                              env={"COLUMNS": "80"}).output
    assert max(len(line) for line in text.splitlines()) <= 80
    words = text.split()
    judged = [(v, x["targets"].get(k.removeprefix("vs_"))) for x in d["interleaved"]
              for k, v in x["speedups"].items()] + [(s["speedup"], s["target"]) for s in d["speedups"]]
    assert any(t is not None for _, t in judged)
    for v, target in judged:
        assert f"{v:.2f}x" in words
    met = sum(1 for v, t in judged if t is not None and v >= t)
    not_met = sum(1 for v, t in judged if t is not None and v < t)
    assert text.count("x: met") == met and text.count("x: not met") == not_met
