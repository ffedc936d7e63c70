"""Data access in the vocabulary: observed(column, row), fitted(row), residual(row, type).

The values are cross-checked against statsmodels on built-in variants (its GLM's
``fittedvalues``, ``resid_response``, ``resid_pearson`` and ``resid_deviance`` are R's
``fitted()`` and ``residuals(type = ...)``), refitted from the CSV a student downloads,
so the row numbering (1-based, rows with NA left out by na.omit) is checked too.
"""

from __future__ import annotations

import io
import textwrap

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from problem_bank import builtin_problem, generate, parse_spec
from problem_bank import expressions as ex
from problem_bank.generate import VariantContext, generate_with_context
from problem_bank.spec import SpecError

#: Built-ins whose main model offers row residuals: lm, binomial glm with NAs, poisson glm.
CASES = [
    ("simple_regression", sm.families.Gaussian()),
    ("logistic_cod", sm.families.Binomial()),
    ("poisson_zeros", sm.families.Poisson()),
]


def _statsmodels_fit(slug: str, sm_family: sm.families.Family, csv: str) -> object:
    spec = builtin_problem(slug)
    data = pd.read_csv(io.StringIO(csv))
    formula = spec.formula("main")
    factors = spec.factor_levels()
    rhs = " + ".join(f"C({v})" if v in factors else v for v in formula.variables)
    # The parametrisation of a factor does not change fitted values or residuals.
    return smf.glm(f"{formula.response} ~ {rhs}", data=data, family=sm_family).fit(tol=1e-12)


def _value(ctx: VariantContext, source: str) -> float:
    return float(ex.parse(source).evaluate(ctx))


@pytest.mark.parametrize(("slug", "sm_family"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("seed", [0, 7])
def test_rows_match_statsmodels(slug: str, sm_family: sm.families.Family, seed: int) -> None:
    variant, ctx = generate_with_context(builtin_problem(slug), seed)
    fit = _statsmodels_fit(slug, sm_family, variant.data_csv)
    data = pd.read_csv(io.StringIO(variant.data_csv))
    response = builtin_problem(slug).formula("main").response
    used = list(fit.fittedvalues.index)  # 0-based labels of the rows statsmodels kept
    assert used == [r - 1 for r in ctx.model("main").rows_used()]
    eta = pd.Series(fit.model.exog @ fit.params.to_numpy(), index=fit.fittedvalues.index)
    for label in [*used[:: max(1, len(used) // 25)], used[-1]]:
        row = label + 1  # R's row number
        expected = {
            f"fitted({row})": fit.fittedvalues[label],
            f'fitted({row}, scale="link")': eta[label],
            f'residual({row}, "response")': fit.resid_response[label],
            f'residual({row}, "pearson")': fit.resid_pearson[label],
            f'residual({row}, "deviance")': fit.resid_deviance[label],
            f'observed("{response}", {row})': data[response][label],
        }
        for source, want in expected.items():
            assert _value(ctx, source) == pytest.approx(float(want), rel=1e-7, abs=1e-9), source


def test_a_row_with_a_missing_value_is_not_in_the_fit() -> None:
    """cod has NA in Length and Prevalence: R's residuals() skip those rows, and so do we."""
    variant, ctx = generate_with_context(builtin_problem("logistic_cod"), 0)
    data = pd.read_csv(io.StringIO(variant.data_csv))
    na_row = int(np.flatnonzero(data["Length"].isna().to_numpy())[0]) + 1
    with pytest.raises(ex.ExpressionError, match=rf"row {na_row} is not in the fit.*row_of"):
        _value(ctx, f'residual({na_row}, "response")')
    with pytest.raises(ex.ExpressionError, match=rf"row {na_row} is not in the fit"):
        _value(ctx, f"fitted({na_row}.0)")  # a whole float (an integer param's 3.0) too
    with pytest.raises(ex.ExpressionError, match=rf"row {na_row} of Length is missing \(NA\)"):
        _value(ctx, f'observed("Length", {na_row})')
    assert na_row not in ctx.model("main").rows_used()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('residual(0, "response")', r"rows are numbered from 1, as in R's dat\[1, \]"),
        ("fitted(2.5)", "row 2.5 is not a whole number"),
        ("fitted(100000)", r"row 100000 is past the last row of the data \(\d+ rows\)"),
        ('observed("Mass", 0)', "observed\\(\\): row 0: rows are numbered from 1"),
        ('observed("Mass", "a")', "a row number must be a number, not text"),
        ('observed("Weight", 1)', "'Weight' is not a column of the data"),
    ],
)
def test_bad_rows_and_columns_say_what_is_wrong(source: str, message: str) -> None:
    _variant, ctx = generate_with_context(builtin_problem("poisson_zeros"), 0)
    with pytest.raises(ex.ExpressionError, match=message):
        ex.parse(source).evaluate(ctx)


def test_observed_reads_the_csv_exactly_and_factors_as_text() -> None:
    variant, ctx = generate_with_context(builtin_problem("poisson_zeros"), 3)
    data = pd.read_csv(io.StringIO(variant.data_csv))
    assert _value(ctx, 'observed("Mass", 5)') == data["Mass"][4]
    assert ex.parse('observed("Habitat", 5)').evaluate(ctx) == data["Habitat"][4]
    # Exact: a student copies it from the CSV, so it is not widened for rounding.
    _, leaves = ex.parse('observed("Ticks", 5)').evaluate_with_leaves(ctx)
    assert [leaf.rounded for leaf in leaves.values()] == [False]


def test_fitted_reads_the_printed_coefficients() -> None:
    """fitted(row) is predict() at that row, so its accepted range covers a hand
    calculation from the printed summary (the residual's too)."""
    _variant, ctx = generate_with_context(builtin_problem("poisson_zeros"), 1)
    value, leaves = ex.parse('residual(4, "response")').evaluate_with_leaves(ctx)
    rounded = {k for k, leaf in leaves.items() if leaf.rounded}
    coefs = {"main:coef:(Intercept)", "main:coef:Mass", "main:coef:Habitatmeadow"}
    assert {"main:coef:(Intercept)", "main:coef:Mass"} <= rounded <= coefs
    assert not leaves["main:response:4"].rounded
    exact, (lo, hi) = ctx.interval('residual(4, "response")', 3)
    assert exact == value and lo < value < hi


# ---------------------------------------------------------------------------- the spec


SPEC = """\
id: row_problem
title: Rows
version: 1
topic: generalized linear models
story: "{n} sites."
dgp:
  formula: Count ~ Temp
  n: [40, 60]
  predictors:
    Temp: {type: numeric, low: 5, high: 20, decimals: 1}
  coefficients: {(Intercept): 0.5, Temp: 0.08}
  family: poisson
  missing: {Temp: [1, 3]}
models:
  main: {family: poisson, formula: Count ~ Temp}
  mixed: {family: gaussian, formula: Count ~ Temp}
params:
  r: {row_of: main}
  s: {row_of: main}
parts:
  - id: resid
    kind: numeric
    prompt: Residual of row {r}?
    answer: ANSWER
"""


def _spec(answer: str, **replace: str) -> str:
    text = SPEC.replace("ANSWER", answer)
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ('residual(r, "working")', "must be one of \\['deviance', 'pearson', 'response'\\]"),
        ("residual(r)", "residual\\(\\) takes 2 positional arguments"),
        ('residual(0, "response")', "residual\\(\\): row 0: rows are numbered from 1"),
        ('residual(41, "response")', "row 41 does not exist in every variant: .* as few as 40"),
        ("fitted(3.5)", "fitted\\(\\): row 3.5 is not a whole number"),
        ('fitted(r, scale="log")', 'fitted\\(\\): scale must be "response" or "link"'),
        ('observed("Depth", r)', "'Depth' is not a column of the data; columns: Temp, Count"),
        ('observed("Temp", 61)', "as few as 40 rows"),
        ("observed(Temp, r)", "'Temp' .*declare it under params"),
    ],
)
def test_spec_checks_rows_columns_and_types(answer: str, message: str) -> None:
    with pytest.raises(SpecError, match=message) as info:
        parse_spec(_spec(answer))
    assert info.value.line == 24  # the answer's line


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("{uniform: [1, 30]}", "parameter t draws any number in a range, not a row number"),
        ("{integer: [1, 50]}", "row 50 does not exist in every variant.*parameter t can draw"),
        ("{integer: [0, 5]}", "row 0: rows are numbered from 1.*parameter t can draw it"),
        ("{choice: [2, a]}", "a row number must be a number, not text"),
    ],
)
def test_a_row_parameter_must_draw_rows_of_every_variant(param: str, message: str) -> None:
    text = _spec("fitted(t)").replace("  s: {row_of: main}", f"  s: {{row_of: main}}\n  t: {param}")
    with pytest.raises(SpecError, match=message):
        parse_spec(text)


