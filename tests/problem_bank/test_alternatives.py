"""Candidate misconceptions on built-in problems' variants: each generic slip is offered,
explains the answer a student holding it types, and is a valid spec misconception."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

import problem_bank as pb
from graders import grade
from problem_bank import alternatives as alt
from problem_bank import expressions as ex
from problem_bank.generate import generate_with_context


def _spec_text(file: str, drop: dict[str, list[str]] | None = None) -> str:
    """A built-in spec, with some parts' misconceptions removed (so they are unknown)."""
    text = (resources.files("problem_bank") / "specs" / file).read_text(encoding="utf-8")
    if not drop:
        return text
    data = yaml.safe_load(text)
    for part in data["parts"]:
        if part["id"] in drop:
            kept = [m for m in part["misconceptions"] if m["id"] not in drop[part["id"]]]
            part["misconceptions"] = kept
            if not kept:
                del part["misconceptions"]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _explaining(text: str, part_id: str, seed: int, slip: str) -> list[str]:
    """The ids of candidates explaining the value of expression ``slip`` on the variant,
    after checking that the grader names no misconception for it."""
    spec = pb.parse_spec(text)
    variant, ctx = generate_with_context(spec, seed)
    part = variant.part(part_id)
    value = float(ex.parse(slip).evaluate(ctx))
    typed = float(f"{value:.4g}")
    feedback = grade(variant, {part_id: typed}).parts
    verdict = next(f for f in feedback if f.id == part_id)
    assert verdict.verdict == "incorrect" and verdict.misconception is None
    ps = next(p for p in spec.parts if p.id == part_id)
    found = alt.evaluate(ps, part, ctx, alt.candidates(text, part_id))
    return [e.candidate.expression for e in found if e.explains(part, typed)]


def test_glm_link_scale_slip_is_explained():
    text = _spec_text("04_logistic_cod.yaml", {"probability_reference": ["log_odds"]})
    link = 'predict(Length=len_ref, Area="1", Year="1999", scale="link")'
    assert link in _explaining(text, "probability_reference", 3, link)


def test_sd_for_variance_on_a_mixed_model_is_explained():
    text = _spec_text("09_random_slope.yaml", {"intercept_variance": ["sd_not_variance"]})
    sd = 'varcorr("Subject", "(Intercept)", "sd")'
    assert sd in _explaining(text, "intercept_variance", 5, sd)


def test_sign_flip_of_a_contrast_is_explained_both_ways():
    text = _spec_text("02_additive_dose.yaml", {"contrast_estimate": ["sign_flip"]})
    found = _explaining(text, "contrast_estimate", 2, 'contrast("Dose", b, a)')
    assert '-contrast("Dose", a, b)' in found
    assert 'contrast("Dose", b, a)' in found


def test_percent_of_a_coefficient_is_explained():
    text = _spec_text("01_simple_regression.yaml")
    slip = '100 * coef("Foodavailability")'
    part = pb.parse_spec(text).parts[1].id
    assert slip in _explaining(text, part, 4, slip)


def test_mixed_model_offers_the_lm_ignoring_groups_when_the_spec_declares_it():
    text = _spec_text("07_mixed_reading.yaml", {"slope": ["ignores_grouping"]})
    expressions = {c.expression: c.id for c in alt.candidates(text, "slope")}
    assert expressions['coef("size", model="naive")'] == "ignores_grouping"
    # The lm has no random effects to read a residual SD from in this vocabulary: the
    # validator refuses residual_sd(model="naive"), so it is never offered.
    sd = {c.expression for c in alt.candidates(text, "residual_sd")}
    assert 'residual_sd(model="naive")' not in sd


def test_another_random_term_and_another_drawn_level_are_tried():
    slope = {c.expression for c in alt.candidates(_spec_text("09_random_slope.yaml"), "slope_sd")}
    assert 'varcorr("Subject", "(Intercept)", "sd")' in slope
    dose = {
        c.expression for c in alt.candidates(_spec_text("02_additive_dose.yaml"), "contrast_se")
    }
    assert 'contrast("Dose", a, a, "se")' not in dose
    assert any("contrast(" in e for e in dose)


