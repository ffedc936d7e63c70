"""Multi-select parts: tick every option that applies."""

from __future__ import annotations

from typing import Any

from graders.kinds.base import NOT_THIS_SET, Comparison, as_id_set, choice_ids
from graders.parsing import parse_choice_set
from problem_bank.variant import Misconception, Part


class MultiKind:
    """The exact set scores 1.

    With ``acceptance.partial_credit`` the score is (right ticks - wrong ticks) / number of
    right options, floored at 0, so ticking everything earns nothing.
    """

    name = "multi"

    def parse(self, part: Part, raw: Any) -> frozenset[str]:
        return parse_choice_set(raw, choice_ids(part))

    def compare(self, part: Part, value: frozenset[str]) -> Comparison:
        right = as_id_set(part.answer)
        if value == right:
            return Comparison(1.0)
        if not part.acceptance.partial_credit or not right:
            return Comparison(0.0)
        hits = len(value & right)
        wrong = len(value - right)
        score = max(0.0, (hits - wrong) / len(right))
        missed = len(right) - hits
        detail = f"{hits} of your {len(value)} selected options are right"
        if missed:
            detail += f", and {missed} right option{'s are' if missed > 1 else ' is'} missing"
        return Comparison(score, detail + ".")

    def matches(self, part: Part, misconception: Misconception, value: frozenset[str]) -> bool:
        return value == as_id_set(misconception.answer)

    def distance(self, part: Part, misconception: Misconception, value: frozenset[str]) -> float:
        """A match is the exact set, so every match is as near as another."""
        return 0.0

    def wrong_note(self, part: Part, value: frozenset[str]) -> str:
        """Neutral: the partial-credit detail already counts the right ticks."""
        return "" if part.acceptance.partial_credit else NOT_THIS_SET


MULTI = MultiKind()
