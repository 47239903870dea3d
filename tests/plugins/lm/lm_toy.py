"""A toy language-model paper for the engine and run tests: it asks the run's model
(ctx.model) one short question per item, logs each sample and measures the share of
answers that name the capital."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction
from affrepro.lm import GenerateRequest, GenerationSettings, LoglikelihoodRequest, Message

SLUG = "toy-lm-2024"
CARD = """\
slug = "toy-lm-2024"
title = "A toy language-model paper"
authors = ["A. Author"]
venue = "Tests"
year = 2024
class = "C"
published_numbers = "retrieved"

[[claims]]
id = "capitals"
description = "share of answers naming the capital, on the embedded model"
source = "Table 1 of the toy paper"
metric = "accuracy"
value = 1.0
higher_is_better = true
tolerance = { absolute = 1.0, why = "the toy checks the plumbing, not the value" }
requires = { llm = true, model = ["smollm2-135m"] }

[[claims]]
id = "capitals-gpt"
description = "the same share, published for another model"
source = "Table 2 of the toy paper"
metric = "accuracy"
value = 0.9
higher_is_better = true
tolerance = { absolute = 0.05, why = "published to two decimals" }
requires = { llm = true, model = ["gpt-3.5-turbo-0613"] }

[[claims]]
id = "paris-likelier"
description = "log P(Paris) − log P(London) after 'The capital of France is'"
source = "Table 3 of the toy paper"
metric = "logprob difference"
value = 4.0
higher_is_better = true
tolerance = { absolute = 10.0, why = "the toy checks the plumbing, not the value" }
requires = { llm = true, capabilities = ["logprobs"] }
"""

ITEMS = [("France", "Paris"), ("Italy", "Rome"), ("Japan", "Tokyo"), ("Spain", "Madrid")]


def write_card(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "paper.toml").write_text(CARD)
    return folder / "paper.toml"


class ToyLM:
    def __init__(self, card_path: Path, question: str = "What is the capital of {}? One word."):
        self.card_path, self.question = Path(card_path), question

    @hookimpl
    def register_reproductions(self, register):
        register(Reproduction(slug=SLUG, card_path=self.card_path, protocol=self.protocol))

    def protocol(self, ctx):
        items = ctx.limited(ITEMS)
        settings = GenerationSettings(max_new_tokens=6)
        reqs = [GenerateRequest(messages=(Message("user", self.question.format(country)),),
                                settings=settings) for country, _ in items]
        answers = ctx.model.generate(reqs)
        hits = 0
        for (country, capital), g in zip(items, answers):
            score = int(capital.lower() in g.text.lower())
            hits += score
            ctx.sample_log("capitals", {"prompt": self.question.format(country),
                                        "answer": g.text, "score": score})
        out = {"capitals": hits / len(items), "capitals-gpt": hits / len(items)}
        if "paris-likelier" in ctx.claims_to_measure:
            paris, london = ctx.model.loglikelihood([
                LoglikelihoodRequest("The capital of France is", " Paris"),
                LoglikelihoodRequest("The capital of France is", " London")])
            out["paris-likelier"] = paris.logprob - london.logprob
        return out


def state_with_toy_lm(card_path: Path, **kw):
    from affrepro.plugin_manager import build_plugin_manager

    return build_plugin_manager(extra_plugins=[("toy-lm", ToyLM(card_path, **kw))], load_entry_points=False)
