"""Multi-select parts: tick every option that applies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from problem_bank.kinds.base import (
    NOT_THIS_SET,
    Comparison,
    FormFields,
    all_values,
    as_id_set,
    choice_ids,
    list_problem,
)
from problem_bank.kinds.building import built_part, choice_value, part_choices, part_misconceptions
from problem_bank.kinds.options import OptionsKind
from problem_bank.kinds.parsing import parse_choice_set
from problem_bank.variant import Misconception, Part

if TYPE_CHECKING:
    from problem_bank.generate import VariantContext
    from problem_bank.scenarios import Scenario
    from problem_bank.spec import MisconceptionSpec, PartSpec


class MultiKind(OptionsKind):
    """The exact set scores 1.

    With ``acceptance.partial_credit`` the score is (right ticks - wrong ticks) / number of
    right options, floored at 0, so ticking everything earns nothing.
    """

    name = "multi"
    multiple = True
    input_type = "checkbox"
    group_role = "group"
    instruction = "Tick every option that applies."

    def overlap(self, part: Part, a: Misconception, b: Misconception) -> bool:
        """A multi-select misconception matches its exact set only."""
        return as_id_set(a.answer) == as_id_set(b.answer)

    def read_form(self, fields: FormFields, key: str) -> Any:
        return all_values(fields, key)

    def shape_problem(self, value: Any) -> str:
        return list_problem(value)

    def build(self, ps: PartSpec, ctx: VariantContext, scenario: Scenario | None) -> Part:
        """A set of choice ids, listed in the order the choices are shown."""
        choices = part_choices(ps, ctx, scenario)
        ids = {c.id for c in choices}
        items = ps.answer if isinstance(ps.answer, list) else [ps.answer]
        picked = {choice_value(i, ctx, ids) for i in items}
        answer = [c.id for c in choices if c.id in picked]

        def wrong(m: MisconceptionSpec) -> list[str]:
            return [m.choice] if isinstance(m.choice, str) else list(m.choice or [])

        return built_part(
            ps,
            ctx,
            kind="multi",
            answer=answer,
            misconceptions=part_misconceptions(ps, ctx, wrong),
            shown=", ".join(answer),
            choices=choices,
        )

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
