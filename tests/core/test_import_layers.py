"""The import layers, read from the source (every import, function-local ones included;
those under ``if TYPE_CHECKING:`` only name types and are left out):

- the core (``affrepro.*`` from core/) never imports ``affrepro.plugins`` or
  ``affrepro.reproductions``, and names no module of theirs in a string either;
- the kernels import nothing of affrepro but ``affrepro.errors`` (and each other);
- no cycle among affrepro's modules.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {"affrepro": "core", "affrepro.kernels": "kernels", "affrepro.plugins": "plugins",
           "affrepro.reproductions": "reproductions"}
UPPER = ("affrepro.plugins", "affrepro.reproductions")
MODULE_STRING = re.compile(r"^affrepro\.(plugins|reproductions)(\.\w+)*(:\w+)?$")


def modules(root: Path = ROOT, folders: dict[str, str] = FOLDERS) -> dict[str, Path]:
    """Import name -> source file, for every module under the package-dir mapping."""
    found = {}
    for package, folder in folders.items():
        base = root / folder
        for path in base.rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(n) for n in ast.walk(child))
    return skipped


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The affrepro modules ``name`` imports (the deepest known module of each import)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    targets = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([module] if module else []))
            targets += [f"{module}.{a.name}" if f"{module}.{a.name}" in known else module
                        for a in node.names]
    found = set()
    for target in targets:
        while target not in known and "." in target:
            target = target.rsplit(".", 1)[0]
        if target in known and target != name:
            found.add(target)
    return found


def graph(root: Path = ROOT, folders: dict[str, str] = FOLDERS) -> dict[str, set[str]]:
    known = modules(root, folders)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def layer(name: str) -> str:
    for upper in ("affrepro.kernels", *UPPER):
        if name == upper or name.startswith(upper + "."):
            return upper
    return "affrepro"


def violations(edges: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in sorted(edges.items()):
        for target in sorted(targets):
            if layer(module) == "affrepro" and layer(target) in UPPER:
                bad.append(f"core module {module} imports {target}")
            if layer(module) == "affrepro.kernels" and layer(target) != "affrepro.kernels" \
                    and target != "affrepro.errors":
                bad.append(f"kernel module {module} imports {target} (only affrepro.errors)")
    return bad


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


@pytest.fixture(scope="module")
def tree() -> dict[str, set[str]]:
    return graph()


def test_core_never_imports_plugins_or_reproductions_and_kernels_only_errors(tree):
    assert len(tree) > 100 and "affrepro.errors" in tree["affrepro.kernels._dispatch"]
    assert not violations(tree), "\n".join(violations(tree))


def test_core_names_no_plugin_or_paper_module_in_a_string():
    named = []
    for name, path in modules().items():
        if layer(name) != "affrepro":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and MODULE_STRING.match(node.value):
                named.append(f"{name}: {node.value!r}")
    assert not named, named


def test_no_import_cycle_among_affrepro_modules(tree):
    assert not cycles(tree), cycles(tree)


def test_the_checks_catch_a_cycle_and_a_layer_breach(tmp_path):
    """The analysis itself, on a small tree with one of each (function-local imports too)."""
    for folder, files in {
        "core": {"__init__.py": "", "runner.py": "def f():\n    from affrepro.plugins import x\n",
                 "errors.py": "", "lazy.py": "from . import errors\n"},
        "kernels": {"__init__.py": "", "k.py": "from affrepro.errors import E\nimport affrepro.lazy\n"},
        "plugins": {"__init__.py": "", "x.py": "from affrepro.plugins.y import g\n",
                    "y.py": "def g():\n    from . import x\n"},
        "reproductions": {"__init__.py": ""},
    }.items():
        (tmp_path / folder).mkdir()
        for file, text in files.items():
            (tmp_path / folder / file).write_text(text)
    edges = graph(tmp_path)
    assert edges["affrepro.lazy"] == {"affrepro.errors"}
    assert violations(edges) == ["kernel module affrepro.kernels.k imports affrepro.lazy "
                                 "(only affrepro.errors)",
                                 "core module affrepro.runner imports affrepro.plugins.x"]
    assert cycles(edges) == [["affrepro.plugins.x", "affrepro.plugins.y"]]
