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

from problem_bank import expressions as ex
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

    def _position(self, row: int) -> int:
        """Where data row ``row`` (1-based) is among the rows the fit used (na.omit)."""
        design = self.fitted.design
        index = ex.row_index(row, design.n + design.n_deleted)
        kept = design.frame.index.get_indexer([index])[0]
        if kept < 0:
            raise ex.ExpressionError(
                f"row {index + 1} is not in the fit of {self.formula.text!r}: a value it uses is "
                "missing (NA), so R's fitted() and residuals() leave the row out; draw "
                "the row with a row_of parameter"
            )
        return int(kept)

    def rows_used(self) -> list[int]:
        """The data rows (1-based) the fit used: every row but those na.omit dropped."""
        return [int(i) + 1 for i in self.fitted.design.frame.index]

    def row_values(self, row: int) -> dict[str, Any]:
        frame = self.fitted.design.frame
        values = frame.iloc[self._position(row)]
        return {v: values[v] for v in self.formula.variables}

    def response(self, row: int) -> float:
        return float(self.fitted.design.y[self._position(row)])

    def residual(self, y: float, mu: float, kind: str) -> float:
        return float(self.fitted.residual_of(y, mu, kind))


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