def test_integer_and_choice_rows_within_the_data_are_fine() -> None:
    for param in ("{integer: [1, 40]}", "{choice: [2, 17]}"):
        text = _spec('residual(t, "pearson")').replace(
            "  s: {row_of: main}", f"  s: {{row_of: main}}\n  t: {param}"
        )
        assert parse_spec(text).params["t"].row_of is None


def test_row_functions_need_a_model_that_defines_row_residuals() -> None:
    text = _spec('residual(r, "response", model="mix")').replace("  mixed:", "  mix:")
    text = text.replace("Count ~ Temp}\nparams", "Count ~ Temp + (1 | Temp)}\nparams")
    with pytest.raises(SpecError, match=r"residual\(\) needs a .*poisson model"):
        parse_spec(text)


def test_row_of_names_a_model() -> None:
    with pytest.raises(SpecError, match=r"params\.s\.row_of: no model named 'nope'"):
        parse_spec(_spec("fitted(r)", **{"s: {row_of: main}": "s: {row_of: nope}"}))
    both = {"{row_of: main}\n  s": "{row_of: main, integer: [1, 3]}\n  s"}
    with pytest.raises(SpecError, match="one of uniform, integer, choice, level_of, row_of"):
        parse_spec(_spec("fitted(r)", **both))


def test_observed_needs_data() -> None:
    text = textwrap.dedent(
        """\
        id: no_data
        title: No data
        version: 1
        topic: mixed models
        story: Which is random?
        scenarios: {library: which_random}
        parts:
          - id: unit
            kind: choice
            prompt: "{observed('y', 1)}"
            choices_from: experimental_unit
        """
    )
    with pytest.raises(SpecError, match="observed\\(\\) needs data: this problem has no dgp"):
        parse_spec(text)


def test_row_of_draws_distinct_rows_the_fit_uses_the_same_for_a_seed() -> None:
    spec = parse_spec(_spec('residual(r, "response") + 0 * residual(s, "pearson")'))
    for seed in range(6):
        variant, ctx = generate_with_context(spec, seed)
        r, s = ctx.values["r"], ctx.values["s"]
        assert isinstance(r, int) and r != s
        data = pd.read_csv(io.StringIO(variant.data_csv))
        assert 1 <= r <= len(data) and not pd.isna(data["Temp"][r - 1])
        assert r in ctx.model("main").rows_used() and s in ctx.model("main").rows_used()
        again = generate(spec, seed)
        assert again.parts == variant.parts and f"row {r}?" in variant.parts[0].prompt
