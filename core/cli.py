"""The ``affrepro`` command line. The only place domain errors become ClickException.

Heavy libraries (mlflow, numpy, rich) are imported inside the commands that need them,
so ``affrepro --help`` and ``affrepro list`` start fast.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click

from affrepro import __version__
from affrepro.errors import AffreproError
from affrepro.params import DEVICE, FAIL_ON, SEEDS


class AffreproGroup(click.Group):
    """Turns AffreproError into a one-line ClickException (exit code 1)."""

    def invoke(self, ctx: click.Context):
        from affrepro.errors import UnknownNameError

        try:
            return super().invoke(ctx)
        except UnknownNameError as exc:  # say so when a plugin that failed to load provides it
            from affrepro.plugin_failures import explain

            raise click.ClickException(explain(exc)) from exc
        except AffreproError as exc:
            raise click.ClickException(str(exc)) from exc


def _state():
    from affrepro.plugin_manager import get_state

    return get_state()


def _echo_json(obj) -> None:
    click.echo(json.dumps(obj, indent=2, default=str))


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=False)


def _stage_printer(quiet: bool):
    """Stage messages on stderr when it is a terminal; nothing when piped or with --json."""
    if quiet or not sys.stderr.isatty():
        return lambda msg: None
    console = _console(stderr=True)
    return lambda msg: console.print(f"[dim]… {msg}[/dim]")


class _ProgressBars:
    """Rich progress bars on stderr for ``ctx.progress(label, done, total)``; one bar a label."""

    def __init__(self) -> None:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        self.bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                             TextColumn("{task.fields[rate]}"), console=_console(stderr=True),
                             transient=False)
        self.tasks: dict[str, int] = {}

    def __call__(self, label: str, done: int, total: int, rate: str = "") -> None:
        """``rate``: e.g. "41.2 tok/s" from the language-model engine."""
        if label not in self.tasks:
            self.tasks[label] = self.bars.add_task(label, total=total, rate=rate)
        self.bars.update(self.tasks[label], completed=done, total=total, rate=rate)

    def __enter__(self):
        self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bars.stop()


@click.group(cls=AffreproGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="affrepro")
def cli() -> None:
    """Reproduce affective-computing papers: published numbers beside measured ones."""


# -- papers ------------------------------------------------------------------------------

@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_cmd(as_json: bool) -> None:
    """Papers, their claims and what each needs to run here."""
    from affrepro.status import paper_status

    reg = _state().registries
    rows = [paper_status(r, reg) for r in reg.reproductions]
    if as_json:
        _echo_json([r.as_dict() for r in rows])
        return
    from affrepro.terminal import Col, print_table

    print_table([Col("paper", "atom"), Col("class", "atom", keep=1),
                 Col("claims", "atom", keep=2, justify="right"), Col("status")],
                [(r.slug, r.paper_class, r.n_claims, r.status + (f": {r.detail}" if r.detail else ""))
                 for r in rows],
                title=f"{len(rows)} papers")


@cli.command()
@click.argument("paper")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show(paper: str, as_json: bool) -> None:
    """Show a paper's card: bibliography, data, claims and their sources."""
    from affrepro.card import PAPER_CLASSES
    from affrepro.claims import claim_to_dict
    from affrepro.status import here_line

    card = _state().registries.reproductions.get(paper).card
    if as_json:
        _echo_json({"slug": card.slug, "title": card.title, "authors": list(card.authors),
                    "venue": card.venue, "year": card.year, "doi": card.doi, "arxiv": card.arxiv,
                    "class": card.paper_class, "code": list(card.code), "data": list(card.data),
                    "data_access": card.data_access, "data_licence": card.data_licence,
                    "published_numbers": card.numbers, "notes": card.notes,
                    "here": here_line(paper, _state().registries).split(": ", 1)[1],
                    "claims": [claim_to_dict(c) for c in card.claims]})
        return
    from affrepro.terminal import console, print_field, print_wrapped

    con = console()
    print_wrapped(card.title, con=con, style="bold")
    print_wrapped(", ".join(card.authors), con=con, indent="  ")
    print_wrapped(f"{card.venue}, {card.year}", con=con, indent="  ")
    if card.doi:
        print_field("doi:", card.doi, con=con, sep="")
    if card.arxiv:
        print_field("arXiv:", card.arxiv, con=con, sep="")
    print_wrapped(f"class {card.paper_class}: {PAPER_CLASSES.get(card.paper_class, '')}", con=con, indent="  ")
    for url in card.code:
        print_field("code:", url, con=con)
    for url in card.data:
        print_field("data:", url, con=con)
    print_wrapped(f"data access: {card.data_access}; licence: {card.data_licence or 'not stated'}",
                  con=con, indent="  ")
    print_wrapped(here_line(paper, _state().registries), con=con, indent="  ")
    if card.notes:
        print_wrapped(card.notes, con=con, indent="  ")
    con.print()
    if not card.claims:
        print_wrapped(f"Published numbers: {card.numbers}; no claims.", con=con)
    for c in card.claims:
        std = f" ± {c.std:g}" if c.std is not None else ""
        print_wrapped(f"[{c.id}] {c.metric} = {c.value:g}{std}  ({c.tolerance.describe()})", con=con)
        print_wrapped(c.description, con=con, indent="    ")
        print_wrapped(f"source: {c.source}", con=con, indent="    ")
        needs = list(c.requires.datasets) + [f"model {m}" for m in c.requires.models]
        needs += ["an LLM backend"] if c.requires.llm else []
        needs += ["a GPU"] if c.requires.gpu else []
        print_wrapped(f"requires: {', '.join(needs) or 'nothing'}", con=con, indent="    ")



