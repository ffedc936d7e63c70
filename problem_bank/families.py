"""The model families a spec may name, and everything that depends on the family.

A spec model says ``family: poisson``. What that means is one entry of :data:`FAMILIES`:
how the data generator draws the response, the link and its inverse, the variance
function, which reference fitter fits it (with and without random effects), how R and
Python call it, which printers, vocabulary functions and plots fit it. The spec validator,
the data generator, the fitter adapter, the scripts, the plots and the well-posedness
checks ask this registry; none of them compares family names. A new family is one entry
here (and its fitter, if none of the existing ones fits it).

What a model *offers* is a set of capability names: the printers that can print it
(``summary_glm``) and a few vocabulary facts (``residual_sd``, ``aic``). Which printer or
function needs which capability is said where they are declared (``spec.PRINTER_NEEDS``,
``expressions.Signature.needs``); what each family offers is said here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


class Parameters(Protocol):
    """The family's data-generator parameters for one draw (spec ``dgp`` fields)."""

    def given(self, name: str) -> bool:
        """Whether the spec sets this parameter."""
        ...

    def draw(self, name: str, lowest: float | None = None) -> float:
        """Draw it now, raised to ``lowest`` if below, and record it in the variant's truth
        (from the variant's generator: the order of draws is part of the data)."""
        ...


#: Draws the response given the linear predictor: ``(rng, eta, parameters) -> y``.
Drawer = Callable[[np.random.Generator, np.ndarray, Parameters], np.ndarray]


@dataclass(frozen=True)
class ModelFamily:
    """One response distribution with its canonical link, as the reference fits use it."""

    name: str
    #: R's link name (``make.link``): the reference fit always uses the canonical link.
    link: str
    #: What the response holds: ``continuous``, ``binary`` (0/1) or ``count``.
    response: str
    #: Fitter (``problem_bank.fitting.FITTERS``) without random effects, and its options.
    fitter: str
    fitter_options: dict[str, str] = field(default_factory=dict)
    #: Fitter with random effects; None when the family cannot have them.
    mixed_fitter: str | None = None
    #: Capabilities of a fixed-effects model, and of a mixed one.
    offers: frozenset[str] = frozenset()
    mixed_offers: frozenset[str] = frozenset()
    #: The family's variance as a function of the mean: ``(mu, parameters) -> Var(y)``.
    variance: Callable[[np.ndarray, dict[str, float]], np.ndarray] = lambda mu, p: mu
    #: Parameters the data generator draws for the family (spec ``dgp`` fields), in order.
    dgp_parameters: tuple[str, ...] = ()
    #: Draws the response, or None when the data generator cannot make this family.
    draw: Drawer | None = None
    #: The model-fitting call in R and the ``library()`` it needs (None: base R).
    r_call: Callable[[str, str], str] = lambda formula, data: ""
    r_package: str | None = None
    #: The statsmodels statement fitting it as ``{var}`` from formula ``{f}`` and data ``{d}``,
    #: a helper function the statement calls (written once into the script), and whether
    #: the script prints the estimates to 7 significant digits after the summary.
    py_call: str = ""
    py_helper: str = ""
    #: The ``statsmodels.families`` class of a GLM family (None: not a GLM).
    statsmodels_family: str | None = None
    py_estimates: bool = False
    #: The fitted curve a curve plot draws, in words (None: no curve plot fits the family).
    curve: str | None = None
    #: Plot kinds (``problem_bank.plots.PLOTS``) that fit a fixed / a mixed model.
    plots: frozenset[str] = frozenset()
    mixed_plots: frozenset[str] = frozenset()
    #: Whether the fit estimates a negative binomial θ (watched for its boundary).
    has_theta: bool = False

    def fitting(self, mixed: bool) -> tuple[str, dict[str, str]]:
        """The fitter name and options for a model with (or without) random effects."""
        if mixed:
            if self.mixed_fitter is None:
                raise ValueError(f"family {self.name} cannot have random effects")
            return self.mixed_fitter, {}
        return self.fitter, dict(self.fitter_options)

    def offers_for(self, mixed: bool) -> frozenset[str]:
        return self.mixed_offers if mixed else self.offers

    def plots_for(self, mixed: bool) -> frozenset[str]:
        return self.mixed_plots if mixed else self.plots

    def linkinv(self, eta: np.ndarray) -> np.ndarray:
        """The inverse link, exactly as the reference fit applies it (R's ``linkinv``)."""
        from problem_bank.fitting.glm import LINKS

        return np.asarray(LINKS[self.link].linkinv(np.asarray(eta, dtype=float)))

    def r_family(self) -> str:
        """The ``family =`` argument as the lecture types it: ``binomial(link = "logit")``."""
        return glm_family_arg(self.name, self.link)


def glm_family_arg(distribution: str, link: str) -> str:
    """R's ``family =`` argument of ``glm`` for a distribution and link."""
    return f'{distribution}(link = "{link}")'


# ------------------------------------------------------------------------- responses


