"""Regenerate the parts of docs/plugin-api.md that come from the code: the RunContext API
(every public method and property, from its signature and docstring, and every field) and
every paper.toml key (affrepro.card.CARD_KEYS, the table the card parser checks against).

    python tools/plugin_docs.py          # rewrite
    python tools/plugin_docs.py --check  # exit 1 if the page is stale

tests/test_plugin_docs.py runs the check.
"""
from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parents[1] / "docs" / "plugin-api.md"
SECTIONS = ("run-context", "paper-toml")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _signature(func) -> str:
    """``(name: type, ...) -> type`` as written in the source (annotations are strings)."""
    sig = inspect.signature(func)
    params = []
    for p in list(sig.parameters.values())[1:]:  # without self
        text = p.name if p.annotation is p.empty else f"{p.name}: {p.annotation}"
        if p.default is not p.empty:
            text += f" = {p.default!r}"
        params.append(text)
    ret = "" if sig.return_annotation is sig.empty else f" -> {sig.return_annotation}"
    return f"({', '.join(params)}){ret}"


def run_context_md() -> str:
    from affrepro.components import RUN_CONTEXT_FIELDS, RunContext

    out = ["| field | type | what it is |", "|---|---|---|"]
    fields = [f for f in dataclasses.fields(RunContext) if not f.name.startswith("_")]
    for f in fields:
        typ = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        out.append(f"| `{f.name}` | `{_cell(typ)}` | {_cell(RUN_CONTEXT_FIELDS[f.name])} |")
    out.append("")
    names = {f.name for f in fields}
    for name, obj in RunContext.__dict__.items():
        if name.startswith("_") or name in names or not (callable(obj) or isinstance(obj, property)):
            continue
        func = obj.fget if isinstance(obj, property) else obj
        doc = inspect.getdoc(func)
        if not doc:
            raise SystemExit(f"RunContext.{name} has no docstring: the plugin API page is made from it")
        if isinstance(obj, property):
            head = f"### `ctx.{name}` (property)"
        else:
            head = f"### `ctx.{name}{_signature(func)}`"
        out += [head, "", doc, ""]
    return "\n".join(out)


def paper_toml_md() -> str:
    from affrepro.card import CARD_KEYS, OPEN_TABLES

    out = ["| key | type | required | example | meaning |", "|---|---|---|---|---|"]
    for k in CARD_KEYS:
        parent = k.path.rsplit(".", 1)[0] if "." in k.path else ""
        required = ("yes" if not parent or parent == "claims[]" else f"in [{parent}]") if k.required else "no"
        example = f"`{_cell(k.example)}`" if k.example else ""
        out.append(f"| `{k.path}` | {k.type} | {required} | {example} | {_cell(k.doc)} |")
    out += ["", "Any other key is refused with its name, except under "
            + ", ".join(f"`[{t}]`" for t in OPEN_TABLES)
            + ", which holds the paper's own protocol settings (read as `ctx.card.raw[\"protocol\"]`)."]
    return "\n".join(out)


def render(text: str) -> str:
    for name, body in (("run-context", run_context_md()), ("paper-toml", paper_toml_md())):
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if start not in text:
            raise SystemExit(f"{PAGE}: no {start} marker")
        text = re.sub(re.escape(start) + r".*?" + re.escape(end),
                      lambda m: f"{start}\n{body}\n{end}", text, flags=re.S)
    return text


def main() -> int:
    text = PAGE.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in sys.argv:
        return 0 if new == text else 1
    PAGE.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
