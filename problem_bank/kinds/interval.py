"""Interval parts: a lower and an upper bound (e.g. a 95 % confidence interval for a slope).

Each bound is graded like a numeric answer against its own accepted range
(:func:`problem_bank.acceptance.cell_ranges`, with the rounding interval of the bound's
expression worked from the output as printed). With ``partial_credit`` each right bound
earns half the part. A lower bound above the upper one is unreadable, not wrong: it is
refused before it costs an attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from problem_bank.acceptance import (
    cell_ranges,
    precision_text,
    stated_range,
    too_coarse,
    within,
)
from problem_bank.kinds.base import (
    Comparison,
    FormFields,
    all_values,
    scalar_ok,
)
from problem_bank.kinds.building import numbers_part
from problem_bank.kinds.parsing import ParseError, parse_typed_number
from problem_bank.kinds.ranges import NumbersKind, misconception_ranges
from problem_bank.kinds.table import readable_number
from problem_bank.variant import Misconception, Part

if TYPE_CHECKING:
    from problem_bank.generate import VariantContext
    from problem_bank.scenarios import Scenario
    from problem_bank.spec import PartSpec

#: The bounds in the order they are typed, stored and graded.
BOUNDS = ("lower", "upper")
#: What the page and the feedback call each bound.
BOUND_LABELS = ("Lower bound", "Upper bound")


class IntervalKind(NumbersKind):
    """Two numbers, lower then upper; graded bound by bound."""

    name = "interval"
    partial = "parts/interval.html"
    default_format_hint = "Two numbers, the lower and the upper bound."
    bound_labels = BOUND_LABELS

    # -- spec and generation -----------------------------------------------------------
    def spec_shape(self, ps: PartSpec) -> str:
        if not _two_expressions(ps.answer):
            return "an interval answer is a list of two expressions: [lower, upper]"
        for m in ps.misconceptions:
            if m.expression is not None and not _two_expressions(m.expression):
                return f"misconception {m.id}: an interval is two expressions: [lower, upper]"
        return ""

    def build(self, ps: PartSpec, ctx: VariantContext, scenario: Scenario | None) -> Part:
        """Both bounds and their rounding intervals; misconceptions are wrong intervals."""
        return numbers_part(
            ps, ctx, kind="interval", expressions=list, joiner=" to ", check=_lower_below_upper
        )

    def problems(self, part: Part) -> list[str]:
        """Each misconception differs from the answer in at least one bound."""
        ranges = cell_ranges(part.acceptance, _reference(part))
        return [
            f"{part.id}: misconception {m.id} not told apart"
            for m in part.misconceptions
            if all(within(float(w), r) for w, r in zip(_pair(m.answer), ranges, strict=True))
        ]

    def accepted_text(self, part: Part) -> str:
        acc = part.acceptance
        ranges = cell_ranges(acc, _reference(part))
        return "accepted: " + "; ".join(
            f"{label.lower()} {' to '.join(stated_range(r, acc.digits))}"
            for label, r in zip(BOUND_LABELS, ranges, strict=True)
        )

    def precision(self, part: Part) -> str:
        return f"Give {precision_text(part.acceptance.digits)} in each bound."

    # -- the service's inputs ----------------------------------------------------------
    def read_form(self, fields: FormFields, key: str) -> Any:
        """The two inputs share the part's name, lower first (as the page lays them out)."""
        return all_values(fields, key)

    def shape_problem(self, value: Any) -> str:
        if isinstance(value, Mapping):
            if set(value) != set(BOUNDS) or not all(scalar_ok(v) for v in value.values()):
                return 'expected {"lower": number, "upper": number}'
            return ""
        if isinstance(value, list) and len(value) == 2 and all(scalar_ok(v) for v in value):
            return ""
        return 'expected [lower, upper] or {"lower": number, "upper": number}'

    def invalid_inputs(self, typed: Any, percent_allowed: bool) -> list[int]:
        """The bound that is blank or unreadable; [] (both) when they are swapped."""
        pair = _as_pair(typed)
        if pair is None:
            return []
        return [i for i, b in enumerate(pair) if not readable_number(b, percent_allowed)]

    # -- grading -----------------------------------------------------------------------
    def parse(self, part: Part, raw: Any) -> tuple[float, float]:
        pair = _as_pair(raw)
        if pair is None:
            raise ParseError("Expected two numbers: the lower and the upper bound.")
        values = []
        for label, bound in zip(BOUND_LABELS, pair, strict=True):
            if bound is None or (isinstance(bound, str) and not bound.strip()):
                raise ParseError(f"{label} is empty. Give both bounds.")
            try:
                values.append(
                    parse_typed_number(bound, percent_allowed=part.acceptance.percent_allowed)
                )
            except ParseError as error:
                raise ParseError(f"{label}: {error}") from None
        lower, upper = values
        if lower > upper:
            raise ParseError(
                "The lower bound is above the upper bound; give the lower bound first."
            )
        return lower, upper

    def compare(self, part: Part, value: tuple[float, float]) -> Comparison:
        reference = _reference(part)
        ranges = cell_ranges(part.acceptance, reference)
        wrong = [i for i in range(2) if not within(value[i], ranges[i])]
        if not wrong:
            return Comparison(1.0)
        score = 0.5 * (2 - len(wrong)) if part.acceptance.partial_credit else 0.0
        digits = part.acceptance.digits
        names = " and ".join(BOUND_LABELS[i].lower() for i in wrong)
        if all(
            too_coarse(value[i], getattr(value[i], "unit", 0.0), reference[i], digits, ranges[i])
            for i in wrong
        ):
            return Comparison(
                score, f"Right, but give {precision_text(digits)} in the {names}.", too_coarse=True
            )
        if len(wrong) == 2:
            return Comparison(score, "Both bounds are off.")
        right = BOUND_LABELS[1 - wrong[0]]
        return Comparison(score, f"The {right.lower()} is right; check the {names}.")

    def matches(self, part: Part, misconception: Misconception, value: tuple[float, float]) -> bool:
        if len(_pair(misconception.answer)) != 2:
            return False
        ranges = misconception_ranges(part, misconception)
        return all(within(v, r) for v, r in zip(value, ranges, strict=True))

    def distance(
        self, part: Part, misconception: Misconception, value: tuple[float, float]
    ) -> float:
        """The summed distance over both bounds."""
        return float(
            sum(abs(v - w) for v, w in zip(value, _pair(misconception.answer), strict=True))
        )

    def wrong_note(self, part: Part, value: tuple[float, float]) -> str:
        """Nothing: the detail names the bound to check."""
        return ""


INTERVAL = IntervalKind()


def _two_expressions(answer: Any) -> bool:
    return (
        isinstance(answer, list)
        and len(answer) == 2
        and all(isinstance(a, str | int | float) and not isinstance(a, bool) for a in answer)
    )


def _lower_below_upper(bounds: list[float]) -> None:
    if not bounds[0] < bounds[1]:
        raise ValueError(f"the interval's lower bound {bounds[0]} is not below {bounds[1]}")


def _as_pair(raw: Any) -> tuple[Any, Any] | None:
    """[lower, upper] or {"lower": ..., "upper": ...} as a pair; None for anything else."""
    if isinstance(raw, Mapping) and set(raw) == set(BOUNDS):
        return raw["lower"], raw["upper"]
    if isinstance(raw, list | tuple) and len(raw) == 2:
        return raw[0], raw[1]
    return None


def _pair(answer: Any) -> list[float]:
    return [float(a) for a in answer] if isinstance(answer, list | tuple) else []


def _reference(part: Part) -> list[float]:
    """The reference bounds: an interval part's answer is always [lower, upper]."""
    pair = _pair(part.answer)
    assert len(pair) == 2, "an interval part's answer is [lower, upper]"
    return pair
