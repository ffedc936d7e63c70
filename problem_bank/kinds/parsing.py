"""Parsing: turn what a student typed into a value the comparison stage can grade.

Every rejection raises :class:`ParseError` whose message says what was wrong and what is
expected, because an unreadable answer costs the student no attempt and they should be
able to fix it at once. Parsing never evaluates anything: ``1/0`` or ``exp(-1)`` are text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from problem_bank.acceptance import last_digit_unit

#: Longer inputs are rejected before any work, so a pasted essay costs nothing to refuse.
MAX_LENGTH = 64

# Compiled once at import: the hot path only calls fullmatch.
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")
_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?")
_CELL_SEPARATORS = re.compile(r"[;\s]+")
_NAN = frozenset({"nan", "+nan", "-nan", "na", "n/a"})
_INF = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "∞", "-∞", "+∞"})
_OPERATORS = frozenset("*/^()=")
# Minus-like characters students paste from word processors, R output or PDFs.
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\ufe63": "-", "\uff0d": "-"})

_EXPECTED_NUMBER = "Type a decimal number such as 0.38, .38, -0.38 or 3.8e-1."


class ParseError(ValueError):
    """The answer could not be read; ``str(error)`` is the message shown to the student."""


def _show(text: str) -> str:
    """The student's input, shortened, for quoting back in a message."""
    return repr(text if len(text) <= 24 else text[:21] + "...")


def parse_number(raw: Any, *, percent_allowed: bool = False) -> float:
    """Read one number from a string or a JSON number.

    ``38%`` is read as 0.38 only where the part allows percentages; elsewhere it is refused
    with a message asking for the proportion, rather than silently graded wrong.
    """
    if isinstance(raw, bool):
        raise ParseError(f"Expected a number, not {str(raw).lower()}. {_EXPECTED_NUMBER}")
    if isinstance(raw, int | float):
        try:
            value = float(raw)
        except OverflowError:  # a JSON integer with hundreds of digits
            value = math.inf
        if not math.isfinite(value):
            raise ParseError(f"The answer must be a finite number. {_EXPECTED_NUMBER}")
        return value
    if not isinstance(raw, str):
        kind = type(raw).__name__
        raise ParseError(f"Expected a single number, not a {kind}. {_EXPECTED_NUMBER}")
    if len(raw) > MAX_LENGTH:
        raise ParseError(
            f"The answer is {len(raw)} characters long; at most {MAX_LENGTH} are accepted. "
            f"{_EXPECTED_NUMBER}"
        )
    text = raw.strip().translate(_MINUS)
    if not text:
        raise ParseError(f"The answer is empty. {_EXPECTED_NUMBER}")
    percent = text.endswith("%")
    if percent:
        text = text[:-1].rstrip()
    if not _DECIMAL.fullmatch(text):
        raise ParseError(_diagnose(text))
    value = float(text)
    if not math.isfinite(value):
        raise ParseError(f"{_show(text)} is too large to be a finite number. {_EXPECTED_NUMBER}")
    if percent:
        if not percent_allowed:
            raise ParseError(
                "This part does not take a percentage: give the value as a proportion, "
                f"e.g. {_format_proportion(value)} rather than {text}%."
            )
        return value / 100.0
    return value


class TypedNumber(float):
    """A number read from an answer that remembers one unit in its last typed digit (1 for
    "15", 0.001 for "0.050", 0.0001 for "1.5%"), so a right answer typed too coarsely can be
    told so (:func:`problem_bank.acceptance.too_coarse`)."""

    unit: float

    def __new__(cls, value: float, unit: float) -> TypedNumber:
        number = super().__new__(cls, value)
        number.unit = unit
        return number


def typed_unit(raw: Any) -> float:
    """One unit in the last digit the student typed (a percentage's unit is in hundredths)."""
    if isinstance(raw, int):
        return 1.0
    if isinstance(raw, float):
        return last_digit_unit(repr(raw))
    text = str(raw).strip().translate(_MINUS)
    if text.endswith("%"):
        return last_digit_unit(text[:-1]) / 100.0
    return last_digit_unit(text)


def parse_typed_number(raw: Any, *, percent_allowed: bool = False) -> TypedNumber:
    """:func:`parse_number`, remembering the unit of the last typed digit."""
    return TypedNumber(parse_number(raw, percent_allowed=percent_allowed), typed_unit(raw))


def _format_proportion(percent: float) -> str:
    return f"{percent / 100.0:.6g}"


