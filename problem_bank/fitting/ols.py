"""Ordinary least squares, as R's ``lm``: coefficients, ``summary.lm`` and ``anova.lm``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from problem_bank.fitting.base import AnovaRow, ContrastRow, Fitted
from problem_bank.fitting.emmeans import pairwise
from problem_bank.fitting.formula import Design
from problem_bank.formula import Formula


class OlsFit(Fitted):
    """``lm(formula, data)``: β̂ = (X'X)⁻¹X'y by QR, σ̂² = RSS / (n - p), t tests on n - p df.

    Extra attributes used by ``summary_lm``: ``residuals``, ``fitted_values``, ``sigma``,
    ``r_squared``, ``adj_r_squared``, ``fstatistic`` (value, numdf, dendf), ``f_pvalue``.
    """

    fitter = "ols"
    stat_name = "t"

    def __init__(self, spec: Formula, data: pd.DataFrame, **options: Any) -> None:
        if options:
            raise TypeError(f"ols takes no options, got {sorted(options)}")
        if spec.random:
            raise ValueError("random-effect terms need family 'mixed'")
        design = Design(spec, data)
        super().__init__(spec, design)
        X, y = design.X, design.y
        n, p = X.shape
        q, r = np.linalg.qr(X)
        if np.min(np.abs(np.diag(r))) < 1e-7 * np.max(np.abs(np.diag(r))):
            raise ValueError(f"design matrix is rank deficient: {self._names}")
        self._effects = q.T @ y
        self.params = np.linalg.solve(r, self._effects)
        self.fitted_values = X @ self.params
        self.residuals = y - self.fitted_values
        self.df_resid = float(n - p)
        self.rss = float(self.residuals @ self.residuals)
        self.sigma = float(np.sqrt(self.rss / self.df_resid))
        rinv = np.linalg.solve(r, np.eye(p))
        self.cov_params = self.sigma**2 * (rinv @ rinv.T)
        self.bse = np.sqrt(np.diag(self.cov_params))
        self.tvalues = self.params / self.bse
        self.pvalues = 2 * special.stdtr(self.df_resid, -np.abs(self.tvalues))  # P(|T| > |t|)
        if spec.intercept:
            mss = float(np.sum((self.fitted_values - self.fitted_values.mean()) ** 2))
            numdf = p - 1
        else:
            mss = float(self.fitted_values @ self.fitted_values)
            numdf = p
        self.r_squared = mss / (mss + self.rss)
        int_df = 1 if spec.intercept else 0
        self.adj_r_squared = 1 - (1 - self.r_squared) * ((n - int_df) / self.df_resid)
        self.fstatistic = ((mss / numdf) / (self.rss / self.df_resid), numdf, self.df_resid)
        self.f_pvalue = float(special.fdtrc(numdf, self.df_resid, self.fstatistic[0]))
        self._anova: list[AnovaRow] | None = None
        self._pairs: dict[str, list[ContrastRow]] = {}

    def predict(self, newdata: Mapping[str, Any], scale: str = "response") -> float:
        """x'β̂ for one new row (identity link: both scales agree)."""
        return super().predict(newdata, scale)

    def residual_of(self, y: float, mu: float, kind: str) -> float:
        """``residuals.lm``: without prior weights every type is y - μ (the Pearson
        residual is not divided by σ̂; that is ``rstandard``'s job)."""
        if kind not in ("response", "pearson", "deviance"):
            raise ValueError(f"residual type must be response, pearson or deviance, not {kind!r}")
        return y - mu

    def anova(self) -> list[AnovaRow]:
        """Sequential (type I) sums of squares: each term's squared QR effects, as ``anova.lm``."""
        if self._anova is None:
            assign = np.asarray(self.design.assign)
            ms_res = self.rss / self.df_resid
            rows = []
            for ti, label in enumerate(self.spec.term_labels):
                cols = assign == ti
                ss = float(np.sum(self._effects[cols] ** 2))
                df = int(cols.sum())
                f = (ss / df) / ms_res
                p = float(special.fdtrc(df, self.df_resid, f))  # P(F > f)
                rows.append(AnovaRow(label, df, ss, ss / df, f, p))
            rows.append(AnovaRow("Residuals", self.df_resid, self.rss, ms_res, None, None))
            self._anova = rows
        return list(self._anova)

    def pairs(self, factor: str) -> list[ContrastRow]:
        """Tukey-adjusted pairwise EMM contrasts on the residual df."""
        if factor not in self._pairs:
            self._pairs[factor] = pairwise(
                self.design, self.params, self.cov_params, factor, self.df_resid
            )
        return list(self._pairs[factor])

    def _extra_reference(self) -> dict[str, Any]:
        return {
            "sigma": self.sigma,
            "r_squared": self.r_squared,
            "adj_r_squared": self.adj_r_squared,
            "fstatistic": list(self.fstatistic),
            "f_pvalue": self.f_pvalue,
            "anova": [vars(r) for r in self.anova()],
        }
