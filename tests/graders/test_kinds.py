"""The answer kinds (choice, multi, table) and their registry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from graders import grade
from problem_bank.kinds import KINDS, Comparison, kind_of, register
from problem_bank.kinds.base import NOT_THIS_ONE, NOT_THIS_SET
from problem_bank.kinds.parsing import ParseError
from problem_bank.variant import Choice, Misconception, Part
from tests.graders.builders import choice, table, variant


def test_registry_holds_the_four_kinds() -> None:
    assert set(KINDS) >= {"numeric", "choice", "multi", "table"}
    assert all(KINDS[name].name == name for name in KINDS)


def test_unknown_kind_is_a_malformed_variant() -> None:
    with pytest.raises(ValueError, match="unknown answer kind 'essay'"):
        kind_of("essay")
    part = Part(id="e", kind="essay", prompt="Discuss.", answer="")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="essay"):
        grade(variant(part), {"e": "words"})


class YesNoKind:
    """A kind added from outside: one module, one registry entry."""

    name = "yes_no"

    def parse(self, part: Part, raw: Any) -> bool:
        if raw not in ("yes", "no"):
            raise ParseError("Answer yes or no.")
        return raw == "yes"

    def compare(self, part: Part, value: bool) -> Comparison:
        return Comparison(float(value == (part.answer == "yes")))

    def matches(self, part: Part, misconception: Misconception, value: bool) -> bool:
        return False

    def distance(self, part: Part, misconception: Misconception, value: bool) -> float:
        return 0.0

    def wrong_note(self, part: Part, value: bool) -> str:
        return ""


def test_a_new_kind_needs_only_a_registry_entry() -> None:
    register(YesNoKind())
    try:
        part = Part(id="y", kind="yes_no", prompt="Random?", answer="yes")  # type: ignore[arg-type]
        assert grade(variant(part), {"y": "yes"}).score == 1.0
        assert grade(variant(part), {"y": "maybe"}).parts[0].verdict == "unreadable"
    finally:
        del KINDS["yes_no"]


class TestChoice:
    def test_right_and_wrong(self) -> None:
        v = variant(choice("b"))
        assert grade(v, {"c": "b"}).score == 1.0
        assert grade(v, {"c": "a"}).score == 0.0

    def test_a_correct_verdict_carries_the_explanation(self) -> None:
        part = choice("b")
        assert part.explanation in grade(variant(part), {"c": "b"}).parts[0].message

    def test_a_wrong_pick_is_not_told_the_right_answer(self) -> None:
        # The explanation says why the right option is right: after a wrong attempt it would
        # make the next one free, so the wrong pick hears only about itself.
        part = choice("b")
        (verdict,) = grade(variant(part), {"c": "a"}).parts
        assert part.explanation not in verdict.message
        assert verdict.message == f"Not correct. {NOT_THIS_ONE}"
        assert "Option b" not in verdict.message

    def test_a_wrong_pick_gets_its_own_explanation(self) -> None:
        part = replace(
            choice("b"),
            choices=(Choice("a", "Option a", "A is measured, not assigned."), Choice("b", "B")),
        )
        (verdict,) = grade(variant(part), {"c": "a"}).parts
        assert verdict.message == "Not correct. A is measured, not assigned."

    def test_a_misconception_message_comes_before_the_option_explanation(self) -> None:
        part = replace(
            choice("b", misconceptions=(Misconception("m", "a", "Named mistake."),)),
            choices=(Choice("a", "Option a", "A is measured."), Choice("b", "B")),
        )
        assert grade(variant(part), {"c": "a"}).parts[0].message == "Not correct. Named mistake."

    def test_a_wrong_multi_set_is_not_told_the_right_one(self) -> None:
        part = choice(["a", "b"], kind="multi")
        (verdict,) = grade(variant(part), {"c": ["a"]}).parts
        assert part.explanation not in verdict.message
        assert NOT_THIS_SET in verdict.message

    def test_explanation_is_not_revealed_for_free(self) -> None:
        part = choice("b")
        for answers in ({}, {"c": "zzz"}, {"c": 4}):
            assert part.explanation not in grade(variant(part), answers).parts[0].message

    def test_several_acceptable_options(self) -> None:
        v = variant(choice(["a", "b"]))
        assert grade(v, {"c": "a"}).score == grade(v, {"c": "b"}).score == 1.0
        assert grade(v, {"c": "c"}).score == 0.0


class TestMulti:
    def multi(self, partial_credit: bool) -> Part:
        return choice(
            ["a", "b"],
            ("a", "b", "c", "d"),
            kind="multi",
            part_id="m",
            partial_credit=partial_credit,
        )

    def test_exact_set_in_any_order_scores_one(self) -> None:
        for partial in (False, True):
            v = variant(self.multi(partial))
            assert grade(v, {"m": ["b", "a"]}).parts[0].verdict == "correct"
            assert grade(v, {"m": "a,b"}).score == 1.0

    def test_no_partial_credit_unless_the_spec_says_so(self) -> None:
        v = variant(self.multi(False))
        assert grade(v, {"m": ["a"]}).score == 0.0
        assert grade(v, {"m": ["a"]}).parts[0].verdict == "incorrect"

    @pytest.mark.parametrize(
        ("selected", "score"),
        [(["a"], 0.5), (["a", "c"], 0.0), (["a", "b", "c"], 0.5), (["c", "d"], 0.0), ([], 0.0)],
    )
    def test_partial_credit_is_right_minus_wrong_over_right(
        self, selected: list[str], score: float
    ) -> None:
        (verdict,) = grade(variant(self.multi(True)), {"m": selected}).parts
        assert verdict.score == pytest.approx(score)
        assert verdict.verdict == ("partial" if 0 < score < 1 else "incorrect")

    def test_partial_message_says_what_is_missing(self) -> None:
        (verdict,) = grade(variant(self.multi(True)), {"m": ["a"]}).parts
        assert "Partly correct" in verdict.message
        assert "1 right option is missing" in verdict.message


class TestTable:
    ANSWER = [0.504, 0.236, 0.641, 0.375]  # noqa: RUF012

    def test_all_cells_right(self) -> None:
        v = variant(table(self.ANSWER))
        assert grade(v, {"t": ["0.504", "0.236", "0.641", ".375"]}).score == 1.0

    def test_each_cell_uses_its_own_interval(self) -> None:
        intervals = ((0.500, 0.505), (0.236, 0.236), (0.641, 0.641), (0.375, 0.375))
        v = variant(table(self.ANSWER, intervals=intervals))
        assert grade(v, {"t": [0.5, 0.236, 0.641, 0.375]}).score == 1.0
        assert grade(v, {"t": [0.504, 0.231, 0.641, 0.375]}).score == 0.0

    def test_no_partial_credit_unless_the_spec_says_so(self) -> None:
        (verdict,) = grade(variant(table(self.ANSWER)), {"t": [0.504, 0.236, 0.641, 0.9]}).parts
        assert (verdict.score, verdict.verdict) == (0.0, "incorrect")
        assert "3 of 4 cells are right" in verdict.message

    def test_partial_credit_per_cell(self) -> None:
        part = table(self.ANSWER, partial_credit=True, rows=("1999", "2001"), columns=("A1", "A3"))
        (verdict,) = grade(variant(part), {"t": [0.504, 0.9, 0.641, 0.9]}).parts
        assert verdict.score == pytest.approx(0.5)
        assert verdict.verdict == "partial"
        assert "1999 / A3" in verdict.message and "2001 / A3" in verdict.message

    def test_wrong_number_of_cells_is_unreadable(self) -> None:
        assert grade(variant(table(self.ANSWER)), {"t": [0.5]}).parts[0].verdict == "unreadable"