def _parse_data_dirs(values: tuple[str, ...], slug: str) -> dict[str, Path]:
    reg = _state().registries
    out: dict[str, Path] = {}
    for v in values:
        if "=" in v and not Path(v).exists():
            name, path = v.split("=", 1)
            out[name] = Path(path)
            continue
        from affrepro.status import datasets_needed

        names = datasets_needed(reg.reproductions.get(slug))
        licensed = [n for n in names if n in reg.datasets and reg.datasets.get(n).access == "licensed"]
        if len(licensed) != 1:
            raise click.BadParameter(
                f"{slug} reads {', '.join(names) or 'no datasets'}; say which one: --data-dir NAME=PATH",
                param_hint="--data-dir")
        out[licensed[0]] = Path(v)
    return out


def _print_result_tables(report) -> None:
    """A protocol's result tables (``ctx.note("tables", [{title, columns, rows}])``), numbers
    to 3 significant digits; a table wider than the terminal is split into several, each
    with the row labels, so no number is clipped (report.md has 4 decimals)."""
    from affrepro.terminal import Col, console, print_split_table

    con = console()
    for t in (report.details or {}).get("tables", []):
        cols = [Col(c, "atom", justify="left" if i == 0 else "right") for i, c in enumerate(t["columns"])]
        rows = [["—" if c is None else c if isinstance(c, str) else f"{c:.3g}" for c in row] for row in t["rows"]]
        print_split_table(cols, rows, title=t["title"], con=con)


def _print_report_table(report) -> None:
    from affrepro.formatting import fmt, fmt_diff
    from affrepro.terminal import Col, console, print_table, print_whole, print_wrapped

    style = {"reproduced": "green", "not reproduced": "red", "within noise": "cyan", "skipped": "yellow",
             "error": "bold red"}
    _print_result_tables(report)
    run_on = ((report.details or {}).get("run_on") or "dry run") if report.dry_run else ""
    rows = []
    for r in report.results:
        spread = r.spread or {}
        noise = (f" ±{spread['std']:.2g} (n={spread['n']})" if spread.get("n", 0) > 1
                 and not spread.get("deterministic") and spread.get("std") is not None else "")
        rows.append((r.claim.id, fmt(r.claim.value), fmt(r.measured) + noise, fmt_diff(r.difference),
                     r.verdict.value, r.claim.tolerance.describe()))
    # ids, numbers and verdicts stay whole; the tolerance goes first, then Δ, when the
    # terminal is too narrow (report.md and --json have every column)
    cols = [Col("claim", "atom"), Col("paper", "atom", justify="right"),
            Col("measured", "text", justify="right"), Col("Δ", "atom", keep=2, justify="right"),
            Col("verdict", "atom", styles=style), Col("tolerance", "text", keep=1)]
    con = console()
    print_table(cols, rows, title=f"{report.paper}: {report.status}" + (f" ({run_on})" if run_on else ""),
                con=con, hint="report.md")
    # one line per distinct reason: a dry run or a missing corpus gives every claim the same
    by_reason: dict[str, list[str]] = {}
    for r in report.results:
        if r.verdict.value in ("skipped", "error", "not reproduced", "within noise"):
            by_reason.setdefault(r.reason, []).append(r.claim.id)
    for reason, ids in by_reason.items():
        who = (ids[0] if len(ids) == 1 else f"all {len(ids)} claims"
               if len(ids) == len(report.results) else ", ".join(ids))
        print_wrapped(f"{who}: {reason}", con=con, style="dim")
    for a in report.audits:
        counts = ", ".join(f"{n} {v}" for v, n in a["verdicts"].items() if n)
        print_wrapped(f"Dataset audit {a['dataset']}: {counts} (`affrepro data audit {a['dataset']}`)", con=con)
    for w in report.warnings:
        print_wrapped(f"warning: {w}", con=con, style="yellow")
    if report.deviations:
        con.print("Deviations from the paper:")
        for d in report.deviations:
            print_wrapped(f"- {d}", con=con, indent="  ", hang="  ")
    # paths and commands whole on their own line, so they copy as they are
    print_whole("Report:", f"{report.output_dir}/report.md", con=con)
    if report.run_id:
        print_whole(f"MLflow run {report.run_id}; to view it:",
                    f"mlflow ui --backend-store-uri {report.tracking_uri}", con=con)


