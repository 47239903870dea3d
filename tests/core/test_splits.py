"""Split audits: identity overlap, exact/near duplicates, label shift; with every run."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from affrepro.splits import Partition, audio_fingerprint, audit_partition, normalise_text

sys.path.insert(0, str(Path(__file__).parent))


ROWS = [  # split, speaker, text, label
    ("train", "Ann", "Hello there!", "joy"), ("train", "Bob", "Storm is coming http://t.co/x", "fear"),
    ("train", "Ann", "ok", "neutral"), ("train", "Cy", "Go home", "neutral"),
    ("test", "Ann", "Hello there!", "joy"), ("test", "Dee", "@bob STORM is coming!!", "fear"),
    ("test", "Dee", "fine", "neutral"),
]


def _partition() -> Partition:
    return Partition("toy", "split", [{"split": s, "speaker": sp, "item": t, "label": y} for s, sp, t, y in ROWS],
                     units=("speaker",))


def test_overlap_duplicates_and_label_shift_by_hand():
    a = audit_partition(_partition())
    assert a["splits"] == {"train": 4, "test": 3}
    assert a["units"]["speaker"] == {"distinct": 4, "in_more_than_one_split": 1, "cross_split": {"Ann": ["test", "train"]}}
    dup = a["duplicates"]
    assert dup["cross_split"] == {"Hello there!": ["test", "train"]}
    assert dup["items_with_a_copy_in_another_split"] == {"train": 1, "test": 1}
    # "storm is coming" once the URL, the mention, case and punctuation go
    assert dup["near"]["cross_split"] == {"storm is coming": ["test", "train"]}
    assert dup["near"]["items_with_a_near_copy_in_another_split"] == {"train": 1, "test": 1}
    # train joy/fear/neutral = 1/4, 1/4, 2/4; test = 1/3 each: TV = ½(1/12 + 1/12 + 1/6) = 1/6
    assert a["labels"]["tv_distance_to_other_splits"]["train"] == pytest.approx(1 / 6)
    assert a["labels"]["max_tv_distance"] == pytest.approx(1 / 6)


@pytest.mark.parametrize("raw, norm", [("RT @ann: Flood  WARNING!! https://t.co/a", "flood warning"),
                                       ("Ｆｕｌｌ-width", "full width"), ("  Yeah.  ", "yeah")])
def test_normalise_text(raw, norm):
    assert normalise_text(raw) == norm


def test_audio_fingerprint_sees_the_same_signal_and_not_another():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((48000, 2)) * np.linspace(0.01, 1, 48000)[:, None]
    assert audio_fingerprint(x) == audio_fingerprint(x.copy())
    assert audio_fingerprint(x) == audio_fingerprint(x.astype(np.float32))  # a re-encoded copy
    assert audio_fingerprint(x) != audio_fingerprint(x[::-1])
    assert audio_fingerprint(np.zeros(0)) == "empty"


def test_meld_lists_every_speaker_found_in_more_than_one_split(tmp_path):
    import pandas as pd

    from affrepro.plugins.friends_corpora import synthetic
    from affrepro.plugins.friends_corpora.split_audits import meld

    synthetic.write_meld(tmp_path, 3)
    (p,) = meld(tmp_path)
    a = audit_partition(p)
    frames = {s: pd.read_csv(tmp_path / "source_data" / "MELD" / f"{s}_sent_emo.csv", keep_default_na=False)
              for s in ("train", "dev", "test")}
    where: dict[str, set] = {}
    for s, df in frames.items():
        for sp in set(df["Speaker"]):
            where.setdefault(sp, set()).add(s)
    expected = {sp: sorted(v) for sp, v in where.items() if len(v) > 1}
    assert a["units"]["speaker"]["cross_split"] == expected and expected
    assert a["splits"] == {s: len(df) for s, df in frames.items()}


def test_emorynlp_counts_every_speaker_of_an_utterance(tmp_path):
    import ast

    import pandas as pd

    from affrepro.plugins.friends_corpora import synthetic
    from affrepro.plugins.friends_corpora.split_audits import emorynlp

    synthetic.write_emorynlp(tmp_path, 5)
    (p,) = emorynlp(tmp_path)
    where: dict[str, set] = {}
    for s in ("train", "dev", "test"):
        df = pd.read_csv(tmp_path / "source_data" / "emorynlp" / f"emorynlp_{s}_final.csv", keep_default_na=False)
        for cell in df["Speaker"]:
            for name in ast.literal_eval(cell):
                where.setdefault(name, set()).add(s)
    a = audit_partition(p)
    assert a["units"]["speaker"]["cross_split"] == {k: sorted(v) for k, v in where.items() if len(v) > 1}
    assert a["units"]["speaker"]["distinct"] == len(where)


def _toy_partitions(folder: Path) -> list[Partition]:
    with open(folder / "predictions.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [Partition("halves", "half", [{"half": "a" if i < 50 else "b", "item": f"text {i % 10}",
                                          "label": r["y_true"]} for i, r in enumerate(rows)])]


def test_every_run_reading_the_dataset_reports_its_split_audit(tmp_path):
    import dataclasses

    from affrepro.plugin_manager import build_plugin_manager
    from affrepro.runner import reproduce
    from toy_plugin import SLUG, ToyPlugin, write_card, write_predictions

    from affrepro import hookimpl

    class WithSplits(ToyPlugin):
        @hookimpl
        def register_datasets(self, register):
            def wrapped(ds):
                register(dataclasses.replace(ds, splits="test_splits:_toy_partitions"))
            super().register_datasets(wrapped)

    write_predictions(tmp_path / "d", correct=75)
    state = build_plugin_manager(extra_plugins=[("toy", WithSplits(write_card(tmp_path / "c")))],
                                 load_entry_points=False)
    report = reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "d"}, output_dir=tmp_path / "o",
                       track=False, registries=state.registries)
    (audit,) = report.details["split_audits"]
    (p,) = audit["partitions"]
    assert audit["dataset"] == "toy-licensed" and not audit["synthetic"]
    assert p["duplicates"]["distinct_in_more_than_one_split"] == 10  # "text 0".."text 9" in both halves
    assert "## Split audits" in (tmp_path / "o" / "report.md").read_text()
    tsv = (tmp_path / "o" / "split_audit.tsv").read_text().splitlines()
    assert tsv[0].split("\t") == ["dataset", "partition", "check", "key", "splits", "count"]
    assert sum("exact duplicate (texts)" in line for line in tsv) == 10
    assert json.loads((tmp_path / "o" / "report.json").read_text())["details"]["split_audits"][0]["partitions"]


def test_natural_hazards_grouped_folds_keep_repeated_texts_together(tmp_path):
    """Repeated tweets (same text, other num): the ungrouped folds split them, the protocol's don't."""
    from affrepro.reproductions.natural_hazards_2020.split_audits import natural_hazards
    from affrepro.reproductions.natural_hazards_2020.synthetic import write_corpus

    write_corpus(tmp_path, 0)
    path = tmp_path / "2012Sandy_Summary.csv"
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(keepends=True)))
    header, records = rows[0], rows[1:]
    repeats = [[f"9{i:05d}"] + r[1:] for i, r in enumerate(records[:30])]  # retweets: new num
    import io

    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows([header] + records + repeats)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue()[:-2].encode("utf-8"))

    events, grouped, plain = (audit_partition(p) for p in natural_hazards(tmp_path))
    assert grouped["duplicates"]["distinct_in_more_than_one_split"] == 0
    assert plain["duplicates"]["distinct_in_more_than_one_split"] > 0
    assert sum(events["splits"].values()) == sum(plain["splits"].values()) == sum(grouped["splits"].values())


def test_araus_response_folds_list_participants_and_stimuli_across_folds(tmp_path):
    import pandas as pd

    from affrepro.reproductions.araus_2022.split_audits import araus
    from affrepro.reproductions.araus_2022.synthetic import write_araus

    write_araus(tmp_path, 0)
    (p,) = araus(tmp_path)
    a = audit_partition(p)
    r = pd.read_csv(tmp_path / "data" / "responses.csv")
    for unit in ("participant", "masker"):
        folds = r.groupby(unit)["fold_r"].apply(lambda f: sorted({str(int(x)) for x in f}))
        expected = {k: sorted(v) for k, v in folds.items() if len(v) > 1}
        assert a["units"][unit]["cross_split"] == expected
    assert a["splits"] == {str(k): int(v) for k, v in r["fold_r"].value_counts().items()}


def test_daic_woz_participant_lists(tmp_path):
    from affrepro.reproductions.daic_woz_bias_2024.loaders import read_id_list
    from affrepro.reproductions.daic_woz_bias_2024.split_audits import daic_woz

    header = "row_ID\toriginal_ID\tPHQ8_Score\tcategory\n"
    (tmp_path / "train_IDS.txt").write_text(header + "1\t302\t4\t0\n2\t303\t12\t1\n3\t304\t0\t0\n")
    (tmp_path / "dev_IDS.txt").write_text(header + "1\t303\t12\t1\n2\t310\t15\t1\n")
    (p,) = daic_woz(tmp_path)
    a = audit_partition(p)
    assert len(read_id_list(tmp_path / "dev_IDS.txt")) == a["splits"]["dev"] == 2
    assert a["units"]["participant"]["cross_split"] == {"303": ["dev", "train"]}
    assert a["duplicates"]["kind"] == "interviews" and "near" not in a["duplicates"]
    # train 1/3 depressed vs dev 2/2: TV = |1/3 - 1| = 2/3 for train against dev
    assert a["labels"]["tv_distance_to_other_splits"]["train"] == pytest.approx(2 / 3)
