"""Numeric parts: one number, accepted within the rounding-aware interval."""

from __future__ import annotations

from typing import Any

from graders.kinds.base import Comparison
from graders.parsing import parse_number
from graders.tolerance import acceptance_bounds, bounds, within
from problem_bank.variant import Misconception, Part

_RIGHT = Comparison(1.0)
_WRONG = Comparison(0.0)


class NumericKind:
    """A single number; all or nothing (the spec gives no partial credit for numbers)."""

    name = "numeric"

    def parse(self, part: Part, raw: Any) -> float:
        return parse_number(raw, percent_allowed=part.acceptance.percent_allowed)

    def compare(self, part: Part, value: float) -> Comparison:
        reference = float(part.answer)  # type: ignore[arg-type]
        return _RIGHT if within(value, acceptance_bounds(part.acceptance, reference)) else _WRONG

    def matches(self, part: Part, misconception: Misconception, value: float) -> bool:
        try:
            target = float(misconception.answer)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False  # not a number: cannot be what a numeric answer means
        own = misconception.acceptance
        if own is not None:
            return within(value, acceptance_bounds(own, target))
        # No acceptance of its own: the part's digits and slack around the wrong value.
        acc = part.acceptance
        return within(value, bounds(target, acc.digits, acc.rtol, acc.atol))

    def distance(self, part: Part, misconception: Misconception, value: float) -> float:
        """How far the answer is from the misconception's value, in the part's units."""
        return abs(value - float(misconception.answer))  # type: ignore[arg-type]

    def wrong_note(self, part: Part, value: float) -> str:
        """Nothing: the hint says how to work the number out."""
        return ""


NUMERIC = NumericKind()
