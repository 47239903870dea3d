"""``affrepro bench run`` and ``affrepro bench compare``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.group("bench")
def bench() -> None:
    """Kernel benchmarks (benchmarks/, pytest-benchmark): run them, compare result files."""


@bench.command("run")
@click.option("--device", type=click.Choice(["cpu", "cuda", "all"]), default="cpu",
              show_default=True, help="Which suites: CPU ones, GPU ones (need CUDA), or both.")
@click.option("--kernels", default=None,
              help="Comma-separated kernels (default: every benchmarks/test_*_bench.py).")
@click.option("--suite-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The benchmarks/ folder (default: the checkout's, or ./benchmarks).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Result file or folder (default: <suite-dir>/results/<device>/).")
@click.option("-k", "keyword", default=None, help="Also pass -k EXPR to pytest.")
@click.option("--tracking-uri", default=None, help="MLflow store (default: the affrepro one).")
@click.option("--no-track", is_flag=True, help="Do not log the run to MLflow.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def bench_run(device, kernels, suite_dir, output, keyword, tracking_uri, no_track, as_json):
    """Run the benchmark suites and save pytest-benchmark JSON with the machine's identity
    (CPU model; GPU name, driver, CUDA; torch/triton/numba versions)."""
    from affrepro.plugins.bench import runner

    try:
        suite = runner.find_suite(suite_dir)
        files = runner.select_files(suite, kernels)
        out = runner.output_file(suite, output, device)
        result = runner.run(files, out, device, keyword, quiet=as_json)
    except runner.BenchError as exc:
        raise click.ClickException(str(exc)) from exc
    from affrepro.errors import AffreproError

    if not as_json:  # the results first: a slow or unreachable MLflow store comes after
        click.echo(runner.format_compare([runner.load(out)]))
        click.echo(f"saved {out}")
    run_id = tracking_error = None
    if not no_track:
        try:
            run_id = runner.track(result, out, device, kernels, tracking_uri)
        except AffreproError as exc:  # the result file is saved either way
            tracking_error = str(exc)
    if as_json:
        click.echo(json.dumps({"output": str(out), "mlflow_run_id": run_id,
                               "tracking_error": tracking_error,
                               "returncode": result["returncode"],
                               "failed_tests": result["failed"],
                               "benchmarks": runner.summary(result)}, indent=2))
    elif run_id:
        click.echo(f"MLflow run {run_id}")
    if result["failed"]:
        click.echo(f"{len(result['failed'])} benchmark test(s) failed (marked in {out}, "
                   "not compared): " + ", ".join(result["failed"]), err=True)
    if tracking_error:
        click.echo(f"not logged to MLflow: {tracking_error}", err=True)
    if result["returncode"] not in (0, 5) or result["failed"] or tracking_error:
        sys.exit(1)  # 5: pytest collected/selected nothing


@bench.command("compare")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def bench_compare(files, as_json):
    """Tables of times (kernel x device) and speedups against each peer, per file, and of
    each implementation across files (different devices are labelled, not called
    regressions)."""
    from affrepro.plugins.bench import runner

    try:
        loaded = [runner.load(f) for f in files]
    except runner.BenchError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(runner.compare_data(loaded), indent=2))
    else:
        click.echo(runner.format_compare(loaded))
