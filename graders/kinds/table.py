"""Table parts: several numbers (e.g. predicted probabilities per group), one per cell."""

from __future__ import annotations

from typing import Any

from graders.kinds.base import Comparison
from graders.parsing import parse_cells
from problem_bank.acceptance import (
    accepted_range,
    cell_ranges,
    precision_text,
    too_coarse,
    within,
)
from problem_bank.variant import Misconception, Part


def cell_labels(part: Part) -> list[str]:
    """'row / column' for each cell in row-major order, or nothing if the part has no labels."""
    rows, columns = part.rows, part.columns
    if rows and columns:
        return [f"{r} / {c}" for r in rows for c in columns]
    return list(rows or columns)


class TableKind:
    """Each cell is graded like a numeric part against ``acceptance.intervals[i]``.

    All cells right scores 1. With ``acceptance.partial_credit`` each right cell earns an
    equal share; without it, any wrong cell scores the part 0.
    """

    name = "table"

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
                ranges[i],  # type: ignore[index]
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


def _reference_cells(part: Part) -> list[float]:
    """The table's reference cells: a table part's answer is always a list of numbers."""
    answer = part.answer
    assert isinstance(answer, list | tuple), "a table part's answer is a list"
    return [float(a) for a in answer]
