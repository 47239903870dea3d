"""Per-task scorers of the Instruction Induction and BIG-Bench tasks, with the semantics
of the released NegativePrompt evaluation (``utility.py``, ``exec_accuracy.py``), written
afresh for affrepro.

Metric per Instruction Induction task: token F1 for common_concept and informal_to_formal,
exact set for taxonomy_animal, word-bounded "contains" for synonyms, exact match for every
other task, where "exact match" carries the task-specific normalisations below. With
several gold answers a prediction gets the best score over them. All comparisons use
:func:`normalize` unless a task says otherwise.

Task-specific exact match (what counts as right):

- sum, diff, antonyms, singular_to_plural, translation_en-{de,es,fr}: the normalised gold
  answer occurs in the normalised prediction;
- sentiment: the label the prediction names ("positive" or "negative"; both -> wrong;
  "pos"/"neg" and a signed number are mapped), compared with the gold label;
- sentence_similarity: some integer in the prediction starts with the gold score's digit;
- larger_animal: the text before "larger … than" and before "confidence" contains the
  gold animal or its last word;
- orthography_starts_with: the set of words (punctuation, digits and "confidence score:"
  removed) equals the set of gold words; letters_list: the same word LIST;
- word_in_context: the first word, or else the text, is mapped onto "same"/"not the same";
- cause_and_effect: the prediction contains the cause sentence (without its period) or
  names its position "sentence k";
- rhymes: some word of the prediction is the gold rhyme;
- first_word_letter, second_word_letter: after a word-bounded "is" or "would be" the gold
  letter occurs; otherwise exact match.

Deviations from the released code, recorded here: model-specific branches for T5/Bloom/Bard
in larger_animal and its "0"/"1" digit fall-backs are not reproduced; "is"/"would be" are
matched as words, not substrings; "contains" escapes the gold answer before using it as a
regular expression. BIG-Bench: a multiple-choice prediction is right when, normalised, it
equals one of the highest-scoring options (or one of the ``target`` strings for generative
tasks) — the released repository has no BIG-Bench scorer of its own.
"""
from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

from affrepro.plugins.prompt_benchmarks.loaders import Example

TASK_METRIC = {"common_concept": "f1", "informal_to_formal": "f1", "taxonomy_animal": "exact_set",
               "synonyms": "contains"}
DEFAULT_METRIC = "exact_match"
CONTAINS_TASKS = {"sum", "diff", "antonyms", "singular_to_plural", "translation_en-de",
                  "translation_en-es", "translation_en-fr"}
_PUNCT = str.maketrans("", "", string.punctuation)
_CONTRACTIONS = (("don't", "do not"), ("can't", "cannot"), ("doesn't", "does not"),
                 ("wasn't", "was not"), ("weren't", "were not"))


def normalize(text: str, lowercase: bool = True) -> str:
    """' and ' -> ' ', drop "Sentence 1:"/"Sentence 2:", expand five contractions, strip,
    keep the first line and the text before the first '.', lower-case, '-' -> ' ', and
    remove ASCII punctuation."""
    t = text.replace(" and ", " ").replace("Sentence 1:", " ").replace("Sentence 2:", " ")
    for short, long in _CONTRACTIONS:
        t = t.replace(short, long)
    t = t.strip().split("\n")[0].split(".")[0]
    if lowercase:
        t = t.lower()
    return t.replace("-", " ").translate(_PUNCT)


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize(prediction) == normalize(gold))


def contains_normalized(prediction: str, gold: str) -> float:
    return float(normalize(gold) in normalize(prediction))


