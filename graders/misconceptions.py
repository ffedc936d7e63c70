"""Misconception matching: say *which* wrong computation a wrong answer came from.

A part's misconceptions are alternative answers from the spec (the log-odds instead of the
probability, the variance instead of the SD...). A wrong answer is compared with each one
using the same acceptance logic as the right answer; when several match (their ranges are
kept apart at generation, but a stored variant may predate that), the nearest wins and the
spec's order breaks ties. After the
spec's own list, generic detectors catch mistakes a spec may have forgotten to list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from problem_bank.acceptance import part_range, within
from problem_bank.kinds.base import AnswerKind
from problem_bank.variant import Part

PERCENT_NOT_PROPORTION = "percent_not_proportion"
PERCENT_MESSAGE = (
    "Your answer is 100 times the expected value: it looks like a percentage. This part "
    "asks for a proportion between 0 and 1, e.g. 0.236 rather than 23.6."
)


@dataclass(frozen=True, slots=True)
class Match:
    """A recognised misconception: its id and the message for the student."""

    id: str
    message: str


#: A generic detector looks at a part and a parsed wrong answer and may name a mistake.
Detector = Callable[[Part, Any], Match | None]


def percent_for_proportion(part: Part, value: Any) -> Match | None:
    """A percentage typed where a proportion is asked (23.6 for 0.236).

    A part counts as a proportion when its reference and interval lie in [0, 1] and it does
    not take percentages; the answer matches when answer/100 would have been accepted.
    """
    if part.acceptance.percent_allowed or not isinstance(value, float):
        return None
    reference = float(part.answer)  # type: ignore[arg-type]
    interval = part.acceptance.interval or (reference, reference)
    if not (min(interval) >= 0.0 and max(interval) <= 1.0 and 0.0 <= reference <= 1.0):
        return None
    if within(value / 100.0, part_range(part.acceptance, reference)):
        return Match(PERCENT_NOT_PROPORTION, PERCENT_MESSAGE)
    return None


#: Generic detectors for a kind whose answer is one number
#: (:attr:`~problem_bank.kinds.base.AnswerKind.answers_one_number`), tried in order after
#: the spec's misconceptions. No other kind has generic detectors yet.
ONE_NUMBER_DETECTORS: tuple[Detector, ...] = (percent_for_proportion,)


def generic_detectors(kind: AnswerKind) -> tuple[Detector, ...]:
    """The generic detectors that apply to answers of ``kind``, asked of the kind."""
    return ONE_NUMBER_DETECTORS if kind.answers_one_number else ()


def find_misconception(part: Part, kind: AnswerKind, value: Any) -> Match | None:
    """The misconception of ``part`` nearest to ``value`` among those it matches, or None."""
    matching = [m for m in part.misconceptions if kind.matches(part, m, value)]
    if matching:
        nearest = min(matching, key=lambda m: kind.distance(part, m, value))
        return Match(nearest.id, nearest.message)
    for detect in generic_detectors(kind):
        found = detect(part, value)
        if found is not None:
            return found
    return None
