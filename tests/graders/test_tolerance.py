"""Tolerance: rounding-aware intervals, with the lecture's cod example as the anchor."""

from __future__ import annotations

import math

import pytest

from graders import grade
from graders.tolerance import bounds, half_unit
from tests.graders.builders import numeric, variant

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
    lo, hi = bounds(0.5, 3, interval=(0.52, 0.49))
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
