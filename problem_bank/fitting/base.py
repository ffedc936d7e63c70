"""Value objects shared by every model family, and the ``Fitted`` base class.

A ``Fitted`` is a reference fit computed once per variant: the numbers a grader needs
(coefficients, SEs, predictions, variance components, checks) and what the R-style
printers need to reproduce R's output. Coefficients are always addressed by R's names
(``(Intercept)``, ``Dosedose1``, ``IC:Dosedose1``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from problem_bank.fitting.formula import Design
from problem_bank.formula import Formula


@dataclass(frozen=True)
class AnovaRow:
    """One row of R's sequential (type I) ``anova(lm)`` table.

    ``f_value`` and ``p_value`` are ``None`` on the ``Residuals`` row, as R leaves them blank.
    """

    term: str
    df: float
    sum_sq: float
    mean_sq: float
    f_value: float | None
    p_value: float | None


@dataclass(frozen=True)
class ContrastRow:
    """One pairwise comparison of estimated marginal means, as ``pairs(emmeans(...))``.

    ``estimate`` = EMM(a) - EMM(b); ``t_ratio`` = estimate / se; ``p_value`` is
    Tukey-adjusted: ptukey(|t| * sqrt(2), k, df, upper tail) for a family of k means.
    ``df`` is ``math.inf`` for asymptotic (z) tests.
    """

    label: str
    estimate: float
    se: float
    df: float
    t_ratio: float
    p_value: float


@dataclass(frozen=True)
class VarCorrTerm:
    """One random-effect term within a grouping factor (``(Intercept)`` or a slope)."""

    group: str
    name: str
    variance: float
    sd: float


@dataclass(frozen=True)
class VarCorr:
    """Variance components of a gaussian mixed model, as ``VarCorr(glmmTMB)``.

    ``correlations`` maps ``(group, name_a, name_b)`` to the correlation of two random
    effects in the same group (random intercept and slope).
    """

    terms: tuple[VarCorrTerm, ...]
    residual_variance: float
    residual_sd: float
    correlations: dict[tuple[str, str, str], float] = field(default_factory=dict)

    def term(self, group: str, name: str = "(Intercept)") -> VarCorrTerm:
        """The component for ``name`` within ``group``; KeyError lists what exists."""
        for t in self.terms:
            if t.group == group and t.name == name:
                return t
        have = ", ".join(f"{t.group}/{t.name}" for t in self.terms)
        raise KeyError(f"no random effect {group}/{name}; have: {have}")


@dataclass(frozen=True)
class DispersionCheck:
    """``performance::check_overdispersion`` for a Poisson GLM.

    chisq = Σ ((y - μ̂)² / μ̂) (Pearson χ²), ratio = chisq / (n - k) with k the number of
    fixed coefficients, p = P(χ²_{n-k} > chisq).
    """

    chisq: float
    ratio: float
    df: int
    p_value: float


@dataclass(frozen=True)
class ZeroInflationCheck:
    """``performance::check_zeroinflation`` for a Poisson GLM.

    predicted = round(Σ dpois(0, μ̂)), ratio = predicted / observed; with the default
    tolerance 0.05 a ratio below 0.95 means the model underfits zeros.
    """

    observed: int
    predicted: int
    ratio: float
    tolerance: float = 0.05


class Fitted:
    """A fitted reference model. Subclasses fill in the family-specific parts.

    Attributes set by every family: ``family``, ``formula``, ``nobs`` (rows used),
    ``n_deleted`` (rows dropped for missing values), ``df_resid``, ``converged``,
    ``singular`` (always ``False`` outside mixed models).
    """

    fitter: str
    formula: str
    nobs: int
    n_deleted: int
    df_resid: float
    converged: bool
    singular: bool = False

    #: Name of the test statistic R prints for coefficients ("t" or "z").
    stat_name: str = "t"

    def __init__(self, spec: Formula, design: Design) -> None:
        self.spec = spec
        self.design = design
        self.formula = spec.text
        self.nobs = design.n
        self.n_deleted = design.n_deleted
        self.converged = True
        self.singular = False
        self._names = list(design.column_names)
        self._index = {n: i for i, n in enumerate(self._names)}
        # Filled by subclasses: coefficient vector, its covariance, stat and p-value arrays.
        self.params: np.ndarray = np.zeros(len(self._names))
        self.cov_params: np.ndarray = np.zeros((len(self._names), len(self._names)))
        self.bse: np.ndarray = np.zeros(len(self._names))
        self.tvalues: np.ndarray = np.zeros(len(self._names))
        self.pvalues: np.ndarray = np.zeros(len(self._names))

    # -- coefficients -------------------------------------------------------------------
    def coef_names(self) -> list[str]:
        """Fixed-effect coefficient names exactly as R prints them."""
        return list(self._names)

    def _i(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            valid = ", ".join(self._names)
            raise KeyError(f"unknown coefficient {name!r}; valid names: {valid}") from None

    def coef(self, name: str) -> float:
        """Estimate of the coefficient ``name`` (R name)."""
        return float(self.params[self._i(name)])

    def se(self, name: str) -> float:
        """Standard error of the coefficient ``name``."""
        return float(self.bse[self._i(name)])

    def stat(self, name: str) -> float:
        """Wald statistic estimate / se (R's ``t value`` or ``z value``)."""
        return float(self.tvalues[self._i(name)])

    def pvalue(self, name: str) -> float:
        """Two-sided p-value of the Wald test that the coefficient is 0, as R's summary."""
        return float(self.pvalues[self._i(name)])

    # -- predictions --------------------------------------------------------------------
    def linear_predictor(self, newdata: Mapping[str, Any]) -> float:
        """x'β for one new row (fixed effects only)."""
        row = self.design.row(newdata)
        return float(row @ self.params)

    def predict(self, newdata: Mapping[str, Any], scale: str = "response") -> float:
        """Prediction for one new row; ``scale="link"`` gives the linear predictor."""
        if scale not in ("response", "link"):
            raise ValueError(f"scale must be 'response' or 'link', not {scale!r}")
        return self.linear_predictor(newdata)

    # -- family-specific parts; the base says clearly what does not apply --------------
    def _not_for(self, what: str) -> NotImplementedError:
        return NotImplementedError(f"{what} is not available for a {self.fitter} fit")

    def anova(self) -> list[AnovaRow]:
        """R's sequential ``anova()`` table."""
        raise self._not_for("anova()")

    def pairs(self, factor: str) -> list[ContrastRow]:
        """``pairs(emmeans(model, ~factor))``, Tukey-adjusted, in emmeans' row order."""
        raise self._not_for("pairs()")

    def contrast(self, factor: str, a: str, b: str) -> ContrastRow:
        """The comparison EMM(a) - EMM(b), with the same Tukey-adjusted p as ``pairs``."""
        levels = self.design.levels(factor)
        if a not in levels or b not in levels or a == b:
            raise KeyError(f"levels {a!r}/{b!r} not in factor {factor!r}; levels: {levels}")
        i, j = levels.index(a), levels.index(b)
        lo, hi = min(i, j), max(i, j)
        k = len(levels)
        # pairs() lists (0, 1), (0, 2), ..., (1, 2), ...: row of (lo, hi) in that order.
        row = self.pairs(factor)[lo * k - lo * (lo + 1) // 2 + hi - lo - 1]
        if i < j:
            return row
        labels = self.design.contrast_labels(factor)
        return ContrastRow(
            f"{labels[i]} - {labels[j]}", -row.estimate, row.se, row.df, -row.t_ratio, row.p_value
        )

    def emmeans_averaged_over(self, factor: str) -> list[str]:
        """The other factors whose levels the EMMs of ``factor`` are averaged over.

        emmeans notes them as "Results are averaged over the levels of: ...".
        """
        return self.design.other_factors(factor)

    def emmeans_note(self, factor: str) -> bool:
        """Whether emmeans warns "Results may be misleading due to involvement in interactions"."""
        return self.design.in_interaction(factor)

    def varcorr(self) -> VarCorr:
        """Variance components (mixed models only)."""
        raise self._not_for("varcorr()")

    def icc(self) -> float:
        """Adjusted ICC (mixed models only)."""
        raise self._not_for("icc()")

    def dispersion(self) -> DispersionCheck:
        """Overdispersion check (Poisson GLM only)."""
        raise self._not_for("dispersion()")

    def zero_inflation(self) -> ZeroInflationCheck:
        """Zero-inflation check (Poisson GLM only)."""
        raise self._not_for("zero_inflation()")

    def residual_of(self, y: float, mu: float, kind: str) -> float:
        """R's ``residuals(fit, type = kind)`` of one row with response y and fit μ
        (lm and glm only: ``response``, ``pearson`` or ``deviance``)."""
        raise self._not_for("residuals()")

    # -- storage ------------------------------------------------------------------------
    def reference(self) -> dict[str, Any]:
        """JSON-ready numbers for storage: coefficients and whatever else applies."""
        out: dict[str, Any] = {
            # Stored variants name the fitter "family": the key stays.
            "family": self.fitter,
            "formula": self.formula,
            "nobs": self.nobs,
            "n_deleted": self.n_deleted,
            "df_resid": _num(self.df_resid),
            "converged": bool(self.converged),
            "singular": bool(self.singular),
            "coefficients": {
                n: {
                    "estimate": _num(self.params[i]),
                    "se": _num(self.bse[i]),
                    "stat": _num(self.tvalues[i]),
                    "p": _num(self.pvalues[i]),
                }
                for i, n in enumerate(self._names)
            },
        }
        out.update(self._extra_reference())
        return out

    def _extra_reference(self) -> dict[str, Any]:
        return {}


def _num(x: float) -> float | None:
    """A float for JSON; NaN and infinities become ``None``."""
    x = float(x)
    return x if math.isfinite(x) else None


def as_json(obj: Any) -> Any:
    """Dataclasses (and lists of them) as plain JSON-ready data."""
    if isinstance(obj, list):
        return [as_json(o) for o in obj]
    d = asdict(obj)
    return {k: (_num(v) if isinstance(v, float) else v) for k, v in d.items()}
