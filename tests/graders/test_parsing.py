"""Parsing: every accepted form, and every rejected one with a message that helps."""

from __future__ import annotations

import math

import pytest

from graders import grade
from problem_bank.kinds.parsing import (
    ParseError,
    parse_cells,
    parse_choice,
    parse_choice_set,
    parse_number,
)
from tests.graders.builders import choice, numeric, variant


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.38", 0.38),
        (".38", 0.38),
        ("3.8e-1", 0.38),
        ("3.8E-1", 0.38),
        ("\u22120.38", -0.38),  # Unicode minus, as pasted from R output or a PDF
        ("-0.38", -0.38),
        ("+0.38", 0.38),
        ("  0.38  ", 0.38),
        ("\t0.38\n", 0.38),
        ("38.", 38.0),
        ("1e3", 1000.0),
        (0.38, 0.38),  # JSON numbers
        (-2, -2.0),
        ("0." + "1" * 62, float("0." + "1" * 62)),  # exactly 64 characters
    ],
)
def test_accepted_numbers(raw: object, expected: float) -> None:
    assert parse_number(raw) == pytest.approx(expected)


@pytest.mark.parametrize(("raw", "expected"), [("38%", 0.38), ("38 %", 0.38), ("-3.8e1%", -0.38)])
def test_percent_where_allowed(raw: str, expected: float) -> None:
    assert parse_number(raw, percent_allowed=True) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "Could not read"),
        ("zero point four", "Could not read"),
        ("1/0", "calculation"),
        ("exp(-1.17)", "calculation"),
        ("2*0.3", "calculation"),
        ("nan", "not a number"),
        ("NaN", "not a number"),
        ("inf", "Infinite"),
        ("-Infinity", "Infinite"),
        ("1e999", "too large"),
        ("x" * 65, "at most 64"),
        ("0." + "1" * 63, "at most 64"),
        ("0,38", "decimal point"),
        ("1,000", "ambiguous"),
        ("38%", "proportion"),  # percent where the part does not allow it
        ("0.3.8", "Could not read"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (10**400, "finite"),
        (True, "not true"),
        ([0.38], "single number"),
        ({"value": 0.38}, "single number"),
    ],
)
def test_rejected_numbers_say_what_and_what_is_expected(raw: object, says: str) -> None:
    with pytest.raises(ParseError) as error:
        parse_number(raw)
    message = str(error.value)
    assert says in message
    assert "0.38" in message or "proportion" in message or "decimal point" in message


def test_percent_refusal_suggests_the_proportion() -> None:
    with pytest.raises(ParseError, match=r"0\.236 rather than 23\.6%"):
        parse_number("23.6%")


CHOICES = ("tank", "fish", "net")


@pytest.mark.parametrize(
    ("raw", "expected"), [("tank", "tank"), (" fish ", "fish"), ("NET", "net")]
)
def test_accepted_choices(raw: str, expected: str) -> None:
    assert parse_choice(raw, CHOICES) == expected


def test_numeric_choice_ids_accept_json_numbers() -> None:
    assert parse_choice(2, ("1", "2")) == "2"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (3, "not a number"),
        (0.5, "not a number"),
        ("0.5", "not to type a number"),
        ("\u22121", "not to type a number"),
        ("boat", "not one of the options"),
        ("", "No option"),
        (["tank"], "pick one option"),
        ("t" * 65, "too long"),
    ],
)
def test_rejected_choices_list_the_options(raw: object, says: str) -> None:
    with pytest.raises(ParseError) as error:
        parse_choice(raw, CHOICES)
    assert says in str(error.value)
    assert "tank, fish, net" in str(error.value)


def test_multi_select_forms() -> None:
    assert parse_choice_set(["tank", "fish", "tank"], CHOICES) == {"tank", "fish"}
    assert parse_choice_set("tank, net", CHOICES) == {"tank", "net"}
    assert parse_choice_set([], CHOICES) == frozenset()
    with pytest.raises(ParseError, match="not one of the options"):
        parse_choice_set(["tank", "boat"], CHOICES)
    with pytest.raises(ParseError, match="single number"):
        parse_choice_set(2, CHOICES)


def test_table_forms() -> None:
    assert parse_cells([0.1, "0.2", " \u22120.3 "], 3) == pytest.approx((0.1, 0.2, -0.3))
    assert parse_cells("0.1; 0.2 0.3", 3) == pytest.approx((0.1, 0.2, 0.3))
    assert parse_cells(["10%", "20%"], 2, percent_allowed=True) == pytest.approx((0.1, 0.2))


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ([0.1, 0.2], "Expected 3 numbers"),
        ([0.1, "", 0.3], "B is empty"),
        ([0.1, None, 0.3], "B is empty"),
        ([0.1, "abc", 0.3], "B: Could not read"),
        ([0.1, 0.2, "nan"], "C: "),
        (0.1, "table of 3 numbers"),
    ],
)
def test_rejected_tables_name_the_cell(raw: object, says: str) -> None:
    with pytest.raises(ParseError, match=says):
        parse_cells(raw, 3, labels=("A", "B", "C"))


def test_unreadable_answer_costs_no_attempt_and_scores_zero() -> None:
    feedback = grade(variant(numeric(0.38)), {"a": "1/0"})
    (part,) = feedback.parts
    assert part.verdict == "unreadable"
    assert part.score == 0.0
    assert "calculation" in part.message
    assert part.hint == "a number"  # the part's format hint tells them what to type
    assert feedback.has_unreadable


def test_number_where_a_choice_is_expected_is_unreadable() -> None:
    feedback = grade(variant(choice("a")), {"c": 1})
    assert feedback.parts[0].verdict == "unreadable"
    assert feedback.has_unreadable


@pytest.mark.parametrize("answers", [{}, {"a": None}, {"other": "0.38"}])
def test_missing_answer_is_unanswered(answers: dict[str, object]) -> None:
    feedback = grade(variant(numeric(0.38)), answers)
    (part,) = feedback.parts
    assert (part.verdict, part.score) == ("unanswered", 0.0)
    assert not feedback.has_unreadable


def test_percent_allowed_part_grades_percent_as_proportion() -> None:
    feedback = grade(variant(numeric(0.38, percent_allowed=True)), {"a": "38%"})
    assert feedback.parts[0].verdict == "correct"
    assert math.isclose(feedback.score, 1.0)


def test_a_5000_digit_integer_is_a_parse_error_for_every_kind() -> None:
    """str() of it raises ValueError (Python's 4,300-digit limit): it was a 500 on submit."""
    huge = 10**5000
    for parse in (
        lambda: parse_choice(huge, ["1", "2"]),
        lambda: parse_choice_set([huge], ["1", "2"]),
        lambda: parse_number(huge),
        lambda: parse_cells([huge], 1),
    ):
        with pytest.raises(ParseError):
            parse()
