"""Misconceptions: each known wrong computation is named, with its own message."""

from __future__ import annotations

import math

import pytest

from graders import grade
from graders.misconceptions import PERCENT_NOT_PROPORTION
from problem_bank.variant import Acceptance, Misconception, Part
from tests.graders.builders import choice, numeric, table, variant

ETA = -1.174032  # cod: linear predictor for length 50, Area 3, 2001
P = 1 / (1 + math.exp(-ETA))


def wrong(misconception_id: str, answer: float) -> Misconception:
    return Misconception(misconception_id, answer, f"message for {misconception_id}")


# (misconception id, reference answer, what the misconception gives, what the student types)
CASES = [
    ("log_odds", P, ETA, "\u22121.17"),
    ("odds", P, P / (1 - P), "0.309"),
    ("dummy_alone", 5.2 + 1.3, 1.3, "1.30"),  # treatment mean = intercept + coefficient
    ("control_slope", 0.81 + 0.35, 0.81, "0.81"),  # interaction: slope for the treated group
    ("ignores_grouping", 0.523, 0.714, "0.714"),  # lm slope instead of the mixed-model slope
    ("reml_not_ml", 1.84, 1.93, "1.93"),  # ML asked, REML given
    ("ml_not_reml", 1.93, 1.84, "1.84"),
    ("variance_not_sd", 1.93, 1.93**2, "3.72"),
    ("sd_not_variance", 3.72, math.sqrt(3.72), "1.93"),
    ("wrong_reference", 2.41, -1.12, "-1.12"),  # contrast against the wrong baseline level
    ("sign_flip", 0.842, -0.842, "-0.842"),
    ("percent_not_proportion", 0.236, 23.6, "23.6"),
]


@pytest.mark.parametrize(("mid", "reference", "given", "typed"), CASES, ids=[c[0] for c in CASES])
def test_each_misconception_is_named(mid: str, reference: float, given: float, typed: str) -> None:
    decoys = (wrong("decoy", reference * 7 + 11),)
    part = numeric(reference, misconceptions=(*decoys, wrong(mid, given)))
    (verdict,) = grade(variant(part), {"a": typed}).parts
    assert verdict.verdict == "incorrect"
    assert verdict.score == 0.0
    assert verdict.misconception == mid
    assert f"message for {mid}" in verdict.message
    assert verdict.hint == part.hint


@pytest.mark.parametrize(("mid", "reference", "given", "typed"), CASES, ids=[c[0] for c in CASES])
def test_misconception_answer_needs_the_asked_digits(
    mid: str, reference: float, given: float, typed: str
) -> None:
    part = numeric(reference, misconceptions=(wrong(mid, given),))
    coarse = given * 1.02  # 2% off the misconception's value: another mistake
    assert grade(variant(part), {"a": coarse}).parts[0].misconception != mid


def test_a_tie_goes_to_the_first_listed() -> None:
    part = numeric(0.5, misconceptions=(wrong("first", 2.0), wrong("second", 2.0)))
    assert grade(variant(part), {"a": "2"}).parts[0].misconception == "first"


def test_the_nearest_matching_misconception_wins_not_the_first_listed() -> None:
    # logistic_cod v1, seed 241, probability_reference: the log-odds of the reference cod
    # (0.364) lay inside the range of the wrong-reference probability (0.366), listed first,
    # so a student who typed the log-odds was told about reference levels.
    wrong_reference = Misconception(
        "wrong_reference",
        0.366,
        "message for wrong_reference",
        Acceptance(digits=3, interval=(0.36421788461911114, 0.3682797891011533)),
    )
    log_odds = Misconception(
        "log_odds",
        0.364,
        "message for log_odds",
        Acceptance(digits=3, interval=(0.36068037083778237, 0.36718037083778243)),
    )
    part = numeric(
        0.59,
        interval=(0.5892051226695111, 0.5907774813271789),
        misconceptions=(wrong_reference, log_odds),
    )
    (verdict,) = grade(variant(part), {"a": "0.3645"}).parts
    assert verdict.misconception == "log_odds"
    assert "message for log_odds" in verdict.message
    (verdict,) = grade(variant(part), {"a": "0.3665"}).parts
    assert verdict.misconception == "wrong_reference"


