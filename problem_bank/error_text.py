"""Validation errors in plain sentences: what is wrong and what to write instead.

pydantic words its errors for programmers ("String should match pattern '^[a-z]...'",
"Input should be a valid string"); an instructor needs to know what to type. Every error
type the spec models can produce is worded here, in one table (:data:`WORDING`), and the
YAML 1.1 traps behind many of them (``id: yes`` read as true, ``1e3`` read as text, a
leading ``0`` read as octal) are named from the text the author actually wrote.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

#: The name rules of the schema, with the words that explain them (spec.py uses these).
ID_PATTERN = r"^[a-z][a-z0-9_]*$"
R_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.]*$"
CHOICE_ID_PATTERN = r"^[A-Za-z0-9_]+$"
PATTERN_WORDS = {
    ID_PATTERN: (
        "an id is lowercase letters, digits and underscores, starting with a letter, "
        "e.g. poisson_rate"
    ),
    R_NAME_PATTERN: (
        "an R name is letters, digits, dots and underscores, starting with a letter, "
        "e.g. subject or dat"
    ),
    CHOICE_ID_PATTERN: "a choice id is letters, digits and underscores, e.g. not_significant",
}

#: Words YAML 1.1 (PyYAML, which loads specs) reads as booleans when unquoted.
YAML_BOOLEANS = frozenset(
    w
    for word in ("yes", "no", "true", "false", "on", "off")
    for w in (word, word.title(), word.upper())
)
#: ``1e3``, ``2.5E-4``: numbers in YAML 1.2 and Python, text in YAML 1.1 (it needs a dot in
#: the mantissa and a sign in the exponent: ``1.0e+3``).
_EXPONENT_AS_TEXT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")
#: ``010`` is octal (8) in YAML 1.1; ``1:30`` is base 60 (90).
_OCTAL = re.compile(r"^[-+]?0[0-7_]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")


def _key(loc: tuple[str | int, ...]) -> str:
    """How the author writes the value at ``loc``: ``id:`` or ``- `` for a list item."""
    return f"{loc[-1]}: " if loc and isinstance(loc[-1], str) else "- "


def number_trap(raw: str | None, value: Any) -> str | None:
    """Why an unquoted number is not what was written: ``010`` is 8, ``1:30`` is 90."""
    if raw is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if _OCTAL.match(raw) and raw.strip("+-").strip("0_"):
        return f"YAML 1.1 reads {raw} as an octal number, {value}: write it without the leading 0"
    if _SEXAGESIMAL.match(raw):
        return f"YAML 1.1 reads {raw} as a base-60 number, {value}: quote it if it is text"
    return None


def text_trap(raw: str | None, value: Any, loc: tuple[str | int, ...]) -> str | None:
    """Why an unquoted word became a boolean or a number where text is expected."""
    if raw is None:
        return None
    if isinstance(value, bool) and raw in YAML_BOOLEANS:
        return (
            f"YAML reads {raw} as {str(value).lower()} (a YAML 1.1 boolean), not as text; "
            f'quote it: {_key(loc)}"{raw}"'
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        how = number_trap(raw, value)
        read = how.split(":")[0] if how else f"YAML reads {raw} as the number {value}"
        return f'{read}, not as text; quote it: {_key(loc)}"{raw}"'
    return None


def exponent_trap(raw: str | None, value: Any, whole: bool) -> str | None:
    """Why ``1e3`` is text: YAML 1.1 needs ``1.0e+3``; a whole number is better written out."""
    if raw is None or not isinstance(value, str) or not _EXPONENT_AS_TEXT.match(raw):
        return None
    mantissa, _, exponent = raw.lower().partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if exponent[0] not in "+-":
        exponent = "+" + exponent
    number = float(raw)
    instead = f"{number:.0f}" if whole or number.is_integer() else f"{mantissa}e{exponent}"
    if not whole and number.is_integer():
        instead += f" or {mantissa}e{exponent}"
    return (
        f"YAML 1.1 reads {raw} as text, not a number (it needs a dot and a signed "
        f"exponent): write {instead}"
    )


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "fields"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


#: Every error type pydantic raises for the spec models (tests/problem_bank/
#: test_diagnostics.py provokes each one), worded for an author. Filled from pydantic's
#: context of the error (``ge``, ``max_length``, ``expected``...), ``input`` (what was
#: written, shown short) and ``name`` (the field's own name).
WORDING: dict[str, str] = {
    "missing": "{name} is required: add a line `{name}: ...`",
    "extra_forbidden": "unknown field {name!r}: check its spelling, or remove it",
    "string_type": "write text here, not {input}",
    "string_pattern_mismatch": "{pattern_words} (not {input})",
    "string_too_short": "this is empty: write text after the colon",
    "string_too_long": "at most {max_length} characters, not {length}",
    "int_type": "write a whole number, e.g. 3, not {input}",
    "int_parsing": "write a whole number, e.g. 3, not {input}",
    "int_from_float": "write a whole number (no fractional part), not {input}",
    "float_type": "write a number, e.g. 0.5, not {input}",
    "float_parsing": "write a number, e.g. 0.5, not {input}",
    "finite_number": "write a finite number: .inf and .nan are not allowed",
    "bool_type": "write true or false, not {input}",
    "bool_parsing": "write true or false, not {input}",
    "greater_than": "write a number greater than {gt}",
    "greater_than_equal": "write a number greater than or equal to {ge}",
    "less_than_equal": "write a number less than or equal to {le}",
    "literal_error": "write one of {expected}, not {input}",
    "list_type": "write a list here ([a, b], or one `- item` per line), not {input}",
    "tuple_type": "write a number or a range [low, high] here, not {input}",
    "dict_type": "write `name: value` lines here, not {input}",
    "model_type": "write the fields of {name} here as `field: value` lines, not {input}",
    "too_short": "give at least {min_length} {items}, not {actual_length}",
    "too_long": "at most {max_length} items, not {actual_length}",
    "union_tag_invalid": "type must be {expected_tags}, not {tag!r}",
    "union_tag_not_found": "add a type: `type: numeric` or `type: factor`",
    "value_error": "{reason}",
}
_NUMBER_TYPES = frozenset({"int_type", "int_parsing", "float_type", "float_parsing"})


def plain_message(
    err: Mapping[str, Any],
    loc: tuple[str | int, ...],
    raw: str | None,
    known: Sequence[str] = (),
) -> str:
    """One pydantic error as a sentence an author can act on, naming a YAML trap first;
    ``known`` are the fields the mapping holding the error may have."""
    kind = str(err.get("type", ""))
    value = err.get("input")
    if kind == "extra_forbidden" and known and loc:
        return _unknown_field(str(loc[-1]), known)
    if kind == "string_type" and (trap := text_trap(raw, value, loc)):
        return trap
    if kind in _NUMBER_TYPES or kind == "tuple_type":
        if trap := exponent_trap(raw, value, whole=kind.startswith("int")):
            return trap
        if isinstance(value, bool) and raw in YAML_BOOLEANS:
            return f"YAML reads {raw} as {str(value).lower()} (a YAML 1.1 boolean): write a number"
    if kind == "string_type" and value is None:  # `prompt:` with nothing after it
        return WORDING["string_too_short"]
    if kind not in WORDING:
        return str(err.get("msg", kind))
    ctx = dict(err.get("ctx") or {})
    fields = {
        **ctx,
        "input": _shown(value),
        "name": next((str(k) for k in reversed(loc) if isinstance(k, str)), "the spec"),
        "pattern_words": PATTERN_WORDS.get(ctx.get("pattern", ""), f"match {ctx.get('pattern')}"),
        "length": len(value) if isinstance(value, str) else "?",
        "items": "item" if ctx.get("min_length") == 1 else "items",
        "reason": str(err.get("msg", "")).removeprefix("Value error, "),
    }
    if kind == "union_tag_invalid":
        fields["expected_tags"] = " or ".join(str(ctx.get("expected_tags")).split(", "))
    return WORDING[kind].format(**fields)


def _unknown_field(name: str, known: Sequence[str]) -> str:
    """``unknown field 'tolerence': did you mean ...?`` with the fields that may be here."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    guess = f"did you mean {close[0]}? " if close else ""
    return f"unknown field {name!r}: {guess}the fields here are {', '.join(known)}"


