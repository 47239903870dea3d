"""``affrepro evaluate``: score a user's prediction files with a challenge's official rules.

This plugin adds the ``evaluate`` command. The rules belong to the papers: a paper that can
score predictions says so on its card (``[protocol.evaluation]``, read into
``Reproduction.evaluation``), and its package registers the corpus they are scored against;
the module is imported only when used, so loading plugins stays cheap (no NumPy).

    affrepro evaluate PAPER --predictions DIR [--data-dir DIR] [--length-policy error|crop-pad]
                      [--json] [-o DIR] [--tracking-uri URI | --no-track]
    affrepro evaluate PAPER --dry-run      # synthetic corpus + predictions, real layout

From Python: ``from affrepro.plugins.evaluate import evaluate``.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from affrepro import hookimpl
from affrepro.params import SEED

if TYPE_CHECKING:
    from affrepro.plugins.evaluate.common import Evaluation


@hookimpl
def register_commands(cli):
    cli.add_command(evaluate_command)


def evaluate(paper: str, predictions: Path | str | None, *, data_dir: Path | str | None = None,
             length_policy: str | None = None, output_dir: Path | str | None = None,
             tracking_uri: str | None = None, track: bool = True, dry_run: bool = False,
             seed: int = 0) -> Evaluation:
    """Score ``predictions`` for ``paper`` with its challenge's official rules.

    ``dry_run=True`` runs the whole protocol on a synthetic corpus in the real layout and
    synthetic predictions (``predictions`` and ``data_dir`` are then ignored).

    Writes ``evaluation.json`` and ``evaluation.md`` to ``output_dir`` (default: under the
    affrepro home) and, unless ``track=False``, logs an MLflow run (params: the policies;
    metrics: the aggregate numbers; artifacts: the two files) ending FINISHED or FAILED.
    """
    from affrepro import data as data_mod
    from affrepro import paths
    from affrepro.errors import UnknownNameError
    from affrepro.plugin_manager import get_registries

    registries = get_registries()
    scorable = {r.slug: r.evaluation for r in registries.reproductions if r.evaluation is not None}
    if paper not in scorable:
        raise UnknownNameError("evaluation protocol", paper, scorable)
    rules = importlib.import_module(scorable[paper].module)
    dataset_name, default_policy = rules.DATASET, scorable[paper].length_policy
    dataset = registries.datasets.get(dataset_name)
    import contextlib

    from affrepro.scratch import scratch_dir

    cleanup = contextlib.ExitStack()
    if dry_run:
        scratch = cleanup.enter_context(scratch_dir(f"{paper}-dry"))
        dataset.synthesize(scratch / "annotations", seed)
        rules.synthesize_predictions(scratch / "annotations", scratch / "predictions", seed)
        data_dir, predictions = scratch / "annotations", scratch / "predictions"
    if predictions is None:
        raise ValueError("predictions is required unless dry_run=True")
    root = data_mod.dataset_path(dataset, data_dir)
    if not Path(root).is_dir():
        from affrepro.errors import MissingDataError

        raise MissingDataError(f"dataset {dataset_name!r} not found at {root}: "
                               f"{dataset.how_to_get} (or pass --data-dir)")
    policy = length_policy or default_policy
    out = Path(output_dir) if output_dir else paths.new_run_dir(paper, "evaluate")

    from affrepro.tracking import open_tracker, tracked_run

    from affrepro.tracking import experiment_name

    tracker = open_tracker(tracking_uri, experiment_name(paper, dry_run), track)
    run_on = (f"dry run on a synthetic corpus and synthetic predictions (seed {seed})" if dry_run
              else f"predictions {Path(predictions).resolve()} on {Path(root).resolve()}")
    tags = ({**_tags(paper), "dry_run": str(dry_run).lower(), "affrepro.run_on": run_on}
            if tracker is not None else None)
    try:
        with tracked_run(tracker, f"{paper} evaluate" + (f": {run_on}" if dry_run else ""), tags) as run:
            result = rules.evaluate(Path(root), Path(predictions), length_policy=policy)
            if dry_run:
                result.policies["dry_run"] = run_on
                result.deviations.insert(0, "dry run: synthetic annotations and predictions in the "
                                            "real layout; the numbers exercise the pipeline only")
            result.output_dir = str(out)
            result.run_id, result.tracking_uri = run.run_id, run.uri
            _write(result, out)
            import math

            run.log_params({"paper": paper, "predictions": str(Path(predictions).resolve()),
                            "data_dir": str(Path(root).resolve()), "n_files": result.n_files,
                            "official_script": result.official_script, **result.policies})
            run.log_metrics({k: v for k, v in result.aggregate.items()
                             if isinstance(v, float) and math.isfinite(v)})
            run.log_artifacts(out)
            from affrepro.tracking import NOTE_TAG, run_description

            run.set_tags({NOTE_TAG: run_description("evaluate", paper, run_on, "FINISHED",
                                                    report=str(out / "evaluation.md"))})
    finally:
        cleanup.close()
    return result


def _tags(paper: str) -> dict[str, str]:
    from affrepro import hardware

    ident = hardware.identity()
    tags = {"paper": paper, "affrepro.command": "evaluate", "git_commit": hardware.git_commit(),
            "cpu": str(ident["cpu"])}
    for pkg in ("numpy", "numba", "mlflow"):
        tags[f"version.{pkg}"] = ident["packages"].get(pkg, "not installed")
    return tags


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "nan" if v != v else f"{v:.4f}"
    return str(v)


def to_markdown(result: Evaluation) -> str:
    dry = result.policies.get("dry_run")
    lines = [f"# {result.paper}: evaluation" + (f" ({dry})" if dry else ""), "",
             f"Scored as {result.official_script}; {result.n_files} files.", "",
             "| aggregate | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in result.aggregate.items()]
    for t in result.tables:
        lines += ["", f"## {t.title}", "", "| " + " | ".join(t.columns) + " |",
                  "|" + "---|" * len(t.columns)]
        lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in t.rows]
    lines += ["", "## Policies", ""] + [f"- {k}: {v}" for k, v in result.policies.items()]
    if result.deviations:
        lines += ["", "## Deviations", ""] + [f"- {d}" for d in result.deviations]
    if result.warnings:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in result.warnings]
    return "\n".join(lines) + "\n"


def _write(result: Evaluation, out: Path) -> None:
    import json

    from affrepro.fileio import atomic_write_text

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "evaluation.json", json.dumps(result.as_dict(), indent=2) + "\n")
    atomic_write_text(out / "evaluation.md", to_markdown(result))


@click.command("evaluate")
@click.argument("paper")
@click.option("--predictions", default=None,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of prediction files, named and formatted like the annotations.")
@click.option("--dry-run", is_flag=True,
              help="Evaluate synthetic predictions on a synthetic corpus in the real layout.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the --dry-run corpus.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The corpus's annotation folder (default: the linked dataset).")
@click.option("--length-policy", type=click.Choice(["error", "crop-pad"]), default=None,
              help="Prediction files of the wrong length: error, or crop/repeat-last "
                   "(default: the official script's behaviour where it has one, else error).")
@click.option("--json", "as_json", is_flag=True, help="Print evaluation.json only.")
@click.option("-o", "--output", "output_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for evaluation.json and evaluation.md.")
@click.option("--tracking-uri", default=None, envvar="MLFLOW_TRACKING_URI",
              help="MLflow store (default: SQLite under the affrepro home).")
@click.option("--no-track", is_flag=True, help="Do not log an MLflow run.")
def evaluate_command(paper, predictions, dry_run, seed, data_dir, length_policy, as_json,
                     output_dir, tracking_uri, no_track):
    """Score PREDICTIONS for PAPER (one whose card has [protocol.evaluation]: omg-empathy-2019,
    affwild-2021, sewa-2019) exactly as the challenge's official script does; print per-file
    and aggregate tables."""
    import json

    from affrepro.errors import AffreproError

    if predictions is None and not dry_run:
        raise click.UsageError("give --predictions DIR (or --dry-run)")
    try:
        result = evaluate(paper, predictions, data_dir=data_dir, length_policy=length_policy,
                          output_dir=output_dir, tracking_uri=tracking_uri, track=not no_track,
                          dry_run=dry_run, seed=seed)
    except AffreproError as exc:
        from affrepro.errors import UnknownNameError
        from affrepro.plugin_failures import explain

        raise click.ClickException(explain(exc) if isinstance(exc, UnknownNameError) else str(exc)) from None
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    from affrepro.terminal import Col, console as make_console, print_split_table

    console = make_console()
    for t in result.tables:
        print_split_table([Col(c, "atom", justify="left" if i == 0 else "right") for i, c in enumerate(t.columns)],
                          [[_fmt(v) for v in row] for row in t.rows], title=f"{paper}: {t.title}", con=console)
    dry = result.policies.get("dry_run")
    print_split_table([Col("measure", "atom"), Col("value", "atom", justify="right")],
                      [(k, _fmt(v)) for k, v in result.aggregate.items()],
                      title=f"{paper}: aggregate ({result.official_script})" + (f", {dry}" if dry else ""),
                      con=console)
    from affrepro.terminal import print_whole, print_wrapped

    for w in result.warnings:
        print_wrapped(f"warning: {w}", con=console, style="yellow")
    if dry:
        print_wrapped(f"{dry}: the numbers exercise the pipeline only", con=console)
    print_whole("Evaluation:", f"{result.output_dir}/evaluation.md", con=console)
    if result.run_id:
        print_whole(f"MLflow run {result.run_id}; to view it:",
                    f"mlflow ui --backend-store-uri {result.tracking_uri}", con=console)
