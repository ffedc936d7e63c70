"""Pairwise comparisons of estimated marginal means, as ``pairs(emmeans(fit, ~factor))``.

EMMs follow emmeans' reference grid (covariates at their mean, equal weights over the
levels of other factors). Each pair "a - b" is tested with t = estimate / se and the
Tukey-adjusted p-value P(Q_{k,df} > |t| * sqrt(2)), where Q is the studentized range of k
means (R's ``ptukey(..., lower.tail = FALSE)``, ported in :mod:`~problem_bank.fitting.tukey`
so the p-values are R's to rounding); emmeans uses exactly this.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr, stdtr

from problem_bank.fitting.base import ContrastRow
from problem_bank.fitting.formula import Design
from problem_bank.fitting.tukey import ptukey


def tukey_pvalues(t: ArrayLike, k: int, df: float) -> np.ndarray:
    """Tukey-adjusted two-sided p = P(Q_{k,df} > |t|·√2) for pairwise t ratios among k means."""
    size = np.abs(np.asarray(t, dtype=float))
    if k == 2:
        # The range of two means is |t|·√2: the plain two-sided p, P(|T_df| > |t|).
        return np.asarray(2.0 * (ndtr(-size) if math.isinf(df) else stdtr(df, -size)))
    return ptukey(size * math.sqrt(2.0), k, df, lower_tail=False)


def tukey_pvalue(t: float, k: int, df: float) -> float:
    """Tukey-adjusted two-sided p for one pairwise t among k means (``ptukey`` upper tail)."""
    return float(tukey_pvalues([t], k, df)[0])


def pairwise(
    design: Design, params: np.ndarray, cov: np.ndarray, factor: str, df: float
) -> list[ContrastRow]:
    """All pairs of levels of ``factor`` in emmeans' order (1-2, 1-3, ..., 2-3, ...)."""
    labels = design.contrast_labels(factor)
    rows = design.emm_rows(factor)
    k = len(labels)
    ii, jj = np.triu_indices(k, 1)  # row-major: (0, 1), (0, 2), ..., (1, 2), ...
    diffs = rows[ii] - rows[jj]
    est = diffs @ params
    se = np.sqrt(np.einsum("ij,jk,ik->i", diffs, cov, diffs))
    t = est / se
    p = tukey_pvalues(t, k, df)
    return [
        ContrastRow(f"{labels[i]} - {labels[j]}", float(e), float(s), df, float(tt), float(pp))
        for i, j, e, s, tt, pp in zip(ii, jj, est, se, t, p, strict=True)
    ]
