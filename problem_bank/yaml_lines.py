"""YAML loading that remembers where every value was written, and refuses hostile YAML.

pydantic reports errors by location (``("parts", 2, "answer")``); instructors need a line
number. We compose the YAML into nodes, build plain data from them, and keep a map from
each location to its line so any error can name both.

A spec is plain data, so only plain data is accepted: mappings with text keys, lists, and
the core scalars (text, numbers, true/false, null). Tags (``!!python/...``, ``!foo``,
``!!binary``, ``!!set``), merge keys (``<<``) and anything else a YAML library could turn
into an object are refused by name. Nesting depth and alias uses are counted *while
composing*, and the size aliases expand to is counted while building, so a 200-byte
"billion laughs", a self-referencing alias or 10,000 nested brackets cost microseconds and
give a :class:`YamlError` with a line, never a hang, a RecursionError or a 500.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from problem_bank.error_text import starts_the_problem, yaml_problem

Loc = tuple[str | int, ...]

#: Largest spec, in bytes of UTF-8. The web upload and the API refuse larger ones first.
MAX_SPEC_BYTES = 64 * 1024
#: Nesting levels of mappings and lists (a built-in spec needs 6), also through aliases.
MAX_DEPTH = 32
#: Uses of ``*alias`` in one document.
MAX_ALIASES = 100
#: Values (mappings, lists, scalars) written, and again after expanding aliases; a
#: built-in spec has about 200.
MAX_VALUES = 10_000
#: Digits in a written integer (Python refuses past 4,300 anyway; a spec needs a handful).
MAX_NUMBER_DIGITS = 100

#: What YAML's reader refuses in the text itself; an escape in a quoted string ("\0",
#: "\ud800") must not smuggle it into a value (a database refuses NUL, UTF-8 surrogates).
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
_MAP_TAG, _SEQ_TAG = _CORE + "map", _CORE + "seq"


class YamlError(ValueError):
    """The text is not YAML a spec can be built from; carries the line, and the location
    of the value when the error is found while building (a tag, a key, a number)."""

    def __init__(self, message: str, line: int | None, loc: Loc | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.loc = loc


def _line(mark: Any) -> int | None:
    return mark.line + 1 if mark is not None else None


class _Counting(Composer):
    """PyYAML's composer with nesting depth and alias uses counted as it goes."""

    depth = 0  # class defaults: the parser bases' __init__ signatures differ
    aliases = 0
    values = 0

    if TYPE_CHECKING:  # mixed into a loader: the parser base brings it

        def peek_event(self) -> Any: ...

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise YamlError(
                    f"more than {MAX_ALIASES} aliases (*name); write the values out",
                    _line(event.start_mark),
                )
            return super().compose_node(parent, index)
        self.values += 1
        if self.values > MAX_VALUES:
            raise YamlError(f"more than {MAX_VALUES:,} values", _line(event.start_mark))
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise YamlError(f"nested deeper than {MAX_DEPTH} levels", _line(event.start_mark))
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


#: libyaml reports a bad character's position in bytes, PyYAML's reader in characters.
_BYTE_POSITIONS = bool(yaml.__with_libyaml__)

if _BYTE_POSITIONS:
    from yaml._yaml import CParser

    class _SpecLoader(_Counting, CParser, SafeConstructor, Resolver):
        """libyaml's scanner and parser (8x faster than PyYAML's) under the counting composer."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            _Counting.__init__(self)

else:  # pragma: no cover - PyYAML wheels ship libyaml

    class _SpecLoader(_Counting, yaml.SafeLoader):  # type: ignore[no-redef]
        """PyYAML's pure-Python reader, scanner and parser under the counting composer."""


def load_with_lines(text: str) -> tuple[Any, dict[Loc, int]]:
    """Plain data from ``text`` and a map location → 1-based line number."""
    data, lines, _plain = load_with_source(text)
    return data, lines


def load_with_source(text: str) -> tuple[Any, dict[Loc, int], dict[Loc, str]]:
    """As :func:`load_with_lines`, and the text of every unquoted scalar as written, by
    location: what YAML 1.1 turned into a boolean or a number (``yes``, ``010``) or left as
    text (``1e3``) can then be named in an error."""
    if not isinstance(text, str):
        raise YamlError("the spec must be text", None)
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate such as "\ud800" from JSON
        raise _bad_character(text[exc.start], text.count("\n", 0, exc.start) + 1) from None
    if len(encoded) > MAX_SPEC_BYTES:
        raise YamlError(f"the spec is larger than {MAX_SPEC_BYTES // 1024} KB", None)
    loader: _SpecLoader | None = None
    try:
        try:
            loader = _SpecLoader(text)  # the reader checks every character here
            node = loader.get_single_node()
        except yaml.reader.ReaderError as exc:  # a control character
            char = exc.character if isinstance(exc.character, str) else chr(exc.character)
            if _BYTE_POSITIONS:
                line = encoded[: exc.position].count(b"\n") + 1
            else:
                line = text[: exc.position].count("\n") + 1
            raise _bad_character(char, line) from None
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            at_start = starts_the_problem(problem)
            marks = (
                ("context_mark", "problem_mark") if at_start else ("problem_mark", "context_mark")
            )
            mark = getattr(exc, marks[0], None) or getattr(exc, marks[1], None)
            if context := getattr(exc, "context", None):
                problem = f"{context}: {problem}"
            raise YamlError(f"not valid YAML: {yaml_problem(problem)}", _line(mark)) from None
        except RecursionError:  # pragma: no cover - MAX_DEPTH stops nesting long before
            raise YamlError(f"nested deeper than {MAX_DEPTH} levels", None) from None
        if node is None:
            raise YamlError("the spec is empty", 1)
        builder = _Builder(loader)
        return builder.build(node, ()), builder.lines, builder.plain
    finally:
        if loader is not None:
            loader.dispose()


