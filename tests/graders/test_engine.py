"""The pipeline: three separate stages, weighting, and plain-data output."""

from __future__ import annotations

import pytest

from graders import Feedback, compare_answer, grade, parse_answer, part_feedback
from problem_bank.variant import Variant
from tests.graders.builders import choice, numeric, variant


def test_stages_can_be_run_one_by_one() -> None:
    part = numeric(0.5)
    parsed = parse_answer(part, " .5 ")
    assert parsed.value == 0.5 and not parsed.error
    outcome = compare_answer(parsed)
    assert outcome.comparison is not None and outcome.comparison.score == 1.0
    assert part_feedback(outcome).verdict == "correct"


def test_unreadable_stage_output_keeps_the_message() -> None:
    parsed = parse_answer(numeric(0.5), "half")
    assert parsed.value is None and "half" in parsed.error
    assert compare_answer(parsed).comparison is None


@pytest.mark.parametrize(
    ("answers", "score"),
    [
        ({"a": "1", "b": "2", "c": "a"}, 1.0),
        ({"a": "1", "b": "0", "c": "b"}, 1 / 6),
        ({"a": "0", "b": "2", "c": "b"}, 3 / 6),
        ({"a": "0", "b": "0", "c": "a"}, 2 / 6),
        ({}, 0.0),
    ],
)
def test_total_is_the_weighted_mean(answers: dict[str, str], score: float) -> None:
    v = variant(
        numeric(1.0, part_id="a", weight=1),
        numeric(2.0, part_id="b", weight=3),
        choice("a", part_id="c", weight=2),
    )
    assert grade(v, answers).score == pytest.approx(score)


def test_zero_total_weight_scores_zero() -> None:
    assert grade(variant(numeric(1.0, weight=0)), {"a": "1"}).score == 0.0


def test_parts_come_back_in_variant_order_with_ids() -> None:
    v = variant(numeric(1.0, part_id="z"), numeric(2.0, part_id="y"))
    assert [p.id for p in grade(v, {"y": "2"}).parts] == ["z", "y"]


def test_hint_only_when_not_right() -> None:
    v = variant(numeric(1.0))
    assert grade(v, {"a": "1"}).parts[0].hint == ""
    assert grade(v, {"a": "3"}).parts[0].hint == "Look at the printed output again."


def test_feedback_is_plain_data_that_round_trips() -> None:
    v = variant(numeric(0.236), choice("a"))
    feedback = grade(v, {"a": "23.6", "c": "b"})
    assert Feedback.from_dict(feedback.to_dict()) == feedback


def test_grading_a_stored_variant_json_round_trip() -> None:
    v = variant(numeric(0.236), choice("a"))
    again = Variant.from_dict(v.to_dict())
    assert grade(again, {"a": "0.236", "c": "a"}).score == 1.0


def test_grading_is_deterministic() -> None:
    v = variant(numeric(0.236), choice("a"))
    answers = {"a": "0.3", "c": "b"}
    assert grade(v, answers) == grade(v, answers)
