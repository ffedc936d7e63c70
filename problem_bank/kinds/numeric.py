"""Numeric parts: one number, accepted within the rounding-aware interval.

The rule for what is accepted, and for an answer that is right but typed too coarsely, is
:mod:`problem_bank.acceptance` (shared with generation and the instructor preview).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from problem_bank.acceptance import (
    accepted_range,
    part_range,
    precision_asked,
    precision_text,
    stated_range,
    too_coarse,
    within,
)
from problem_bank.kinds.base import (
    Comparison,
    FormFields,
    first_value,
    one_value_problem,
)
from problem_bank.kinds.building import (
    acceptance_for,
    built_part,
    format_answer,
    number_misconceptions,
    typed_numbers,
)
from problem_bank.kinds.parsing import parse_typed_number
from problem_bank.kinds.ranges import NumbersKind
from problem_bank.variant import Acceptance, Misconception, Part

if TYPE_CHECKING:
    from problem_bank.generate import VariantContext
    from problem_bank.scenarios import Scenario
    from problem_bank.spec import PartSpec

_RIGHT = Comparison(1.0)
_WRONG = Comparison(0.0)


class NumericKind(NumbersKind):
    """A single number; all or nothing (the spec gives no partial credit for numbers)."""

    name = "numeric"
    partial = "parts/numeric.html"
    default_format_hint = "A number, e.g. 1.23 or -4.5e-3"
    answers_one_number = True

    def spec_shape(self, ps: PartSpec) -> str:
        if not isinstance(ps.answer, str | int | float):
            return "a numeric answer is one expression"
        return ""

    def build(self, ps: PartSpec, ctx: VariantContext, scenario: Scenario | None) -> Part:
        """A number; its acceptance interval covers answers worked from printed coefficients."""
        (answer,), (interval,) = typed_numbers([ps.answer], ps.digits, ctx)

        def wrong(expression: Any) -> tuple[float, Acceptance]:
            assert isinstance(expression, str)
            (value,), (m_interval,) = typed_numbers([expression], ps.digits, ctx)
            return value, acceptance_for(ps, m_interval)

        return built_part(
            ps,
            ctx,
            kind="numeric",
            answer=answer,
            misconceptions=number_misconceptions(ps, ctx, wrong),
            acceptance=acceptance_for(ps, interval, printed=ctx.shown(str(ps.answer))),
            shown=format_answer(answer, ps.digits),
        )

    def problems(self, part: Part) -> list[str]:
        answer = float(part.answer)  # type: ignore[arg-type]
        if not math.isfinite(answer):
            return [f"{part.id}: answer is not finite"]
        # The accepted range always holds the answer itself (problem_bank.acceptance), so
        # only the misconceptions need checking against it.
        bounds = part_range(part.acceptance, answer)
        return [
            f"{part.id}: misconception {m.id} not told apart ({m.answer} vs {answer})"
            for m in part.misconceptions
            if within(float(m.answer), bounds)  # type: ignore[arg-type]
        ]

    def accepted_text(self, part: Part) -> str:
        acc = part.acceptance
        lo, hi = stated_range(part_range(acc, float(part.answer)), acc.digits)  # type: ignore[arg-type]
        return f"accepted from {lo} to {hi}"

    def precision(self, part: Part) -> str:
        return precision_asked(part.acceptance, float(part.answer))  # type: ignore[arg-type]

    def read_form(self, fields: FormFields, key: str) -> Any:
        return first_value(fields, key)

    def shape_problem(self, value: Any) -> str:
        return one_value_problem(value)

    def invalid_inputs(self, typed: Any, percent_allowed: bool) -> list[int]:
        return []

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
