"""Fit a spec's models with :mod:`problem_bank.fitting` and expose them to expressions.

The expression evaluator reads models through the small :class:`ModelView` protocol
(:mod:`problem_bank.expressions`); this module adapts the fitting package's ``Fitted``
objects to it, so the vocabulary does not depend on how a family is fitted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from problem_bank.formula import Formula, parse_formula
from problem_bank.spec import COUNT_FAMILIES, ModelSpec, ProblemSpec


class FitFailed(RuntimeError):
    """A reference fit failed or did not converge: the draw is redrawn."""


def fitting_family(model: ModelSpec, formula: Formula) -> tuple[str, dict[str, Any]]:
    """The fitting package's family name and options for a spec model."""
    if formula.random:
        return "mixed", {"method": "REML" if model.reml else "ML"}
    if model.family == "gaussian":
        return "ols", {}
    if model.family in COUNT_FAMILIES:
        return "count", {"distribution": model.family}
    return "glm", {"distribution": model.family}


def fit_model(model: ModelSpec, frame: pd.DataFrame) -> Any:
    """Fit one spec model; :class:`FitFailed` when the fit fails or does not converge."""
    from problem_bank.fitting import fit

    formula = parse_formula(model.formula)
    family, options = fitting_family(model, formula)
    try:
        with np.errstate(all="ignore"):
            fitted = fit(family, model.formula, frame, **options)
    except (ValueError, np.linalg.LinAlgError, ArithmeticError, RuntimeError) as exc:
        raise FitFailed(f"{model.formula}: {exc}") from exc
    if not getattr(fitted, "converged", True):
        raise FitFailed(f"{model.formula}: did not converge")
    return fitted


class FittedView:
    """A fitted model seen through the expression vocabulary (R names throughout)."""

    def __init__(self, fitted: Any, formula: Formula, levels: Mapping[str, list[str]]) -> None:
        self.fitted = fitted
        self.formula = formula
        self.levels = levels

    def stat(self, what: str, name: str) -> float:
        f = self.fitted
        getter = {"coef": f.coef, "se": f.se, "tvalue": f.stat, "pvalue": f.pvalue}[what]
        return float(getter(name))

    def design_row(self, values: Mapping[str, Any]) -> dict[str, float]:
        return self.formula.design_row(values, self.levels)

    def inverse_link(self, eta: float) -> float:
        family = getattr(self.fitted, "family", "ols")
        distribution = getattr(self.fitted, "distribution", None) or family
        if distribution in ("binomial",) or "binomial" in str(family):
            return 1.0 / (1.0 + math.exp(-eta))
        if distribution in ("poisson", *COUNT_FAMILIES):
            return math.exp(eta)
        return eta

    def varcorr(self, group: str, term: str, which: str) -> float:
        t = self.fitted.varcorr().term(group, term)
        return float(t.sd if which == "sd" else t.variance)

    def ranef(self, group: str, level: str, term: str) -> float:
        # The fitting package supports one grouping factor: ranef() is {level: {term: value}}.
        return float(self.fitted.ranef()[level][term])

    def residual_var(self) -> float:
        return float(self.fitted.varcorr().residual_variance)

    def contrast(self, factor: str, a: str, b: str, what: str) -> float:
        row = self.fitted.contrast(factor, a, b)
        return float(
            {"estimate": row.estimate, "se": row.se, "t": row.t_ratio, "p": row.p_value}[what]
        )

    def anova(self, term: str, what: str) -> float:
        for row in self.fitted.anova():
            if row.term == term:
                return float({"F": row.f_value, "p": row.p_value, "df": row.df}[what])
        raise KeyError(f"no anova row {term!r}")

    def scalar(self, name: str) -> float:
        f = self.fitted
        readers = {
            "dispersion_ratio": lambda: f.dispersion().ratio,
            "dispersion_p": lambda: f.dispersion().p_value,
            "observed_zeros": lambda: f.zero_inflation().observed,
            "predicted_zeros": lambda: f.zero_inflation().predicted,
            "zero_ratio": lambda: f.zero_inflation().ratio,
            "aic": lambda: f.aic,
            "nobs": lambda: f.nobs,
            "df_resid": lambda: f.df_resid,
        }
        return float(readers[name]())

    def groups(self) -> dict[str, list[str]]:
        return {r.group: list(r.names) for r in self.formula.random}


def fit_all(
    spec: ProblemSpec, frame: pd.DataFrame, levels: Mapping[str, list[str]]
) -> dict[str, FittedView]:
    """Fit every model the spec declares (``main`` first) to the same data."""
    views: dict[str, FittedView] = {}
    for name in sorted(spec.models, key=lambda n: n != "main"):
        model = spec.models[name]
        views[name] = FittedView(fit_model(model, frame), parse_formula(model.formula), levels)
    return views
