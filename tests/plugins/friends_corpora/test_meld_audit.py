"""MELD and EmoryNLP audits on the mirrored CSVs, and the emotion-shift definitions on a
hand-worked dialogue."""
from __future__ import annotations

import pytest

from affrepro.plugins.friends_corpora.audits import emotion_shifts


def test_emotion_shift_definitions_on_a_hand_worked_dialogue():
    speakers = ["A", "B", "A", "A", "B"]
    emotions = ["joy", "joy", "anger", "anger", "sadness"]
    # same speaker: A joy->anger (1), A anger->anger (0), B joy->sadness (1) = 2
    # consecutive: joy->joy 0, joy->anger 1, anger->anger 0, anger->sadness 1 = 2, both across speakers
    assert emotion_shifts(speakers, emotions) == {"same speaker": 2, "consecutive": 2,
                                                  "consecutive, speaker changes": 2}
    assert emotion_shifts(["A", "A"], ["joy", "fear"]) == {"same speaker": 1, "consecutive": 1,
                                                          "consecutive, speaker changes": 0}


@pytest.fixture
def audited(mirror, registries):
    from affrepro.audit import audit_dataset

    def run(name, tmp):
        rep = audit_dataset(registries.datasets.get(name), None, tmp)
        return {r.claim.id: r for r in rep.results}, rep
    return run


def test_meld_audit_on_the_mirror(audited, tmp_path):
    res, rep = audited("meld", tmp_path)
    assert rep.status == "FINISHED" and len(res) == 45
    for split, n in (("train", 9989), ("dev", 1109), ("test", 2610)):
        assert res[f"{split}.utterances"].measured == n
        assert res[f"{split}.utterances"].verdict.value == "reproduced"
    assert all(res[f"{s}.emotion.{e}"].verdict.value == "reproduced" for s in ("train", "dev", "test")
               for e in ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"))
    # the copy lacks train dialogue 60: 1,038 dialogues, not the README's 1,039
    assert res["train.dialogues"].measured == 1038 and "[60]" in res["train.dialogues"].reason
    assert res["dev.emotion-shifts"].measured == 427 and res["test.emotion-shifts"].measured == 1003
    assert res["train.unique-words"].verdict.value == "not reproduced"
    assert "definitions tried" in res["train.unique-words"].reason


def test_emorynlp_audit_on_the_mirror(audited, tmp_path):
    res, rep = audited("emorynlp", tmp_path)
    assert [res[f"{s}.dialogues"].measured for s in ("train", "dev", "test")] == [659, 89, 79]
    assert [res[f"{s}.utterances"].measured for s in ("train", "dev", "test")] == [7551, 954, 984]
    assert res["train.speakers"].verdict.value == "not reproduced"
