"""The self-test over every built-in problem (the common checks, as scikit-learn's)."""

from __future__ import annotations

import time
from dataclasses import replace
from importlib import resources

import pytest

import problem_bank as pb
from problem_bank.generate import generate_with_redraws
from problem_bank.self_test import check_variant, run_selftest
from problem_bank.variant import Acceptance, Choice, Misconception, Part
from problem_bank.wellposed import part_problems


@pytest.mark.parametrize("slug", list(pb.builtin_problems()))
def test_builtin_problem_passes_selftest(slug: str) -> None:
    report = run_selftest(pb.builtin_problem(slug), seeds=50)
    assert report.ok, report.summary()
    assert len(report.results) == 50


def test_report_shape() -> None:
    report = run_selftest(pb.builtin_problem("simple_regression"), seeds=2)
    data = report.to_dict()
    assert data["problem"] == "simple_regression" and data["ok"] is True
    assert [r["seed"] for r in data["results"]] == [0, 1]
    assert report.summary().startswith("ok")


def _slow_spec() -> pb.ProblemSpec:
    """The random-slope problem at the row limit: each variant takes a second or more."""
    text = (resources.files("problem_bank") / "specs" / "09_random_slope.yaml").read_text()
    text = text.replace("n_groups: [12, 20]", "n_groups: 200").replace("size: [10, 10]", "size: 25")
    return pb.parse_spec(text)


def test_selftest_stops_at_its_budget_and_says_what_to_reduce() -> None:
    """Without the budget this self-test holds its caller for minutes (20 slow seeds)."""
    t0 = time.perf_counter()
    report = run_selftest(_slow_spec(), seeds=20, budget=0.5)
    assert time.perf_counter() - t0 < 15
    assert not report.ok and len(report.results) < 20
    assert report.stopped is not None
    assert report.stopped.startswith("the self-test stopped after ")
    assert "(its budget is 0.5 s)" in report.stopped and "reduce n" in report.stopped
    summary = report.to_summary()
    assert summary["ok"] is False and summary["stopped"] == report.stopped
    assert report.stopped in report.summary()


def test_a_budget_that_is_not_spent_changes_nothing() -> None:
    spec = pb.builtin_problem("simple_regression")
    with_budget = run_selftest(spec, seeds=3, budget=600)
    assert with_budget.ok and with_budget.stopped is None
    assert "stopped" not in with_budget.to_summary()
    assert pb.generate(spec, 4, budget=600) == pb.generate(spec, 4)


def test_generate_past_its_budget_is_an_over_budget_generation_error() -> None:
    with pytest.raises(pb.OverBudget) as info:
        pb.generate(_slow_spec(), 1, budget=0.0)
    assert isinstance(info.value, pb.GenerationError)
    assert str(info.value).startswith("generating the variant stopped after ")
    assert "before drawing the data (draw 1)" in str(info.value)


def _builtin_text(name: str) -> str:
    return (resources.files("problem_bank") / "specs" / name).read_text()


def test_a_spec_numpy_cannot_draw_fails_its_selftest_instead_of_crashing_it() -> None:
    """uniform(-1e308, 1e308) is an OverflowError inside numpy: it escaped the self-test."""
    text = _builtin_text("01_simple_regression.yaml").replace(
        "{type: numeric, low: 1, high: 10, decimals: 2}",
        "{type: numeric, low: -1e308, high: 1e308, decimals: 2}",
    )
    report = run_selftest(pb.parse_spec(text), seeds=2)
    assert not report.ok and len(report.failures) == 2
    assert "cannot be generated: OverflowError" in report.failures[0].problems[0]


def test_a_param_with_every_level_excluded_is_a_generation_error() -> None:
    """rng.integers(0) raised ValueError, which the self-test did not expect."""
    text = _builtin_text("02_additive_dose.yaml").replace(
        "level_of: Dose, exclude: [control]}", "level_of: Dose, exclude: [control, dose1, dose2]}"
    )
    with pytest.raises(pb.GenerationError, match="no level of Dose is left to draw"):
        pb.generate(pb.parse_spec(text), 0)


def _cod_v1_seed_241_reference_part() -> Part:
    """logistic_cod v1, seed 241, as generated before misconceptions were kept apart: the
    log-odds (0.364) lay in the range of the wrong-reference probability (0.366)."""
    return Part(
        id="probability_reference",
        kind="numeric",
        prompt="And for a cod of length 36 cm from Area 1 caught in 1999?",
        answer=0.59,
        acceptance=Acceptance(digits=3, interval=(0.5892051226695111, 0.5907774813271789)),
        misconceptions=(
            Misconception(
                "wrong_reference",
                0.366,
                "Area 1 and 1999 are the reference levels.",
                Acceptance(digits=3, interval=(0.36421788461911114, 0.3682797891011533)),
            ),
            Misconception(
                "log_odds",
                0.364,
                "You reported the log-odds.",
                Acceptance(digits=3, interval=(0.36068037083778237, 0.36718037083778243)),
            ),
        ),
    )


def test_overlapping_misconceptions_are_not_well_posed() -> None:
    reasons = part_problems(_cod_v1_seed_241_reference_part())
    assert reasons == [
        "probability_reference: misconceptions wrong_reference and log_odds overlap "
        "(0.366 vs 0.364)"
    ]


def test_the_selftest_reports_overlapping_misconceptions() -> None:
    spec = pb.builtin_problem("logistic_cod")
    good = pb.generate_builtin("logistic_cod", 241)
    assert check_variant(spec, good) == []
    parts = tuple(
        _cod_v1_seed_241_reference_part() if p.id == "probability_reference" else p
        for p in good.parts
    )
    problems = check_variant(spec, replace(good, parts=parts))
    assert any("wrong_reference and log_odds overlap" in p for p in problems)


def test_a_draw_whose_misconceptions_overlap_is_redrawn() -> None:
    # Seed 241's first draw is the v1 variant above: it is redrawn now.
    variant, reasons = generate_with_redraws(pb.builtin_problem("logistic_cod"), 241)
    assert any("misconceptions wrong_reference and log_odds overlap" in r for r in reasons)
    (part,) = [p for p in variant.parts if p.id == "probability_reference"]
    assert part_problems(part) == []


def test_choice_misconceptions_naming_one_option_overlap() -> None:
    part = Part(
        id="unit",
        kind="choice",
        prompt="Unit?",
        answer="fish",
        choices=(Choice("fish", "A fish"), Choice("site", "A site"), Choice("lake", "A lake")),
        misconceptions=(
            Misconception("group_as_unit", "site", "One."),
            Misconception("sampled_place", ["site", "lake"], "Two."),
        ),
    )
    assert part_problems(part) == [
        "unit: misconceptions group_as_unit and sampled_place overlap (site vs ['site', 'lake'])"
    ]