def contains_word(prediction: str, gold: str) -> float:
    g = normalize(gold)
    return float(bool(g) and re.search(rf"\b({re.escape(g)})\b", normalize(prediction)) is not None)


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD-style token F1 of the normalised texts."""
    p, g = normalize(prediction).split(), normalize(gold).split()
    same = sum((Counter(p) & Counter(g)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)


def exact_set(prediction: str, gold: str) -> float:
    """The set of normalised words equals the gold's (gold given as words or as a
    comma-separated list)."""
    p = set(normalize(prediction).split())
    if p == set(normalize(gold).split()):
        return 1.0
    return float(p == {normalize(g).strip() for g in gold.split(",")})


def _clean_words(prediction: str) -> list[str]:
    t = prediction.lower().replace("confidence score:", "").replace("score:", "")
    for ch in ",.-":
        t = t.replace(ch, " ")
    t = re.sub(r"\d+", "", t.translate(_PUNCT))
    return t.split()


def _sentiment_label(prediction: str) -> str:
    t = prediction.replace("-", " ").translate(_PUNCT).strip().lower()
    if "positive" in t and "negative" in t:
        return ""
    if "positiv" in t:
        return "positive"
    if "negativ" in t:
        return "negative"
    first = t.split()[0] if t.split() else ""
    if first in ("pos", "neg"):
        return {"pos": "positive", "neg": "negative"}[first]
    if re.fullmatch(r"-?\d+", first):
        return "positive" if int(first) > 0 else "negative"
    return t


def _word_in_context_label(prediction: str) -> str:
    t = prediction.strip().lower()
    words = t.split()
    if not words:
        return t
    p = words[0].replace("-", " ").translate(_PUNCT).strip()
    if p in ("true", "yes", "1", "10", "match", "similar") or "same" in p:
        return "same"
    if p in ("false", "no", "0", "00", "not", "opposite") or "different" in p:
        return "not the same"
    if "different" in t:
        return "same" if "not" in t else "not the same"
    if "same" in t:
        return "not the same" if "not" in t else "same"
    return t


def _larger_animal(prediction: str, gold: str) -> float:
    t = prediction.lower()
    if "larger" in t and "than" in t:
        t = t[: t.find("larger")]
    if "confidence" in t:
        t = t[: t.find("confidence")].strip()
    g = gold.strip().lower()
    return float(g in t or (len(g.split()) > 1 and g.split()[-1] in t))


def _cause_and_effect(prediction: str, gold: str, example: Example | None) -> float:
    p = prediction.lower()
    if gold.strip().lower().replace(".", "") in p:
        return 1.0
    if example is not None:
        m = re.match(r"Sentence 1: (.*) Sentence 2: (.*)$", example.input)
        if m:
            k = 1 if m.group(1).strip() == gold.strip() else 2
            return float(re.search(rf"\bsentence {k}\b", p) is not None)
    return 0.0


def _word_letter(prediction: str, gold: str) -> float:
    m = re.search(r"\b(is|would be)\b(.+)$", prediction, flags=re.S)
    if m:
        return contains_normalized(m.group(2), gold)
    return exact_match(prediction, gold)


def task_exact_match(task: str, prediction: str, gold: str, example: Example | None = None) -> float:
    """Exact match with the task's normalisation (see the module docstring)."""
    if task in CONTAINS_TASKS:
        return contains_normalized(prediction, gold)
    if task == "sentiment":
        return float(gold in _sentiment_label(prediction))
    if task == "sentence_similarity":
        want = gold.split()[0] if gold.split() else ""
        t = prediction.replace("-", " ").translate(_PUNCT).strip().lower()
        return float(any(w.isdigit() and w[0] == want for w in t.split()))
    if task == "larger_animal":
        return _larger_animal(prediction, gold)
    if task == "orthography_starts_with":
        return float(set(_clean_words(prediction)) == set(gold.split()))
    if task == "letters_list":
        return float(_clean_words(prediction) == gold.split())
    if task == "word_in_context":
        return float(_word_in_context_label(prediction) == gold)
    if task == "cause_and_effect":
        return _cause_and_effect(prediction, gold, example)
    if task == "rhymes":
        g = normalize(gold)
        return float(any(w == g for w in normalize(prediction).split()))
    if task in ("first_word_letter", "second_word_letter"):
        return _word_letter(prediction, gold)
    return exact_match(prediction, gold)


def metric_of(task: str) -> str:
    return TASK_METRIC.get(task, DEFAULT_METRIC)


def score_example(task: str, prediction: str, example: Example) -> float:
    """Score of one prediction: best over the example's gold answers."""
    metric = metric_of(task)
    if metric == "f1":
        fn = token_f1
    elif metric == "exact_set":
        fn = exact_set
    elif metric == "contains":
        fn = contains_word
    else:
        return max((task_exact_match(task, prediction, a, example) for a in example.answers), default=0.0)
    return max((fn(prediction, a) for a in example.answers), default=0.0)


def score_task(task: str, predictions: Sequence[str], examples: Sequence[Example]) -> float:
    """Mean score over a task's examples (the paper's per-task number)."""
    if len(predictions) != len(examples):
        raise ValueError(f"{len(predictions)} predictions for {len(examples)} examples")
    if not examples:
        raise ValueError("no examples")
    return sum(score_example(task, p, e) for p, e in zip(predictions, examples)) / len(examples)


def score_bigbench_example(prediction: str, example: Example) -> float:
    p = normalize(prediction)
    return float(any(p == normalize(a) for a in example.answers))


def score_bigbench(predictions: Sequence[str], examples: Sequence[Example]) -> float:
    if len(predictions) != len(examples) or not examples:
        raise ValueError("one prediction per example, at least one example")
    return sum(score_bigbench_example(p, e) for p, e in zip(predictions, examples)) / len(examples)


def relative_gain(base: dict[str, float], treated: dict[str, float], how: str = "mean_of_ratios") -> float:
    """Relative gain in percent of a stimulus over the stimulus-free prompt across tasks.

    ``mean_of_ratios``: mean over tasks of 100·(treated − base)/base (tasks with base 0
    are left out); ``ratio_of_means``: 100·(mean treated − mean base)/mean base. The
    papers do not say which they use; both are reported.
    """
    from affrepro.plugins.stats.functions import relative_gain_percent

    tasks = sorted(set(base) & set(treated))
    if not tasks:
        raise ValueError("no task scored under both prompts")
    if how == "mean_of_ratios":
        gains = [100.0 * (treated[t] - base[t]) / abs(base[t]) for t in tasks if base[t] != 0]
        if not gains:
            raise ValueError("every baseline task score is 0")
        return sum(gains) / len(gains)
    if how == "ratio_of_means":
        b = sum(base[t] for t in tasks) / len(tasks)
        s = sum(treated[t] for t in tasks) / len(tasks)
        return relative_gain_percent(b, s)
    raise ValueError("how is 'mean_of_ratios' or 'ratio_of_means'")
