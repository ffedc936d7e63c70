"""What the grader counts as a misconception on the number kinds, as ranges per input.

Well-posedness asks whether two misconceptions can be told apart; it must ask with the
grader's own ranges (:mod:`problem_bank.acceptance`), so both read them from here, and the
number kinds share them through :class:`NumbersKind`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from problem_bank.acceptance import accepted_range
from problem_bank.kinds.base import ExpressionChecker, Loc, expression_items
from problem_bank.variant import Misconception, Part


def misconception_ranges(part: Part, m: Misconception) -> list[tuple[float, float]]:
    """What the grader counts as ``m`` on a numeric, table or interval part, one range per
    input: the misconception's own interval widened like the answer's, or the part's slack
    around it (:func:`problem_bank.acceptance.accepted_range`, as the grader's ``matches``)."""
    acc = m.acceptance or replace(part.acceptance, interval=None, intervals=())
    if isinstance(m.answer, list):  # several inputs: one interval per input
        wrong = list(m.answer)
        cells = [acc.intervals[i] if i < len(acc.intervals) else None for i in range(len(wrong))]
    else:
        wrong, cells = [m.answer], [acc.interval]
    return [
        accepted_range(acc, float(w), interval)  # type: ignore[arg-type]
        for w, interval in zip(wrong, cells, strict=True)
    ]


def ranges_overlap(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> bool:
    """Numbers in both ranges exist, input by input."""
    return len(a) == len(b) and all(
        x[0] <= y[1] and y[0] <= x[1] for x, y in zip(a, b, strict=True)
    )


class NumbersKind:
    """What the number kinds (numeric, table, interval) share: an answer of numbers written
    as expressions (no choice ids), each number accepted within its own range."""

    answers_one_number = False

    def answer_errors(
        self, answer: Any, loc: Loc, checker: ExpressionChecker, choice_ids: set[str]
    ) -> Iterator[tuple[Loc, str]]:
        return expression_items(answer, loc, checker, set())

    def overlap(self, part: Part, a: Misconception, b: Misconception) -> bool:
        """One answer could match both: each number's two ranges overlap."""
        return ranges_overlap(misconception_ranges(part, a), misconception_ranges(part, b))
