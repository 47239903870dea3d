"""redaffectivelm-2023: the authors' token definition on hand-worked headlines, the loader's
refusals, and the published corpus statistics on the mirror."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.errors import MalformedFileError
from affrepro.reproductions.redaffectivelm_2023.loaders import corpus_statistics, read_semeval, tokens
from affrepro.runner import reproduce


def test_tokens_follow_the_authors_script():
    # apostrophes and hyphens are deleted (joining the word), other punctuation too
    assert tokens("Bush's plan: U.S. troops re-deploy, 2008!") == ["bushs", "plan", "us", "troops", "redeploy", "2008"]
    stats = corpus_statistics(["a b", "a c d"], n_documents=2)
    assert stats == {"tokens": 5, "words_per_document": 2.5, "unique_words": 4}


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    from affrepro.reproductions.redaffectivelm_2023.datasets import HEADLINES, LABELS

    np.save(tmp_path / HEADLINES, np.array(["x", None], dtype=object), allow_pickle=True)
    np.save(tmp_path / LABELS, np.ones((2, 5)) / 5)
    with pytest.raises(MalformedFileError, match=HEADLINES):
        read_semeval(tmp_path)


def test_dry_run_uses_the_real_loader(tmp_path, no_mirror):
    report = reproduce("redaffectivelm-2023", dry_run=True, output_dir=tmp_path / "o", track=False)
    assert report.status == "FINISHED", report.error
    assert report.details["alignment"]["headlines"] == 40 and report.details["alignment"]["label_rows"] == 38


def test_published_statistics_and_the_alignment_evidence_on_the_mirror(mirror, tmp_path):
    report = reproduce("redaffectivelm-2023", output_dir=tmp_path / "o", track=False)
    assert [(r.claim.id, r.verdict.value) for r in report.results] == [
        ("semeval2007.tokens", "reproduced"), ("semeval2007.words-per-document", "reproduced"),
        ("semeval2007.unique-words", "reproduced")]
    al = report.details["alignment"]
    assert (al["headlines"], al["label_rows"], al["distinct_headlines"]) == (1250, 1246, 1227)
    # paired by position, the lexicon agrees with the labels barely above chance (25 %)
    assert 0.2 < al["lexicon_argmax_agreement_by_offset"][0]["agreement"] < 0.4
