"""Generalized linear models fitted exactly as R's ``glm.fit`` (IRLS / Fisher scoring).

Reproducing R's iteration (starting values, convergence rule |dev - dev_old| /
(|dev| + 0.1) < 1e-8, covariance from the last iteration's weights) makes the printed
"Number of Fisher Scoring iterations" and every digit of ``summary.glm`` agree with R.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from problem_bank.fitting.base import (
    ContrastRow,
    DispersionCheck,
    Fitted,
    ZeroInflationCheck,
    as_json,
)
from problem_bank.fitting.emmeans import pairwise
from problem_bank.fitting.formula import Design
from problem_bank.formula import Formula

_EPS = np.finfo(float).eps
_THRESH = 30.0


@dataclass(frozen=True)
class Link:
    """A link function g with inverse and dμ/dη, as R's ``make.link``."""

    name: str
    linkfun: Any
    linkinv: Any
    mu_eta: Any


def _logit_inv(eta: np.ndarray) -> np.ndarray:
    # R clamps at |eta| > 30 so that mu never reaches 0 or 1.
    e = np.exp(np.clip(eta, -_THRESH, _THRESH))
    e = np.where(eta < -_THRESH, _EPS, np.where(eta > _THRESH, 1 / _EPS, e))
    return np.asarray(e / (1 + e))


def _logit_mu_eta(eta: np.ndarray) -> np.ndarray:
    e = np.exp(np.clip(eta, -_THRESH, _THRESH))
    out = e / (1 + e) ** 2
    return np.where(np.abs(eta) > _THRESH, _EPS, out)


LINKS: dict[str, Link] = {
    "logit": Link("logit", lambda mu: np.log(mu / (1 - mu)), _logit_inv, _logit_mu_eta),
    "probit": Link(
        "probit",
        stats.norm.ppf,
        lambda eta: np.clip(
            stats.norm.cdf(eta),
            _EPS,
            1 - _EPS,
        ),
        lambda eta: np.maximum(stats.norm.pdf(eta), _EPS),
    ),
    "cloglog": Link(
        "cloglog",
        lambda mu: np.log(-np.log(1 - mu)),
        lambda eta: np.clip(-np.expm1(-np.exp(eta)), _EPS, 1 - _EPS),
        lambda eta: np.maximum(np.exp(eta) * np.exp(-np.exp(eta)), _EPS),
    ),
    "log": Link(
        "log",
        np.log,
        lambda eta: np.maximum(np.exp(eta), _EPS),
        lambda eta: np.maximum(np.exp(eta), _EPS),
    ),
    "identity": Link("identity", lambda mu: mu, lambda eta: eta, lambda eta: np.ones_like(eta)),
}


