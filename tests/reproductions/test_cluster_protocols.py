"""araus-2022 and natural-hazards-2020 with their units on a Dask LocalCluster of 2 worker
processes give the in-process run's numbers bit for bit (dry runs: synthetic data in the
real formats), with a child MLflow run per unit logged by the driver."""
from __future__ import annotations

import os

import pytest

pytest.importorskip("distributed", reason="needs affrepro[cluster] (Dask distributed)")


def _children(uri: str, parent: str):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(parent)
    return [r for r in client.search_runs([run.info.experiment_id], max_results=1000)
            if r.data.tags.get("mlflow.parentRunId") == parent]


@pytest.mark.slow
@pytest.mark.parametrize("slug, units", [
    ("araus-2022", {"baselines": 20, "cnn": 5}),   # (2 targets x 2 models x 5 folds), 1 seed x 5 folds
    ("natural-hazards-2020", {"baselines": None}),  # (events x 5 + 5 + events) folds x 2 model groups
])
def test_a_cluster_run_equals_the_local_run_bit_for_bit(slug, units, dask_local2, tmp_path, registries):
    from affrepro.runner import reproduce

    uri = f"sqlite:///{tmp_path}/m.db"
    local = reproduce(slug, dry_run=True, output_dir=tmp_path / "local", tracking_uri=uri,
                      registries=registries)
    remote = reproduce(slug, dry_run=True, output_dir=tmp_path / "remote", tracking_uri=uri,
                       registries=registries, cluster=dask_local2)
    assert local.status == remote.status == "FINISHED"
    assert remote.records == local.records  # every number, exactly
    assert [(r.claim.id, r.measured) for r in remote.results] == [(r.claim.id, r.measured) for r in local.results]
    for report, in_process in ((local, True), (remote, False)):
        seen = report.details["units"]
        workers = {u["worker"].rsplit(":", 1)[1] for u in seen.values()}
        assert (workers == {str(os.getpid())}) is in_process
        for label, n in units.items():
            mine = [k for k in seen if f"/{label}/" in k]
            assert mine and (n is None or len(mine) == n), (label, len(mine))
        kids = _children(uri, report.run_id)
        assert len(kids) == len(seen) and all(k.info.status == "FINISHED" for k in kids)
