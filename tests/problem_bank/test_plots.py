"""Plots (issue 13 §4): fitted lines on the response scale, plots that fit the model's
family, legends that hide nothing, groups told apart without colour, a text for each."""

from __future__ import annotations

import re
from importlib import resources

import numpy as np
import pytest
from scipy.special import expit

import problem_bank as pb
from problem_bank import SpecError, parse_spec, plots


def _text(name: str) -> str:
    return (resources.files("problem_bank") / "specs" / name).read_text(encoding="utf-8")


SIMPLE = _text("01_simple_regression.yaml")
ADDITIVE = _text("02_additive_dose.yaml")
LOGISTIC = _text("04_logistic_cod.yaml")
POISSON = _text("05_poisson_zeros.yaml")
WHICH_RANDOM = _text("06_which_random.yaml")
#: The authored case the issue found: a Poisson model drawn with ``plot: scatter``.
POISSON_SCATTER = re.sub(r"(?m)^plot: .*$", "plot: scatter", POISSON)

WITH_PLOT = sorted(k for k, s in pb.builtin_problems().items() if s.plot)


def _data(spec_text: str, seed: int = 3):
    spec = parse_spec(spec_text)
    variant = pb.generate(spec, seed)
    return spec, plots._frame(spec, variant), plots._coefs(variant)


def _by_hand_eta(coefs: dict[str, float], x: str, grid: np.ndarray, **levels: str) -> np.ndarray:
    """η = intercept + slope·x + the named levels' coefficients (treatment contrasts)."""
    eta = coefs["(Intercept)"] + coefs[x] * grid
    return eta + sum(coefs.get(f"{f}{lv}", 0.0) for f, lv in levels.items())


def test_poisson_scatter_draws_expected_counts_not_the_log_scale() -> None:
    """On main the line was η (1.2–1.95) under counts of 2–17: now it is exp(η)."""
    spec, frame, coefs = _data(POISSON_SCATTER)
    curves = plots.fitted_curves(spec, frame, coefs)
    assert [c.label for c in curves] == spec.factor_levels()["Habitat"]
    for c in curves:
        eta = _by_hand_eta(coefs, "Mass", c.x, Habitat=c.label)
        np.testing.assert_allclose(c.y, np.exp(eta), rtol=1e-12)
    drawn = np.concatenate([c.y for c in curves])
    counts = frame["Ticks"].dropna()
    # on the data's scale: the curves run through the bulk of the counts
    assert counts.quantile(0.1) <= np.median(drawn) <= counts.quantile(0.9)


def test_logistic_curves_are_probabilities_with_the_other_factor_held() -> None:
    spec, frame, coefs = _data(LOGISTIC)
    held = plots.held_values(spec, frame, {"Length", "Area"})
    assert held == {"Year": "1999"}
    for c in plots.fitted_curves(spec, frame, coefs):
        eta = _by_hand_eta(coefs, "Length", c.x, Area=c.label, Year="1999")
        np.testing.assert_allclose(c.y, expit(eta), rtol=1e-12)
        assert ((c.y > 0) & (c.y < 1)).all()


def test_gaussian_lines_are_the_linear_predictor() -> None:
    spec, frame, coefs = _data(SIMPLE)
    (line,) = plots.fitted_curves(spec, frame, coefs)
    np.testing.assert_allclose(line.y, _by_hand_eta(coefs, "Foodavailability", line.x))