@cli.command()
@click.argument("paper", required=False)
@click.option("--data-dir", "data_dirs", multiple=True, metavar="[NAME=]PATH",
              help="Folder of a licensed dataset (NAME=PATH when the paper reads several).")
@click.option("--seeds", type=SEEDS, default=None,
              help="Seeds as a list or ranges, e.g. 0-4 or 0,3,7 (default: the card's).")
@click.option("--device", type=DEVICE, default="cpu", show_default=True,
              help="cpu, cuda, cuda:N or auto (a GPU where torch sees one, else cpu).")
@click.option("--dry-run", is_flag=True, help="Run every stage on synthetic data in the real format.")
@click.option("--json", "as_json", is_flag=True, help="Print report.json only.")
@click.option("-o", "--output", "output_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for report.json and report.md (default: under the affrepro home).")
@click.option("--tracking-uri", default=None, envvar="MLFLOW_TRACKING_URI",
              help="MLflow store (default: SQLite under the affrepro home).")
@click.option("--no-track", is_flag=True, help="Do not log an MLflow run.")
@click.option("--model", "model_spec", default=None, envvar="AFFREPRO_MODEL", metavar="SPEC",
              help="Language model: smollm2-135m (default), local:PATH, "
                   "openai:http://HOST:PORT/v1#MODEL (`affrepro models list`).")
@click.option("--limit", type=click.IntRange(min=1), default=None, metavar="N",
              help="At most N items per task (recorded as a deviation).")
@click.option("--no-cache", is_flag=True, help="Ask the model again instead of the request cache.")
@click.option("--fail-on", type=FAIL_ON, default=None, metavar="VERDICTS",
              help="Exit 3 when a claim gets one of these verdicts, e.g. not-reproduced,skipped "
                   "(any of reproduced, within-noise, not-reproduced, skipped, error).")
@click.option("--all", "all_papers", is_flag=True, help="Every paper runnable here, each one unit (see --cluster).")
@click.option("--cluster", default=None, envvar="AFFREPRO_CLUSTER", metavar="SPEC",
              help="Units on Dask: local:N (N worker processes) or tcp://HOST:PORT (docs/cluster.md).")
def reproduce(paper, data_dirs, seeds, device, dry_run, as_json, output_dir, tracking_uri, no_track,
              model_spec, limit, no_cache, fail_on, all_papers=False, cluster=None):
    """Reproduce PAPER and print, per claim, paper value, measured value, Δ and verdict.

    Exit status (docs/exit-codes.md): 0 when the run finished, 1 when it failed (the
    protocol raised, an integrity failure, or a claim's verdict is `error`), 2 for bad
    usage, 3 when a verdict named in --fail-on occurred, 130 on Ctrl-C, 143 on SIGTERM.
    """
    from affrepro.runner import reproduce as run_reproduction

    if all_papers or paper is None:
        from affrepro.batch import all_command

        if paper is not None or data_dirs or not all_papers:
            raise click.UsageError("give one PAPER, or --all (without PAPER or --data-dir)")
        sys.exit(all_command(_state().registries, cluster=cluster, as_json=as_json, output_dir=output_dir,
                             tracking_uri=tracking_uri, track=not no_track, stage=_stage_printer(as_json),
                             options={"seeds": seeds, "device": device, "dry_run": dry_run,
                                      "model": model_spec, "limit": limit, "no_cache": no_cache}))
    _state().registries.reproductions.get(paper)
    import contextlib

    from affrepro.progress import CompileNotice, for_log

    bars = _ProgressBars() if not as_json and sys.stderr.isatty() else None
    lines = for_log() if not as_json else None  # stderr is a log: periodic one-line progress
    stage = lines.stage if lines is not None else _stage_printer(as_json)
    with bars if bars is not None else lines if lines is not None else contextlib.nullcontext(), \
            CompileNotice(say=stage):  # a cold Numba cache: say why the first run is slow
        report = run_reproduction(
            paper, data_dirs=_parse_data_dirs(data_dirs, paper), seeds=seeds, device=device,
            dry_run=dry_run, output_dir=output_dir, tracking_uri=tracking_uri, track=not no_track,
            stage=stage, progress=bars or lines, model=model_spec, limit=limit, no_cache=no_cache,
            cluster=cluster,
        )
    if as_json:
        _echo_json(report.as_dict())
    else:
        _print_report_table(report)
    from affrepro.exit_status import exit_for_report

    exit_for_report(report, fail_on)



# -- models ------------------------------------------------------------------------------