def _gaussian(rng: np.random.Generator, eta: np.ndarray, p: Parameters) -> np.ndarray:
    sigma = p.draw("sigma")
    return np.asarray(eta + rng.normal(0.0, sigma, eta.size))


def _binomial(rng: np.random.Generator, eta: np.ndarray, p: Parameters) -> np.ndarray:
    prob = 1.0 / (1.0 + np.exp(-eta))
    return np.asarray(rng.uniform(size=eta.size) < prob).astype(int)


#: Largest expected count a count response is drawn with. Past it the linear predictor is
#: almost surely a unit slip (a coefficient per gram where per kilogram was meant), and
#: numpy's Poisson draw refuses outright near 1e19 with "lam value too large".
MAX_EXPECTED_COUNT = 1e9


class UnusableResponse(ValueError):
    """The linear predictor gives responses that cannot be drawn; generation redraws and,
    when no draw can, says why at the coefficients."""


def _expected_counts(eta: np.ndarray) -> np.ndarray:
    """exp(eta), checked before any count is drawn (the check draws nothing, so every
    usable dataset is the one drawn before)."""
    with np.errstate(over="ignore"):
        mu = np.exp(eta)
    if not np.all(mu <= MAX_EXPECTED_COUNT):  # also false for inf and nan
        largest = float(np.nanmax(mu)) if np.any(~np.isnan(mu)) else float("nan")
        raise UnusableResponse(
            f"the expected counts reach {largest:.3g}, more than {MAX_EXPECTED_COUNT:.0e}: "
            "make the coefficients or the predictors' ranges smaller (exp() of the linear "
            "predictor is the expected count)"
        )
    return np.asarray(mu)


def _poisson(rng: np.random.Generator, eta: np.ndarray, p: Parameters) -> np.ndarray:
    return np.asarray(rng.poisson(_expected_counts(eta))).astype(int)


def _negbin(rng: np.random.Generator, eta: np.ndarray, p: Parameters) -> np.ndarray:
    theta = p.draw("theta")
    return np.asarray(rng.poisson(rng.gamma(theta, _expected_counts(eta) / theta))).astype(int)


def _zip(rng: np.random.Generator, eta: np.ndarray, p: Parameters) -> np.ndarray:
    # A zero_prob range reaching below 0 gives some variants without zero inflation.
    pi = p.draw("zero_prob", lowest=0.0)
    counts = rng.poisson(_expected_counts(eta))
    if p.given("theta"):  # extra zeros over negative binomial counts
        counts = _negbin(rng, eta, p)
    structural = rng.uniform(size=eta.size) < pi
    return np.where(structural, 0, counts).astype(int)


# -------------------------------------------------------------------------- variances


def _nb_variance(mu: np.ndarray, p: dict[str, float]) -> np.ndarray:
    return mu + mu**2 / p["theta"]


