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
    """The operations the engine needs from a kind of answer."""

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

    def distance(self, part: Part, misconception: Misconception, value: Any) -> float:
        """How far a matching answer is from ``misconception``'s: the nearest match wins."""
        ...

    def wrong_note(self, part: Part, value: Any) -> str:
        """What to say about a wrong answer no misconception explains ("" for nothing).

        Shown before the answer key is, so it must not name or hint at the right answer.
        """
        ...


def choice_ids(part: Part) -> list[str]:
    """The ids of a part's options, in display order."""
    return [choice.id for choice in part.choices]


#: Said of a wrong option that carries no explanation of its own: it reveals nothing.
NOT_THIS_ONE = "That option is not the right one; read the question and the study again."
#: Said of a wrong multi-select set, when the kind has no count of right ticks to give.
NOT_THIS_SET = "That set of options is not the right one; check each option again."


def as_id_set(answer: Any) -> frozenset[str]:
    """A reference or misconception answer for a choice part as a set of ids."""
    if isinstance(answer, list | tuple | set | frozenset):
        return frozenset(str(item) for item in answer)
    return frozenset((str(answer),))
