"""A second implementation checks every stored key: statsmodels refits each reference model.

The reference fits (:mod:`problem_bank.fitting`) are our own implementations of R's
algorithms, so that every printed digit is R's. Before a variant is stored, statsmodels
fits the same model to the same rows and design matrix; its point estimates must print
the same digits as the output shows (:func:`problem_bank.acceptance.printed_range` of the
printed cell). A draw where they disagree is redrawn like any ill-posed draw.

The design matrix is shared on purpose: the check is of the estimator (QR, IRLS, the
profiled likelihood), which is where an own implementation can go wrong silently; the
coding of factors into columns is pinned by the R goldens.

statsmodels costs a worker about 0.5 s of CPU and 35 MB on top of the numeric stack
(benchmarks/README.md), so it is imported inside the checks, only where variants are
issued (the ``variants`` Celery queue, the web's inline issue); grading workers never
load it.

Comparable models, one :data:`CHECKS` entry each (a new fit family adds one):

- ``ols`` (R ``lm``) → ``statsmodels OLS``;
- ``glm:binomial`` / ``glm:poisson`` (R ``glm``) → ``statsmodels GLM`` with that family;
- ``mixed`` (gaussian ``glmmTMB``, random intercept or intercept + slopes, ML or REML) →
  ``MixedLM`` with the same random-effects design and a free covariance. The fitting
  package has no GLMM, so there is nothing statsmodels cannot fit; a family it cannot fit
  (a zero-inflated GLMM, say) gets no entry and is reported by :func:`unchecked`.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from problem_bank.acceptance import last_digit_unit, printed_range
from problem_bank.families import family as model_family
from problem_bank.printers.rformat import Printed

log = logging.getLogger(__name__)

#: Significant digits compared for a coefficient the output does not print (a model only
#: an answer reads): as many as R's coefficient tables show.
UNPRINTED_DIGITS = 4

#: MixedLM's optimiser: its default (L-BFGS) stops ~1e-7 from the optimum, short of the 7
#: significant digits glmmTMB prints; derivative-free Powell at tight tolerances reaches
#: 1e-11 in ~0.1 s (BFGS at gtol 1e-12 too, but reports spurious failures on slopes).
MIXEDLM_FIT: dict[str, Any] = {"method": "powell", "xtol": 1e-12, "ftol": 1e-14, "maxiter": 5000}

#: statsmodels' estimates by R coefficient name, for one fitted reference model.
SecondFit = Callable[[Any], dict[str, float] | None]


@dataclass(frozen=True)
class Disagreement:
    """One coefficient whose two implementations print different digits."""

    model: str
    term: str
    ours: float
    theirs: float
    printed: str

    def __str__(self) -> str:
        return (
            f"cross-check: {self.model} {self.term} is {self.ours!r} (printed {self.printed}) "
            f"but statsmodels gives {self.theirs!r}"
        )


def model_kind(fitted: Any) -> str:
    """The registry key of a fitted model: the fitter, with its distribution."""
    distribution = getattr(fitted, "distribution", None)
    return f"{fitted.fitter}:{distribution}" if distribution else str(fitted.fitter)


def _by_name(fitted: Any, values: Any) -> dict[str, float]:
    return {n: float(v) for n, v in zip(fitted.coef_names(), np.asarray(values), strict=True)}


def _ols(fitted: Any) -> dict[str, float]:
    import statsmodels.api as sm

    return _by_name(fitted, sm.OLS(fitted.design.y, fitted.design.X).fit().params)


def _glm(family: str) -> SecondFit:
    def check(fitted: Any) -> dict[str, float]:
        import statsmodels.api as sm

        name = model_family(family).statsmodels_family
        assert name is not None, f"{family} is not a GLM family"
        sm_family = getattr(sm.families, name)()
        result = sm.GLM(fitted.design.y, fitted.design.X, family=sm_family).fit(tol=1e-12)
        return _by_name(fitted, result.params)

    check.__doc__ = f"statsmodels GLM, family {family}, canonical link."
    return check


def _mixed(fitted: Any) -> dict[str, float]:
    """MixedLM with the same groups and random-effects design (free covariance, as
    ``(x | g)``); fixed effects compared. Its convergence warnings are not ours to show:
    a MixedLM that stopped early disagrees, and the draw is redrawn."""
    import statsmodels.api as sm

    model = sm.MixedLM(fitted.design.y, fitted.design.X, groups=fitted._codes, exog_re=fitted.Z)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.fit(reml=fitted.reml, **MIXEDLM_FIT)
    return _by_name(fitted, result.fe_params)


def _count(kind: str) -> SecondFit:
    def check(fitted: Any) -> dict[str, float]:
        import warnings

        import statsmodels.api as sm

        X, y = fitted.design.X, fitted.design.y
        ones = np.ones((len(y), 1))
        p = X.shape[1]
        with warnings.catch_warnings():
            # Trial values of alpha below 0 warn on the way; the result is checked below.
            warnings.simplefilter("ignore")
            # Default tolerances stop short of the optimum in the 4th digit: Newton to the end.
            nb_model = sm.NegativeBinomial(y, X, loglike_method="nb2")
            nb = nb_model.fit(disp=0, maxiter=2000)
            polished = nb_model.fit(
                start_params=nb.params, method="newton", disp=0, maxiter=200, tol=1e-12
            )
            nb = polished if np.isfinite(polished.llf) else nb
            if kind == "negbin":
                return _by_name(fitted, nb.params[:p])
            if kind == "zip":
                zip_ = sm.ZeroInflatedPoisson(y, X, exog_infl=ones).fit(disp=0, maxiter=2000)
                zip_ = sm.ZeroInflatedPoisson(y, X, exog_infl=ones).fit(
                    start_params=zip_.params, method="newton", disp=0, maxiter=200, tol=1e-12
                )
                return _by_name(fitted, zip_.params[1 : 1 + p])
            # statsmodels' default ZINB start ends at a NaN likelihood: start from its NB
            # and from its ZIP fit (Nelder-Mead, then BFGS); keep the higher likelihood.
            model = sm.ZeroInflatedNegativeBinomialP(y, X, exog_infl=ones, p=2)
            zip_ = sm.ZeroInflatedPoisson(y, X, exog_infl=ones).fit(disp=0, maxiter=2000)
            fits = []
            for start in (np.concatenate([[-2.0], nb.params]), np.append(zip_.params, 0.1)):
                res = model.fit(start_params=start, method="nm", disp=0, maxiter=20000)
                res = model.fit(
                    start_params=res.params, method="bfgs", disp=0, maxiter=5000, gtol=1e-10
                )
                if np.isfinite(res.llf):
                    fits.append(res)
            res = max(fits, key=lambda r: r.llf) if fits else res
        return _by_name(fitted, res.params[1 : 1 + p])

    check.__doc__ = f"statsmodels count model ({kind}): NB2, ZIP or ZINB-P(p=2)."
    return check


#: Model kind → statsmodels refit. A new fit family (NB, ZIP, ...) adds one entry.
CHECKS: dict[str, SecondFit] = {
    "ols": _ols,
    "glm:binomial": _glm("binomial"),
    "glm:poisson": _glm("poisson"),
    "mixed": _mixed,
    "count:negbin": _count("negbin"),
    "count:zip": _count("zip"),
    "count:zinb": _count("zinb"),
}


def second_fit(fitted: Any) -> dict[str, float] | None:
    """statsmodels' estimates for ``fitted``, or None when no check exists for its kind."""
    check = CHECKS.get(model_kind(fitted))
    return None if check is None else check(fitted)


