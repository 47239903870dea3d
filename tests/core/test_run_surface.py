"""What a run says about itself (issue 20): dry runs name what ran on what everywhere;
--seeds/--device follow one rule; a failed plugin is named; MLflow runs have a name, a
description, dry runs apart, and nothing is created in the current folder."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import public_toy  # noqa: E402


@pytest.fixture
def toy(tmp_path, monkeypatch):
    monkeypatch.setenv("AFFREPRO_DATA_MIRROR", str(public_toy.make_mirror(tmp_path / "mirror")))
    return public_toy.install(tmp_path, monkeypatch)


def _runs(uri: str):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    return client, {e.name: e for e in client.search_experiments()}


def test_a_dry_run_says_synthetic_everywhere_and_is_tracked_apart(toy, cli_runner, tmp_path, tracking_uri):
    res = cli_runner("reproduce", public_toy.SLUG, "--dry-run", "-o", str(tmp_path / "dry"),
                     "--tracking-uri", tracking_uri)
    assert res.exit_code == 0, res.output
    said = f"dry run on synthetic data ({public_toy.DATASET})"
    assert said in " ".join(res.output.split())
    d = json.loads((tmp_path / "dry" / "report.json").read_text())
    assert d["details"]["run_on"] == said and said in d["claims"][0]["reason"]
    assert f"Status: **FINISHED** ({said})." in (tmp_path / "dry" / "report.md").read_text()
    real = cli_runner("reproduce", public_toy.SLUG, "-o", str(tmp_path / "real"), "--tracking-uri", tracking_uri)
    assert real.exit_code == 0 and "dry run" not in real.output
    client, exps = _runs(tracking_uri)
    dry_exp, real_exp = exps[f"{public_toy.SLUG} (dry runs)"], exps[public_toy.SLUG]
    (dry_run,) = client.search_runs([dry_exp.experiment_id])
    (real_run,) = client.search_runs([real_exp.experiment_id])
    assert dry_run.info.run_id == d["run_id"] and dry_run.info.run_name == f"{public_toy.SLUG}: {said}"
    assert dry_run.data.tags["affrepro.run_on"] == said and dry_run.data.tags["dry_run"] == "true"
    note = real_run.data.tags["mlflow.note.content"]
    assert note.startswith(f"`affrepro reproduce {public_toy.SLUG}` on real data ({public_toy.DATASET}); FINISHED")
    assert "1 reproduced" in note and str(tmp_path / "real" / "report.md") in note
    assert said in dry_run.data.tags["mlflow.note.content"]


def test_a_dry_run_that_reads_real_data_says_so():
    from affrepro.run_mode import describe

    info = {"a": {"status": "synthetic"}, "b": {"status": "verified"}}
    assert describe(True, info) == ("dry run on synthetic a and the real data of b "
                                    "(no synthetic generator)")
    assert describe(True, {"b": {"status": "verified"}}) == "dry run on the real data (b; no synthetic generator)"
    assert describe(True, {"a": {"status": "synthetic"}}, ["3 propositions shipped with affrepro"]) == (
        "dry run on synthetic data (a); real inputs: 3 propositions shipped with affrepro")
    assert describe(False, {"b": {"status": "verified"}}) == "real data (b)"


def test_evaluate_dry_run_says_synthetic_in_the_terminal(cli_runner, tmp_path):
    res = cli_runner("evaluate", "sewa-2019", "--dry-run", "--no-track", "-o", str(tmp_path / "ev"))
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "dry run on a synthetic corpus and synthetic predictions (seed 0)" in text
    assert "(dry run on a synthetic corpus" in (tmp_path / "ev" / "evaluation.md").read_text().splitlines()[0]


@pytest.mark.parametrize("args, said", [
    (("--seeds", "0,,1"), "an empty item"), (("--seeds", "-1"), "seed -1 is not an integer"),
    (("--device", "tpu"), "device 'tpu' is not one of cpu, cuda, cuda:N"),
    (("--device", "cuda:"), "is not one of"), (("--device", "cuda"), "sees no CUDA GPU"),
    (("--device", "cuda:1"), "sees no CUDA GPU")])
def test_seeds_and_devices_follow_one_rule(toy, cli_runner, monkeypatch, args, said):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # the same answer on a GPU machine
    res = cli_runner("reproduce", public_toy.SLUG, "--no-track", *args)
    assert res.exit_code == 2 and args[0] in res.output and said in " ".join(res.output.split()), res.output


def test_auto_records_the_device_it_resolved_to(toy, cli_runner, monkeypatch, tmp_path):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    res = cli_runner("reproduce", public_toy.SLUG, "--no-track", "--device", "auto", "-o", str(tmp_path / "o"))
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "o" / "report.json").read_text())["device"] == "cpu"


def test_the_python_api_and_evaluate_use_the_same_rule(toy, cli_runner, tmp_path):
    from affrepro.errors import AffreproError
    from affrepro.runner import reproduce

    with pytest.raises(AffreproError, match="device 'tpu' is not one of"):
        reproduce(public_toy.SLUG, device="tpu", track=False, output_dir=tmp_path / "o")
    import torch

    if not torch.cuda.is_available():  # from Python the protocol decides; the report says so
        report = reproduce(public_toy.SLUG, device="cuda", track=False, output_dir=tmp_path / "c")
        assert report.device == "cuda" and any("sees no CUDA GPU" in w for w in report.warnings)
    res = cli_runner("evaluate", "sewa-2019", "--dry-run", "--no-track", "--seed", "-1")
    assert res.exit_code == 2 and "--seed" in res.output and "seed -1" in res.output, res.output


class _Broken:
    """A paper plugin whose registration fails as a missing optional import would."""

    def __init__(self, card):
        self.card = card

    from affrepro import hookimpl

    @hookimpl
    def register_reproductions(self, register):
        raise ImportError("No module named 'opensmile'")


def test_a_paper_whose_plugin_failed_names_the_plugin_and_why(cli_runner, monkeypatch, tmp_path):
    from affrepro import plugin_manager

    state = plugin_manager.build_plugin_manager(extra_plugins=[("brokenpaper-2023", _Broken(None))],
                                                load_entry_points=False)
    monkeypatch.setattr(plugin_manager, "_STATE", state)
    for args in (("reproduce", "brokenpaper-2023", "--no-track"), ("show", "brokenpaper-2023")):
        res = cli_runner(*args)
        text = " ".join(res.output.split())
        assert res.exit_code == 1 and "plugin 'brokenpaper-2023'" in text, res.output
        assert "failed to load: ImportError: No module named 'opensmile'" in text
    other = " ".join(cli_runner("reproduce", "nosuchpaper-1999", "--no-track").output.split())
    assert "unknown paper 'nosuchpaper-1999'" in other and "1 plugin(s) failed to load" in other


def test_plugins_uninstall_takes_the_name_check_takes(cli_runner, capfd):
    from affrepro import plugin_manager

    state = plugin_manager.get_state()
    state.plugins["toy-ext"] = plugin_manager.PluginInfo(
        name="toy-ext", source="entry point", module="affrepro_toy_ext", distribution="affrepro-toy-ext-absent",
        version="1.0", registered={"reproductions": ["toyext-2020"]})
    res = cli_runner("plugins", "uninstall", "toy-ext")
    # the distribution reaches pip, which has nothing of that name installed here
    assert "toy-ext is provided by the distribution affrepro-toy-ext-absent" in res.output
    pip_said = capfd.readouterr().err  # pip is a real subprocess: its output is on fd 2
    assert "Skipping affrepro-toy-ext-absent as it is not installed" in pip_said
    builtin = cli_runner("plugins", "uninstall", "araus-2022")
    assert builtin.exit_code == 1 and "part of affrepro itself" in builtin.output


def test_a_tracked_run_creates_nothing_in_the_current_folder(toy, cli_runner, tmp_path, monkeypatch,
                                                            tracking_uri):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    res = cli_runner("reproduce", public_toy.SLUG, "--dry-run", "--tracking-uri", tracking_uri)
    assert res.exit_code == 0, res.output
    assert sorted(os.listdir(cwd)) == []
    _, exps = _runs(tracking_uri)  # "Default" included: its artifacts beside the store, not ./mlruns
    beside = Path(tracking_uri[len("sqlite:///"):]).parent.resolve().as_uri()
    assert exps and all(e.artifact_location.startswith(beside + "/") for e in exps.values()), \
        {e.name: e.artifact_location for e in exps.values()}
