"""poisson_zeros' remedy key comes from the right fits (issue 13 §2).

The count fits are cross-checked against statsmodels (an independent implementation);
the key is checked on seeds where the old rule (Poisson zeros only) said zero-inflated
although a negative binomial GLM reproduces the zeros with the best AIC.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm

from graders.engine import grade
from problem_bank import builtin_problem, generate
from problem_bank.fitting import CountFit, fit_nb2, fit_zinb, fit_zip
from problem_bank.fitting.formula import Design
from problem_bank.formula import parse_formula as parse_model_formula
from problem_bank.variant import Variant

GOLDEN = Path(__file__).parent / "golden"


def _design(seed: int) -> tuple[np.ndarray, np.ndarray]:
    import io

    import pandas as pd

    v = generate(builtin_problem("poisson_zeros"), seed)
    frame = pd.read_csv(io.StringIO(v.data_csv))
    frame["Habitat"] = pd.Categorical(frame["Habitat"], categories=["forest", "meadow"])
    d = Design(parse_model_formula("Ticks ~ Mass + Habitat"), frame)
    return d.X, d.y


def _statsmodels_params(kind: str, fit: CountFit) -> np.ndarray:
    """Our optimum in statsmodels' parametrisation: [logit π,] β, [alpha = 1/θ]."""
    head = [] if fit.zi_prob is None else [math.log(fit.zi_prob / (1 - fit.zi_prob))]
    tail = [] if fit.theta is None else [1 / fit.theta]
    return np.concatenate([head, fit.coefficients, tail])


@pytest.mark.parametrize("seed", [1, 2, 11])
def test_count_fits_are_statsmodels_optimum(seed: int) -> None:
    """statsmodels' likelihood at our optimum equals ours and its score there vanishes;
    where statsmodels' own optimizer succeeds (NB2, ZIP) it finds the same maximum."""
    X, y = _design(seed)
    ones = np.ones((len(y), 1))
    models = {
        "nb2": sm.NegativeBinomial(y, X, loglike_method="nb2"),
        "zip": sm.ZeroInflatedPoisson(y, X, exog_infl=ones),
        # (statsmodels' own ZINB fit returns a NaN likelihood on these data.)
        "zinb": sm.ZeroInflatedNegativeBinomialP(y, X, exog_infl=ones, p=2),
    }
    ours = {"nb2": fit_nb2(X, y), "zip": fit_zip(X, y), "zinb": fit_zinb(X, y)}
    for kind, fit in ours.items():
        assert fit.converged
        if kind != "nb2":  # (NegativeBinomial.loglike reads alpha only as fit() leaves it)
            params = _statsmodels_params(kind, fit)
            assert models[kind].loglike(params) == pytest.approx(fit.loglik, abs=1e-9)
            assert np.max(np.abs(models[kind].score(params))) < 1e-3
        if kind != "zinb":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = models[kind].fit(disp=0, maxiter=2000)
            assert fit.loglik >= theirs.llf - 1e-6  # ours is the polished optimum
            assert fit.loglik == pytest.approx(theirs.llf, abs=1e-3)
            # π at its boundary (0): any very negative logit is the same fit.
            skip = int(fit.zi_prob is not None and fit.zi_prob < 1e-6)
            np.testing.assert_allclose(
                _statsmodels_params(kind, fit)[skip:], theirs.params[skip:], rtol=1e-3, atol=1e-3
            )


def _old_key(v: Variant) -> str:
    """main's (version 2) rule: zero-inflated whenever the Poisson fit is short of zeros."""
    return "zero_inflated" if v.part("zero_ratio").answer < 0.95 else "other"


@pytest.mark.parametrize("seed", [11, 26, 32])
def test_remedy_is_negative_binomial_when_nb_reproduces_the_zeros(seed: int) -> None:
    v = generate(builtin_problem("poisson_zeros"), seed)
    observed = v.part("observed_zeros").answer
    nb_zeros = v.part("nb_predicted_zeros").answer
    assert _old_key(v) == "zero_inflated"  # the Poisson fit under-predicts zeros...
    assert nb_zeros / observed >= 0.95  # ...but the NB fit reproduces them
    assert v.part("best_aic").answer == "negative_binomial"
    assert v.part("remedy").answer == "negative_binomial"
    assert f"negative binomial fit predicts {nb_zeros:g}" in v.part("remedy").explanation


def test_all_three_remedies_occur() -> None:
    spec = builtin_problem("poisson_zeros")
    answers = {generate(spec, seed).part("remedy").answer for seed in range(1, 41)}
    assert answers == {"keep_poisson", "negative_binomial", "zero_inflated"}


def test_version_2_variant_still_loads_and_grades() -> None:
    """A variant stored before version 3 (made by main's code) keeps its parts and key."""
    stored = json.loads((GOLDEN / "poisson_zeros_v2_seed3.json").read_text())
    v = Variant.from_dict(stored)
    assert v.version == 2
    assert [p.id for p in v.parts] == [
        "dispersion_ratio",
        "overdispersed",
        "observed_zeros",
        "predicted_zeros",
        "zero_ratio",
        "remedy",
    ]
    right = {p.id: str(p.answer) for p in v.parts}
    assert grade(v, right).score == 1.0
    assert builtin_problem("poisson_zeros").version == 3
