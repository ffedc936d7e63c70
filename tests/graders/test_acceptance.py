"""Acceptance: rounding-aware intervals (the lecture's cod example as the anchor), printed
precision, the precision asked, and the preview stating exactly what the grader accepts."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graders import grade
from problem_bank.acceptance import (
    accepted_range,
    half_unit,
    last_digit_unit,
    leaf_range,
    printed_range,
)
from problem_bank.kinds import accepted_text, precision_for
from problem_bank.variant import Acceptance, Misconception, Part
from tests.graders.builders import numeric, table, variant

# summary(glm(Prevalence ~ Length + Year + Area, family = binomial, data = cod)) as printed.
COD = {"(Intercept)": -0.465947, "Length": 0.009654, "Year2001": -0.680315, "Area3": -0.510470}


def inv_logit(eta: float) -> float:
    return 1.0 / (1.0 + math.exp(-eta))


def signif(x: float, digits: int) -> float:
    return float(f"{x:.{digits}g}")


def cod_probability(digits: int | None, *, year2001: bool, area3: bool) -> float:
    """π for a cod of length 50, from the coefficients (rounded to ``digits`` if given)."""
    c = {k: (v if digits is None else signif(v, digits)) for k, v in COD.items()}
    eta = c["(Intercept)"] + c["Length"] * 50
    eta += c["Year2001"] if year2001 else 0.0
    eta += c["Area3"] if area3 else 0.0
    return inv_logit(eta)


def cod_part(*, year2001: bool, area3: bool, part_id: str = "a"):
    exact = cod_probability(None, year2001=year2001, area3=area3)
    printed = cod_probability(3, year2001=year2001, area3=area3)
    interval = (min(exact, printed), max(exact, printed))
    return numeric(exact, part_id=part_id, digits=3, interval=interval)


def test_lecture_example_worked_from_printed_coefficients_is_correct() -> None:
    part = cod_part(year2001=True, area3=True)
    student = 1 / (1 + math.exp(-(-0.466 + 0.00965 * 50 - 0.680 - 0.510)))
    v = variant(part)
    assert grade(v, {"a": student}).score == 1.0
    assert grade(v, {"a": f"{student:.3g}"}).score == 1.0  # typed as 0.236
    assert grade(v, {"a": repr(student)}).score == 1.0
    assert grade(v, {"a": part.answer}).score == 1.0


def test_lecture_example_two_significant_digits_are_not_enough() -> None:
    part = cod_part(year2001=True, area3=True)
    feedback = grade(variant(part), {"a": "0.24"})
    assert (feedback.parts[0].verdict, feedback.score) == ("incorrect", 0.0)


def test_lecture_case_one_area1_1999() -> None:
    part = cod_part(year2001=False, area3=False)
    v = variant(part)
    student = 1 / (1 + math.exp(-(-0.466 + 0.00965 * 50)))
    assert grade(v, {"a": f"{student:.3g}"}).score == 1.0  # 0.504
    assert grade(v, {"a": "0.50"}).score == 0.0  # 2 significant digits where 3 are asked
    assert grade(v, {"a": "0.5"}).score == 0.0


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (0.236, 3, 0.0005),
        (0.2361, 2, 0.005),
        (123.4, 3, 0.5),
        (-0.0123, 2, 0.0005),
        (1000.0, 3, 5.0),
        (9.99, 3, 0.005),
        (0.0, 3, 0.0005),
    ],
)
def test_half_unit_in_the_last_asked_digit(value: float, digits: int, expected: float) -> None:
    assert half_unit(value, digits) == pytest.approx(expected)


def test_without_interval_falls_back_to_reference_plus_minus_half_unit() -> None:
    v = variant(numeric(0.2361))
    assert grade(v, {"a": "0.2357"}).score == 1.0
    assert grade(v, {"a": "0.2366"}).score == 1.0  # the boundary itself is in
    assert grade(v, {"a": "0.2367"}).score == 0.0
    assert grade(v, {"a": "0.2355"}).score == 0.0


def test_boundaries_are_inclusive_despite_binary_floats() -> None:
    v = variant(numeric(0.2365))
    assert grade(v, {"a": "0.237"}).score == 1.0
    assert grade(v, {"a": "0.236"}).score == 1.0


def test_rtol_and_atol_add_slack() -> None:
    assert grade(variant(numeric(10.0)), {"a": "10.2"}).score == 0.0
    assert grade(variant(numeric(10.0, rtol=0.02)), {"a": "10.2"}).score == 1.0
    assert grade(variant(numeric(10.0, atol=0.2)), {"a": "9.8"}).score == 1.0


def test_interval_is_widened_on_both_sides_and_reordered() -> None:
    lo, hi = accepted_range(Acceptance(digits=3), 0.5, (0.52, 0.49))
    assert lo == pytest.approx(0.49 - 0.0005)
    assert hi == pytest.approx(0.52 + 0.0005)


def test_reference_outside_an_authors_interval_is_still_accepted() -> None:
    v = variant(numeric(0.30, interval=(0.40, 0.41)))
    assert grade(v, {"a": 0.30}).score == 1.0


def test_lecture_example_with_the_reference_stored_rounded() -> None:
    """The bank stores references rounded to the asked digits (0.236); nothing changes."""
    exact = cod_part(year2001=True, area3=True)
    part = numeric(signif(exact.answer, 3), interval=exact.acceptance.interval)
    v = variant(part)
    student = 1 / (1 + math.exp(-(-0.466 + 0.00965 * 50 - 0.680 - 0.510)))
    assert grade(v, {"a": student}).score == 1.0
    assert grade(v, {"a": "0.236"}).score == 1.0
    assert grade(v, {"a": "0.24"}).score == 0.0


def test_rounded_reference_outside_the_interval_widens_only_to_itself() -> None:
    part = numeric(1.09, interval=(1.09172, 1.09183))
    v = variant(part)
    assert grade(v, {"a": "1.09"}).score == 1.0
    assert grade(v, {"a": "1.087"}).score == 1.0  # within half a unit of the interval
    assert grade(v, {"a": "1.086"}).score == 0.0
    assert grade(v, {"a": "1.0968"}).score == 1.0
    assert grade(v, {"a": "1.0970"}).score == 0.0


# ------------------------------------------------------------- what a printed number shows


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.0003", (0.00025, 0.00035)),
        ("0.08", (0.075, 0.085)),
        ("-1.217", (-1.2175, -1.2165)),
        ("846", (845.5, 846.5)),
        ("1.2e-05", (1.15e-05, 1.25e-05)),
        ("<.0001", (0.0, 0.0001)),
        ("< 0.001", (0.0, 0.001)),
        ("<2e-16", (0.0, 2e-16)),
    ],
)
def test_printed_range_is_what_the_printed_digits_allow(
    text: str, expected: tuple[float, float]
) -> None:
    lo, hi = printed_range(text)  # type: ignore[misc]
    assert (lo, hi) == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_printed_range_of_text_that_is_no_number_is_none() -> None:
    assert printed_range("NA") is None


def test_a_leaf_printed_coarser_than_the_digits_asked_widens_to_the_print() -> None:
    # emmeans prints the p-value 0.00034678 as 0.0003 (0.00025 to 0.00035); rounded to the
    # 2 digits asked it reads 0.00035 (up to 0.00035178).
    assert leaf_range(0.00034678, 2, ("0.0003",)) == pytest.approx((0.00025, 0.00035178))
    # Printed finer than asked: rounding to the asked digits stays accepted too.
    assert leaf_range(1.24867, 3, ("1.24867",)) == pytest.approx((1.24367, 1.25367))
    assert leaf_range(0.5, 3) == pytest.approx((0.4995, 0.5005))


# --------------------------------------------------------------------- precision asked


def test_right_but_too_coarse_says_the_precision_asked() -> None:
    """t = 15.082 at 3 significant digits: 15.1 is right; 15 is right but too coarse."""
    v = variant(numeric(15.082, digits=3))
    assert grade(v, {"a": "15.1"}).score == 1.0
    (coarse,) = grade(v, {"a": "15"}).parts
    assert (coarse.score, coarse.verdict) == (0.0, "incorrect")
    assert coarse.message == "Right, but give 3 significant digits."
    assert coarse.hint == ""  # no conceptual hint for a rounding matter


def test_the_asked_precision_with_a_wrong_last_digit_is_not_correct() -> None:
    """15.0 shows 3 significant digits, and the third is wrong: not "too coarse"."""
    (wrong,) = grade(variant(numeric(15.082, digits=3)), {"a": "15.0"}).parts
    assert wrong.message.startswith("Not correct.")
    assert wrong.hint == "Look at the printed output again."


def test_too_coarse_needs_the_leading_digit_and_an_overlap() -> None:
    v = variant(numeric(0.732, digits=3))
    assert grade(v, {"a": "0.7"}).parts[0].message == "Right, but give 3 significant digits."
    assert grade(v, {"a": "1"}).parts[0].message.startswith("Not correct.")  # no digit of it
    assert grade(v, {"a": "0.8"}).parts[0].message.startswith("Not correct.")
    assert grade(v, {"a": "73%"}).parts[0].message.startswith(("Not correct.", "This part"))


def test_a_misconception_is_named_before_too_coarse() -> None:
    part = numeric(0.732, digits=3, misconceptions=(Misconception("m", 0.7, "Used 0.7."),))
    (verdict,) = grade(variant(part), {"a": "0.7"}).parts
    assert verdict.misconception == "m"
    assert "Used 0.7." in verdict.message and "significant" not in verdict.message


def test_the_page_says_the_precision_and_when_the_output_prints_coarser() -> None:
    assert precision_for(numeric(15.082)) == "Give 3 significant digits."
    p = numeric(0.00035, digits=2, interval=(0.00025, 0.00035), printed=("0.0003",))
    assert precision_for(p) == "Give 2 significant digits, or the value as the output prints it."
    assert precision_for(numeric(0.0001, digits=2, printed=("<.0001",))).endswith("prints it.")


# ------------------------------------------ the preview states exactly what the grader does


def _stated_unit(text: str) -> float:
    return last_digit_unit(text)


@st.composite
def graded_parts(draw: st.DrawFn) -> Part:
    magnitude = draw(st.floats(min_value=1e-6, max_value=1e6))
    reference = draw(st.sampled_from([1.0, -1.0])) * magnitude
    digits = draw(st.integers(min_value=1, max_value=6))
    spread = abs(reference) * draw(st.floats(min_value=0.0, max_value=0.05))
    interval = draw(st.none() | st.just((reference - spread, reference + spread / 2)))
    rtol = draw(st.sampled_from([0.0, 0.01]))
    if draw(st.booleans()):
        return numeric(reference, digits=digits, interval=interval, rtol=rtol)
    cells = [reference, -reference / 3]
    return table(cells, digits=digits, intervals=(interval,) if interval else ())


@given(graded_parts())
def test_what_the_preview_says_is_accepted_is_what_the_grader_accepts(part: Part) -> None:
    """Both ends of every stated range are accepted; one unit in the last stated digit
    beyond either end is not (numeric parts and each table cell)."""
    text = accepted_text(part)
    pairs = re.findall(r"(-?[\d.]+) to (-?[\d.]+)", text)
    assert pairs, text
    v = variant(part)
    for index, (lo, hi) in enumerate(pairs):
        unit = _stated_unit(lo)
        below = f"{float(lo) - unit:.{_decimals(lo)}f}"
        above = f"{float(hi) + unit:.{_decimals(hi)}f}"
        for typed, right in ((lo, True), (hi, True), (below, False), (above, False)):
            answer: Any = typed
            if part.kind == "table":
                answer = [str(c) for c in part.answer]  # type: ignore[union-attr]
                answer[index] = typed
            score = grade(v, {part.id: answer}).score
            assert (score == 1.0) is right, (text, typed)


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def test_a_table_cell_right_but_too_coarse_is_told_the_precision() -> None:
    v = variant(table([15.082, 2.4567], rows=("a", "b")))
    (coarse,) = grade(v, {"t": ["15", "2.46"]}).parts
    assert (coarse.score, coarse.verdict) == (0.0, "incorrect")
    assert coarse.message == "Right, but give 3 significant digits in a."
    (wrong,) = grade(v, {"t": ["15", "2.50"]}).parts
    assert wrong.message.startswith("Not correct. 0 of 2 cells are right")
    partial = variant(table([15.082, 2.4567], rows=("a", "b"), partial_credit=True))
    (half,) = grade(partial, {"t": ["15", "2.46"]}).parts
    assert (half.score, half.verdict, half.hint) == (0.5, "partial", "")


def test_well_posedness_and_grader_agree_at_a_reference_of_zero() -> None:
    """Issue 13: wellposed.widened took half a unit of 0 as 0 while the grader took 0.0005
    (3 digits), so a misconception at 0.0004 passed the check but was graded correct."""
    from problem_bank.wellposed import part_problems

    part = numeric(0.0, misconceptions=(Misconception("m", 0.0004, "Off."),))
    assert grade(variant(part), {"a": "0.0004"}).score == 1.0
    assert any("misconception m not told apart" in r for r in part_problems(part))
