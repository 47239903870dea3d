"""``affrepro features list`` and ``affrepro features extract NAME FILES... -o OUT``."""
from __future__ import annotations

import json
import signal
import sys
import threading
import time
from pathlib import Path

import click


@click.group("features")
def features() -> None:
    """Feature extractors (log-mel, MFCC, ...) registered by plugins."""


def _feature(name: str):
    from affrepro.plugin_manager import get_registries

    reg = get_registries().features
    if name not in reg:
        known = ", ".join(sorted(reg.names())) if hasattr(reg, "names") else ""
        raise click.ClickException(f"no feature named {name!r}" + (f"; known: {known}" if known else ""))
    return reg.get(name)


@features.command("list")
@click.option("--json", "as_json", is_flag=True)
def features_list(as_json: bool) -> None:
    """The registered features and their default settings."""
    from affrepro.plugin_manager import get_registries

    reg = get_registries().features
    rows = [{"name": f.name, "description": f.description, "settings": dict(f.settings)}
            for f in (reg.get(n) for n in sorted(reg.names()))]
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    from affrepro.terminal import print_wrapped

    for r in rows:  # wrapped at words to the terminal's width
        print_wrapped(f"{r['name']}: {r['description']}", hang="    ")
        settings = ", ".join(f"{k}={v}" for k, v in r["settings"].items())
        print_wrapped(f"settings: {settings or '(none)'}", indent="    ", hang="  ")


@features.command("extract")
@click.argument("name")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(path_type=Path),
              help="A folder (one file per input, folder layout kept), FILE.parquet (one "
                   "table: a row per channel [and frame] of every input), or FILE.npz for "
                   "one input.")
@click.option("--format", "fmt", type=click.Choice(["npz", "parquet"]), default=None,
              help="File format in an output folder (default npz; -o FILE.parquet/.npz "
                   "implies its own).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a setting, e.g. --set n_mels=128 --set target_sample_rate=none.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Files processed in parallel (default: CPUs).")
@click.option("--mono", is_flag=True, help="Average the channels (default: keep them).")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32",
              show_default=True, help="Precision the audio is read in (and features kept in).")
