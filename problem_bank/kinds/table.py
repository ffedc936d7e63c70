"""Table parts: several numbers (e.g. predicted probabilities per group), one per cell."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from problem_bank.acceptance import (
    accepted_range,
    cell_ranges,
    precision_text,
    stated_range,
    too_coarse,
    within,
)
from problem_bank.kinds.base import (
    Comparison,
    ExpressionChecker,
    FormFields,
    Loc,
    all_values,
    list_problem,
)
from problem_bank.kinds.building import numbers_part, render_text
from problem_bank.kinds.parsing import ParseError, parse_cells, parse_typed_number
from problem_bank.kinds.ranges import NumbersKind
from problem_bank.variant import Misconception, Part

if TYPE_CHECKING:
    from problem_bank.generate import VariantContext
    from problem_bank.scenarios import Scenario
    from problem_bank.spec import PartSpec


def cell_labels(part: Part) -> list[str]:
    """'row / column' for each cell in row-major order, or nothing if the part has no labels."""
    rows, columns = part.rows, part.columns
    if rows and columns:
        return [f"{r} / {c}" for r in rows for c in columns]
    return list(rows or columns)


class TableKind(NumbersKind):
    """Each cell is graded like a numeric part against ``acceptance.intervals[i]``.

    All cells right scores 1. With ``acceptance.partial_credit`` each right cell earns an
    equal share; without it, any wrong cell scores the part 0.
    """

    name = "table"
    partial = "parts/table.html"
    default_format_hint = ""

    def spec_shape(self, ps: PartSpec) -> str:
        answer = ps.answer
        if not (isinstance(answer, list) and all(isinstance(r, list) for r in answer)):
            return "a table answer is a list of rows of expressions"
        if len(answer) != len(ps.rows) or any(len(r) != len(ps.columns) for r in answer):
            return "a table answer needs one row per `rows` and one cell per `columns`"
        for m in ps.misconceptions:
            if isinstance(m.expression, list) and not all(
                isinstance(r, list) for r in m.expression
            ):
                return f"misconception {m.id}: a table is a list of rows of expressions"
        return ""

    def answer_errors(
        self, answer: Any, loc: Loc, checker: ExpressionChecker, choice_ids: set[str]
    ) -> Iterator[tuple[Loc, str]]:
        if not isinstance(answer, list):
            yield loc, "a table answer is a list of rows"
            return
        for r, row in enumerate(answer):
            for c, cell in enumerate(row if isinstance(row, list) else [row]):
                yield from checker.expr((*loc, r, c), str(cell))

    def build(self, ps: PartSpec, ctx: VariantContext, scenario: Scenario | None) -> Part:
        """A grid of numbers, row-major; one acceptance interval per cell."""
        return numbers_part(
            ps,
            ctx,
            kind="table",
            expressions=_row_major,
            joiner=", ",
            fields=lambda: {
                "rows": tuple(render_text(r, ctx) for r in ps.rows),
                "columns": tuple(render_text(c, ctx) for c in ps.columns),
            },
        )

    def problems(self, part: Part) -> list[str]:
        reasons = []
        cells: list[Any] = list(part.answer)  # type: ignore[arg-type]
        intervals = part.acceptance.intervals
        for i, cell in enumerate(cells):
            if not math.isfinite(float(cell)):
                reasons.append(f"{part.id}: cell {i} is not finite")
        for m in part.misconceptions:
            wrong: list[Any] = list(m.answer)  # type: ignore[arg-type]
            if all(
                within(float(w), accepted_range(part.acceptance, float(c), intervals[i]))
                for i, (w, c) in enumerate(zip(wrong, cells, strict=True))
            ):
                reasons.append(f"{part.id}: misconception {m.id} not told apart")
        return reasons

    def accepted_text(self, part: Part) -> str:
        acc = part.acceptance
        ranges = cell_ranges(acc, _reference_cells(part))
        return "accepted per cell: " + "; ".join(
            " to ".join(stated_range(r, acc.digits)) for r in ranges
        )

    def precision(self, part: Part) -> str:
        return f"Give {precision_text(part.acceptance.digits)} in each cell."

    def read_form(self, fields: FormFields, key: str) -> Any:
        return all_values(fields, key)

    def shape_problem(self, value: Any) -> str:
        return list_problem(value)

    def invalid_inputs(self, typed: Any, percent_allowed: bool) -> list[int]:
        """The cells that are blank or unreadable, read by the grader's own number parser."""
        if not isinstance(typed, list | tuple):
            return []
        return [i for i, cell in enumerate(typed) if not readable_number(cell, percent_allowed)]

    def parse(self, part: Part, raw: Any) -> tuple[float, ...]:
        return parse_cells(
            raw,
            len(_reference_cells(part)),
            percent_allowed=part.acceptance.percent_allowed,
            labels=cell_labels(part),
        )

    def compare(self, part: Part, value: tuple[float, ...]) -> Comparison:
        reference = _reference_cells(part)
        ranges = cell_ranges(part.acceptance, reference)
        wrong = [i for i, (v, r) in enumerate(zip(value, ranges, strict=True)) if not within(v, r)]
        if not wrong:
            return Comparison(1.0)
        n = len(ranges)
        labels = cell_labels(part)
        names = [labels[i] if i < len(labels) else f"cell {i + 1}" for i in wrong]
        score = (n - len(wrong)) / n if part.acceptance.partial_credit else 0.0
        digits = part.acceptance.digits
        coarse = all(
            too_coarse(
                value[i],
                getattr(value[i], "unit", 0.0),
                reference[i],
                digits,
                ranges[i],
            )
            for i in wrong
        )
        if coarse:  # every wrong cell is right but typed too coarsely
            detail = f"Right, but give {precision_text(digits)} in {', '.join(names)}."
            return Comparison(score, detail, too_coarse=True)
        detail = f"{n - len(wrong)} of {n} cells are right; check {', '.join(names)}."
        return Comparison(score, detail)

    def matches(self, part: Part, misconception: Misconception, value: tuple[float, ...]) -> bool:
        answer = misconception.answer
        if not isinstance(answer, list | tuple) or len(answer) != len(value):
            return False
        own = misconception.acceptance
        if own is not None:
            ranges = cell_ranges(own, answer)  # type: ignore[arg-type]
        else:  # no interval of its own: the part's digits and slack around each wrong value
            ranges = [accepted_range(part.acceptance, float(a)) for a in answer]
        return all(within(v, r) for v, r in zip(value, ranges, strict=True))

    def distance(self, part: Part, misconception: Misconception, value: tuple[float, ...]) -> float:
        """The summed distance over the cells (the cells of a table share their units)."""
        wrong = misconception.answer
        assert isinstance(wrong, list | tuple)
        cells: list[float] = [float(w) for w in wrong]
        return float(sum(abs(v - w) for v, w in zip(value, cells, strict=True)))

    def wrong_note(self, part: Part, value: tuple[float, ...]) -> str:
        """Nothing: the detail names the cells to check."""
        return ""


TABLE = TableKind()


def readable_number(cell: Any, percent_allowed: bool) -> bool:
    """A typed cell the number parser reads (not blank)."""
    if cell is None or not str(cell).strip():
        return False
    try:
        parse_typed_number(cell, percent_allowed=percent_allowed)
    except ParseError:
        return False
    return True


def _row_major(rows: Any) -> list[Any]:
    """A spec table's cell expressions, row by row (spec_shape: a list of rows)."""
    assert isinstance(rows, list)
    return [cell for row in rows for cell in row]


def _reference_cells(part: Part) -> list[float]:
    """The table's reference cells: a table part's answer is always a list of numbers."""
    answer = part.answer
    assert isinstance(answer, list | tuple), "a table part's answer is a list"
    return [float(a) for a in answer]
