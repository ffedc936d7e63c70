"""Choice parts: pick one option (experimental unit, random vs fixed, remedy...)."""

from __future__ import annotations

from typing import Any

from graders.kinds.base import NOT_THIS_ONE, Comparison, as_id_set, choice_ids
from graders.parsing import parse_choice
from problem_bank.variant import Misconception, Part

_RIGHT = Comparison(1.0)
_WRONG = Comparison(0.0)


class ChoiceKind:
    """One option; right or wrong. A list as the reference means any of them is right."""

    name = "choice"

    def parse(self, part: Part, raw: Any) -> str:
        return parse_choice(raw, choice_ids(part))

    def compare(self, part: Part, value: str) -> Comparison:
        return _RIGHT if value in as_id_set(part.answer) else _WRONG

    def matches(self, part: Part, misconception: Misconception, value: str) -> bool:
        return value in as_id_set(misconception.answer)

    def distance(self, part: Part, misconception: Misconception, value: str) -> float:
        """A misconception naming this option alone is nearer than one naming several."""
        return float(len(as_id_set(misconception.answer)) - 1)

    def wrong_note(self, part: Part, value: str) -> str:
        """The picked option's own explanation, else a neutral "not this one"."""
        for choice in part.choices:
            if choice.id == value and choice.explanation:
                return choice.explanation
        return NOT_THIS_ONE


CHOICE = ChoiceKind()
