"""Pairwise comparisons of estimated marginal means, as ``pairs(emmeans(fit, ~factor))``.

EMMs follow emmeans' reference grid (covariates at their mean, equal weights over the
levels of other factors). Each pair "a - b" is tested with t = estimate / se and the
Tukey-adjusted p-value P(Q_{k,df} > |t| * sqrt(2)), where Q is the studentized range of k
means (R's ``ptukey(..., lower.tail = FALSE)``); emmeans uses exactly this.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm, studentized_range

from problem_bank.fitting.base import ContrastRow
from problem_bank.fitting.formula import Design


def tukey_pvalue(t: float, k: int, df: float) -> float:
    """Tukey-adjusted two-sided p for a pairwise t among k means (``ptukey`` upper tail)."""
    q = abs(t) * math.sqrt(2.0)
    if k == 2:
        # The range of two means is |t| * sqrt(2): the plain two-sided p.
        from scipy.stats import t as t_dist

        return float(2 * norm.sf(abs(t)) if math.isinf(df) else 2 * t_dist.sf(abs(t), df))
    return float(studentized_range.sf(q, k, df))


def pairwise(
    design: Design, params: np.ndarray, cov: np.ndarray, factor: str, df: float
) -> list[ContrastRow]:
    """All pairs of levels of ``factor`` in emmeans' order (1-2, 1-3, ..., 2-3, ...)."""
    labels = design.levels(factor)
    rows = design.emm_rows(factor)
    k = len(labels)
    out = []
    for i in range(k):
        for j in range(i + 1, k):
            d = rows[i] - rows[j]
            est = float(d @ params)
            se = float(math.sqrt(d @ cov @ d))
            t = est / se
            out.append(
                ContrastRow(f"{labels[i]} - {labels[j]}", est, se, df, t, tukey_pvalue(t, k, df))
            )
    return out
