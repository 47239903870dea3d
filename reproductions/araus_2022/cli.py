"""``affrepro araus-isd``: the ISD extension on its own.

``affrepro reproduce araus-2022`` runs it only together with the ARAUS claims (the runner
starts a protocol only when a claim can be measured), so this command runs it without the
ARAUS release: fetch ISD (mirror or Zenodo, sha256-checked), project the PAQs, and
cross-validate label-mean and ElasticNet leave-one-location-out.
"""
from __future__ import annotations

import json

import click


@click.command("araus-isd")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON only.")
def araus_isd_command(as_json: bool) -> None:
    """ARAUS baselines on the International Soundscape Database (leave-one-location-out)."""
    from affrepro import data as datamod
    from affrepro.errors import AffreproError
    from affrepro.plugin_manager import get_registries
    from affrepro.reproductions.araus_2022.datasets import ISD_FILE
    from affrepro.reproductions.araus_2022.isd import run_extension

    reg = get_registries()
    ds = reg.datasets.get("isd")
    try:
        if datamod.verify(ds):
            datamod.fetch(ds)
        folder = datamod.require(ds)
        models = {n: reg.models.get(n).factory for n in ("label-mean", "elasticnet")}
        results = run_extension(folder / ISD_FILE, models)
    except AffreproError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    click.echo(f"ISD v1.0: {results['isd.n_responses_complete_paqs']} responses with all eight PAQs at "
               f"{results['isd.n_locations']} locations; {results['isd.acoustic.n_responses']} with "
               f"acoustic indicators at {results['isd.acoustic.n_locations']} locations")
    click.echo(f"{'subset':9} {'target':13} {'model':11} {'train MSE':>9} {'val MSE':>9} {'pooled':>9}")
    for key in sorted({k.rsplit('.', 1)[0] for k in results if k.count(".") == 4}):
        _, subset, target, model = key.split(".")
        r = [results[f"{key}.{s}"] for s in ("train_mse", "val_mse", "val_mse_pooled")]
        click.echo(f"{subset:9} {target:13} {model:11} {r[0]:9.4f} {r[1]:9.4f} {r[2]:9.4f}")
    click.echo("val = mean over held-out locations of the per-location MSE; pooled = over all held-out responses")
