"""Common checks over the expression vocabulary (:data:`problem_bank.expressions.SIGNATURES`),
as the bank's checks run over every problem: each function is described in
docs/authoring.md (and nothing else is), has an arity the parser enforces, and evaluates on
a built-in problem's variant."""

from __future__ import annotations

import importlib
import math
import re
from functools import cache
from pathlib import Path

import pytest

from problem_bank import builtin_problem, generate
from problem_bank import expressions as ex

#: The module (``problem_bank.generate`` the name is the package's function).
generation = importlib.import_module("problem_bank.generate")

AUTHORING = Path(__file__).resolve().parents[2] / "docs" / "authoring.md"

#: One call of every function, and the built-in problem whose seed-0 variant it runs on.
EXAMPLES: dict[str, tuple[str, str]] = {
    "coef": ("simple_regression", 'coef("Foodavailability")'),
    "se": ("simple_regression", 'se("Foodavailability")'),
    "tvalue": ("simple_regression", 'tvalue("Foodavailability")'),
    "pvalue": ("simple_regression", 'pvalue("Foodavailability")'),
    "predict": ("simple_regression", "predict(Foodavailability=x0)"),
    "varcorr": ("mixed_reading", 'varcorr("region", "(Intercept)", "sd")'),
    "ranef": ("mixed_reading", 'ranef("region", g, "(Intercept)")'),
    "residual_sd": ("mixed_reading", "residual_sd()"),
    "residual_var": ("mixed_reading", "residual_var()"),
    "icc": ("mixed_reading", "icc()"),
    "contrast": ("additive_dose", 'contrast("Dose", a, b, "estimate")'),
    "anova_f": ("additive_dose", 'anova_f("Dose")'),
    "anova_p": ("additive_dose", 'anova_p("Dose")'),
    "anova_df": ("additive_dose", 'anova_df("Dose")'),
    "dispersion_ratio": ("poisson_zeros", "dispersion_ratio()"),
    "dispersion_p": ("poisson_zeros", "dispersion_p()"),
    "observed_zeros": ("poisson_zeros", "observed_zeros()"),
    "predicted_zeros": ("poisson_zeros", "predicted_zeros()"),
    "zero_ratio": ("poisson_zeros", "zero_ratio()"),
    "aic": ("poisson_zeros", 'aic(model="nb")'),
    "observed": ("poisson_zeros", 'observed("Ticks", 3)'),
    "fitted": ("logistic_cod", "fitted(1)"),
    "residual": ("poisson_zeros", 'residual(3, "deviance")'),
    "nobs": ("simple_regression", "nobs()"),
    "df_resid": ("simple_regression", "df_resid()"),
    "param": ("simple_regression", 'param("x0")'),
    "qt": ("simple_regression", "qt(0.975, df_resid())"),
    "invlogit": ("logistic_cod", 'invlogit(coef("(Intercept)"))'),
    "logit": ("logistic_cod", "logit(predict(Length=len0, Year=year, Area=area))"),
    "exp": ("logistic_cod", 'exp(coef("Length"))'),
    "log": ("poisson_zeros", "log(dispersion_ratio())"),
    "sqrt": ("mixed_reading", "sqrt(residual_var())"),
    "abs": ("simple_regression", 'abs(tvalue("Foodavailability"))'),
    "round": ("simple_regression", 'round(coef("Foodavailability"), 2)'),
    "min": ("simple_regression", 'min(coef("Foodavailability"), 0)'),
    "max": ("simple_regression", 'max(coef("Foodavailability"), 0)'),
    "ifelse": ("simple_regression", 'ifelse(pvalue("Foodavailability") < 0.05, 1, 0)'),
}


def documented_functions() -> dict[str, str]:
    """Function name -> its description, from the vocabulary table in docs/authoring.md."""
    text = AUTHORING.read_text(encoding="utf-8")
    table = text.split("## Expression vocabulary", 1)[1].split("| function | value |", 1)[1]
    out: dict[str, str] = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line)
        names, value = cells[1], cells[2].strip()
        for name in re.findall(r"`([a-z_]+)", names):
            out[name] = value
    return out


@cache
def variant_context(problem: str) -> ex.Context:
    """The context the seed-0 variant of ``problem`` evaluated its parts in."""
    contexts: list[generation.VariantContext] = []
    original = generation.VariantContext

    class Recording(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            contexts.append(self)

    generation.VariantContext = Recording  # type: ignore[misc]
    try:
        generate(builtin_problem(problem), 0)
    finally:
        generation.VariantContext = original  # type: ignore[misc]
    return contexts[-1]  # the draw that was kept is the last one built


def test_the_docs_list_exactly_the_registered_functions():
    documented = documented_functions()
    assert sorted(set(ex.SIGNATURES) - set(documented)) == [], "registered but not documented"
    assert sorted(set(documented) - set(ex.SIGNATURES)) == [], "documented but not registered"
    assert all(documented.values()), "a documented function without a description"


def test_every_function_has_an_example():
    assert set(EXAMPLES) == set(ex.SIGNATURES)


@pytest.mark.parametrize("name", sorted(ex.SIGNATURES))
def test_every_function_has_a_description_and_a_consistent_signature(name):
    sig = ex.SIGNATURES[name]
    assert sig.doc.strip(), f"{name} has no doc"
    assert 0 <= sig.min_args <= sig.max_args
    assert all(0 <= i < sig.max_args for i in sig.string_args)
    assert all(0 <= i < sig.max_args for i in sig.choices)
    # A model function reads a fitted model, so it names which one (model="main" default).
    assert sig.model == ("model" in sig.keywords)


@pytest.mark.parametrize("name", sorted(ex.SIGNATURES))
def test_the_parser_enforces_every_arity(name):
    sig = ex.SIGNATURES[name]
    too_many = ", ".join(['"a"'] * (sig.max_args + 1))
    with pytest.raises(ex.ExpressionError):
        ex.parse(f"{name}({too_many})")
    if sig.min_args:
        too_few = ", ".join(['"a"'] * (sig.min_args - 1))
        with pytest.raises(ex.ExpressionError):
            ex.parse(f"{name}({too_few})")


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_function_evaluates_on_a_built_in_variant(name):
    problem, source = EXAMPLES[name]
    parsed = ex.parse(source)
    assert name in {call.name for call in parsed.calls}
    value = parsed.evaluate(variant_context(problem))
    assert isinstance(value, int | float) and not isinstance(value, bool), value
    assert math.isfinite(value)