def unchecked(fitted: Mapping[str, Any]) -> list[str]:
    """Models of a variant that no second implementation checks (their kind has no entry)."""
    return [name for name, f in fitted.items() if model_kind(f) not in CHECKS]


def _digits_at(value: float, unit: float) -> int:
    return math.floor(value / unit + 0.5)


def _agrees(ours: float, theirs: float, text: str) -> bool:
    """Both values show the same digits at the decimals ``text`` prints.

    Compared by rounding both, not by the printed text's half-unit interval: R's
    ``printCoefmat`` rounds twice, so the printed digits need not be the correctly rounded
    value of the estimate (-0.5897452 prints as -0.58974), and our own value would fail.
    """
    if not math.isfinite(theirs) or printed_range(text) is None:
        return False
    unit = last_digit_unit(text)
    return _digits_at(ours, unit) == _digits_at(theirs, unit)


def disagreements(
    fitted: Mapping[str, Any], printed: Printed, second: SecondFit = second_fit
) -> list[Disagreement]:
    """Every coefficient of every model where ``second``'s estimate does not print as ours.

    Printed coefficients are compared to the digits printed; one no output prints, to
    :data:`UNPRINTED_DIGITS` significant digits of ours. ``second`` is the seam a test
    perturbs (a real refit, one value moved), never a mock of the fits.
    """
    found = []
    for model, f in fitted.items():
        theirs = second(f)
        if theirs is None:
            continue
        for term in f.coef_names():
            ours = f.coef(term)
            shown = printed.get(f"{model}:coef:{term}") or (f"{ours:.{UNPRINTED_DIGITS}g}",)
            text = next((t for t in shown if printed_range(t) is not None), shown[0])
            if not _agrees(ours, theirs[term], text):
                found.append(Disagreement(model, term, ours, theirs[term], text))
    return found


def log_disagreement(problem: str, seed: int, attempt: int, d: Disagreement) -> None:
    """The structured line an operator greps for: which key the second fit refused."""
    log.warning(
        "crosscheck_disagreement problem=%s seed=%d attempt=%d model=%s term=%s "
        "ours=%r statsmodels=%r printed=%s",
        problem,
        seed,
        attempt,
        d.model,
        d.term,
        d.ours,
        d.theirs,
        d.printed,
        extra={
            "event": "crosscheck_disagreement",
            "problem": problem,
            "seed": seed,
            "attempt": attempt,
            "model": d.model,
            "term": d.term,
            "ours": d.ours,
            "statsmodels": d.theirs,
            "printed": d.printed,
        },
    )
