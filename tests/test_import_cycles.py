"""No import cycle among our own modules, counting imports inside function bodies.

A lazy ``import`` in a function only hides a cycle from the interpreter; the two modules
still need each other. Every ``import`` and ``from … import`` in the source of
problem_bank, graders and service is an edge here, wherever it stands, except under
``if TYPE_CHECKING:``: a name imported only for an annotation is never loaded, and a
registry's entries may name the types of the modules that read the registry (an answer
kind annotates its build step with the spec's ``PartSpec``) without needing them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("problem_bank", "graders", "service")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module of ours that ``name`` is, or the one defining it (``pkg.mod.attr``)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _annotation_only(tree: ast.Module) -> set[ast.AST]:
    """The import statements under ``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``)."""
    if not hasattr(tree, "_annotation_only"):
        found: set[ast.AST] = set()
        for node in ast.walk(tree):
            test = node.test if isinstance(node, ast.If) else None
            name = getattr(test, "id", None) or getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for inner in node.body:  # type: ignore[attr-defined]
                    found |= {
                        n for n in ast.walk(inner) if isinstance(n, ast.Import | ast.ImportFrom)
                    }
        tree._annotation_only = found  # type: ignore[attr-defined]
    return tree._annotation_only  # type: ignore[attr-defined,no-any-return]


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if node in _annotation_only(tree):
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            # ``from pkg import mod`` imports the submodule ``pkg.mod`` when there is one,
            # otherwise a name defined in ``pkg``.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        for name in names:
            target = _resolve(name, modules)
            if target is not None and target != module:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Each of our modules → the modules of ours it imports (anywhere in its source).

    A package's ``__init__`` runs before any of its submodules, but that implicit step is
    not an edge: only what a module's own source imports is.
    """
    modules = _modules()
    return {module: _imports(module, path, modules) for module, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, …, a], or None when the graph is acyclic."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_our_modules_and_lazy_imports() -> None:
    graph = import_graph()
    assert "service.lti.passback" in graph
    assert "graders.celery_app" in graph["service.lti.passback"]


def test_find_cycle_names_the_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def _room(graph: dict[str, set[str]], room: str) -> dict[str, set[str]]:
    """The modules of one room and their imports within it (rooms import only downwards)."""
    inside = {m for m in graph if m == room or m.startswith(room + ".")}
    return {m: graph[m] & inside for m in inside}


@pytest.mark.parametrize("room", ["graders", "service"])
def test_our_modules_import_each_other_without_a_cycle(room: str) -> None:
    cycle = find_cycle(_room(import_graph(), room))
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_problem_bank_imports_without_a_cycle() -> None:
    cycle = find_cycle(_room(import_graph(), "problem_bank"))
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_no_room_imports_a_room_above_it() -> None:
    order = {"problem_bank": 0, "graders": 1, "service": 2}
    upward = [
        f"{m} → {t}"
        for m, targets in import_graph().items()
        for t in targets
        if order[t.split(".")[0]] > order[m.split(".")[0]]
    ]
    assert upward == []
