"""Prompt construction for EmotionPrompt / NegativePrompt.

The released NegativePrompt code builds every query from one template:

    few-shot:   "Instruction: {prompt}\\n\\n{demos}\\nInput: {input}\\nAnswer: "
    zero-shot:  the same template with the demonstrations empty, so three line breaks:
                "Instruction: {prompt}\\n\\n\\nInput: {input}\\nAnswer: " (main.py sets
                ``eval_template`` to the few-shot template for both settings, and
                ``EvalTemplate.fill`` puts '' where ``[full_DEMO]`` was)
    demos:      "Input: {x}\\nOutput: {y}" for 5 demonstrations drawn from the task's
                "induce" split (one gold answer each), joined by "\\n\\n"

and ``prompt = instruction + stimulus`` concatenated WITHOUT a separator (``ori_prompt +
Negative_SET[i]``), so "…the input word.You've never…". affrepro does the same by default
(``joiner=""``) and records the choice; ``joiner=" "`` is the obvious alternative.
Test size per task: min(100, n) examples sampled without replacement.
"""
from __future__ import annotations

import random
from collections.abc import Sequence

from affrepro.plugins.prompt_benchmarks.loaders import Example

#: Instruction Induction task instructions used as the base prompts (authors' config.py,
#: PROMPT_SET).
INSTRUCTIONS: dict[str, str] = {
    "sentiment": "Determine whether a movie review is positive or negative.",
    "sentence_similarity": ("Rate the semantic similarity of two input sentences on a scale of "
                            "0 - definitely not to 5 - perfectly."),
    "larger_animal": "Write the larger of the two given animals.",
    "sum": "Sum the two given numbers.",
    "orthography_starts_with": "Extract the words starting with a given letter from the input sentence.",
    "word_in_context": "Determine whether an input word has the same meaning in the two input sentences.",
    "cause_and_effect": "Find which of the two given cause and effect sentences is the cause.",
    "second_word_letter": "Extract the second letter of the input word.",
    "first_word_letter": "Extract the first letter of the input word.",
    "letters_list": "Break the input word into letters, separated by spaces.",
    "singular_to_plural": "Convert the input word to its plural form.",
    "active_to_passive": "Write the input sentence in passive form.",
    "negation": "Negate the input sentence.",
    "taxonomy_animal": "Write all the animals that appear in the given list.",
    "rhymes": "Write a word that rhymes with the input word.",
    "diff": "Subtract the second number from the first.",
    "num_to_verbal": "Write the number in English words.",
    "translation_en-de": "Translate the word into German.",
    "translation_en-es": "Translate the word into Spanish.",
    "translation_en-fr": "Translate the word into French.",
    "antonyms": "Write a word that means the opposite of the input word.",
    "synonyms": "Write a word with a similar meaning to the input word.",
    "common_concept": "Find a common characteristic for the given objects.",
    "informal_to_formal": "Rephrase the sentence in formal language.",
}

DEFAULT_JOINER = ""  # the released code: instruction + stimulus, no space
TEST_SIZE = 100
N_DEMOS = 5


def with_stimulus(instruction: str, stimulus: str | None, joiner: str = DEFAULT_JOINER) -> str:
    """The prompt: the instruction followed by the stimulus (none: the instruction alone)."""
    return instruction if not stimulus else f"{instruction}{joiner}{stimulus}"


def format_demos(demos: Sequence[tuple[str, str]]) -> str:
    return "\n\n".join(f"Input: {x}\nOutput: {y}" for x, y in demos)


def build_query(prompt: str, input_: str, demos: Sequence[tuple[str, str]] | None = None) -> str:
    """One query in the released template, few-shot or zero-shot (no demos: an empty
    demonstration block, as the released code leaves it)."""
    return f"Instruction: {prompt}\n\n{format_demos(demos) if demos else ''}\nInput: {input_}\nAnswer: "


def sample_demos(induce: Sequence[Example], rng: random.Random, k: int = N_DEMOS) -> list[tuple[str, str]]:
    """k demonstrations from the induce split, one randomly chosen gold answer each."""
    picked = rng.sample(list(induce), min(k, len(induce)))
    return [(ex.input, rng.choice(ex.answers)) for ex in picked]


def test_subset(examples: Sequence[Example], rng: random.Random, size: int = TEST_SIZE) -> list[Example]:
    """min(size, n) test examples sampled without replacement."""
    return rng.sample(list(examples), min(size, len(examples)))


def build_queries(task: str, test: Sequence[Example], induce: Sequence[Example],
                  stimulus: str | None, few_shot: bool, seed: int = 0,
                  joiner: str = DEFAULT_JOINER, size: int = TEST_SIZE) -> list[tuple[str, Example]]:
    """(query, example) pairs for one Instruction Induction task and one stimulus; the
    same seed gives the same test subset and demonstrations for every stimulus, so that
    the comparison with the stimulus-free prompt is paired."""
    rng = random.Random(seed)
    subset = test_subset(test, rng, size)
    prompt = with_stimulus(INSTRUCTIONS[task], stimulus, joiner)
    out = []
    for ex in subset:
        demos = sample_demos(induce, rng) if few_shot else None
        out.append((build_query(prompt, ex.input, demos), ex))
    return out
