"""Loader for the released per-image probability files of affectnet-vad-2026
(github jbcnrlz/affectnet-b-annotation): ``{train_set,val_set}/annotations/<id>_prob_rank.txt``
(15 comma-separated probabilities over the extended term set) and
``<id>_prob_rank_universal.txt`` (8: the 7 basic emotions and neutral, in
:data:`relabel.UNIVERSAL_ORDER`), one line each, 6 decimals."""
from __future__ import annotations

import re
from pathlib import Path

from affrepro.components import Problem

SPLITS = ("train_set", "val_set")
FILE_RE = re.compile(r"^(\d+)_prob_rank(_universal)?\.txt$")
N_VALUES = {"rank": 15, "universal": 8}
SUM_TOLERANCE = 1e-3  # 6 printed decimals on up to 15 values


def read_prob_file(path: Path) -> list[float]:
    """The probabilities of one file; ValueError (naming the file) when it is malformed."""
    m = FILE_RE.match(Path(path).name)
    if not m:
        raise ValueError(f"{path}: not <id>_prob_rank[_universal].txt")
    kind = "universal" if m.group(2) else "rank"
    text = Path(path).read_text(encoding="utf-8").strip()
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"{path}: not comma-separated numbers: {text[:60]!r}") from None
    if len(values) != N_VALUES[kind]:
        raise ValueError(f"{path}: expected {N_VALUES[kind]} values, got {len(values)}")
    if any(v < 0 or v != v for v in values):
        raise ValueError(f"{path}: negative or NaN probability")
    if abs(sum(values) - 1.0) > SUM_TOLERANCE:
        raise ValueError(f"{path}: probabilities sum to {sum(values):.6f}, not 1")
    return values


def load_split(root: Path, split: str, kind: str = "universal") -> dict[str, list[float]]:
    """image id -> probabilities for one split and kind ("universal" or "rank")."""
    folder = Path(root) / split / "annotations"
    suffix = "_prob_rank_universal.txt" if kind == "universal" else "_prob_rank.txt"
    out = {}
    for path in sorted(folder.glob(f"*{suffix}")):
        m = FILE_RE.match(path.name)
        if m and (kind == "universal") == bool(m.group(2)):
            out[m.group(1)] = read_prob_file(path)
    return out


def verify(root: Path) -> list[Problem]:
    root = Path(root)
    problems: list[Problem] = []
    for split in SPLITS:
        folder = root / split / "annotations"
        if not folder.is_dir():
            problems.append(Problem(f"{split}/annotations", "missing folder"))
            continue
        for path in sorted(folder.glob("*_prob_rank*.txt")):
            try:
                read_prob_file(path)
            except ValueError as exc:
                problems.append(Problem(f"{split}/annotations/{path.name}", str(exc).split(": ", 1)[-1]))
    return problems
