"""One formula parser: the names the DGP draws, the validator accepts and the fitter prints
are the same, because all three read problem_bank.formula.

Before, problem_bank/terms.py named ``y ~ 0 + Dose`` ``['Dosed1', 'Dosed2']`` while the
fitter (R's rule) named ``['Dosectrl', 'Dosed1', 'Dosed2']``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from problem_bank.dgp import design_columns
from problem_bank.fitting.formula import Design
from problem_bank.formula import FormulaError, parse_formula

LEVELS = {"Dose": ["ctrl", "d1", "d2"], "Area": ["A1", "A2"]}
FORMULAS = [
    "y ~ 0 + Dose",
    "y ~ x",
    "y ~ x + Dose",
    "y ~ x * Dose",
    "y ~ x:Dose",
    "y ~ Dose:Area",
    "y ~ Dose * Area",
    "y ~ 0 + x:Dose + Area",
    "y ~ Dose + Area + x:Area",
    "y ~ 1",
]


def _frame(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.uniform(0, 5, size=n).round(2),
            "Dose": rng.choice(LEVELS["Dose"], size=n),
            "Area": rng.choice(LEVELS["Area"], size=n),
        }
    )
    for col, levels in LEVELS.items():
        frame[col] = pd.Categorical(frame[col], categories=levels)
    return frame


def test_no_intercept_factor_gets_every_level() -> None:
    assert parse_formula("y ~ 0 + Dose").coef_names(LEVELS) == ["Dosectrl", "Dosed1", "Dosed2"]


@pytest.mark.parametrize("text", FORMULAS)
def test_the_dgp_columns_are_the_fitters_model_matrix(text: str) -> None:
    formula = parse_formula(text)
    frame = _frame()
    design = Design(formula, frame)
    assert formula.coef_names(LEVELS) == design.column_names
    columns = design_columns(formula, frame, LEVELS)
    assert list(columns) == design.column_names
    np.testing.assert_array_equal(np.column_stack(list(columns.values())), design.X)


@pytest.mark.parametrize("text", FORMULAS)
def test_one_row_is_the_model_matrix_row(text: str) -> None:
    formula = parse_formula(text)
    frame = _frame()
    design = Design(formula, frame)
    row = {"x": 2.5, "Dose": "d1", "Area": "A2"}
    assert list(formula.design_row(row, LEVELS).values()) == list(design.row(row))


@pytest.mark.parametrize(
    "text",
    ["y ~ log(x)", "y ~ x - z", "y ~ ", "y x", "1y ~ x", "y ~ a*b*c*d*e*f", "y ~ (x | `g`)"],
)
def test_outside_the_subset_is_a_formula_error(text: str) -> None:
    with pytest.raises(FormulaError):
        parse_formula(text)