class _Builder:
    """Nodes → plain data, counting the values aliases expand to and the nesting they add.

    A node met a second time was reached through an alias; its own mark is where the
    anchor was written, so errors and the line map use the line of the nearest enclosing
    value written in place instead (the mapping key, or the list holding the alias).
    """

    def __init__(self, loader: _SpecLoader) -> None:
        self.loader = loader
        self.lines: dict[Loc, int] = {}
        self.plain: dict[Loc, str] = {}
        self.values = 0
        self.seen: set[int] = set()
        self.path: set[int] = set()  # ids of the collections being built (alias cycles)

    def build(self, node: yaml.Node, loc: Loc, written: int = 1) -> Any:
        try:
            return self._build(node, loc, written)
        except YamlError as exc:
            if exc.loc is None:  # the innermost value names the field
                exc.loc = loc
            raise

    def _build(self, node: yaml.Node, loc: Loc, written: int) -> Any:
        line = written if id(node) in self.seen else node.start_mark.line + 1
        self.seen.add(id(node))
        self.lines[loc] = line
        self.values += 1
        if self.values > MAX_VALUES:
            raise YamlError(f"more than {MAX_VALUES:,} values, counting what aliases repeat", line)
        if isinstance(node, yaml.ScalarNode):
            if not node.style:  # plain (libyaml says "", PyYAML None)
                self.plain[loc] = node.value
            return self.scalar(node, line)
        if id(node) in self.path:
            raise YamlError("an alias refers to a value that contains it", line)
        if len(self.path) >= MAX_DEPTH:
            raise YamlError(f"nested deeper than {MAX_DEPTH} levels (through aliases)", line)
        self.path.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, loc, line)
            if node.tag != _SEQ_TAG:
                raise YamlError(f"tag {_short(node.tag)} is not allowed in a spec", line)
            return [self.build(item, (*loc, i), line) for i, item in enumerate(node.value)]
        finally:
            self.path.discard(id(node))

    def mapping(self, node: yaml.MappingNode, loc: Loc, line: int) -> dict[str, Any]:
        if node.tag != _MAP_TAG:
            raise YamlError(f"tag {_short(node.tag)} is not allowed in a spec", line)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == _CORE + "merge":
                raise YamlError("merge keys (<<) are not supported; write the fields out", key_line)
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError("mapping keys must be plain values", key_line)
            key = self.scalar(key_node, key_line)
            if not isinstance(key, str):
                shown = str(key).lower() if isinstance(key, bool) else repr(key)
                read = f"YAML 1.1 reads it as {shown}; " if str(key) != key_node.value else ""
                raise YamlError(
                    f"the key {key_node.value!r} must be text: {read}write it in quotes", key_line
                )
            if key in out:
                raise YamlError(f"duplicate key {key!r}", key_line)
            out[key] = self.build(value_node, (*loc, key), key_line)
        return out

    def scalar(self, node: yaml.ScalarNode, line: int) -> Any:
        """Text, numbers, booleans and null with the safe constructor; dates stay text."""
        if node.tag not in _SCALAR_TAGS:
            raise YamlError(f"tag {_short(node.tag)} is not allowed in a spec", line)
        if node.tag == _CORE + "timestamp":
            return node.value  # no spec field is a date; 2024-13-45 must not be an error
        if node.tag == _CORE + "int" and len(node.value) > MAX_NUMBER_DIGITS:
            raise YamlError(f"a number with more than {MAX_NUMBER_DIGITS} digits", line)
        try:
            value = self.loader.construct_object(node)
        except (yaml.YAMLError, ValueError, KeyError, OverflowError) as exc:
            raise YamlError(f"cannot read {node.value[:40]!r} ({exc})", line) from None
        if isinstance(value, str) and (bad := _NON_PRINTABLE.search(value)):
            raise _bad_character(bad.group(), line)  # written as an escape: "\0", "\ud800"
        return value


def _bad_character(char: str, line: int) -> YamlError:
    return YamlError(f"character {char!r} (#x{ord(char):04x}) is not allowed in a spec", line)


def _short(tag: str) -> str:
    """``!!python/name:os.system`` rather than the resolved ``tag:yaml.org,2002:...``."""
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def line_for(lines: dict[Loc, int], loc: Sequence[str | int]) -> int | None:
    """The line of the deepest written location along ``loc`` (a missing field → its parent)."""
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())
