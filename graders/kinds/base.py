"""What every answer kind provides: parse, compare, and recognise a misconception.

A kind is one module with one object satisfying :class:`AnswerKind`, and one entry in
:data:`graders.kinds.KINDS`. The grading engine only ever looks a kind up by name, so a
new kind never adds an ``if kind == ...`` branch anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from problem_bank.variant import Misconception, Part


@dataclass(frozen=True, slots=True)
class Comparison:
    """The outcome of comparing a parsed answer with the reference.

    ``score`` is in [0, 1]; ``detail`` is a short, answer-free remark for partial credit
    ("2 of 4 cells are right"), empty when there is nothing to add. ``too_coarse`` marks a
    right answer typed with fewer digits than asked: ``detail`` then says the precision
    asked, and the engine shows that instead of "Not correct" and a conceptual hint.
    """

    score: float
    detail: str = ""
    too_coarse: bool = False


class AnswerKind(Protocol):
    """The three operations the engine needs from a kind of answer."""

    name: str

    def parse(self, part: Part, raw: Any) -> Any:
        """The typed answer as a value to compare; raises ``ParseError`` with a message."""
        ...

    def compare(self, part: Part, value: Any) -> Comparison:
        """Score a parsed answer against the part's reference answer."""
        ...

    def matches(self, part: Part, misconception: Misconception, value: Any) -> bool:
        """True when the parsed answer is what a student holding ``misconception`` types."""
        ...


def choice_ids(part: Part) -> list[str]:
    """The ids of a part's options, in display order."""
    return [choice.id for choice in part.choices]


def as_id_set(answer: Any) -> frozenset[str]:
    """A reference or misconception answer for a choice part as a set of ids."""
    if isinstance(answer, list | tuple | set | frozenset):
        return frozenset(str(item) for item in answer)
    return frozenset((str(answer),))