@cli.group()
def models() -> None:
    """Language-model backends and the embedded default model."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True)
def models_list(as_json: bool) -> None:
    """Backends, the models they serve by name, and what each can do."""
    from affrepro.lm import default_spec, lm_backends

    rows = []
    for b in lm_backends(_state().registries):
        rows.append({"backend": b.scheme, "spec": f"{b.scheme}:{b.spec_help}", "description": b.description,
                     "models": [{"name": n.name, "description": n.description,
                                 "capabilities": n.capabilities} for n in b.named],
                     "plugin": _state().registries.models.plugin_of(b.name)})
    if as_json:
        _echo_json({"default": default_spec(), "backends": rows})
        return
    from affrepro.terminal import console, print_field, print_wrapped

    con = console()
    for r in rows:
        print_wrapped(f"{r['backend']} (plugin {r['plugin']})", con=con, style="bold")
        print_field("spec:", r["spec"], con=con)
        print_wrapped(r["description"], con=con, indent="  ")
        for m in r["models"]:
            print_wrapped(f"- {m['name']}: {m['description']} ({m['capabilities']})", con=con, indent="  ",
                          hang="  ")
    print_wrapped(f"default: {default_spec()} (--model or AFFREPRO_MODEL to change)", con=con)


@models.command("fetch")
@click.argument("name")
@click.option("--force", is_flag=True, help="Download and verify again.")
def models_fetch(name: str, force: bool) -> None:
    """Fetch a model a backend serves by name (smollm2-135m), sha256-verified."""
    from affrepro.errors import UnknownModelSpec
    from affrepro.lm import lm_backends

    backends = lm_backends(_state().registries)
    owner = next((b for b in backends if b.fetch is not None and any(n.name == name for n in b.named)), None)
    if owner is None:
        raise UnknownModelSpec(name, [n.name for b in backends for n in b.named if b.fetch is not None])
    path = owner.fetch(name, say=lambda msg: click.echo(msg, err=True), force=force)
    click.echo(str(path))


# -- data --------------------------------------------------------------------------------

@cli.group()
def data() -> None:
    """Fetch public datasets; link and verify licensed ones."""


def _dataset(name: str):
    return _state().registries.datasets.get(name)


@data.command("list")
@click.option("--json", "as_json", is_flag=True)
def data_list(as_json: bool) -> None:
    """Registered datasets, where they are and whether they are verified there."""
    from affrepro import data as datamod
    from affrepro.verified import verified_folder

    rows = []
    for e in _state().registries.datasets.entries():
        ds = e.obj
        path = datamod.dataset_path(ds)
        rows.append({"name": ds.name, "access": ds.access, "licence": ds.licence, "plugin": e.plugin,
                     "path": str(path), "present": path.is_dir(), "files": len(ds.files),
                     "verified": verified_folder(ds, path)})
    if as_json:
        _echo_json(rows)
        return
    from affrepro.terminal import Col, print_table

    print_table([Col("dataset", "atom"), Col("access", "atom", keep=2), Col("here", "atom", keep=3),
                 Col("files", "atom", keep=1, justify="right"), Col("folder", "atom", keep=0)],
                [(r["name"], r["access"], "verified" if r["verified"] else "unverified" if r["present"]
                  else "absent", r["files"], r["path"]) for r in rows],
                hint="`affrepro data path NAME` or --json")


@data.command("fetch")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def data_fetch(name: str, as_json: bool) -> None:
    """Download a public dataset (or copy it from AFFREPRO_DATA_MIRROR), sha256-verified."""
    from affrepro import data as datamod

    ds = _dataset(name)
    progress = None
    if not as_json and sys.stderr.isatty():
        from rich.progress import Progress

        bar = Progress(console=_console(stderr=True), transient=True)
        tasks: dict[str, int] = {}

        def progress(label: str, done: int, total: int | None) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done, total=total)

        with bar:
            result = datamod.fetch(ds, progress=progress)
    else:
        result = datamod.fetch(ds)
    if as_json:
        _echo_json({"dataset": name, "path": str(result.path), "fetched": result.fetched,
                    "present": result.present, "replaced": result.replaced})
    else:
        for why in result.replaced:
            click.echo(f"warning: {name}: the local copy was damaged ({why}); fetched again", err=True)
        click.echo(f"{name}: {len(result.fetched)} fetched, {len(result.present)} already present, "
                   f"all sha256-verified in {result.path}")


@data.command("verify")
@click.argument("name")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Folder to check instead of the linked/fetched one.")
@click.option("--json", "as_json", is_flag=True)
def data_verify(name: str, data_dir: Path | None, as_json: bool) -> None:
    """Check a dataset's files, layout and checksums; list every problem (exit 1 if any)."""
    from affrepro import data as datamod

    ds = _dataset(name)
    problems = datamod.verify(ds, data_dir)
    path = datamod.dataset_path(ds, data_dir)
    if data_dir is None:  # `list`/`report` call it "here" from this marker (affrepro.verified)
        from affrepro.verified import mark

        mark(ds, path, problems, "data verify")
    if as_json:
        _echo_json({"dataset": name, "path": str(path), "ok": not problems,
                    "problems": [p.__dict__ for p in problems]})
    elif problems:
        click.echo(f"{name}: {len(problems)} problem(s) in {path}", err=True)
        for p in problems:
            click.echo(f"  {p}", err=True)
        click.echo(datamod.how_to_get(ds), err=True)
    else:
        click.echo(f"{name}: OK ({path})")
    if problems:
        sys.exit(1)


