"""Numeric parts: one number, accepted within the rounding-aware interval.

The rule for what is accepted, and for an answer that is right but typed too coarsely, is
:mod:`problem_bank.acceptance` (shared with generation and the instructor preview).
"""

from __future__ import annotations

from typing import Any

from graders.kinds.base import Comparison
from graders.parsing import parse_typed_number
from problem_bank.acceptance import (
    accepted_range,
    part_range,
    precision_text,
    too_coarse,
    within,
)
from problem_bank.variant import Misconception, Part

_RIGHT = Comparison(1.0)
_WRONG = Comparison(0.0)


class NumericKind:
    """A single number; all or nothing (the spec gives no partial credit for numbers)."""

    name = "numeric"

    def parse(self, part: Part, raw: Any) -> float:
        return parse_typed_number(raw, percent_allowed=part.acceptance.percent_allowed)

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

    def distance(self, part: Part, misconception: Misconception, value: float) -> float:
        """How far the answer is from the misconception's value, in the part's units."""
        return abs(value - float(misconception.answer))  # type: ignore[arg-type]

    def wrong_note(self, part: Part, value: float) -> str:
        """Nothing: the hint says how to work the number out."""
        return ""


NUMERIC = NumericKind()
