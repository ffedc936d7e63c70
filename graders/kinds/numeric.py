"""Numeric parts: one number, accepted within the rounding-aware interval.

The rule for what is accepted, and for an answer that is right but typed too coarsely, is
:mod:`problem_bank.acceptance` (shared with generation and the instructor preview).
"""

from __future__ import annotations

from typing import Any

from graders.kinds.base import Comparison
from graders.parsing import parse_number
from problem_bank.acceptance import (
    accepted_range,
    last_digit_unit,
    part_range,
    precision_text,
    too_coarse,
    within,
)
from problem_bank.variant import Misconception, Part

_RIGHT = Comparison(1.0)
_WRONG = Comparison(0.0)


class TypedNumber(float):
    """A parsed answer that remembers one unit in its last typed digit (1 for "15")."""

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
    text = str(raw).strip()
    if text.endswith("%"):
        return last_digit_unit(text[:-1]) / 100.0
    return last_digit_unit(text)


class NumericKind:
    """A single number; all or nothing (the spec gives no partial credit for numbers)."""

    name = "numeric"

    def parse(self, part: Part, raw: Any) -> float:
        value = parse_number(raw, percent_allowed=part.acceptance.percent_allowed)
        return TypedNumber(value, typed_unit(raw))

    def compare(self, part: Part, value: float) -> Comparison:
        reference = float(part.answer)  # type: ignore[arg-type]
        accepted = part_range(part.acceptance, reference)
        if within(value, accepted):
            return _RIGHT
        unit = getattr(value, "unit", 0.0)
        if too_coarse(value, unit, reference, part.acceptance.digits, accepted):
            asked = precision_text(part.acceptance.digits)
            return Comparison(0.0, f"Right, but give {asked}.", too_coarse=True)
        return _WRONG

    def matches(self, part: Part, misconception: Misconception, value: float) -> bool:
        try:
            target = float(misconception.answer)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False  # not a number: cannot be what a numeric answer means
        own = misconception.acceptance
        if own is not None:
            return within(value, part_range(own, target))
        # No acceptance of its own: the part's digits and slack around the wrong value.
        return within(value, accepted_range(part.acceptance, target))


NUMERIC = NumericKind()
