"""Fit a spec's models with :mod:`problem_bank.fitting` and expose them to expressions.

The expression evaluator reads models through the small :class:`ModelView` protocol
(:mod:`problem_bank.expressions`); this module adapts the fitting package's ``Fitted``
objects to it, so the vocabulary does not depend on how a family is fitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from problem_bank.families import THETA_BOUNDARY, ModelFamily, family
from problem_bank.formula import Formula, parse_formula
from problem_bank.spec import ModelSpec, ProblemSpec


class FitFailed(RuntimeError):
    """A reference fit failed or did not converge: the draw is redrawn."""


def fitter_for(model: ModelSpec, formula: Formula) -> tuple[str, dict[str, Any]]:
    """The fitter and its options for a spec model (the family says which)."""
    name, options = family(model.family).fitting(bool(formula.random))
    if formula.random:
        return name, {**options, "method": "REML" if model.reml else "ML"}
    return name, dict(options)


def fit_model(model: ModelSpec, frame: pd.DataFrame) -> Any:
    """Fit one spec model; :class:`FitFailed` when the fit fails or does not converge."""
    from problem_bank.fitting import fit

    formula = parse_formula(model.formula)
    fitter, options = fitter_for(model, formula)
    try:
        with np.errstate(all="ignore"):
            fitted = fit(fitter, model.formula, frame, **options)
    except (ValueError, np.linalg.LinAlgError, ArithmeticError, RuntimeError) as exc:
        raise FitFailed(f"{model.formula}: {exc}") from exc
    if not getattr(fitted, "converged", True) and not _theta_at_boundary(model, fitted):
        raise FitFailed(f"{model.formula}: did not converge")
    return fitted


def _theta_at_boundary(model: ModelSpec, fitted: Any) -> bool:
    """On the flat ridge θ → ∞ the gradient need not vanish: the draw is redrawn by
    ``wellposed.model_problems``, which names the boundary as the reason."""
    theta = getattr(fitted, "theta", None) if family(model.family).has_theta else None
    return theta is not None and theta > THETA_BOUNDARY


class FittedView:
    """A fitted model seen through the expression vocabulary (R names throughout)."""

    def __init__(
        self,
        fitted: Any,
        formula: Formula,
        levels: Mapping[str, list[str]],
        model_family: ModelFamily,
    ) -> None:
        self.fitted = fitted
        self.formula = formula
        self.levels = levels
        self.family = model_family

    def stat(self, what: str, name: str) -> float:
        f = self.fitted
        getter = {"coef": f.coef, "se": f.se, "tvalue": f.stat, "pvalue": f.pvalue}[what]
        return float(getter(name))

    def design_row(self, values: Mapping[str, Any]) -> dict[str, float]:
        return self.formula.design_row(values, self.levels)

    def inverse_link(self, eta: float) -> float:
        return float(self.family.linkinv(np.asarray(eta)))

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
        formula, fitted = parse_formula(model.formula), fit_model(model, frame)
        views[name] = FittedView(fitted, formula, levels, family(model.family))
    return views