@data.command("audit")
@click.argument("name")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Folder to audit instead of the linked/fetched one.")
@click.option("-o", "--output", "output_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Where audit.json and audit.md go (default: under the runs dir).")
@click.option("--json", "as_json", is_flag=True, help="Print audit.json only.")
@click.option("--fail-on", type=FAIL_ON, default=None, metavar="VERDICTS",
              help="Exit 3 when a claim gets one of these verdicts (as for reproduce).")
def data_audit(name: str, data_dir: Path | None, output_dir: Path | None, as_json: bool,
               fail_on) -> None:
    """Judge a dataset's published statistics (counts, vocabulary, ...) against its files."""
    from affrepro.audit import audit_dataset
    from affrepro.exit_status import exit_for_audit

    report = audit_dataset(_dataset(name), data_dir, output_dir, stage=_stage_printer(as_json))
    if as_json:
        _echo_json(report.as_dict())
        exit_for_audit(report, fail_on)
        return
    from affrepro.audit import number
    from affrepro.terminal import Col, print_table

    print_table([Col("claim", "atom"), Col("published", "atom", justify="right"),
                 Col("measured", "atom", justify="right"), Col("Δ", "atom", keep=1, justify="right"),
                 Col("verdict", "atom")],
                [(r.claim.id, number(r.claim.value, r.claim.value), number(r.measured, r.claim.value),
                  number(r.difference, r.claim.value, sign=True), r.verdict.value) for r in report.results],
                title=f"dataset audit: {name}")
    counts = ", ".join(f"{n} {v}" for v, n in report.verdict_counts().items() if n)
    click.echo(f"{name}: {counts}")
    from affrepro.terminal import print_wrapped

    for r in report.results:
        if r.verdict.value != "reproduced":
            print_wrapped(f"{r.claim.id}: {r.verdict.value}: {r.reason}", indent="  ", hang="  ")
    if report.status == "FAILED":
        click.echo(report.error or "", err=True)
    exit_for_audit(report, fail_on)


@data.command("link")
@click.argument("name")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
def data_link(name: str, path: Path) -> None:
    """Tell affrepro where a licensed dataset lives (then run `data verify`)."""
    from affrepro import data as datamod

    ds = _dataset(name)
    folder = datamod.link(ds, path)
    click.echo(f"{name} -> {folder}")
    problems = datamod.verify(ds)
    from affrepro.verified import mark

    mark(ds, folder, problems, "data link")
    click.echo(f"{name}: verified" if not problems else
               f"{name}: {len(problems)} problem(s), not verified; `affrepro data verify {name}` lists them")



@data.command("path")
@click.argument("name")
def data_path(name: str) -> None:
    """Print the folder a dataset is read from."""
    from affrepro import data as datamod

    click.echo(str(datamod.dataset_path(_dataset(name))))


# -- runs ------------------------------------------------------------------------------

