"""What choice and multi-select parts share: options, their checks and their markup."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from problem_bank.kinds.base import ExpressionChecker, Loc, as_id_set, expression_items
from problem_bank.variant import Part

if TYPE_CHECKING:
    from problem_bank.spec import PartSpec


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def wrong_choice_texts(part: Part) -> list[tuple[str, str]]:
    """(what, text) for everything shown after a wrong pick, before the answer key."""
    right = as_id_set(part.answer)
    texts = [(f"misconception {m.id}", m.message) for m in part.misconceptions]
    texts += [(f"choice {c.id}", c.explanation) for c in part.choices if c.id not in right]
    return texts


def choice_problems(part: Part) -> list[str]:
    """Every answer is a choice, no misconception is the answer, and nothing said after a
    wrong pick names the right option."""
    ids = {c.id for c in part.choices}
    answers = part.answer if isinstance(part.answer, list) else [part.answer]
    reasons = [f"{part.id}: answer {a!r} is not a choice" for a in answers if a not in ids]
    for m in part.misconceptions:
        if m.answer == part.answer:
            reasons.append(f"{part.id}: misconception {m.id} equals the answer")
    # What a wrong pick is told must not hand over the right option for the next attempt.
    right_labels = [_words(c.label) for c in part.choices if c.id in answers]
    for what, text in wrong_choice_texts(part):
        words = f" {_words(text)} "
        for label in right_labels:
            if label and f" {label} " in words:
                reasons.append(f"{part.id}: {what} names the right option ({label!r})")
    return reasons


class OptionsKind:
    """The parts of a kind whose answer is picked from the shown options.

    The partial lays the options out the same for every such kind; how they are ticked
    (one radio or many checkboxes) is the kind's, so no template compares kind names.
    """

    name: str
    partial = "parts/options.html"
    default_format_hint = ""
    answers_one_number = False
    #: True when the answer is a set of options, False when it is one of them.
    multiple: bool
    #: The ``type`` of each option's ``<input>``: "radio" or "checkbox".
    input_type: str
    #: The ARIA role of the group of options.
    group_role: str
    #: What the page says above the options ("" for nothing).
    instruction: str = ""

    def spec_shape(self, ps: PartSpec) -> str:
        return "" if ps.choices or ps.choices_from else f"a {self.name} part needs choices"

    def answer_errors(
        self, answer: Any, loc: Loc, checker: ExpressionChecker, choice_ids: set[str]
    ) -> Iterator[tuple[Loc, str]]:
        return expression_items(answer, loc, checker, choice_ids)

    def problems(self, part: Part) -> list[str]:
        return choice_problems(part)

    def accepted_text(self, part: Part) -> str:
        return ""

    def precision(self, part: Part) -> str:
        return ""

    def invalid_inputs(self, typed: Any, percent_allowed: bool) -> list[int]:
        """The whole group of options is marked."""
        return []
