"""The expression vocabulary: only whitelisted syntax parses; leaves drive rounding intervals."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pytest

from problem_bank import expressions as ex

# The lecture's cod model (summary(glm) in the syllabus).
COD = {
    "(Intercept)": -0.465947,
    "Length": 0.009654,
    "Year2000": 0.566536,
    "Year2001": -0.680315,
    "Area2": -0.626192,
    "Area3": -0.510470,
    "Area4": 1.233878,
}


class CodModel:
    """A stand-in fitted logistic model with the lecture's coefficients."""

    def stat(self, what: str, name: str) -> float:
        assert what == "coef"
        return COD[name]

    def design_row(self, values: Mapping[str, Any]) -> dict[str, float]:
        row = {"(Intercept)": 1.0, "Length": float(values["Length"])}
        for factor in ("Year", "Area"):
            for name in COD:
                if name.startswith(factor):
                    row[name] = float(name == f"{factor}{values[factor]}")
        return row

    def inverse_link(self, eta: float) -> float:
        return 1.0 / (1.0 + math.exp(-eta))


class Ctx:
    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values = values or {}

    def model(self, name: str) -> Any:
        return CodModel()

    def value(self, name: str) -> Any:
        return self.values[name]


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os')",
        "__import__('os').system('ls')",
        "coef.__class__",
        "(lambda: 1)()",
        "[1, 2][0]",
        "open('x')",
        "eval('1')",
        "coef('x')[0]",
        "{'a': 1}",
        "x if y else z",
        "f'{coef}'",
        "1 // 2",
        "1 if 2 else 3",
        "coef(*['x'])",
        "predict(**{'x': 1})",
        "[c for c in 'ab']",
        "_secret",
        "coef('x', model=x)",
        'varcorr("g", "(Intercept)", "sdev")',
        'predict(scale="probability", x=1)',
        "coef()",
    ],
)
def test_rejects_everything_outside_the_vocabulary(source: str) -> None:
    with pytest.raises(ex.ExpressionError):
        ex.parse(source)


@pytest.mark.parametrize(
    "source",
    [
        'coef("x") + 2 * se("x") ** 2 - -1',
        'invlogit(coef("(Intercept)") + coef("Length") * 50)',
        'predict(scale="link", Length=50, Area="3", Year="2001")',
        'ifelse(pvalue("x") < 0.05, "reject", "keep")',
        'coef("Dose" + g)',
        'varcorr("region", "(Intercept)", "var") / (varcorr("region", "(Intercept)") + 1)',
        'contrast("Dose", "control", "dose1", "p")',
        'coef("x", model="naive")',
        "abs(exp(log(sqrt(4))))",
        "not 1 < 2 and 3 >= 2 or 0 == 1",
    ],
)
def test_accepts_the_vocabulary(source: str) -> None:
    ex.parse(source)


def test_lecture_cod_prediction_is_inside_the_rounding_interval() -> None:
    """Working from the coefficients printed to 3 significant digits must be accepted."""
    expr = ex.parse('predict(Length=50, Area="3", Year="2001")')
    value, (lo, hi) = ex.rounding_interval(expr, Ctx(), digits=3)
    by_hand = 1 / (1 + math.exp(-(-0.466 + 0.00965 * 50 - 0.680 - 0.510)))
    assert lo <= value <= hi
    assert lo <= by_hand <= hi
    # and the interval stays tight: a 2-significant-digit answer is not inside it
    assert not lo - ex.half_unit(value, 3) <= round(value, 2) <= hi + ex.half_unit(value, 3) or (
        abs(round(value, 2) - value) <= ex.half_unit(value, 3)
    )
    assert hi - lo < 0.002


def test_counts_and_literals_are_not_perturbed() -> None:
    expr = ex.parse("2 * x0")
    value, interval = ex.rounding_interval(expr, Ctx({"x0": 3.25}), digits=3)
    assert value == 6.5 and interval == (6.5, 6.5)


def test_half_unit() -> None:
    assert ex.half_unit(0.009654, 3) == pytest.approx(0.000005)
    assert ex.half_unit(-123.4, 2) == pytest.approx(5.0)
    assert ex.half_unit(0.0, 3) == 0.0


def test_ifelse_reads_only_the_branch_taken() -> None:
    expr = ex.parse('ifelse(1 < 2, 5, coef("missing"))')
    assert expr.evaluate(Ctx()) == 5
