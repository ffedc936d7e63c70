"""Mixed-model fixed effects and their SEs against glmmTMB, on many seeds of every built-in
mixed problem (fixtures ``golden/mixed_se/*.json`` made by
``scripts/golden/make_mixed_se_goldens.py`` with R 4.2.2 and glmmTMB 1.1.5; no R needed).

Our fits are the exact optimum (Newton-polished on the exact gradient). glmmTMB's ML fit
(``profile = TRUE``, as fit.R runs it) ends with Newton steps on TMB's exact gradient, so
its estimates are the optimum to ~1e-12: ours must equal them to 1e-9, and our SEs must
equal the SEs fit.R prints, which it recomputes at that optimum with TMB's ``sdreport``
(its ``optimHess`` step of 1e-3 leaves ~1e-9 in them): 1e-8. Before, 4 of 30
mixed_reading seeds printed an SE or z differing in the last digit (seed 6: 0.1324610 vs
0.1324609): glmmTMB takes its Hessian where nlminb stopped on the profiled objective, before
its Newton steps, and our finite-difference search left our SEs ~1e-7 off.

glmmTMB's REML fit has no Newton steps: it stops where nlminb stops (gradient up to ~1e-5),
so there we check that our REML criterion is at least as good and the numbers agree to
1e-6, and printed rows within one unit of the last digit (no built-in problem prints one).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from problem_bank import builtin_problems, generate
from problem_bank import printers as P
from problem_bank.fitting import MixedFit, fit, parse_formula
from tests.problem_bank.test_variant_goldens import numbers_within_last_digit

FIXTURES = Path(__file__).parent / "golden" / "mixed_se"
RECORDS = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in FIXTURES.glob("*.json")}
CASES = [(name, model) for name in sorted(RECORDS) for model in sorted(RECORDS[name]["models"])]
ML_CASES = [c for c in CASES if not builtin_problems()[RECORDS[c[0]]["problem"]].models[c[1]].reml]
REML_CASES = [c for c in CASES if c not in ML_CASES]


@functools.cache
def ours(name: str, model: str) -> tuple[MixedFit, str]:
    """Our fit of one model of the variant the fixture was made from."""
    rec = RECORDS[name]
    spec = builtin_problems()[rec["problem"]]
    assert spec.version == rec["version"], f"{name}: spec version changed; remake the fixtures"
    variant = generate(spec, rec["seed"])
    digest = hashlib.sha256(variant.data_csv.encode("utf-8")).hexdigest()
    assert digest == rec["data_sha256"], f"{name}: the data changed; remake the fixtures"
    m = spec.models[model]
    data = pd.read_csv(io.StringIO(variant.data_csv))
    for term in parse_formula(m.formula).random:
        data[term.group] = data[term.group].astype(str)
    fitted = fit("mixed", m.formula, data, method="REML" if m.reml else "ML")
    assert isinstance(fitted, MixedFit)
    return fitted, spec.data_name


def r_model(name: str, model: str) -> dict:
    return RECORDS[name]["models"][model]


def printed_rows(m: MixedFit, data_name: str, n: int) -> list[str]:
    lines = P.summary_glmmtmb(m, data_name).split("\n")
    start = len(lines) - 1 - lines[::-1].index("Conditional model:")
    return lines[start + 2 : start + 2 + n]


def test_there_are_fixtures_for_every_mixed_problem() -> None:
    assert {r["problem"] for r in RECORDS.values()} == {
        "mixed_reading",
        "mixed_fitting",
        "random_slope",
    }
    assert all(not r["r_stderr"].strip() for r in RECORDS.values())


@pytest.mark.parametrize(("name", "model"), ML_CASES)
def test_ml_estimates_and_ses_are_glmmtmbs_at_its_optimum(name: str, model: str) -> None:
    m, _ = ours(name, model)
    r = r_model(name, model)
    assert not m.singular
    assert r["max_gradient"] < 1e-8
    # fit.R's SEs are sdreport's at glmmTMB's optimum (its recomputation ran).
    assert r["se"] == r["se_at_optimum"]
    np.testing.assert_allclose(m.params, r["estimate"], rtol=1e-9, atol=0)
    np.testing.assert_allclose(m.bse, r["se"], rtol=1e-8, atol=0)


@pytest.mark.parametrize(("name", "model"), ML_CASES)
def test_ml_printed_coefficients_are_glmmtmbs(name: str, model: str) -> None:
    m, data_name = ours(name, model)
    r = r_model(name, model)
    assert printed_rows(m, data_name, len(r["printed"])) == r["printed"]


@pytest.mark.parametrize(("name", "model"), REML_CASES)
def test_reml_fit_is_at_least_glmmtmbs(name: str, model: str) -> None:
    m, data_name = ours(name, model)
    r = r_model(name, model)
    assert m.loglik >= r["loglik"] - 1e-9
    np.testing.assert_allclose(m.params, r["estimate"], rtol=1e-6, atol=0)
    np.testing.assert_allclose(m.bse, r["se"], rtol=1e-5, atol=0)
    got = printed_rows(m, data_name, len(r["printed"]))
    assert all(numbers_within_last_digit(a, b) for a, b in zip(got, r["printed"], strict=True))