def _ylogy(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """y * log(y / mu) with 0 * log(0) = 0, as R's C ``y_log_y``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, y * np.log(y / mu), 0.0)


@dataclass(frozen=True)
class Distribution:
    """Variance function, unit deviance, starting values and log-likelihood of an
    exponential family, as the functions of R's family object (``binomial()``, ``poisson()``)."""

    name: str
    canonical: str
    links: tuple[str, ...]
    variance: Callable[[np.ndarray], np.ndarray]
    dev_resids: Callable[[np.ndarray, np.ndarray], np.ndarray]
    mustart: Callable[[np.ndarray], np.ndarray]
    #: scipy.stats' binom(1, μ) / poisson(μ) logpmf summed, without its per-call overhead.
    loglik: Callable[[np.ndarray, np.ndarray], float]
    #: Which responses the family takes, and the message for others.
    valid: Callable[[np.ndarray], bool]
    invalid_message: str

    def check(self, y: np.ndarray) -> None:
        if not self.valid(y):
            raise ValueError(self.invalid_message)


def _binomial_loglik(y: np.ndarray, mu: np.ndarray) -> float:
    k = np.round(y)
    return float(np.sum(special.xlogy(k, mu) + special.xlog1py(1 - k, -mu)))


def _poisson_loglik(y: np.ndarray, mu: np.ndarray) -> float:
    return float(np.sum(special.xlogy(y, mu) - special.gammaln(y + 1) - mu))


DISTRIBUTIONS: dict[str, Distribution] = {
    "binomial": Distribution(
        "binomial",
        "logit",
        ("logit", "probit", "cloglog"),
        variance=lambda mu: mu * (1 - mu),
        dev_resids=lambda y, mu: np.asarray(2 * (_ylogy(y, mu) + _ylogy(1 - y, 1 - mu))),
        mustart=lambda y: (y + 0.5) / 2,
        loglik=_binomial_loglik,
        valid=lambda y: not np.any((y < 0) | (y > 1)),
        invalid_message="binomial response must be 0/1 (or a two-level factor)",
    ),
    "poisson": Distribution(
        "poisson",
        "log",
        ("log", "identity"),
        variance=lambda mu: mu,
        dev_resids=lambda y, mu: np.asarray(2 * (_ylogy(y, mu) - (y - mu))),
        mustart=lambda y: y + 0.1,
        loglik=_poisson_loglik,
        valid=lambda y: not np.any((y < 0) | (y != np.round(y))),
        invalid_message="poisson response must be non-negative counts",
    ),
}


class GlmFit(Fitted):
    """``glm(formula, family = distribution(link), data)`` with na.omit.

    Wald z tests (dispersion fixed at 1). Extra attributes for ``summary_glm``:
    ``distribution``, ``link``, ``deviance``, ``null_deviance``, ``df_null``, ``aic``,
    ``iterations``, ``fitted_values`` (μ̂), ``deviance_residuals``.
    """

    fitter = "glm"
    stat_name = "z"

    def __init__(
        self,
        spec: Formula,
        data: pd.DataFrame,
        distribution: str = "binomial",
        link: str | None = None,
        maxit: int = 25,
        epsilon: float = 1e-8,
    ) -> None:
        if distribution not in DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {sorted(DISTRIBUTIONS)}")
        dist = DISTRIBUTIONS[distribution]
        link = link or dist.canonical
        if link not in dist.links:
            raise ValueError(f"link {link!r} not available for {distribution}: {dist.links}")
        if spec.random:
            raise ValueError("random-effect terms need family 'mixed'")
        design = Design(spec, data)
        super().__init__(spec, design)
        self.distribution = distribution
        self.link = link
        self._dist = dist
        self._link = LINKS[link]
        y = design.y
        dist.check(y)
        self._irls(design.X, y, maxit, epsilon)
        self._pairs: dict[str, list[ContrastRow]] = {}
        self._dispersion: DispersionCheck | None = None

    def _irls(self, X: np.ndarray, y: np.ndarray, maxit: int, epsilon: float) -> None:
        dist, link = self._dist, self._link
        n, p = X.shape
        eta = link.linkfun(dist.mustart(y))
        mu = link.linkinv(eta)
        devold = float(np.sum(dist.dev_resids(y, mu)))
        self.converged = False
        coef = np.zeros(p)
        r = np.eye(p)
        it = 0
        for it in range(1, maxit + 1):  # noqa: B007 (R reports the count)
            mu_eta = link.mu_eta(eta)
            z = eta + (y - mu) / mu_eta
            w = np.sqrt(mu_eta**2 / dist.variance(mu))
            q, r = np.linalg.qr(X * w[:, None])
            coef = np.linalg.solve(r, q.T @ (z * w))
            eta = X @ coef
            mu = link.linkinv(eta)
            dev = float(np.sum(dist.dev_resids(y, mu)))
            if abs(dev - devold) / (abs(dev) + 0.1) < epsilon:
                self.converged = True
                break
            devold = dev
        self.iterations = it
        self.params = coef
        self.fitted_values = mu
        self.linear_predictors = eta
        self.deviance = dev
        self.df_resid = float(n - p)
        rinv = np.linalg.solve(r, np.eye(p))
        self.cov_params = rinv @ rinv.T  # dispersion 1 (binomial, poisson)
        self.bse = np.sqrt(np.diag(self.cov_params))
        self.tvalues = self.params / self.bse
        self.pvalues = 2 * special.ndtr(-np.abs(self.tvalues))  # P(|Z| > |z|)
        wtdmu = float(np.mean(y)) if self.spec.intercept else link.linkinv(np.zeros(1))[0]
        self.null_deviance = float(np.sum(dist.dev_resids(y, np.full(n, wtdmu))))
        self.df_null = float(n - (1 if self.spec.intercept else 0))
        self.loglik = dist.loglik(y, mu)
        self.aic = -2 * self.loglik + 2 * p
        self.deviance_residuals = np.sign(y - mu) * np.sqrt(np.maximum(dist.dev_resids(y, mu), 0))

    def predict(self, newdata: Mapping[str, Any], scale: str = "response") -> float:
        """Linear predictor x'β̂ (``scale="link"``) or μ̂ = g⁻¹(x'β̂) (``"response"``)."""
        eta = super().predict(newdata, "link")
        if scale == "link":
            return eta
        if scale != "response":
            raise ValueError(f"scale must be 'response' or 'link', not {scale!r}")
        return float(self._link.linkinv(np.array([eta]))[0])

    def residual_of(self, y: float, mu: float, kind: str) -> float:
        """``residuals.glm`` of one row: response y - μ; pearson (y - μ) / √V(μ);
        deviance sign(y - μ) √d(y, μ), d the family's ``dev.resids`` (prior weights 1)."""
        if kind == "response":
            return y - mu
        ys, mus = np.array([y], dtype=float), np.array([mu], dtype=float)
        if kind == "pearson":
            return float((ys - mus)[0] / np.sqrt(self._dist.variance(mus))[0])
        if kind == "deviance":
            d = float(self._dist.dev_resids(ys, mus)[0])
            return float(np.sign(y - mu) * np.sqrt(max(d, 0.0)))
        raise ValueError(f"residual type must be response, pearson or deviance, not {kind!r}")

    def pairs(self, factor: str) -> list[ContrastRow]:
        """Tukey-adjusted pairwise EMM contrasts on the link scale, asymptotic (df = Inf)."""
        if factor not in self._pairs:
            self._pairs[factor] = pairwise(
                self.design, self.params, self.cov_params, factor, math.inf
            )
        return list(self._pairs[factor])

    def _require_poisson(self, what: str) -> None:
        if self.distribution != "poisson":
            raise NotImplementedError(f"{what} is for Poisson GLMs, not {self.distribution}")

    def dispersion(self) -> DispersionCheck:
        """Pearson χ² = Σ (y - μ̂)² / μ̂, ratio = χ² / (n - k), p = P(χ²_{n-k} > χ²)."""
        self._require_poisson("dispersion()")
        if self._dispersion is None:
            y, mu = self.design.y, self.fitted_values
            chisq = float(np.sum((y - mu) ** 2 / mu))
            df = self.nobs - len(self.params)
            self._dispersion = DispersionCheck(
                chisq, chisq / df, df, float(special.chdtrc(df, chisq))
            )
        return self._dispersion

    def zero_inflation(self) -> ZeroInflationCheck:
        """Observed zeros vs round(Σ P(Y=0 | μ̂_i)) = round(Σ exp(-μ̂_i)) predicted zeros."""
        self._require_poisson("zero_inflation()")
        observed = int(np.sum(self.design.y == 0))
        predicted = int(_r_round(float(np.sum(np.exp(-self.fitted_values)))))
        ratio = predicted / observed if observed else math.nan
        return ZeroInflationCheck(observed, predicted, ratio)

    def _extra_reference(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "distribution": self.distribution,
            "link": self.link,
            "deviance": self.deviance,
            "null_deviance": self.null_deviance,
            "aic": self.aic,
            "iterations": self.iterations,
        }
        if self.distribution == "poisson":
            out["dispersion"] = as_json(self.dispersion())
            out["zero_inflation"] = as_json(self.zero_inflation())
        return out


def _r_round(x: float) -> float:
    """R's ``round(x)``: halves go to the even integer (IEC 60559), like Python's round."""
    return float(round(x))
