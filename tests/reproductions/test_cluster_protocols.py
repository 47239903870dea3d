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


@pytest.mark.slow
def test_natural_hazards_baselines_as_units_on_workers_equal_the_local_loop(dask_local2, tmp_path):
    """Every fold x model group on the workers (reading the corpus there, by checksum), the
    scores and predictions exactly those of the in-process loop."""
    import numpy as np

    from affrepro.executor import DataRef, items_of
    from affrepro.fileio import sha256_file
    from affrepro.reproductions.natural_hazards_2020.baselines import FastTextConfig, run_baselines
    from affrepro.reproductions.natural_hazards_2020.loaders import load_corpus
    from affrepro.reproductions.natural_hazards_2020.synthetic import write_corpus

    root = tmp_path / "nh"
    write_corpus(root, seed=1, n_per_event=24)
    small = FastTextConfig(dim=8, epochs=2)  # a short training: the arithmetic is the same
    table = load_corpus(root).table
    ref = DataRef("natural-hazards", str(root), "", {
        str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()})
    seen: dict[str, str] = {}

    def on_workers(fn, units):
        outs = {o.name: o for o in dask_local2.run(fn, items_of(units))}
        assert all(o.ok for o in outs.values()), [o.error for o in outs.values() if not o.ok]
        seen.update({n: o.worker for n, o in outs.items()})
        return {n: outs[n].value for n in units}

    local = run_baselines(table, seed=5, fasttext_cfg=small)
    remote = run_baselines(table, seed=5, map_units=on_workers, root=ref, fasttext_cfg=small)
    assert seen and all(w.rsplit(":", 1)[1] != str(os.getpid()) for w in seen.values())
    assert len(seen) == 2 * remote["n_folds"]  # every fold x (TF-IDF models, fastText)
    assert remote["results"] == local["results"]
    assert remote["predictions"].keys() == local["predictions"].keys()
    for key, p in local["predictions"].items():
        assert np.array_equal(remote["predictions"][key], p), key


def _model_loads():
    from affrepro import lm_engine

    return list(lm_engine.LOADS)


def _cache_rows(path):
    import sqlite3

    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT key, result FROM responses").fetchall())


@pytest.mark.slow
def test_the_llm_study_on_workers_equals_the_local_run_and_only_the_driver_writes_the_cache(
        dask_local2, mirror, tmp_path, monkeypatch):
    """negativeprompt-2024 on the real default model, an Instruction Induction (generated
    answers) and a BIG-Bench (multiple choice) task, --limit 1: each task x shot setting a
    unit on the workers, each worker loading the model once; per-task scores, samples and
    claims identical to the in-process run's; the workers' answers written into the run's
    request cache by the driver. Both sides run the model on one thread (Dask workers run
    one): across thread counts the log-likelihoods differ in the last bits."""
    import json

    from affrepro.runner import reproduce

    if not (mirror / "negativeprompt").is_dir():
        pytest.skip("the mirror has no negativeprompt/ folder")
    monkeypatch.setenv("AFFREPRO_LM_TASKS", "sum,navigate")
    monkeypatch.delenv("AFFREPRO_MODEL", raising=False)
    runs = {}
    for name, cluster in (("local", None), ("cluster", dask_local2)):
        monkeypatch.setenv("AFFREPRO_LM_CACHE", str(tmp_path / f"{name}.sqlite"))  # each computes it all
        before = dask_local2.client.run(_model_loads)
        runs[name] = reproduce("negativeprompt-2024", limit=1, output_dir=tmp_path / name, track=False,
                               model="smollm2-135m?threads=1",
                               cluster=cluster)
        after = dask_local2.client.run(_model_loads)
        assert runs[name].status == "FINISHED", runs[name].error
    local, remote = runs["local"], runs["cluster"]
    loads = [len(after[w]) - len(before.get(w, [])) for w in after]
    units = remote.details["units"]
    assert sorted(k.split("/tasks/", 1)[1] for k in units) == [
        f"{s}/{k}shot/{t}" for s, t in (("bigbench", "navigate"), ("instruction_induction", "sum")) for k in (0, 5)]
    assert max(loads) <= 1 and sum(loads) < len(units)  # a model per worker, not per unit
    assert all(u["worker"].rsplit(":", 1)[1] != str(os.getpid()) for u in units.values())
    assert remote.details["tables"] == local.details["tables"]  # every per-task score, bit for bit
    assert remote.records == local.records
    assert [(r.claim.id, r.measured, r.verdict) for r in remote.results] == \
        [(r.claim.id, r.measured, r.verdict) for r in local.results]
    for f in ("instruction_induction.sum.jsonl", "bigbench.navigate.jsonl"):
        a = [json.loads(x) for x in (tmp_path / "local" / "samples" / f).open()]
        b = [json.loads(x) for x in (tmp_path / "cluster" / "samples" / f).open()]
        assert a == b and len(a) == 11 * 1 * 2, f  # 11 prompts x 1 item x 2 shot settings
    # the driver recorded every answer the workers computed: the same cache as the local run's
    assert _cache_rows(tmp_path / "cluster.sqlite") == _cache_rows(tmp_path / "local.sqlite")
    lm_local, lm_remote = local.details["language_model"], remote.details["language_model"]
    assert lm_remote["requests"] == lm_local["requests"] > 0 and lm_remote["cached"] == lm_local["cached"]
