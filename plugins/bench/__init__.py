"""``affrepro bench run`` / ``affrepro bench compare``: the kernel benchmarks in
``benchmarks/`` (pytest-benchmark), saved with the machine's identity and tracked in
MLflow, and tables of times and speedups across result files and devices.

Loading this plugin imports nothing heavy; the commands import what they use.
"""
from __future__ import annotations

from affrepro import hookimpl


@hookimpl
def register_commands(cli):
    from affrepro.plugins.bench.cli import bench

    if "bench" not in getattr(cli, "commands", {}):
        cli.add_command(bench)
