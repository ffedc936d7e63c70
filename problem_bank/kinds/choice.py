"""Choice parts: pick one option (experimental unit, random vs fixed, remedy...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from problem_bank.kinds.base import (
    NOT_THIS_ONE,
    Comparison,
    FormFields,
    as_id_set,
    choice_ids,
    first_value,
    one_value_problem,
)
from problem_bank.kinds.building import built_part, choice_value, part_choices, part_misconceptions
from problem_bank.kinds.options import OptionsKind
from problem_bank.kinds.parsing import parse_choice
from problem_bank.variant import Misconception, Part

if TYPE_CHECKING:
    from problem_bank.generate import VariantContext
    from problem_bank.scenarios import Scenario
    from problem_bank.spec import MisconceptionSpec, PartSpec

_RIGHT = Comparison(1.0)
_WRONG = Comparison(0.0)


class ChoiceKind(OptionsKind):
    """One option; right or wrong. A list as the reference means any of them is right."""

    name = "choice"
    multiple = False
    input_type = "radio"
    group_role = "radiogroup"

    def overlap(self, part: Part, a: Misconception, b: Misconception) -> bool:
        """One option named by both."""
        return bool(as_id_set(a.answer) & as_id_set(b.answer))

    def read_form(self, fields: FormFields, key: str) -> Any:
        return first_value(fields, key)

    def shape_problem(self, value: Any) -> str:
        return one_value_problem(value)

    def build(self, ps: PartSpec, ctx: VariantContext, scenario: Scenario | None) -> Part:
        """One choice id; misconceptions are wrong choices with their own messages."""
        choices = part_choices(ps, ctx, scenario)
        ids = {c.id for c in choices}
        explanation_extra = ""
        misconceptions: list[Misconception] = []
        if ps.choices_from is not None and scenario is not None:
            question = scenario.question(ps.choices_from)
            answer = question.answer
            explanation_extra = question.explanation
            misconceptions = [
                Misconception(m.id, m.choice, m.message) for m in question.misconceptions
            ]
        else:
            assert ps.answer is not None
            answer = choice_value(ps.answer, ctx, ids)

        def wrong(m: MisconceptionSpec) -> str | None:
            assert isinstance(m.choice, str)
            return m.choice if m.choice != answer else None

        return built_part(
            ps,
            ctx,
            kind="choice",
            answer=answer,
            misconceptions=(*misconceptions, *part_misconceptions(ps, ctx, wrong)),
            shown=answer,
            explanation_extra=explanation_extra,
            choices=choices,
        )

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
