"""Reference model fitting that reproduces R's numbers (lm, glm, glmmTMB, emmeans, performance).

Entry point: :func:`fit`. Fitters live in one module each and are registered in
:data:`FITTERS`; which fitter fits which spec family is ``problem_bank.families``' word.

>>> fitted = fit("ols", "FC ~ IC + Dose", data)          # doctest: +SKIP
>>> fitted.coef("Dosedose1"), fitted.pvalue("IC")        # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from problem_bank.fitting.base import (
    AnovaRow,
    ContrastRow,
    DispersionCheck,
    Fitted,
    VarCorr,
    VarCorrTerm,
    ZeroInflationCheck,
)
from problem_bank.fitting.count import CountFit, CountModelFit, fit_nb2, fit_zinb, fit_zip
from problem_bank.fitting.glm import GlmFit
from problem_bank.fitting.mixed import MixedFit
from problem_bank.fitting.ols import OlsFit
from problem_bank.formula import Formula, FormulaError, parse_formula

#: Fitter name -> fitting class; each takes ``(formula, data, **options)``.
FITTERS: dict[str, Callable[..., Fitted]] = {
    "ols": OlsFit,
    "glm": GlmFit,
    "mixed": MixedFit,
    "count": CountModelFit,
}


def fit(fitter: str, formula: str, data: pd.DataFrame, **options: Any) -> Fitted:
    """Fit ``formula`` (R syntax) to ``data`` with the named fitter.

    Fitters: ``"ols"`` (R's ``lm``), ``"glm"`` (``glm``; options ``distribution=
    "binomial"|"poisson"``, ``link``), ``"mixed"`` (gaussian ``glmmTMB`` with
    ``(1 | g)`` / ``(x | g)`` terms; option ``method="ML"|"REML"``, ML by default),
    ``"count"`` (glmmTMB ``nbinom2`` / zero-inflated counts; option ``distribution=
    "negbin"|"zip"|"zinb"``).
    """
    try:
        cls = FITTERS[fitter]
    except KeyError:
        raise KeyError(f"unknown fitter {fitter!r}; known: {sorted(FITTERS)}") from None
    return cls(parse_formula(formula), data, **options)


__all__ = [
    "FITTERS",
    "AnovaRow",
    "ContrastRow",
    "CountFit",
    "CountModelFit",
    "DispersionCheck",
    "Fitted",
    "Formula",
    "FormulaError",
    "GlmFit",
    "MixedFit",
    "OlsFit",
    "VarCorr",
    "VarCorrTerm",
    "ZeroInflationCheck",
    "fit",
    "fit_nb2",
    "fit_zinb",
    "fit_zip",
    "parse_formula",
]