def test_candidates_skip_the_key_and_existing_misconceptions():
    text = _spec_text("07_mixed_reading.yaml")
    expressions = [c.expression for c in alt.candidates(text, "region_variance")]
    assert 'varcorr("region", "(Intercept)", "var")' not in expressions  # the key
    assert 'varcorr("region", "(Intercept)", "sd")' not in expressions  # sd_not_variance


def test_every_candidate_is_a_valid_misconception_of_its_part():
    text = _spec_text("09_random_slope.yaml")
    for c in alt.candidates(text, "subject_slope"):
        spec = pb.parse_spec(alt.with_misconception(text, "subject_slope", c.id, c.expression, "m"))
        part = next(p for p in spec.parts if p.id == "subject_slope")
        assert part.misconceptions[-1].expression == c.expression


def test_insertion_keeps_the_authors_text_and_adds_a_list_where_there_is_none():
    text = _spec_text("07_mixed_reading.yaml")
    out = alt.with_misconception(text, "icc", "new_one", "100 * icc()", "It's a percent.")
    assert out.startswith(text.split("- id: icc")[0])  # everything before the part as written
    spec = pb.parse_spec(out)
    icc = next(p for p in spec.parts if p.id == "icc")
    assert [(m.id, m.expression, m.message) for m in icc.misconceptions][-1] == (
        "new_one",
        "100 * icc()",
        "It's a percent.",
    )


def test_choice_parts_get_no_candidates():
    text = _spec_text("01_simple_regression.yaml")
    choice = next(p.id for p in pb.parse_spec(text).parts if p.kind == "choice")
    assert alt.candidates(text, choice) == []


def test_an_invalid_insertion_is_a_spec_error():
    text = _spec_text("07_mixed_reading.yaml")
    with pytest.raises(pb.SpecError):
        alt.with_misconception(text, "icc", "bad", "eval('1')", "m")


def test_an_inline_empty_list_is_rewritten_through_the_loader():
    data = yaml.safe_load(_spec_text("07_mixed_reading.yaml"))
    next(p for p in data["parts"] if p["id"] == "icc")["misconceptions"] = []
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None)
    assert "misconceptions: []" in text
    out = alt.with_misconception(text, "icc", "percent", "100 * icc()", "A percent.")
    icc = next(p for p in pb.parse_spec(out).parts if p.id == "icc")
    assert [m.id for m in icc.misconceptions] == ["percent"]


def test_an_odds_ratio_on_the_log_scale_is_a_link_scale_candidate():
    text = _spec_text("04_logistic_cod.yaml", {"odds_ratio": ["log_odds"]})
    found = {c.expression: c.id for c in alt.candidates(text, "odds_ratio")}
    assert found.get('step * coef("Length")') == "link_not_response"


TUTORIAL_RESIDUAL = """\
id: catch_rows
title: Rows
version: 1
topic: generalized linear models
story: "{n} nets."
dgp:
  formula: Catch ~ Temp
  n: [60, 90]
  predictors:
    Temp: {type: numeric, low: 8, high: 20, decimals: 1}
  coefficients: {(Intercept): [0.2, 0.8], Temp: [0.05, 0.12]}
  family: poisson
models:
  main: {family: poisson, formula: Catch ~ Temp}
output: [summary_glm]
params:
  r: {row_of: main}
parts:
  - id: resid
    kind: numeric
    prompt: Response residual of row {r}?
    answer: residual(r, "response")
  - id: fit
    kind: numeric
    prompt: Fitted count of row {r}?
    answer: fitted(r)
"""


def test_row_residuals_offer_the_other_types_and_fitted_the_link_scale():
    found = {c.expression: c.id for c in alt.candidates(TUTORIAL_RESIDUAL, "resid")}
    assert found['residual(r, "deviance")'] == "deviance_residual"
    assert found['residual(r, "pearson")'] == "pearson_residual"
    fits = {c.expression: c.id for c in alt.candidates(TUTORIAL_RESIDUAL, "fit")}
    assert fits['fitted(r, scale="link")'] == "link_not_response"


def test_the_deviance_residual_slip_is_explained():
    """residuals(fit) on a glm is the deviance residual: the commonest slip."""
    slip = 'residual(r, "deviance")'
    assert slip in _explaining(TUTORIAL_RESIDUAL, "resid", 2, slip)