def _zi_variance(mu: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """Var(y) of a zero-inflated count with count mean ``mu`` (the link's mean)."""
    pi = p["zero_prob"]
    count_var = _nb_variance(mu, p) if "theta" in p else mu
    return (1 - pi) * (count_var + pi * mu**2)


# --------------------------------------------------------------------------- R calls


def _glm_call(name: str, link: str) -> Callable[[str, str], str]:
    return lambda f, d: f"glm({f}, family = {glm_family_arg(name, link)}, data = {d})"


def _smf_glm(sm_family: str) -> str:
    return "{var} = smf.glm({f!r}, data={d}, family=sm.families.SM()).fit()".replace(
        "SM", sm_family
    )


def _glmmtmb_call(arguments: str) -> Callable[[str, str], str]:
    return lambda f, d: f"glmmTMB({f}, {arguments}, data = {d})"


#: statsmodels' ZINB from its default start often ends at NaN; this one starts from NB.
_PY_ZINB = '''
def fit_zinb(model):
    """ZINB started from the negative binomial fit, Nelder-Mead then BFGS.

    From statsmodels' default start the fit often ends with a NaN likelihood (trial values
    of alpha below 0); those trials' warnings are expected, so they are silenced.
    """
    nb = sm.NegativeBinomial(model.endog, model.exog, loglike_method="nb2").fit(disp=0)
    start = np.concatenate([[-2.0], nb.params])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(start_params=start, method="nm", disp=0, maxiter=5000)
        return model.fit(start_params=fit.params, method="bfgs", disp=0, maxiter=1000)
'''


#: Row-level fitted values and residuals (``fitted()``, ``residual()``): the fits whose
#: residuals R defines per row exactly as ``residuals(fit, type = ...)`` (lm and glm).
_ROWS = frozenset({"row_residuals"})
_LINEAR = frozenset({"summary_lm", "anova_lm", "emmeans_pairs"}) | _ROWS
#: Count models compared by AIC (glmmTMB's ML fits, and the Poisson GLM beside them).
_COUNT = frozenset({"aic"})

#: Family name → family. The names are what a spec's ``family:`` may say.
FAMILIES: dict[str, ModelFamily] = {
    f.name: f
    for f in (
        ModelFamily(
            "gaussian",
            link="identity",
            response="continuous",
            fitter="ols",
            mixed_fitter="mixed",
            offers=_LINEAR,
            mixed_offers=frozenset({"summary_glmmtmb", "residual_sd"}),
            variance=lambda mu, p: np.full_like(mu, p["sigma"] ** 2, dtype=float),
            dgp_parameters=("sigma",),
            draw=_gaussian,
            r_call=lambda f, d: f"lm({f}, data = {d})",
            py_call="{var} = smf.ols({f!r}, data={d}).fit()",
            py_estimates=True,
            curve="fitted regression line",
            plots=frozenset({"scatter", "group_lines"}),
            mixed_plots=frozenset({"mixed_groups"}),
        ),
        ModelFamily(
            "binomial",
            link="logit",
            response="binary",
            fitter="glm",
            fitter_options={"distribution": "binomial"},
            offers=frozenset({"summary_glm", "emmeans_pairs"}) | _ROWS,
            variance=lambda mu, p: mu * (1 - mu),
            draw=_binomial,
            r_call=_glm_call("binomial", "logit"),
            py_call=_smf_glm("Binomial"),
            statsmodels_family="Binomial",
            py_estimates=True,
            curve="fitted probability curve",
            plots=frozenset({"scatter", "group_lines", "logistic"}),
        ),
        ModelFamily(
            "poisson",
            link="log",
            response="count",
            fitter="glm",
            fitter_options={"distribution": "poisson"},
            offers=frozenset(
                {"summary_glm", "emmeans_pairs", "check_overdispersion", "check_zeroinflation"}
            )
            | _COUNT
            | _ROWS,
            draw=_poisson,
            r_call=_glm_call("poisson", "log"),
            py_call=_smf_glm("Poisson"),
            statsmodels_family="Poisson",
            py_estimates=True,
            curve="fitted Poisson curve (expected count)",
            plots=frozenset({"scatter", "group_lines", "zeros"}),
        ),
        ModelFamily(
            "negbin",
            link="log",
            response="count",
            fitter="count",
            fitter_options={"distribution": "negbin"},
            offers=frozenset({"check_zeroinflation"}) | _COUNT,
            variance=_nb_variance,
            dgp_parameters=("theta",),
            draw=_negbin,
            r_call=_glmmtmb_call("family = nbinom2"),
            r_package="glmmTMB",
            py_call="{var} = smf.negativebinomial({f!r}, data={d}).fit(disp=0, maxiter=500)",
            has_theta=True,
        ),
        ModelFamily(
            "zip",
            link="log",
            response="count",
            fitter="count",
            fitter_options={"distribution": "zip"},
            offers=_COUNT,
            variance=_zi_variance,
            dgp_parameters=("zero_prob",),
            draw=_zip,
            r_call=_glmmtmb_call("ziformula = ~1, family = poisson"),
            r_package="glmmTMB",
            py_call=(
                "{var} = sm.ZeroInflatedPoisson.from_formula({f!r}, data={d},"
                " exog_infl=np.ones((len({d}), 1))).fit(disp=0, maxiter=500)"
            ),
        ),
        ModelFamily(
            "zinb",
            link="log",
            response="count",
            fitter="count",
            fitter_options={"distribution": "zinb"},
            offers=_COUNT,
            variance=_zi_variance,
            r_call=_glmmtmb_call("ziformula = ~1, family = nbinom2"),
            r_package="glmmTMB",
            py_call=(
                "{var} = fit_zinb(sm.ZeroInflatedNegativeBinomialP.from_formula({f!r},"
                " data={d}, p=2, exog_infl=np.ones((len({d}), 1))))"
            ),
            py_helper=_PY_ZINB,
            has_theta=True,
        ),
    )
}

#: A negative binomial θ̂ above this is at its boundary (the Poisson limit): glmmTMB then
#: stops anywhere along the flat ridge, and for some data its Hessian is not positive
#: definite and R prints AIC NA (seen on a ZINB fit with θ̂ = 1.7e7). Such a draw is
#: redrawn (``problem_bank.wellposed``).
THETA_BOUNDARY = 1e4

#: The names, in the registry's order (the spec's ``family:`` choices).
FAMILY_NAMES = tuple(FAMILIES)
#: Families the data generator can draw (a spec's ``dgp.family`` choices).
DGP_FAMILY_NAMES = tuple(name for name, f in FAMILIES.items() if f.draw is not None)


def family(name: str) -> ModelFamily:
    """The registered family; a KeyError that lists the known ones otherwise."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown family {name!r}; known: {', '.join(FAMILIES)}") from None


def offering(capability: str, mixed: bool | None = None) -> list[str]:
    """The families whose models offer ``capability`` (fixed, mixed, or either when None)."""
    out = []
    for name, f in FAMILIES.items():
        offers: Iterable[str] = f.offers | f.mixed_offers if mixed is None else f.offers_for(mixed)
        if capability in offers:
            out.append(name)
    return out


def any_of(names: Any) -> str:
    """``poisson or negbin`` / ``poisson, negbin or zip``: families named in a message."""
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