def test_nearest_table_misconception_wins() -> None:
    loose = Acceptance(digits=3, rtol=0.01)
    near = Misconception("near", [1.0, 2.0], "near", loose)
    far = Misconception("far", [1.004, 2.004], "far", loose)
    part = table([5.0, 6.0], misconceptions=(far, near))
    assert grade(variant(part), {"t": ["1.001", "2.001"]}).parts[0].misconception == "near"


def test_a_choice_misconception_about_this_option_alone_wins() -> None:
    broad = Misconception("broad", ["a", "b"], "broad")
    narrow = Misconception("narrow", "a", "narrow")
    part = choice("c", misconceptions=(broad, narrow))
    assert grade(variant(part), {"c": "a"}).parts[0].misconception == "narrow"


def test_correct_answer_never_reports_a_misconception() -> None:
    part = numeric(0.5, misconceptions=(wrong("same_number", 0.5),))
    (verdict,) = grade(variant(part), {"a": "0.5"}).parts
    assert (verdict.verdict, verdict.misconception) == ("correct", None)


def test_misconception_with_its_own_acceptance_interval() -> None:
    own = Acceptance(digits=3, interval=(-1.20, -1.15))
    mis = Misconception("log_odds", -1.174, "You gave the log-odds.", acceptance=own)
    part = numeric(P, misconceptions=(mis,))
    assert grade(variant(part), {"a": "-1.199"}).parts[0].misconception == "log_odds"
    assert grade(variant(part), {"a": "-1.25"}).parts[0].misconception is None


def test_percent_detected_generically_when_the_spec_forgot_it() -> None:
    (verdict,) = grade(variant(numeric(0.236)), {"a": "23.6"}).parts
    assert verdict.misconception == PERCENT_NOT_PROPORTION
    assert "proportion" in verdict.message
    assert verdict.score == 0.0


def test_percent_detection_uses_the_rounding_interval() -> None:
    part = numeric(0.23613, interval=(0.23613, 0.23622))
    assert grade(variant(part), {"a": "23.62"}).parts[0].misconception == PERCENT_NOT_PROPORTION


@pytest.mark.parametrize(
    ("part", "typed"),
    [
        (numeric(0.236, percent_allowed=True), "23.6"),  # percent is allowed: just wrong
        (numeric(2.36), "236"),  # not a proportion
        (numeric(0.236), "24.9"),  # not 100 times the answer
    ],
)
def test_percent_detection_stays_quiet_elsewhere(part: Part, typed: str) -> None:
    assert grade(variant(part), {"a": typed}).parts[0].misconception is None


def test_choice_misconception_does_not_carry_the_right_answers_explanation() -> None:
    part = choice(
        "tank",
        ("tank", "fish"),
        misconceptions=(Misconception("ignores_grouping", "fish", "Fish share a tank."),),
    )
    (verdict,) = grade(variant(part), {"c": "fish"}).parts
    assert verdict.misconception == "ignores_grouping"
    assert "Fish share a tank." in verdict.message
    assert part.explanation not in verdict.message


def test_multi_misconception_matches_the_whole_selection() -> None:
    mis = Misconception("random_vs_fixed", ["a", "b"], "Year has only three levels.")
    part = choice(["a", "c"], kind="multi", part_id="m", misconceptions=(mis,))
    assert grade(variant(part), {"m": ["b", "a"]}).parts[0].misconception == "random_vs_fixed"
    assert grade(variant(part), {"m": ["b"]}).parts[0].misconception is None


def test_table_misconception_matches_every_cell() -> None:
    mis = Misconception("log_odds", [0.01675, -1.174], "Apply the inverse logit.")
    part = table([0.504, 0.236], misconceptions=(mis,))
    assert grade(variant(part), {"t": ["0.0168", "-1.17"]}).parts[0].misconception == "log_odds"
    assert grade(variant(part), {"t": ["0.504", "-1.17"]}).parts[0].misconception is None
