"""`affrepro models list/fetch` and `reproduce --model/--limit` bad input, through the CLI."""
from __future__ import annotations

import json

from click.testing import CliRunner

from affrepro.cli import cli


def test_models_list_shows_the_backends_and_the_default():
    out = CliRunner().invoke(cli, ["models", "list", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["default"] == "smollm2-135m"
    backends = {b["backend"]: b for b in data["backends"]}
    assert set(backends) >= {"local", "openai"}
    assert [m["name"] for m in backends["local"]["models"]] == ["smollm2-135m"]


def test_models_fetch_returns_the_verified_file(smollm2_folder, models_dir):
    out = CliRunner().invoke(cli, ["models", "fetch", "smollm2-135m"])
    assert out.exit_code == 0, out.output
    assert out.output.strip().splitlines()[-1] == str(models_dir / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf")


def test_fetching_an_unknown_model_lists_the_known_ones():
    out = CliRunner().invoke(cli, ["models", "fetch", "gpt-17"])
    assert out.exit_code != 0 and "unknown model 'gpt-17'" in out.output and "smollm2-135m" in out.output


def test_reproduce_with_an_unknown_model_fails_before_running(tmp_path):
    out = CliRunner().invoke(cli, ["reproduce", "negativeprompt-2024", "--model", "gpt-17", "--no-track",
                                   "-o", str(tmp_path / "o")])
    assert out.exit_code != 0
    assert "unknown model 'gpt-17'" in out.output and "openai:" in out.output
    assert not (tmp_path / "o").exists()


def test_limit_must_be_positive():
    out = CliRunner().invoke(cli, ["reproduce", "negativeprompt-2024", "--limit", "0", "--no-track"])
    assert out.exit_code == 2 and "--limit" in out.output