@pytest.mark.parametrize(
    ("text", "plot", "reason"),
    [
        (SIMPLE, "logistic", "logistic draws fitted probabilities of a 0/1 response: the main "
         "model must be family: binomial, not gaussian"),
        (SIMPLE, "zeros", "zeros compares observed with Poisson-expected counts: the main model "
         "must be family: poisson, not gaussian"),
        (LOGISTIC, "zeros", "must be family: poisson, not binomial"),
        (SIMPLE, "group_lines", "group_lines needs a factor in the main model"),
        (SIMPLE, "mixed_groups", "mixed_groups needs a mixed model"),
        (POISSON, "mixed_groups", "mixed_groups needs a mixed model"),
        (SIMPLE, "histogram", "unknown plot kind 'histogram'; known: scatter, group_lines"),
        (WHICH_RANDOM, "scatter", "scatter plots data: this problem has no dgp"),
    ],
)  # fmt: skip
def test_a_plot_that_does_not_fit_the_model_is_a_validation_error(text, plot, reason) -> None:
    if re.search(r"(?m)^plot:", text):
        text = re.sub(r"(?m)^plot: .*$", f"plot: {plot}", text)
    else:
        text = text.replace("\nparts:", f"\nplot: {plot}\nparts:", 1)
    with pytest.raises(SpecError) as info:
        parse_spec(text)
    assert info.value.field == "plot"
    assert reason in info.value.reason
    assert info.value.line == text[: text.index(f"plot: {plot}")].count("\n") + 1


def test_scatter_without_a_numeric_predictor_is_a_validation_error() -> None:
    text = ADDITIVE.replace("plot: group_lines", "plot: scatter")
    text = text.replace("formula: FC ~ IC + Dose}", "formula: FC ~ Dose}")
    with pytest.raises(SpecError) as info:
        parse_spec(text)
    assert info.value.field == "plot"
    assert "scatter needs a numeric predictor in the main model" in info.value.reason


def test_more_groups_than_styles_are_drawn_alike_and_the_text_says_so() -> None:
    text = _text("09_random_slope.yaml").replace("n_groups: [12, 20]", "n_groups: 80")
    spec = parse_spec(text)
    variant = pb.generate(spec, 3)
    assert "80 levels of Subject, too many to tell apart" in pb.plot_text(spec, variant)
    assert pb.plot_png(spec, variant).startswith(b"\x89PNG")


def test_group_styles_never_repeat_and_never_rely_on_colour() -> None:
    styles = plots.group_styles(plots.MAX_STYLED_GROUPS)
    pairs = {(s.marker, str(s.linestyle)) for s in styles}
    assert len(pairs) == len(styles)  # marker + line style alone tell every group apart
    s01, s11 = styles[0], styles[10]
    assert (s01.colour, s01.marker, s01.linestyle) != (s11.colour, s11.marker, s11.linestyle)
    with pytest.raises(ValueError):
        plots.group_styles(plots.MAX_STYLED_GROUPS + 1)


def _figure(slug: str, seed: int = 3):
    spec = pb.builtin_problem(slug)
    return spec, plots.figure(spec, pb.generate(spec, seed))


@pytest.mark.parametrize("slug", WITH_PLOT)
def test_legends_sit_outside_the_axes_and_inside_the_picture(slug: str) -> None:
    import matplotlib.pyplot as plt

    spec, fig = _figure(slug)
    try:
        renderer = fig.canvas.get_renderer()
        fig.canvas.draw()
        ax = fig.axes[0]
        legend = ax.get_legend()
        if legend is None:
            assert spec.plot == "scatter" and plots.plotted_factor(spec) is None
            return
        box, axes = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
        assert box.x0 >= axes.x1  # covers no point and no curve
        assert box.x1 <= fig.bbox.x1 and box.y0 >= fig.bbox.y0  # not cut off
    finally:
        plt.close(fig)


@pytest.mark.parametrize("slug", WITH_PLOT)
def test_every_drawn_group_has_its_own_marker_and_line_style(slug: str) -> None:
    import matplotlib.pyplot as plt

    _, fig = _figure(slug)
    try:
        lines = [ln for ln in fig.axes[0].get_lines() if not ln.get_label().startswith("_")]
        # the dash pattern itself: get_linestyle() says "--" for every custom dash
        cues = [(ln.get_marker(), str(ln._unscaled_dash_pattern)) for ln in lines]
        if any(ln.get_label() == "fixed effects" for ln in lines):
            cues = [
                c for c, ln in zip(cues, lines, strict=True) if ln.get_label() != "fixed effects"
            ]
        assert len(set(cues)) == len(cues)
    finally:
        plt.close(fig)