def _diagnose(text: str) -> str:
    """Say why ``text`` is not a number, in the student's terms (cold path only)."""
    lower = text.lower()
    if lower in _NAN:
        return f"{_show(text)} is not a number. {_EXPECTED_NUMBER}"
    if lower in _INF:
        return f"Infinite values are not accepted. {_EXPECTED_NUMBER}"
    if _THOUSANDS.fullmatch(text):
        if "." in text or text.count(",") > 1:
            return f"Write the number without thousands separators: {text.replace(',', '')}."
        return (
            f"{_show(text)} is ambiguous: use a decimal point and no thousands separators "
            f"({text.replace(',', '.')} or {text.replace(',', '')})."
        )
    if _DECIMAL_COMMA.fullmatch(text):
        return (
            f"Use a decimal point, not a comma: write {text.replace(',', '.')} instead of {text}."
        )
    if any(c in _OPERATORS for c in text) or "exp" in lower or "log" in lower:
        return (
            f"{_show(text)} is a calculation; calculations are not evaluated. "
            f"Work it out and type the resulting number. {_EXPECTED_NUMBER}"
        )
    if text.endswith("%"):
        return f"Use a single percent sign at the end. {_EXPECTED_NUMBER}"
    return f"Could not read {_show(text)} as a number. {_EXPECTED_NUMBER}"


def _choice_lookup(choice_ids: Iterable[str]) -> dict[str, str]:
    """Map exact and case-folded ids to the canonical id, so 'B' picks option 'b'."""
    lookup: dict[str, str] = {}
    for choice_id in choice_ids:
        lookup.setdefault(choice_id.casefold(), choice_id)
    for choice_id in choice_ids:
        lookup[choice_id] = choice_id
    return lookup


def _options_text(choice_ids: Sequence[str]) -> str:
    return ", ".join(choice_ids)


def parse_choice(raw: Any, choice_ids: Sequence[str]) -> str:
    """Read one choice id; a number or an unknown id is refused with the list of options."""
    options = _options_text(choice_ids)
    number = isinstance(raw, int | float) and not isinstance(raw, bool)
    if number and _short_number(raw) and str(raw) in choice_ids:
        return str(raw)  # ids like "1", "2" sent as JSON numbers by a form
    if not isinstance(raw, str):
        what = "a number" if isinstance(raw, int | float) else f"a {type(raw).__name__}"
        raise ParseError(f"This part asks you to pick one option ({options}), not {what}.")
    if len(raw) > MAX_LENGTH:
        raise ParseError(f"The answer is too long; pick one option ({options}).")
    text = raw.strip()
    if not text:
        raise ParseError(f"No option was picked. Pick one of: {options}.")
    lookup = _choice_lookup(choice_ids)
    found = lookup.get(text) or lookup.get(text.casefold())
    if found is not None:
        return found
    if _DECIMAL.fullmatch(text.translate(_MINUS).rstrip("%").rstrip()):
        raise ParseError(
            f"This part asks you to pick one option ({options}), not to type a number."
        )
    raise ParseError(f"{_show(text)} is not one of the options. Pick one of: {options}.")


def _short_number(raw: int | float) -> bool:
    """Whether ``str(raw)`` is cheap and allowed: a 5,000-digit JSON integer is neither
    (Python refuses to print integers past 4,300 digits)."""
    return not isinstance(raw, int) or abs(raw) < 10**64


def parse_choice_set(raw: Any, choice_ids: Sequence[str]) -> frozenset[str]:
    """Read a multi-select answer: a list of ids, or one string of comma-separated ids."""
    if isinstance(raw, str):
        if len(raw) > MAX_LENGTH * 4:
            raise ParseError("The answer is too long; select options by their ids.")
        items: list[Any] = [item for item in raw.split(",") if item.strip()]
    elif isinstance(raw, list | tuple | set | frozenset):
        items = list(raw)
    else:
        options = _options_text(choice_ids)
        raise ParseError(f"Select any of the options ({options}); a single number is not one.")
    return frozenset(parse_choice(item, choice_ids) for item in items)


def parse_cells(
    raw: Any,
    n_cells: int,
    *,
    percent_allowed: bool = False,
    labels: Sequence[str] = (),
) -> tuple[float, ...]:
    """Read a table answer: ``n_cells`` numbers in row-major order.

    A list is the normal form; a string of numbers separated by spaces or semicolons is
    also read (commas are not separators, to keep "0,38" from silently meaning two cells).
    A bad cell is named in the message, so the student knows which one to fix.
    """
    if isinstance(raw, str):
        if len(raw) > MAX_LENGTH * max(n_cells, 1):
            raise ParseError("The answer is too long for this table.")
        cells: list[Any] = [c for c in _CELL_SEPARATORS.split(raw.strip()) if c]
    elif isinstance(raw, list | tuple):
        cells = list(raw)
    else:
        raise ParseError(f"Expected a table of {n_cells} numbers, one per cell.")
    if len(cells) != n_cells:
        raise ParseError(f"Expected {n_cells} numbers, one per cell; got {len(cells)}.")
    values = []
    for index, cell in enumerate(cells):
        name = labels[index] if index < len(labels) else f"cell {index + 1}"
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            raise ParseError(f"{name} is empty. Fill in every cell.")
        try:
            values.append(parse_typed_number(cell, percent_allowed=percent_allowed))
        except ParseError as error:
            raise ParseError(f"{name}: {error}") from None
    return tuple(values)