#: What the YAML parser's words mean for an author, by the words it uses (libyaml's).
YAML_PROBLEMS = {
    "mapping values are not allowed": (
        "a colon and a space start a field, and one cannot start here: if the colon is part "
        'of the text, put the text in quotes (title: "Rates: a GLM"), else check the indentation'
    ),
    "could not find expected ':'": (
        "this line is not `field: value`: add the colon after the field's name, or write a "
        "text of several lines under `field: |`"
    ),
    "did not find expected key": (
        "this line does not line up with the fields above: indent the fields of one mapping "
        "by the same number of spaces, and close any quote opened above"
    ),
    "did not find expected '-' indicator": (
        "this line does not line up with the list items above: start each item with `- ` "
        "at the same indentation"
    ),
    "found character that cannot start any token": (
        'a value cannot start with ` @ or %: put the text in quotes (prompt: "`lm()` printed this")'
    ),
    "found unknown escape character": (
        "a backslash in double quotes starts an escape: use single quotes, or write \\\\"
    ),
    "did not find expected ',' or ']'": (
        "a list opened with [ is not closed: close it with ], or quote a text that starts with ["
    ),
    "did not find expected ',' or '}'": (
        "a mapping opened with { is not closed: a text that starts with a placeholder must "
        'be quoted (story: "{n} lizards were caught")'
    ),
    "found unexpected end of stream": "a quote opened here is never closed: close it",
}


