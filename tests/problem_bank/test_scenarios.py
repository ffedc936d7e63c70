"""Scenario keys follow from declared facts, and a wrong pick is never told the right one."""

from __future__ import annotations

import pytest

import problem_bank as pb
from problem_bank.generate import generate_with_redraws
from problem_bank.scenarios import ScenarioQuestion, ScenarioSpec, key_problems, scenario_library
from problem_bank.self_test import check_variant
from problem_bank.variant import Choice, Misconception, Part
from problem_bank.wellposed import part_problems

#: The reason options of island_birds v1: the two islands, chosen on purpose, are both
#: "of interest" and "few levels", and the key was few_levels.
_ISLAND_V1_REASON = ScenarioQuestion(
    answer="few_levels",
    choices={
        "sampled": "Its levels are a random sample of many possible levels",
        "interest": "Its specific levels are what the research question is about",
        "few_levels": "It has only a few levels, chosen on purpose",
        "repeated": "It is the thing measured repeatedly",
    },
)


def _island_v1() -> ScenarioSpec:
    spec = scenario_library()["island_birds"]
    questions = {**spec.questions, "reason": _ISLAND_V1_REASON}
    return spec.model_copy(update={"questions": questions})


@pytest.mark.parametrize("scenario_id", sorted(scenario_library()))
def test_every_builtin_scenario_has_one_true_reason_and_it_is_the_key(scenario_id: str) -> None:
    assert key_problems(scenario_library()[scenario_id]) == []


def test_two_true_reasons_are_reported() -> None:
    assert key_problems(_island_v1()) == [
        "scenario island_birds: reason options interest and few_levels are all true of island"
    ]


def test_a_key_the_facts_contradict_is_reported() -> None:
    spec = scenario_library()["fish_mercury"]
    wrong = spec.questions["reason"].model_copy(update={"answer": "interest"})
    facts = {**spec.facts, "interest": False}
    broken = spec.model_copy(update={"questions": {**spec.questions, "reason": wrong}})
    assert key_problems(broken.model_copy(update={"facts": facts})) == [
        "scenario fish_mercury: the reason key is interest but the true one is sampled"
    ]
    fixed = spec.questions["named_factor"].model_copy(update={"answer": "fixed"})
    broken = spec.model_copy(update={"questions": {**spec.questions, "named_factor": fixed}})
    assert key_problems(broken) == [
        "scenario fish_mercury: site is keyed fixed, but the facts make it random"
    ]


def test_the_selftest_fails_on_an_ambiguous_scenario_and_students_never_draw_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = pb.builtin_problem("which_random")
    variant = pb.generate_builtin("which_random", 0)
    assert check_variant(spec, variant) == []
    monkeypatch.setitem(scenario_library(), "island_birds", _island_v1())
    problems = check_variant(spec, variant)
    assert any("interest and few_levels are all true of island" in p for p in problems)
    redrawn = []
    for seed in range(60):
        v, reasons = generate_with_redraws(spec, seed)
        assert v.reference["scenario"] != "island_birds"
        redrawn += [r for r in reasons if "island" in r]
    assert redrawn  # some seed drew it first and was redrawn


def test_a_misconception_naming_the_right_option_is_not_well_posed() -> None:
    # fish_mercury v1: picking "Fish size" as the response was told "the response is the
    # mercury concentration", which made the second attempt free.
    part = Part(
        id="response",
        kind="choice",
        prompt="What is the response variable?",
        answer="hg",
        choices=(
            Choice("hg", "Mercury concentration"),
            Choice("size", "Fish size"),
            Choice("site", "The site", "The site is where the fish were caught."),
        ),
        misconceptions=(
            Misconception(
                "predictor_as_response",
                "size",
                "Size is the explanatory variable; the response is the mercury concentration.",
            ),
        ),
    )
    assert part_problems(part) == [
        "response: misconception predictor_as_response names the right option "
        "('mercury concentration')"
    ]


def test_no_builtin_wrong_pick_is_told_the_right_option() -> None:
    for seed in range(40):
        for part in pb.generate_builtin("which_random", seed).parts:
            assert not [p for p in part_problems(part) if "names the right option" in p]
