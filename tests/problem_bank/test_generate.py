"""Variant generation: contract fields, determinism, acceptance, misconceptions."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

import problem_bank as pb
from problem_bank.acceptance import part_range
from problem_bank.variant import Variant

REQUIRED_MISCONCEPTIONS = {
    "log_odds",
    "odds",
    "dummy_alone",
    "control_slope",
    "ignores_grouping",
    "reml_not_ml",
    "ml_not_reml",
    "variance_not_sd",
    "sd_not_variance",
    "wrong_reference",
    "sign_flip",
    "percent_not_proportion",
}


def test_simple_regression_variant() -> None:
    v = pb.generate_builtin("simple_regression", 1)
    assert (v.problem, v.version, v.seed) == ("simple_regression", 1, 1)
    assert v.data_csv.startswith("ReproductiveEffort,Foodavailability\n")
    assert "Coefficients:" in v.output and "Call:" in v.output
    assert "read.csv" in v.r_script and "statsmodels" in v.python_script
    ids = [p.id for p in v.parts]
    assert ids == ["intercept", "slope", "prediction", "t_slope", "decision"]
    slope = v.part("slope")
    assert slope.answer == pytest.approx(
        v.reference["coefficients"]["Foodavailability"]["estimate"], rel=1e-2
    )
    lo, hi = slope.acceptance.interval
    assert lo <= v.reference["coefficients"]["Foodavailability"]["estimate"] <= hi


def test_round_trips_through_json() -> None:
    v = pb.generate_builtin("additive_dose", 4)
    again = Variant.from_dict(json.loads(json.dumps(v.to_dict())))
    assert again == v


def test_unknown_problem() -> None:
    with pytest.raises(pb.UnknownProblem, match="simple_regression"):
        pb.generate_builtin("no_such_problem", 1)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True, None])
def test_bad_seed(seed: object) -> None:
    with pytest.raises(pb.InvalidSeed):
        pb.generate_builtin("simple_regression", seed)  # type: ignore[arg-type]


def test_same_seed_same_variant_and_different_seeds_differ() -> None:
    a = pb.generate_builtin("logistic_cod", 5)
    assert a == pb.generate_builtin("logistic_cod", 5)
    assert a.data_csv != pb.generate_builtin("logistic_cod", 6).data_csv


_SCRIPT = (
    "import sys, hashlib, problem_bank as pb\n"
    "for pid in sys.argv[1:]:\n"
    "    v = pb.generate_builtin(pid, 17)\n"
    "    print(pid, hashlib.sha256(v.data_csv.encode()).hexdigest(),"
    " hashlib.sha256(v.output.encode()).hexdigest())\n"
)


def test_determinism_across_processes() -> None:
    ids = list(pb.builtin_problems())
    runs = [
        subprocess.run(
            [sys.executable, "-c", _SCRIPT, *ids],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(h), "PATH": ""},
        ).stdout
        for h in (1, 2)
    ]
    assert runs[0] == runs[1]
    assert len(runs[0].splitlines()) == len(ids)


def test_cod_variant_has_missing_values_and_logistic_misconceptions() -> None:
    v = pb.generate_builtin("logistic_cod", 3)
    assert ",NA" in v.data_csv or "NA," in v.data_csv
    assert "deleted due to missingness" in v.output
    p = v.part("probability")
    assert 0 < p.answer < 1
    by_id = {m.id: m for m in p.misconceptions}
    assert {"log_odds", "odds", "percent_not_proportion"} <= set(by_id)
    eta = math.log(p.answer / (1 - p.answer))
    assert by_id["log_odds"].answer == pytest.approx(eta, abs=0.01)
    assert by_id["percent_not_proportion"].answer == pytest.approx(100 * p.answer, rel=0.01)
    assert v.part("nobs").answer == v.reference["nobs"]


def test_required_misconceptions_exist_in_the_specs() -> None:
    found = set()
    for spec in pb.builtin_problems().values():
        for part in spec.parts:
            found |= {m.id for m in part.misconceptions}
    assert found >= REQUIRED_MISCONCEPTIONS


def test_reml_and_ml_misconceptions_follow_the_question() -> None:
    methods = {}
    for seed in range(12):
        v = pb.generate_builtin("mixed_fitting", seed)
        ids = {m.id for m in v.part("plot_sd").misconceptions}
        method = "REML" if "**REML**" in v.story else "ML"
        methods[method] = ids
    assert "reml_not_ml" in methods["ML"] and "ml_not_reml" not in methods["ML"]
    assert "ml_not_reml" in methods["REML"] and "reml_not_ml" not in methods["REML"]


def test_misconception_answers_are_outside_the_correct_interval() -> None:
    v = pb.generate_builtin("interaction_dose", 2)
    part = v.part("group_slope")
    lo, hi = part_range(part.acceptance, part.answer)
    for m in part.misconceptions:
        assert not lo <= m.answer <= hi
        assert m.acceptance is not None and m.acceptance.interval is not None


def test_table_part_has_one_interval_per_cell() -> None:
    v = pb.generate_builtin("additive_dose", 1)
    table = v.part("dummy_table")
    assert table.answer == [0, 0, 1, 0, 0, 1]
    assert len(table.acceptance.intervals) == len(table.rows) * len(table.columns) == 6


def test_scenario_variant() -> None:
    v = pb.generate_builtin("which_random", 2)
    assert v.data_csv == "" and v.story
    for part in v.parts:
        assert part.kind == "choice"
        assert part.answer in {c.id for c in part.choices}
    assert any(v.part("named_factor").misconceptions for _ in [0])


def test_scenario_library_has_the_lecture_scenarios_and_more() -> None:
    from problem_bank.scenarios import scenario_library

    lib = scenario_library()
    assert {"fish_mercury", "turkey_flocks", "mice_drug", "unemployment_offices"} <= set(lib)
    assert len(lib) >= 12


def test_plot_is_png() -> None:
    spec = pb.builtin_problem("additive_dose")
    png = pb.plot_png(spec, pb.generate(spec, 3))
    assert png.startswith(b"\x89PNG")


#: A seed long enough that its digits cannot turn up in the data by chance.
_LONG_SEED = 1_987_654_321


@pytest.mark.parametrize("slug", sorted(pb.builtin_problems()))
def test_nothing_handed_to_a_student_names_the_seed(slug: str) -> None:
    """The seed rebuilds the variant, answers included: only the ``seed`` field holds it.

    Every other field (story, data, output, fit.R, fit.py, parts) may reach the student.
    """
    content = pb.generate_builtin(slug, _LONG_SEED).to_dict()
    assert content.pop("seed") == _LONG_SEED
    assert str(_LONG_SEED) not in json.dumps(content)