def test_random_slope_subjects_1_and_11_differ_beyond_colour() -> None:
    import matplotlib.pyplot as plt

    _, fig = _figure("random_slope")
    try:
        by_label = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
        s01, s11 = by_label["S01"], by_label["S11"]
        assert s01.get_marker() != s11.get_marker()
    finally:
        plt.close(fig)


def test_logistic_title_names_the_year_the_curves_hold_fixed() -> None:
    import matplotlib.pyplot as plt

    _, fig = _figure("logistic_cod")
    try:
        assert "Year held at its reference level 1999" in fig.axes[0].get_title()
    finally:
        plt.close(fig)


@pytest.mark.parametrize("slug", WITH_PLOT)
def test_plots_are_deterministic_pngs(slug: str) -> None:
    spec = pb.builtin_problem(slug)
    variant = pb.generate(spec, 5)
    first = pb.plot_png(spec, variant)
    assert first.startswith(b"\x89PNG") and first == pb.plot_png(spec, variant)


# ------------------------------------------------------------------------- in words


def _words(spec_text: str) -> str:
    spec = parse_spec(spec_text)
    return pb.plot_text(spec, pb.generate(spec, 3))


def test_scatter_text_names_variables_groups_and_their_cues() -> None:
    text = _words(POISSON_SCATTER)
    assert text.startswith("Scatter plot of Ticks against Mass for ")
    assert re.search(r"points marked by Habitat \(forest: circles; meadow: squares", text)
    assert "fitted Poisson curve (expected count) for each Habitat" in text
    assert "forest: circles, solid line; meadow: squares, dashed line" in text
    simple = _words(SIMPLE)
    assert "ReproductiveEffort against Foodavailability" in simple
    assert "fitted regression line" in simple


def test_group_lines_text_names_each_dose_and_its_cue() -> None:
    text = _words(ADDITIVE)
    assert "FC against IC" in text
    assert "control: circles, solid line; dose1: squares, dashed line; dose2: triangles" in text


def test_logistic_text_names_the_curves_and_the_year_held() -> None:
    text = _words(LOGISTIC)
    assert "Prevalence (0 or 1" in text and "against Length" in text
    assert "for each Area (1: circles, solid line; 2: squares, dashed line;" in text
    assert "Year held at its reference level 1999" in text


def test_zeros_text_says_observed_and_expected_and_which_bars_are_which() -> None:
    spec = parse_spec(POISSON)
    variant = pb.generate(spec, 3)
    text = pb.plot_text(spec, variant)
    _, observed, expected = plots.expected_counts(
        spec, plots._frame(spec, variant), plots._coefs(variant)
    )
    assert "count of Ticks from 0 to" in text
    assert "observed (filled bars" in text and "expected under the fitted Poisson" in text
    assert f"Zeros: {observed[0]} observed, {expected[0]:.1f} expected." in text


def test_mixed_groups_text_lists_every_subject_and_its_cue() -> None:
    spec = pb.builtin_problem("random_slope")
    text = pb.plot_text(spec, pb.generate(spec, 3))
    assert "Reaction against Days" in text and "levels of Subject" in text
    assert "S01: circles, solid line" in text and "S11: hexagons, long-dashed line" in text
    assert "thick solid black line is the fixed-effect line" in text


@pytest.mark.parametrize("slug", WITH_PLOT)
def test_every_built_in_plot_has_a_text_that_is_more_than_plot(slug: str) -> None:
    spec = pb.builtin_problem(slug)
    text = pb.plot_text(spec, pb.generate(spec, 3))
    assert len(text) > 80 and spec.formula().response in text
