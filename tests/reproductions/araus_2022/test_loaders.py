"""The araus, araus-soundscapes and isd datasets: the synthetic corpora verify, the real
public files load and verify through the mirror, and bad input is named by file, line
and column."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from affrepro import data as datamod
from affrepro.errors import MalformedFileError
from affrepro.reproductions.araus_2022 import columns as C
from affrepro.reproductions.araus_2022.datasets import ARAUS, ARAUS_SOUNDSCAPES, ISD, ISD_FILE
from affrepro.reproductions.araus_2022.isd import load_isd, verify_isd
from affrepro.reproductions.araus_2022.loaders import (
    SYNTHETIC_MARKER, check_wav, read, read_soundscapes_file, verify_araus)
from affrepro.reproductions.araus_2022.synthetic import write_araus, write_isd


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("araus")
    write_araus(root, seed=0)
    return root


@pytest.fixture
def copy(synthetic, tmp_path) -> Path:
    dst = tmp_path / "araus"
    shutil.copytree(synthetic, dst)
    return dst


def edit(root: Path, table: str, fn) -> None:
    path = root / "data" / f"{table}.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(df)
    df.to_csv(path, index=False)


def messages(problems) -> list[str]:
    return [str(p) for p in problems]


# -- synthetic corpus ------------------------------------------------------------------

def test_the_synthetic_corpus_has_the_real_layout_and_verifies(synthetic):
    assert verify_araus(synthetic) == []
    assert datamod.verify(ARAUS, synthetic) == []
    r = read(synthetic, "responses")
    assert tuple(r.columns) == C.RESPONSE_COLUMNS
    assert tuple(read(synthetic, "soundscapes").columns) == C.SOUNDSCAPE_COLUMNS
    assert tuple(read(synthetic, "maskers").columns) == C.MASKER_COLUMNS
    assert tuple(read(synthetic, "participants").columns) == C.PARTICIPANT_COLUMNS
    per_participant = r.groupby("participant").size()
    folds = r[r["fold_r"] >= 0].groupby("participant")["fold_r"].first()
    assert set(per_participant[folds == 0]) == {51} and set(per_participant[folds > 0]) == {45}
    assert r[r["fold_r"] == 0].groupby(["soundscape", "masker", "smr"]).ngroups == 48
    att = r[r["is_attention"] == 1]
    assert (att["fold_r"] == -1).all() and (att[list(C.RATINGS)] == 3).all().all()


def test_the_synthetic_corpus_is_deterministic_per_seed(tmp_path):
    write_araus(tmp_path / "a", 3)
    write_araus(tmp_path / "b", 3)
    a = (tmp_path / "a" / "data" / "responses.csv").read_bytes()
    assert a == (tmp_path / "b" / "data" / "responses.csv").read_bytes()


def test_release_counts_are_checked_without_the_synthetic_marker(copy):
    (copy / SYNTHETIC_MARKER).unlink()
    found = messages(verify_araus(copy))
    assert any("responses.csv: 930 data rows; the ARAUSv1 release has 27255" in m for m in found)
    assert any("fold 1 has" in m and "5040" in m for m in found)


# -- bad input -------------------------------------------------------------------------

def test_a_missing_column_is_named(copy):
    edit(copy, "responses", lambda df: df.__delitem__("calm") or df.__delitem__("M00005_0_r"))
    found = verify_araus(copy)
    assert found[0].line == 1 and "calm" in found[0].message and "M00005_0_r" in found[0].message
    with pytest.raises(MalformedFileError, match=r"responses\.csv, line 1: missing column\(s\): calm"):
        read(copy, "responses")


def test_a_rating_outside_1_to_5_names_file_line_and_column(copy):
    edit(copy, "responses", lambda df: df.__setitem__("pleasant", df["pleasant"].where(df.index != 9, "7")))
    (p,) = [p for p in verify_araus(copy) if p.column == "pleasant"]
    assert p.path.endswith("data/responses.csv") and p.line == 11 and "outside" in p.message
    with pytest.raises(MalformedFileError, match=r"responses\.csv, line 11, column pleasant: 7 is outside"):
        read(copy, "responses")


def test_a_non_integer_rating_and_a_non_number_are_refused(copy):
    def bad(df):
        df.loc[2, "calm"] = "3.5"
        df.loc[4, "LAavg_r"] = "loud"
    edit(copy, "responses", bad)
    found = {(p.line, p.column): p.message for p in verify_araus(copy)}
    assert "not an integer" in found[(4, "calm")]
    assert "'loud' is not a number" in found[(6, "LAavg_r")]


def test_folds_outside_minus_one_to_seven_and_bad_smr(copy):
    def bad(df):
        df.loc[0, "fold_r"] = "8"
        df.loc[1, "smr"] = "2"
    edit(copy, "responses", bad)
    found = {(p.line, p.column, p.message) for p in verify_araus(copy)}
    assert (2, "fold_r", "8 is outside a fold in -1…7") in found
    assert (3, "smr", "2 is outside an SMR in {-6, -3, 0, 3, 6} dB") in found


def test_cross_table_fold_mismatch_and_unknown_masker(copy):
    def bad(df):
        i = df.index[df["fold_r"] == "2"][0]
        df.loc[i, "fold_r"] = "3"
        j = df.index[df["fold_r"] == "1"][0]
        df.loc[j, "masker"] = "bird_99999.wav"
    edit(copy, "responses", bad)
    text = "\n".join(messages(verify_araus(copy)))
    assert "differs from fold_s 2" in text
    assert "masker 'bird_99999.wav' is not in data/maskers.csv" in text
    assert "has responses in several folds" in text


def test_a_missing_table_is_listed(copy):
    (copy / "data" / "maskers.csv").unlink()
    assert any(p.path.endswith("data/maskers.csv") and p.message == "missing" for p in verify_araus(copy))


def test_missing_wavs_referenced_by_responses_name_the_row(copy):
    (copy / "soundscapes").mkdir()
    found = [p for p in verify_araus(copy) if p.column == "soundscape"]
    assert found and all(p.path.endswith("data/responses.csv") for p in found)
    assert found[0].line == 2 and "R0091_segment_binaural_44100_1.wav, which is missing" in found[0].message


def test_wavs_with_wrong_rate_channels_or_length(tmp_path):
    import soundfile as sf

    good = tmp_path / "good.wav"
    sf.write(good, np.zeros((441, 2)), 44100)
    assert check_wav(good, 2, seconds=0.01) == []
    rate = tmp_path / "rate.wav"
    sf.write(rate, np.zeros((480, 2)), 48000)
    assert "sample rate 48000 Hz; expected 44100 Hz" in str(check_wav(rate, 2, seconds=None)[0])
    mono = tmp_path / "mono.wav"
    sf.write(mono, np.zeros(441), 44100)
    assert "1 channel(s); expected binaural" in str(check_wav(mono, 2, seconds=None)[0])
    assert "0.010 s long; expected 30 s" in str(check_wav(good, 2)[0])
    junk = tmp_path / "junk.wav"
    junk.write_text("not audio")
    assert "not a readable WAV" in str(check_wav(junk, 1)[0])


# -- araus-soundscapes (public, real) --------------------------------------------------

def test_the_real_soundscapes_csv_fetches_from_the_mirror_and_verifies(mirror, registries):
    ds = registries.datasets.get("araus-soundscapes")
    assert ds.mirror_dir == "araus" and ds.access == "public"
    assert ds.files[0].url.startswith("https://raw.githubusercontent.com/amaiasagasti/")
    result = datamod.fetch(ds)
    assert result.fetched == ["soundscapes.csv"]
    assert datamod.verify(ds) == []
    df = read_soundscapes_file(result.path / "soundscapes.csv")
    assert df.shape == (247, 145) and tuple(df.columns) == C.SOUNDSCAPE_COLUMNS
    assert df["fold_s"].value_counts().sort_index().to_dict() == {-1: 7, 0: 6, 1: 45, 2: 48, 3: 46, 4: 47, 5: 48}


def test_a_corrupted_soundscapes_csv_names_line_and_column(mirror, tmp_path):
    lines = (mirror / "araus" / "soundscapes.csv").read_text().splitlines()
    cells = lines[5].split(",")
    cells[1] = "9"  # fold_s
    lines[5] = ",".join(cells)
    bad = tmp_path / "soundscapes.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(MalformedFileError, match=r"soundscapes\.csv, line 6, column fold_s: 9 is outside"):
        read_soundscapes_file(bad)
    assert datamod.verify(ARAUS_SOUNDSCAPES, tmp_path)[0].message.startswith("checksum mismatch: sha256 ")


# -- isd (public, real) ----------------------------------------------------------------

def test_the_real_isd_fetches_verifies_and_loads(mirror, registries):
    ds = registries.datasets.get("isd")
    assert ds.files[0].url == "https://zenodo.org/records/10639661/files/ISD%20v1.0%20Data.csv"
    datamod.fetch(ds)
    assert datamod.verify(ds) == []
    df = load_isd(datamod.dataset_path(ds) / ISD_FILE)
    assert len(df) == 3589 and df["LocationID"].nunique() == 26
    assert int(df["pleasantness"].isna().sum()) == 37  # responses with a missing PAQ
    assert df["pleasantness"].between(-1, 1).all() or df["pleasantness"].dropna().between(-1, 1).all()


def test_the_synthetic_isd_verifies_and_bad_paqs_are_named(tmp_path):
    write_isd(tmp_path, 0)
    path = tmp_path / ISD_FILE
    assert verify_isd(path) == []
    assert datamod.verify(ISD, tmp_path)[0].message.startswith("checksum mismatch: sha256 ")  # not the real file
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[7, "annoying"] = "6"
    df.to_csv(path, index=False)
    with pytest.raises(MalformedFileError, match=r"Data\.csv, line 9, column annoying: 6 is outside"):
        load_isd(path)


def test_attention_stimuli_must_be_fold_minus_one_with_all_ratings_3(copy):
    def bad(df):
        i = df.index[df["is_attention"] == "1"][0]
        df.loc[i, "calm"] = "4"
    edit(copy, "responses", bad)
    found = [p for p in verify_araus(copy) if p.column == "is_attention"]
    assert len(found) == 1 and "ratings are not all 3" in found[0].message


def test_downloaded_archives_are_checked_against_the_authors_sha512(copy):
    from affrepro import data as datamod
    from affrepro.reproductions.araus_2022.datasets import ARAUS

    (copy / "data.zip").write_bytes(b"not the archive")
    (p,) = [p for p in datamod.verify(ARAUS, copy) if p.path.endswith("data.zip")]
    assert p.message.startswith("checksum mismatch: sha512 ") and "expected 94b4a166bc3b0420" in p.message
    (copy / "binaural.zip").write_bytes(b"not the archive either")
    (p,) = [p for p in verify_araus(copy) if p.path.endswith("binaural.zip")]
    assert "expected b9ea99b1e66ef8c2" in p.message and "zenodo.org" in p.message


def test_blank_indicators_outside_the_elasticnet_predictors_are_allowed(copy):
    def blanks(df):
        df.loc[0, "Sargmax_r"] = ""
        df.loc[1, "Leq_L_r"] = "-inf"
        df.loc[2, "Savg_r"] = ""
    edit(copy, "responses", blanks)
    found = verify_araus(copy)
    assert [(p.line, p.column) for p in found] == [(4, "Savg_r")]
