"""The studentized range (``problem_bank.fitting.tukey``) against R's ``ptukey`` and scipy.

``golden/ptukey.csv`` was made by ``scripts/golden/make_ptukey.R`` (R 4.2.2). Since the
port follows R's algorithm and cut-offs, it agrees with R to rounding. scipy's
``studentized_range`` integrates adaptively and is more accurate than R's algorithm, whose
own error is up to ~1e-7 absolute at ν = 5 and ~1e-10 for ν ≥ 20; the tolerances against
scipy are that error.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import studentized_range
from scipy.stats import t as t_dist

from problem_bank.fitting.emmeans import tukey_pvalue, tukey_pvalues
from problem_bank.fitting.tukey import _lgamma, ptukey, range_cdf

R_PTUKEY = pd.read_csv(Path(__file__).parent / "golden" / "ptukey.csv")


@pytest.mark.parametrize(
    ("nmeans", "df"),
    sorted(set(zip(R_PTUKEY.nmeans, R_PTUKEY.df, strict=True))),
)
def test_matches_r_ptukey(nmeans: int, df: float) -> None:
    r = R_PTUKEY[(R_PTUKEY.nmeans == nmeans) & (R_PTUKEY.df == df)]
    q = r.q.to_numpy()
    lower = ptukey(q, nmeans, df)
    upper = ptukey(q, nmeans, df, lower_tail=False)
    np.testing.assert_allclose(lower, r.lower, rtol=0, atol=5e-15)
    np.testing.assert_allclose(upper, r.upper, rtol=0, atol=5e-15)
    # R forms the upper tail as 1 - lower: relative agreement is as good as 5e-15 / p.
    big = r.upper.to_numpy() > 1e-6
    np.testing.assert_allclose(upper[big], r.upper[big], rtol=1e-8)


#: |ours - scipy| allowed, by ν: the error of R's algorithm itself (see module docstring).
SCIPY_ATOL = {5: 2e-7, 10: 1e-9, 20: 1e-10, 60: 2e-10, 146: 2e-10, 500: 5e-10, math.inf: 2e-10}


@pytest.mark.parametrize("df", list(SCIPY_ATOL))
@pytest.mark.parametrize("nmeans", [2, 3, 4, 5, 6])
def test_agrees_with_scipy(nmeans: int, df: float) -> None:
    q = np.array([0.1, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 10])
    want = studentized_range.sf(q, nmeans, df)
    got = ptukey(q, nmeans, df, lower_tail=False)
    np.testing.assert_allclose(got, want, rtol=0, atol=SCIPY_ATOL[df])
    if df >= 20:  # where p-values are printed to 4 decimals, 6+ significant digits agree
        big = want > 1e-3
        np.testing.assert_allclose(got[big], want[big], rtol=1e-6)


def test_two_means_is_the_t_test() -> None:
    # The range of two means is |Z1 - Z2|: P(Q > q) = P(|T_df| > q / sqrt(2)).
    q = np.array([0.5, 1.0, 2.0, 3.0, 4.0])
    for df in (5.0, 30.0, 146.0):
        want = 2 * t_dist.sf(q / math.sqrt(2), df)
        np.testing.assert_allclose(ptukey(q, 2, df, lower_tail=False), want, atol=2e-7)
    np.testing.assert_allclose(tukey_pvalues(q, 2, 146.0), 2 * t_dist.sf(q, 146.0), rtol=1e-12)


def test_edge_cases_follow_r() -> None:
    assert ptukey(0.0, 3, 10.0) == 0.0
    assert ptukey(-1.0, 3, 10.0, lower_tail=False) == 1.0
    assert ptukey(math.inf, 3, 10.0) == 1.0
    assert math.isnan(ptukey(math.nan, 3, 10.0))
    assert math.isnan(ptukey(2.0, 3, 1.5))  # R: df < 2 is NaN
    assert math.isnan(ptukey(2.0, 1, 10.0))
    assert ptukey([[1.0, 2.0], [3.0, 4.0]], 3, 10.0).shape == (2, 2)
    # ν = ∞ (and ν > 25000) is the range of normals itself.
    assert ptukey(3.0, 4, math.inf) == range_cdf(3.0, 4)
    assert ptukey(3.0, 4, 30000.0) == range_cdf(3.0, 4)
    assert range_cdf(16.0, 3) == 1.0


def test_lgamma_is_rs_to_the_bit() -> None:
    # R 4.2.2: sprintf("%.17g", lgamma(x)); math.lgamma and scipy differ in the last bit.
    assert _lgamma(73.0) == 238.97838956183432
    assert _lgamma(3000.0) == 21016.018485477893
    assert _lgamma(50.0) == 144.56574394634487


def test_lecture_tukey_p_values() -> None:
    # The lecture's additive model: t = 2.199 on 146 df among 3 doses, p = 0.0747.
    assert round(tukey_pvalue(2.199, 3, 146), 4) == 0.0747
    assert tukey_pvalues([2.199, -2.199], 3, 146.0).tolist() == [tukey_pvalue(2.199, 3, 146)] * 2