@cli.group(invoke_without_command=True)
@click.option("--paper", default=None, help="Only this paper's runs.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="The newest N runs.")
@click.option("--tracking-uri", default=None, envvar="MLFLOW_TRACKING_URI",
              help="MLflow store (default: SQLite under the affrepro home).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def runs(ctx: click.Context, paper: str | None, limit: int, tracking_uri: str | None, as_json: bool) -> None:
    """Past runs (newest first): paper, when, verdicts, status, where the report is."""
    if ctx.invoked_subcommand is not None:
        return
    from affrepro.runs import list_runs, render_table

    rows = list_runs(tracking_uri, paper, limit)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("no runs in the tracking store yet (`affrepro reproduce PAPER` makes one)")
        return
    _console().print(render_table(rows))
    click.echo("\nReports (`affrepro runs show RUN` prints one):")
    for r in rows:
        click.echo(f"{r['run_id'][:8]}  {r['report'] if r['report_exists'] else 'no report.md artifact'}")


@runs.command("show")
@click.argument("run")
@click.option("--tracking-uri", default=None, envvar="MLFLOW_TRACKING_URI",
              help="MLflow store holding run ids (default: SQLite under the affrepro home).")
@click.option("--json", "as_json", is_flag=True, help="Print report.json.")
@click.option("--screenshot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Render report.html in headless Chromium and save a full-page PNG here.")
def runs_show(run: str, tracking_uri: str | None, as_json: bool, screenshot: Path | None) -> None:
    """One run's report (RUN: an MLflow run id or its first characters, a run folder, or a
    report.json)."""
    from affrepro.runs import load

    from affrepro.report import render_markdown

    d = load(run, tracking_uri)
    if screenshot is not None:
        from affrepro.report_html import screenshot_report

        check = screenshot_report(d, render_markdown(d), screenshot)
        click.echo(f"screenshot ({check.width}x{check.height} px, {check.svg_count} plots):", err=True)
        click.echo(str(check.screenshot))
        if check.console_errors or check.network_requests:
            raise AffreproError("report.html did not render cleanly: "
                                + "; ".join(check.console_errors + check.network_requests))
        return
    if as_json:
        _echo_json(d)
    else:
        click.echo(render_markdown(d))


@runs.command("compare")
@click.argument("run_a")
@click.argument("run_b")
@click.option("--tracking-uri", default=None, envvar="MLFLOW_TRACKING_URI",
              help="MLflow store holding run ids (default: SQLite under the affrepro home).")
@click.option("--json", "as_json", is_flag=True)
def runs_compare(run_a: str, run_b: str, tracking_uri: str | None, as_json: bool) -> None:
    """Two runs of one paper (report.json, its folder, or an MLflow run id), claim by claim:
    both values, the difference and whether it exceeds the seed spread (docs/verdicts.md)."""
    from affrepro.compare import compare, load_report, print_text

    result = compare(load_report(run_a, tracking_uri), load_report(run_b, tracking_uri))
    if as_json:
        _echo_json(result)
    else:
        print_text(result)


# -- plugins -----------------------------------------------------------------------------

@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List loaded plugins (and those that failed); install, check or scaffold plugins."""
    if ctx.invoked_subcommand is not None:
        return
    state = _state()
    rows = [p.as_dict() for p in state.plugins.values()]
    if as_json:
        _echo_json(rows)
        return
    for p in rows:
        mark = "ok   " if p["ok"] else "ERROR"
        ver = f" {p['distribution']} {p['version']}" if p["distribution"] else ""
        what = "; ".join(f"{k}: {', '.join(v)}" for k, v in p["registered"].items())
        click.echo(f"{mark} {p['name']} ({p['source']}{ver}) {what}")
        if p["error"]:
            click.echo(f"      {p['error']}")


def _pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", *args]
    proc = subprocess.run(cmd)
    if proc.returncode != 0:
        raise AffreproError(f"`{' '.join(cmd)}` failed with exit code {proc.returncode}")


@plugins.command("install", context_settings={"ignore_unknown_options": True})
@click.argument("spec")
@click.argument("pip_args", nargs=-1, type=click.UNPROCESSED)
def plugins_install(spec: str, pip_args: tuple[str, ...]) -> None:
    """pip-install a plugin (name, path or URL) into affrepro's own interpreter.

    Extra PIP_ARGS are pip options (e.g. --index-url URL); the spec reaches pip after `--`,
    so it is never read as an option."""
    if spec.startswith("-"):
        raise click.BadParameter(f"{spec!r} starts with '-': give the plugin first, pip options after it",
                                 param_hint="SPEC")
    stray = [a for a in pip_args if not a.startswith("-") and not _is_option_value(pip_args, a)]
    if stray:
        raise click.BadParameter(f"{' '.join(stray)}: install one plugin at a time", param_hint="SPEC")
    click.echo(f"installing {spec} from {_pip_index(pip_args)}", err=True)
    _pip("install", *pip_args, "--", spec)


def _is_option_value(args: tuple[str, ...], value: str) -> bool:
    """Whether ``value`` follows an option that takes one (``--index-url URL``)."""
    i = args.index(value)
    return i > 0 and args[i - 1].startswith("-") and "=" not in args[i - 1]


def _pip_index(pip_args: tuple[str, ...]) -> str:
    """The package index pip will use: --index-url, else PIP_INDEX_URL, else pip's default."""
    import os

    for i, a in enumerate(pip_args):
        if a in ("-i", "--index-url") and i + 1 < len(pip_args):
            return pip_args[i + 1]
        if a.startswith("--index-url="):
            return a.split("=", 1)[1]
    return os.environ.get("PIP_INDEX_URL") or "pip's configured index (default https://pypi.org/simple)"


@plugins.command("uninstall")
@click.argument("name")
def plugins_uninstall(name: str) -> None:
    """pip-uninstall a plugin from affrepro's interpreter: NAME is a plugin, distribution or
    paper name, as for `plugins check`."""
    from affrepro.plugin_failures import distribution_of

    dist = distribution_of(_state(), name)
    if dist != name:
        click.echo(f"{name} is provided by the distribution {dist}", err=True)
    _pip("uninstall", "-y", dist)


@plugins.command("check")
@click.argument("name")
@click.option("--no-dry-run", is_flag=True, help="Skip the dry run of each reproduction.")
@click.option("--json", "as_json", is_flag=True)
def plugins_check(name: str, no_dry_run: bool, as_json: bool) -> None:
    """Conformance of plugin NAME (entry-point, distribution or paper name); exit 1 on failure."""
    from affrepro.conformance import check_plugin

    checks = check_plugin(_state(), name, dry_run=not no_dry_run)
    ok = all(c.ok for c in checks)
    if as_json:
        _echo_json({"plugin": name, "ok": ok, "checks": [c.as_dict() for c in checks]})
    else:
        from affrepro.terminal import print_wrapped

        for c in checks:  # wrapped at words to the terminal's width
            print_wrapped(f"{'PASS' if c.ok else 'FAIL'} {c.name}" + (f": {c.detail}" if c.detail else ""),
                          hang="     ")
        print_wrapped(f"{name}: {'conforms' if ok else 'does not conform'}")
    if not ok:
        sys.exit(1)


@plugins.command("new")
@click.argument("name")
@click.option("--dir", "parent", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to create the package folder.")
def plugins_new(name: str, parent: Path) -> None:
    """Scaffold an installable plugin package for a new paper."""
    from affrepro.scaffold import new_plugin

    root = new_plugin(name, parent)
    click.echo(f"created {root}\nnext: affrepro plugins install {root} && affrepro plugins check {root.name}")


# -- store -------------------------------------------------------------------------------

@cli.group()
def store() -> None:
    """Check or repair the local MLflow store (SQLite under the affrepro home)."""


def _store_db(tracking_uri: str | None) -> Path:
    from affrepro.tracking import resolve_tracking_uri, sqlite_path

    uri = resolve_tracking_uri(tracking_uri)
    db = sqlite_path(uri)
    if db is None:
        raise AffreproError(f"{uri} is not a local SQLite store; repair a server's database on the server")
    return db


@store.command("check")
@click.option("--tracking-uri", default=None, envvar="MLFLOW_TRACKING_URI")
def store_check(tracking_uri: str | None) -> None:
    """Say whether the store is complete (exit 1 when it is damaged)."""
    from affrepro import store as storemod

    db = _store_db(tracking_uri)
    why = storemod.problem(db) if db.is_file() else None
    if why:
        click.echo(storemod.damaged_message(db, why), err=True)
        sys.exit(1)
    click.echo(f"{db}: {'OK' if db.is_file() else 'not created yet'}")


@store.command("repair")
@click.option("--tracking-uri", default=None, envvar="MLFLOW_TRACKING_URI")
def store_repair(tracking_uri: str | None) -> None:
    """Move the store aside and rebuild it with every run that can be read from it."""
    from affrepro import store as storemod

    db = _store_db(tracking_uri)
    summary = storemod.repair(db)
    if summary["backup"]:
        click.echo(f"damaged store kept as {summary['backup']}")
    for table, why in summary["skipped"].items():
        click.echo(f"  could not copy {table}: {why}", err=True)
    click.echo(f"{db}: rebuilt, {summary['runs_kept']} run(s) kept")


# -- report ------------------------------------------------------------------------------

def _latest_reports() -> dict[str, dict]:
    from affrepro import paths

    latest: dict[str, dict] = {}
    root = paths.runs_dir()
    if not root.is_dir():
        return latest
    for f in root.glob("*/*/report.json"):
        try:
            d = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if d.get("dry_run"):
            continue
        if d.get("paper") not in latest or d.get("started", "") > latest[d["paper"]].get("started", ""):
            latest[d["paper"]] = d
    return latest


def status_markdown(rows, latest: dict[str, dict] | None = None,
                    counts: dict[str, dict] | None = None) -> str:
    """The papers table; ``counts``: claims reproduced / not reproduced on real data per paper
    (affrepro.ledger), "—" where no real-data run is recorded."""
    lines = ["| paper | class | claims | reproduced | not reproduced | status |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        status = r.status + (f" ({r.detail})" if r.detail else "")
        if latest and r.slug in latest:
            counts_now = latest[r.slug]["verdicts"]
            status += "; last run: " + ", ".join(f"{n} {v}" for v, n in counts_now.items() if n)
        rep, nrep = _judged(counts, r.slug)
        lines.append(f"| {r.slug} | {r.paper_class} | {r.n_claims} | {rep} | {nrep} | {status} |")
    return "\n".join(lines) + "\n"


def _judged(counts: dict[str, dict] | None, name: str) -> tuple[str, str]:
    """(reproduced, not reproduced) as table cells; "—" where no claim was judged on real data."""
    c = (counts or {}).get(name)
    if not c or c["reproduced"] + c["not reproduced"] == 0:
        return "—", "—"
    return str(c["reproduced"]), str(c["not reproduced"])


def audits_markdown(datasets, counts: dict[str, dict] | None = None) -> str:
    """One row per dataset that carries an audit: its claims and the real-data counts."""
    lines = ["| dataset | claims | reproduced | not reproduced | papers using it |", "|---|---|---|---|---|"]
    for ds, n_claims, users in datasets:
        rep, nrep = _judged(counts, ds)
        lines.append(f"| {ds} | {n_claims} | {rep} | {nrep} | {', '.join(users) or '—'} |")
    return "\n".join(lines) + "\n"


def _audited_datasets(reg) -> list[tuple[str, int, list[str]]]:
    users: dict[str, list[str]] = {}
    for e in reg.reproductions.entries():
        rep = e.obj
        try:
            needed = list(rep.datasets) + [d for c in rep.card.claims for d in c.requires.datasets]
        except AffreproError:
            needed = list(rep.datasets)
        for d in dict.fromkeys(needed):
            users.setdefault(d, []).append(rep.slug)
    return [(e.obj.name, len(e.obj.audit.card.claims),
             sorted(set(users.get(e.obj.name, [])) | set(e.obj.audit.card.papers)))
            for e in reg.datasets.entries() if e.obj.audit is not None]


@cli.command()
@click.argument("run", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--md", "as_md", is_flag=True, help="Markdown output.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--runs/--no-runs", default=True,
              help="Describe this machine and each paper's last run (--no-runs: a fresh install, "
                   "as in the README).")
@click.option("--audits", "audits_only", is_flag=True, help="The dataset-audit table instead of the papers.")
@click.option("--record", is_flag=True,
              help="Write this machine's latest real-data counts into the shipped ledger "
                   "(core/real_data_verdicts.json) that a fresh install and the README show.")
def report(run: Path | None, as_md: bool, as_json: bool, runs: bool, audits_only: bool, record: bool) -> None:
    """A status table across all papers, or one run's report (RUN: its folder or report.json)."""
    if run is not None:
        from affrepro.errors import MalformedFileError
        from affrepro.report import render_markdown

        path = run / "report.json" if run.is_dir() else run
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise MalformedFileError(path, f"not valid JSON ({exc.msg})", line=exc.lineno) from None
        if as_json:
            _echo_json(d)
        else:
            click.echo(render_markdown(d))
        return
    from affrepro.status import paper_status

    from affrepro import ledger, paths

    reg = _state().registries
    here = ledger.latest_runs(paths.runs_dir()) if runs or record else {"papers": {}, "datasets": {}}
    if record:
        path = ledger.record(here, ledger.ledger_path())
        click.echo(f"recorded {len(here['papers'])} papers and {len(here['datasets'])} dataset audits in {path}",
                   err=True)
    counts = ledger.merged(here, ledger.load_ledger()) if runs else ledger.load_ledger()
    if audits_only:
        audited = _audited_datasets(reg)
        if as_json:
            _echo_json([{"dataset": d, "claims": n, "papers": u, "real_data": counts["datasets"].get(d)}
                        for d, n, u in audited])
        else:
            click.echo(audits_markdown(audited, counts["datasets"]), nl=False)
        return
    rows = [paper_status(r, reg, here=runs) for r in reg.reproductions]
    latest = _latest_reports() if runs else {}
    if as_json:
        _echo_json([{**r.as_dict(), "last_run": latest.get(r.slug, {}).get("verdicts"),
                     "real_data": counts["papers"].get(r.slug)} for r in rows])
    else:
        click.echo(status_markdown(rows, latest, counts["papers"]), nl=False)


def add_plugin_commands(group: click.Group, state) -> None:
    """Let each plugin add its commands (``register_commands``); a failing plugin is recorded."""
    for name, info in state.plugins.items():
        if info.error is None and state.pm.has_plugin(name):
            plugin = state.pm.get_plugin(name)
            try:
                state.pm.subset_hook_caller(
                    "register_commands", remove_plugins=[p for p in state.pm.get_plugins() if p is not plugin],
                )(cli=group)
            except Exception as exc:
                info.error = f"register_commands failed: {exc}"


def _sigterm_raises() -> None:
    """From the first line on, SIGTERM unwinds like Ctrl-C (``Terminated``), so store
    creation and set-up clean up and a run in any phase ends KILLED."""
    import signal

    from affrepro.tracking import Terminated

    def handler(signum, frame):
        raise Terminated(f"received signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def _interrupted_exit(exc: BaseException) -> None:
    from affrepro.tracking import Terminated

    from affrepro import exit_status

    terminated = isinstance(exc, Terminated)
    click.echo("terminated" if terminated else "interrupted", err=True)
    sys.exit(exit_status.TERMINATED if terminated else exit_status.INTERRUPTED)


def main() -> None:
    """Exit status: ``affrepro.exit_status.EXIT_CODES`` (docs/exit-codes.md)."""
    _sigterm_raises()
    try:
        from affrepro.scratch import sweep_scratch

        sweep_scratch()
        try:
            state = _state()
        except AffreproError as exc:  # strict mode: a broken plugin is fatal
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        add_plugin_commands(cli, state)
        try:
            rv = cli.main(prog_name="affrepro", standalone_mode=False)
        except click.exceptions.Abort as exc:  # click's wrapping of Ctrl-C / SIGTERM
            if isinstance(exc.__cause__, KeyboardInterrupt):
                _interrupted_exit(exc.__cause__)
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(rv, int):  # --help / --version under standalone_mode=False
            sys.exit(rv)
    except KeyboardInterrupt as exc:
        _interrupted_exit(exc)


if __name__ == "__main__":
    main()
