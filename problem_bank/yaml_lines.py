"""YAML loading that remembers where every value was written.

pydantic reports errors by location (``("parts", 2, "answer")``); instructors need a line
number. We compose the YAML into nodes (safe: no tags, no Python objects), build plain
data from them, and keep a map from each location to its line so any error can name both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

Loc = tuple[str | int, ...]


class YamlError(ValueError):
    """The text is not YAML a spec can be built from; carries the line."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def load_with_lines(text: str) -> tuple[Any, dict[Loc, int]]:
    """Plain data from ``text`` and a map location → 1-based line number."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlError(f"not valid YAML: {problem}", line) from None
    if node is None:
        raise YamlError("the spec is empty", 1)
    lines: dict[Loc, int] = {}
    return _build(node, (), lines), lines


def _build(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if isinstance(key_node, yaml.MappingNode | yaml.SequenceNode):
                raise YamlError("mapping keys must be plain values", key_node.start_mark.line + 1)
            if key in out:
                raise YamlError(f"duplicate key {key!r}", key_node.start_mark.line + 1)
            out[key] = _build(value_node, (*loc, str(key)), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*loc, i), lines) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    """Resolve a scalar with the safe constructor (ints, floats, bools, null, strings)."""
    if not isinstance(node, yaml.ScalarNode):
        return None
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def line_for(lines: dict[Loc, int], loc: Sequence[str | int]) -> int | None:
    """The line of the deepest written location along ``loc`` (a missing field → its parent)."""
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())