#: Problems the parser finds a line after their cause: the cause is where the value it
#: was reading started (a key without its colon, a bracket never closed).
_FOUND_LATER = ("could not find expected ':'", "did not find expected ',' or")


def starts_the_problem(problem: str) -> bool:
    """Whether the start of what the parser was reading (its context) is the line to name."""
    return any(words in problem for words in _FOUND_LATER)


def yaml_problem(problem: str) -> str:
    """The parser's ``problem`` in plain words, with its own words after them."""
    for words, plain in YAML_PROBLEMS.items():
        if words in problem:
            return f"{plain} ({problem})"
    return problem


def tab_line(text: str) -> int | None:
    """The first line indented with a tab (YAML indents with spaces only), else None."""
    for number, line in enumerate(text.splitlines(), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            return number
    return None


TAB_MESSAGE = "this line is indented with a tab; YAML indents with spaces only: replace the tab"

#: ``story: {n} lizards``: YAML reads ``{n}`` as a mapping, then fails on the words after it.
_PLACEHOLDER_FIRST = re.compile(r"^\s*(- )?[^\s:#][^:#]*:\s+\{[^{}]*\}\s*[^\s#]")
PLACEHOLDER_FIRST_MESSAGE = (
    "YAML reads a { at the start of a value as a mapping: put a text that starts with a "
    'placeholder in quotes (story: "{n} lizards were caught")'
)
#: A value that opens a quote: ``title: "Rates`` or ``- 'a``.
_OPENS_QUOTE = re.compile(r"^\s*(?:- |[^\s:#][^:#]*:\s+)([\"'])")
UNCLOSED_QUOTE_MESSAGE = (
    "the quote opened on this line is not closed on it, so the text runs on into the "
    "fields below: close the quote"
)


def placeholder_first_line(text: str, line: int | None) -> bool:
    """Whether ``line`` (1-based) is a value that starts with a placeholder, unquoted."""
    lines = text.splitlines()
    if line is None or not 0 < line <= len(lines):
        return False
    return bool(_PLACEHOLDER_FIRST.match(lines[line - 1]))


def unclosed_quote_line(text: str, line: int | None) -> int | None:
    """The line of a quote still open where the parser gave up (``line``), if any: the
    quoted text ran on into the fields below it."""
    if line is None:
        return None
    lines = text.splitlines()[: line - 1]  # what the parser read before giving up
    for number, source in enumerate(lines, start=1):
        m = _OPENS_QUOTE.match(source)
        if m is None:
            continue
        rest = "\n".join([source[m.end() :], *lines[number:]])
        if m.group(1) == "'":
            closed = "'" in rest.replace("''", "")  # 'it''s' escapes by doubling
        else:
            closed = re.search(r'(?<!\\)"', rest) is not None
        if not closed:
            return number
    return None
    lines = text.splitlines()[:line]
    for number, source in enumerate(lines, start=1):
        m = _OPENS_QUOTE.match(source)
        if m is None:
            continue
        quote = m.group(1)
        rest = "\n".join([source[m.end() :], *lines[number:]])
        closing = r'(?<!\\)"' if quote == '"' else r"'(?!')"  # 'it''s' escapes by doubling
        if re.search(closing, rest.replace("''", "") if quote == "'" else rest) is None:
            return number
    return None
