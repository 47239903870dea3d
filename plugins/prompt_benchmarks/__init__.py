"""The benchmark data and scorers shared by emotionprompt-2023 and negativeprompt-2024:
Instruction Induction (24 tasks), BIG-Bench (21 tasks) and TruthfulQA as released in
github wangxu0820/NegativePrompt ``data/``; loaders, prompt construction, stimuli and
per-task scorers live in the submodules (imported on first use)."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.audit import DatasetAudit
from affrepro.components import DataFile, Dataset

DATASET = "negativeprompt"


def _synthesize(folder: Path, seed: int) -> None:
    from affrepro.plugins.prompt_benchmarks.synthetic import write_benchmarks

    write_benchmarks(folder, seed)


def dataset() -> Dataset:
    from affrepro.plugins.prompt_benchmarks.files import FILES, RAW

    return Dataset(
        name=DATASET,
        description="Instruction Induction (24 tasks), BIG-Bench subset (21 tasks) and TruthfulQA "
                    "as used by NegativePrompt and EmotionPrompt",
        access="public",
        licence="no licence file in the repository; BIG-Bench and TruthfulQA upstream are Apache-2.0",
        homepage="https://github.com/wangxu0820/NegativePrompt",
        files=tuple(DataFile(name, sha, RAW + name) for name, sha in FILES),
        synthesize=_synthesize,
        audit=DatasetAudit(Path(__file__).with_name("negativeprompt_audit.toml"),
                           "affrepro.plugins.prompt_benchmarks.audits:negativeprompt"),
    )


@hookimpl
def register_datasets(register):
    register(dataset())