@click.option("--backend", type=click.Choice(["auto", "reference", "numba", "triton"]),
              default="auto", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary only.")
@click.option("--cluster", default=None, envvar="AFFREPRO_CLUSTER", metavar="SPEC",
              help="Files as tasks on Dask: local:N (N worker processes here) or "
                   "tcp://HOST:PORT (a scheduler); see docs/cluster.md.")
@click.option("--batch", type=click.IntRange(min=1), default=None, metavar="N",
              help="Files a kernel call for features that stack (the psychoacoustic ones): "
                   "default 16 with --backend triton, else one file a call.")
@click.option("--keep-going", is_flag=True,
              help="Extract the other files when one fails; list the failures at the end "
                   "(exit status 1). Without it the first bad file stops the batch.")
def features_extract(name, files, out, overrides, jobs, mono, dtype, backend, as_json,
                     fmt, cluster=None, keep_going=False, batch=None) -> None:
    """Extract feature NAME from audio FILES (or folders of them) into .npz or .parquet.

    Each .npz holds ``features`` (array: [channels,] rows, frames), ``settings`` (JSON)
    and ``meta`` (JSON: source, sample rates, channels, hop in seconds). A .parquet table
    has a row per source, channel (and frame, with ``time_s``), a column per feature row,
    and the settings and metas in its metadata. Files are resampled to the feature's
    ``target_sample_rate`` when theirs differs (``res_type``: soxr_hq, as librosa.load)."""
    from affrepro.plugins.features import extract as ex

    feature = _feature(name)
    settings = dict(feature.settings)
    for item in overrides:
        if "=" not in item:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--set")
        key, value = item.split("=", 1)
        if key not in settings:
            raise click.BadParameter(f"{name} has no setting {key!r}; it has "
                                     f"{', '.join(sorted(settings))}", param_hint="--set")
        settings[key] = ex.parse_value(value)
    paths = ex.audio_files(files)
    if not paths:
        raise click.ClickException("no audio files found in " + ", ".join(map(str, files)))
    jobs = jobs or ex.default_jobs()
    failed: list | None = [] if keep_going else None  # --keep-going: bad files, listed at the end
    if batch is not None and not getattr(feature, "stacks", False):
        raise click.BadParameter(f"{name} cannot stack files in one call (its extract does "
                                 "not keep leading axes)", param_hint="--batch")
    if batch is None and backend == "triton" and getattr(feature, "stacks", False) \
            and not cluster:
        from affrepro.plugins.features.batched import DEFAULT_BATCH

        batch = DEFAULT_BATCH
    if batch is not None and cluster:
        raise click.BadParameter("--batch works without --cluster for now", param_hint="--batch")
    import contextlib

    from affrepro.executor import cluster_spec, open_executor

    spec = cluster_spec(cluster)
    stack = contextlib.ExitStack()
    try:  # the cluster is reached (or started) before any work
        executor = stack.enter_context(open_executor(spec)) if spec else None
    except Exception:
        stack.close()
        raise

    def extract(progress=None):
        if executor is None and batch is not None:
            from affrepro.plugins.features.batched import extract_many_batched

            return extract_many_batched(name, feature, paths, out, settings, list(files), mono,
                                        dtype, backend, batch, progress=progress, fmt=fmt,
                                        failed=failed)
        if executor is None:
            return ex.extract_many(name, feature, paths, out, settings, list(files), jobs, mono,
                                   dtype, backend, progress=progress, fmt=fmt, failed=failed)
        from affrepro.plugins.features.cluster import extract_many_on

        return extract_many_on(executor, name, feature, paths, out, settings, list(files), mono,
                               dtype, backend, progress=progress, fmt=fmt, failed=failed)

    t0 = time.perf_counter()
    show = not as_json and sys.stderr.isatty()

    def _terminate(signum, frame):  # SIGTERM unwinds like Ctrl-C: temporaries are removed
        raise SystemExit(128 + signum)

    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if on_main else None
    from affrepro.progress import CompileNotice

    compiling = CompileNotice().start()  # "compiling kernels (first run only)" on a cold cache
    try:
        if show:
            from rich.console import Console
            from rich.progress import Progress

            with Progress(console=Console(stderr=True), transient=True) as bar:
                compiling.say = lambda msg: bar.console.print(msg, highlight=False)
                task = bar.add_task(f"{name}", total=len(paths))
                results = extract(progress=lambda r: bar.advance(task))
        else:
            results = _extract_logging(extract, name, len(paths), quiet=as_json)
    except (ValueError, RuntimeError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        compiling.stop()
        stack.close()
        if on_main:
            signal.signal(signal.SIGTERM, previous)
    wall = time.perf_counter() - t0
    audio = sum(r.seconds for r in results)
    if as_json:
        click.echo(json.dumps({"feature": name, "settings": settings, "files": [
            {"source": str(r.source), "output": str(r.output), "shape": list(r.shape),
             "seconds": r.seconds} for r in results], "wall_seconds": wall,
            "failed": [{"source": str(f.source), "error": f.error,
                        **({"traceback": f.traceback} if f.traceback else {})} for f in failed or []],
            "compiled_kernels": compiling.compiled}, indent=2,
            default=str))
    else:
        speed = f"{audio / wall if wall else float('inf'):.3g}x realtime"
        if compiling.compiled:  # a cold Numba cache: the wall time is mostly compiling
            speed += ", including compiling kernels (first run only)"
        click.echo(f"{name}: {len(results)} file(s), {audio:.1f} s of audio in {wall:.2f} s "
                   f"({speed}) -> {out}")
    if failed:
        click.echo(f"{len(failed)} file(s) could not be extracted:", err=True)
        for f in failed:
            click.echo(f"  {f.error}", err=True)
        sys.exit(1)


def _extract_logging(extract, name, total, quiet):
    """``extract(progress=...)`` with one-line progress on stderr when it is a log (not a
    terminal)."""
    from affrepro.progress import for_log

    lines = None if quiet else for_log()
    if lines is None:
        return extract()
    count = [0]

    def advance(_r) -> None:
        count[0] += 1
        lines(f"{name}: files", count[0], total)

    with lines:
        lines(f"{name}: files", 0, total)
        return extract(progress=advance)
