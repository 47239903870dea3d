"""Corpus feature extraction on a Dask LocalCluster against the local ``-j 2`` path.

Run:  python -m pytest benchmarks/test_cluster_bench.py --benchmark-only -s
      The issue's configuration is 64 stimuli: AFFREPRO_BENCH_CLUSTER_N=64 (11 min of
      both cores of an idle 2-core machine; 62 min on a loaded one). The default,
      8 stimuli (a few minutes), is for routine use; its per-file set-up weighs more.

Workload: N ARAUS-style stimuli, 30 s binaural 44.1 kHz 24-bit WAV (1/f noise at 65 dB
SPL), through every ARAUS ``_r`` feature (``laf``, ``lcf``, ``zwicker_time_varying``,
``roughness``, ``third_octave``), each feature into one .parquet table, as
``affrepro features extract NAME stimuli/ -o NAME.parquet`` does. The peer is our own
local path with ``-j 2`` (two files at a time on threads; one at a time where Numba's
threading layer cannot run two parallel kernels at once, as the CLI does); the cluster
path is a LocalCluster of 2 worker processes (one thread each), files as tasks, with the
driver hashing every input and each worker checking it. Both are warmed first (kernels
compiled, the cluster started: a cluster is started once per session, not per corpus).
Before timing, both paths' tables must be equal, value for value. Each round times both
paths, the first going second in the next round; the best of each is compared
(``AFFREPRO_BENCH_CLUSTER_ROUNDS``, default 2).

The goal (issue 23): the cluster's overhead against ``-j 2`` at most 15 %. The measured
seconds per stimulus (all five features, one worker) give the projected wall time of the
25,440-stimulus ARAUS corpus on N workers: ``25440 × s_per_stimulus / N`` (docs/cluster.md).
"""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

from affrepro.hardware import versions

N_FILES = int(os.environ.get("AFFREPRO_BENCH_CLUSTER_N", "8"))  # the configuration: 64
SECONDS, SR_IN = 30.0, 44100
FEATURES = ("laf", "lcf", "zwicker_time_varying", "roughness", "third_octave")
CORPUS = 25_440


@pytest.fixture(scope="module")
def stimuli(tmp_path_factory, binaural_noise):
    sf = pytest.importorskip("soundfile")
    folder = tmp_path_factory.mktemp("stimuli")
    for i in range(N_FILES):
        x = binaural_noise(SECONDS, SR_IN, seed=i)
        sf.write(str(folder / f"stim_{i:03d}.wav"), (x / np.abs(x).max() * 0.5).T, SR_IN,
                 subtype="PCM_24")
    return folder, sorted(folder.glob("*.wav"))


def _local(folder, files, out):
    from affrepro.plugin_manager import get_registries
    from affrepro.plugins.features.extract import extract_many

    reg = get_registries().features
    for name in FEATURES:
        f = reg.get(name)
        extract_many(name, f, files, out / f"{name}.parquet", dict(f.settings), [folder], 2, False,
                     "float32", "auto")


def _cluster(executor, folder, files, out):
    from affrepro.plugin_manager import get_registries
    from affrepro.plugins.features.cluster import extract_many_on

    reg = get_registries().features
    for name in FEATURES:
        f = reg.get(name)
        extract_many_on(executor, name, f, files, out / f"{name}.parquet", dict(f.settings), [folder],
                        False, "float32", "auto")


def test_cluster_overhead_vs_local_j2(benchmark, tmp_path, stimuli):
    pytest.importorskip("distributed")
    import warnings

    import pyarrow.parquet as pq

    from affrepro.executor import start

    folder, files = stimuli
    executor = start("local:2")
    try:
        # warm both (compile or load the kernels; the workers' warm-up runs here) and check
        # the two paths give the same tables
        _local(folder, files[:2], tmp_path / "warm-local")
        _cluster(executor, folder, files[:2], tmp_path / "warm-cluster")
        for name in FEATURES:
            a = pq.read_table(tmp_path / "warm-local" / f"{name}.parquet")
            b = pq.read_table(tmp_path / "warm-cluster" / f"{name}.parquet")
            assert a.equals(b), name
        times: dict[str, float] = {"local_j2": float("inf"), "cluster_2": float("inf")}
        order = [("local_j2", lambda out: _local(folder, files, out)),
                 ("cluster_2", lambda out: _cluster(executor, folder, files, out))]

        def round_():  # both paths, alternating which goes first (a shared machine's load drifts)
            for name, fn in order:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # the workqueue notice
                    time.sleep(0.5)
                    t = time.perf_counter()
                    fn(tmp_path / name)
                    times[name] = min(times[name], time.perf_counter() - t)
            order.reverse()

        rounds = int(os.environ.get("AFFREPRO_BENCH_CLUSTER_ROUNDS", "2"))
        load_before = os.getloadavg()
        benchmark.pedantic(round_, rounds=rounds, iterations=1, warmup_rounds=0)
        load_after = os.getloadavg()
    finally:
        executor.close()
    from affrepro.plugins.features.extract import numba_threading_layer

    overhead = times["cluster_2"] / times["local_j2"] - 1
    per_stim = times["cluster_2"] * 2 / N_FILES  # one worker's seconds per stimulus
    projected = {n: CORPUS * per_stim / n / 3600 for n in (2, 8, 32, 128)}
    benchmark.extra_info.update(versions())
    benchmark.extra_info.update({
        "kernel": "features-extract-cluster", "workload": f"{N_FILES} x 30 s binaural, ARAUS _r features",
        "features": list(FEATURES), "files": N_FILES, "seconds": times, "overhead": overhead,
        "numba_threading_layer": numba_threading_layer(), "cpus": os.cpu_count(),
        "load_average_1_5_15_before": load_before, "load_average_1_5_15_after": load_after,
        "worker_seconds_per_stimulus": per_stim, "projected_hours_25440": projected})
    print(f"\n[cluster] {N_FILES} stimuli x {len(FEATURES)} features: local -j 2 "
          f"{times['local_j2']:.1f} s, LocalCluster(2) {times['cluster_2']:.1f} s, overhead "
          f"{overhead * 100:+.1f} % (goal <= 15 %); {per_stim:.2f} worker-s per stimulus -> "
          + ", ".join(f"{n} workers: {h:.1f} h" for n, h in projected.items())
          + f"; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after ({os.cpu_count()} CPUs)")
