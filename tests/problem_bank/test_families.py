"""Common checks over the model-family registry, as every answer kind and printer is checked.

Each family's link, variance and response drawer must agree with each other (the variance
is checked against draws), its fitters, printers, plots and capabilities must be ones that
exist, its R and Python calls must be well formed, and a minimal spec of every family must
generate a variant. Outside the registry, no module may compare family names.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

from problem_bank import expressions as ex
from problem_bank import families, plots
from problem_bank.families import FAMILIES, ModelFamily
from problem_bank.fitting import FITTERS
from problem_bank.generate import generate
from problem_bank.scripts import python_script, r_script
from problem_bank.spec import PRINTER_NEEDS, PRINTERS, DgpSpec, SpecError, parse_spec

ROOT = Path(__file__).resolve().parents[2]
ALL = list(FAMILIES.values())
#: What every family's variance and drawer are checked at.
PARAMETERS = {"sigma": 1.7, "theta": 3.0, "zero_prob": 0.3}


class _Fixed:
    """Data-generator parameters at fixed values (no range to draw from)."""

    def __init__(self, values: dict[str, float]) -> None:
        self.values = values

    def given(self, name: str) -> bool:
        return name in self.values

    def draw(self, name: str, lowest: float | None = None) -> float:
        return self.values[name]


@pytest.mark.parametrize("fam", ALL, ids=lambda f: f.name)
def test_the_inverse_link_is_the_canonical_one(fam: ModelFamily) -> None:
    eta = np.linspace(-3, 3, 13)
    by_hand = {"identity": eta, "logit": expit(eta), "log": np.exp(eta)}[fam.link]
    np.testing.assert_allclose(fam.linkinv(eta), by_hand, rtol=1e-14)


@pytest.mark.parametrize("fam", [f for f in ALL if f.draw is not None], ids=lambda f: f.name)
@pytest.mark.parametrize("eta", [-0.5, 1.2])
def test_draws_have_the_mean_and_variance_the_family_says(fam: ModelFamily, eta: float) -> None:
    assert fam.draw is not None
    given = {k: PARAMETERS[k] for k in fam.dgp_parameters}
    if fam.name == "zip":  # zero inflation over negative binomial counts, as the bank uses it
        given["theta"] = PARAMETERS["theta"]
    n = 400_000
    y = fam.draw(np.random.default_rng(1), np.full(n, eta), _Fixed(given))
    mu = float(fam.linkinv(np.array([eta]))[0])
    mean = mu * (1 - given.get("zero_prob", 0.0))
    variance = float(fam.variance(np.array([mu]), given)[0])
    assert abs(y.mean() - mean) < 5 * np.sqrt(variance / n)
    assert y.var() == pytest.approx(variance, rel=0.03)


@pytest.mark.parametrize("fam", ALL, ids=lambda f: f.name)
def test_fitters_printers_plots_and_parameters_exist(fam: ModelFamily) -> None:
    assert fam.fitter in FITTERS
    assert fam.mixed_fitter is None or fam.mixed_fitter in FITTERS
    assert fam.response in ("continuous", "binary", "count")
    known = set(PRINTER_NEEDS.values()) | {s.needs for s in ex.SIGNATURES.values() if s.needs}
    assert fam.offers | fam.mixed_offers <= known
    assert fam.plots | fam.mixed_plots <= set(plots.PLOTS)
    assert set(fam.dgp_parameters) <= set(DgpSpec.model_fields)
    if fam.mixed_fitter is None:
        assert not fam.mixed_offers and not fam.mixed_plots
    if fam.curve is None:
        assert not {"scatter", "group_lines"} & fam.plots


def test_every_capability_printer_and_plot_is_offered_by_some_family() -> None:
    needed = set(PRINTER_NEEDS.values()) | {s.needs for s in ex.SIGNATURES.values() if s.needs}
    for capability in needed:
        assert families.offering(capability), f"no family offers {capability}"
    assert set(PRINTER_NEEDS) == set(PRINTERS)
    drawn = set().union(*(f.plots | f.mixed_plots for f in ALL))
    assert drawn == set(plots.PLOTS)


@pytest.mark.parametrize("fam", ALL, ids=lambda f: f.name)
def test_the_r_and_python_calls_are_well_formed(fam: ModelFamily) -> None:
    call = fam.r_call("y ~ x", "d")
    function = call.split("(", 1)[0]
    assert function in ("lm", "glm", "glmmTMB") and call.endswith(", data = d)")
    assert (fam.r_package == "glmmTMB") == (function == "glmmTMB")
    if function == "glm":
        assert f"family = {fam.r_family()}" in call
    statement = fam.py_call.format(var="fit", f="y ~ x", d="d")
    ast.parse(statement + ("\n" + fam.py_helper if fam.py_helper else ""))
    assert statement.startswith("fit = ")


def _minimal_spec(fam: ModelFamily) -> str:
    """A spec fitting ``fam`` to data drawn from the nearest family the generator draws."""
    dgp = fam if fam.draw is not None else FAMILIES["zip"]
    parameters = {"sigma": "[1, 2]", "theta": "[2, 4]", "zero_prob": "[0.2, 0.3]"}
    needs = list(dgp.dgp_parameters) + (["theta"] if fam.has_theta and dgp.name == "zip" else [])
    lines = "".join(f"  {k}: {parameters[k]}\n" for k in needs)
    intercept = "[-0.5, 0.5]" if fam.response == "binary" else "[0.5, 1.0]"
    printers = sorted(p for p in fam.offers if p in PRINTERS and p != "emmeans_pairs")
    models = f"  main: {{family: {fam.name}, formula: y ~ x}}\n"
    if not printers:  # a count model is printed in an AIC table beside a Poisson GLM
        models += "  pois: {family: poisson, formula: y ~ x}\n"
        printers = ["{printer: aic_table, models: [main, pois]}"]
    return (
        f"id: minimal_{fam.name}\ntitle: A {fam.name} model\nversion: 1\ntopic: registry\n"
        "data_name: d\nstory: Data.\ndgp:\n  formula: y ~ x\n  n: [150, 200]\n"
        "  predictors:\n    x: {type: numeric, low: 0, high: 1, decimals: 2}\n"
        f"  coefficients:\n    (Intercept): {intercept}\n    x: [0.3, 0.6]\n"
        f"  family: {dgp.name}\n{lines}"
        f"models:\n{models}"
        f"output: [{', '.join(printers)}]\n"
        "parts:\n  - id: slope\n    kind: numeric\n    prompt: Slope?\n"
        '    answer: coef("x")\n    digits: 3\n'
    )


@pytest.mark.parametrize("fam", ALL, ids=lambda f: f.name)
def test_a_minimal_spec_of_every_family_generates_and_scripts(fam: ModelFamily) -> None:
    spec = parse_spec(_minimal_spec(fam))
    variant = generate(spec, 3)
    slope = variant.reference["coefficients"]["x"]["estimate"]
    assert variant.parts[0].answer == pytest.approx(slope, rel=1e-2)  # to 3 digits
    levels = spec.factor_levels()
    assert fam.r_call("y ~ x", "d") in r_script(spec, levels)
    assert fam.py_call.format(var="fit", f="y ~ x", d="d") in python_script(spec, levels)


@pytest.mark.parametrize(
    ("fam", "printer"),
    [(f, p) for f, p in itertools.product(ALL, PRINTERS) if p != "aic_table"],
    ids=lambda x: getattr(x, "name", x),
)
def test_a_printer_the_family_does_not_offer_is_a_spec_error(
    fam: ModelFamily, printer: str
) -> None:
    text = _minimal_spec(fam).replace("output: [", f"output: [{printer}, ", 1)
    if printer == "emmeans_pairs":  # its own rule (a factor) would speak first
        return
    if PRINTER_NEEDS[printer] in fam.offers:
        parse_spec(text)
    else:
        with pytest.raises(SpecError, match=f"{printer} needs a"):
            parse_spec(text)


def test_random_effects_on_a_family_without_a_mixed_fitter_are_a_spec_error() -> None:
    text = _minimal_spec(FAMILIES["poisson"]).replace(
        "formula: y ~ x}", "formula: y ~ x + (1 | x)}"
    )
    with pytest.raises(SpecError, match="random effects need family gaussian"):
        parse_spec(text)


# -------------------------------------------------------- nobody else compares names

#: The fitters implement R's own family objects (glm's binomial/poisson, glmmTMB's nbinom2)
#: and the cross-check is keyed by fitter and distribution: inside them, names are theirs.
_OWN_NAMES = ("problem_bank/families.py", "problem_bank/fitting/", "problem_bank/crosscheck.py")


def _compared_family_names(path: Path) -> list[int]:
    tree = ast.parse(path.read_text())
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for operand in operands:
                values = (
                    operand.elts
                    if isinstance(operand, ast.Tuple | ast.List | ast.Set)
                    else [operand]
                )
                if any(isinstance(v, ast.Constant) and v.value in FAMILIES for v in values):
                    lines.append(node.lineno)
        elif isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            if len(set(keys) & set(FAMILIES)) >= 2:
                lines.append(node.lineno)
    return lines


def test_no_module_outside_the_registry_branches_on_a_family_name() -> None:
    found = []
    for package in ("problem_bank", "graders", "service"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(_OWN_NAMES):
                continue
            found += [f"{relative}:{line}" for line in _compared_family_names(path)]
    assert not found, f"family names compared outside problem_bank.families: {found}"
