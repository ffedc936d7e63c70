"""The interval kind end to end in the libraries: spec, generation, grading, form, API shape."""

from __future__ import annotations

import pytest
from scipy import stats

import problem_bank as pb
from graders import grade
from problem_bank.expressions import parse
from problem_bank.kinds import KINDS, kind_of
from problem_bank.kinds.interval import INTERVAL
from problem_bank.variant import Acceptance, Misconception, Part
from tests.kinds.interval_spec import INTERVAL_PART, INTERVAL_SPEC, SIMPLE


def _spec_error(text: str) -> pb.SpecError:
    with pytest.raises(pb.SpecError) as info:
        pb.parse_spec(text)
    return info.value


# ------------------------------------------------------------------------------ the spec


def test_the_interval_kind_is_registered_and_the_authored_spec_is_valid():
    assert KINDS["interval"] is INTERVAL
    assert [p.kind for p in pb.parse_spec(INTERVAL_SPEC).parts][-1] == "interval"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # one expression where two bounds are needed
        (
            '      - coef("Foodavailability") + qt(0.975, df_resid()) * se("Foodavailability")\n',
            "",
        ),
        # three bounds
        (
            '      - coef("Foodavailability") - qt(0.975, df_resid()) * se("Foodavailability")\n',
            '      - coef("Foodavailability")\n' * 3,
        ),
    ],
)
def test_an_interval_answer_that_is_not_two_expressions_is_a_spec_error(old, new):
    error = _spec_error(INTERVAL_SPEC.replace(old, new, 1))
    assert "interval" in str(error) and "two expressions" in str(error)
    assert error.line is not None


def test_an_interval_misconception_with_one_bound_is_a_spec_error():
    text = INTERVAL_SPEC.replace(
        '          - coef("Foodavailability") + se("Foodavailability")\n', "", 1
    )
    assert "misconception one_se" in str(_spec_error(text))


def test_an_unknown_function_in_a_bound_names_the_bound():
    text = INTERVAL_SPEC.replace("qt(0.975", "qnorm(0.975", 1)
    error = _spec_error(text)
    assert "qnorm" in str(error) and "answer.0" in error.field.replace("[", ".").replace("]", "")


def test_an_unknown_kind_lists_interval():
    text = SIMPLE.rstrip("\n") + "\n" + INTERVAL_PART.replace("kind: interval", "kind: range")
    assert "interval" in str(_spec_error(text))


# -------------------------------------------------------------------------- qt and the CI


def test_qt_is_r_qt():
    # R: qt(0.975, 10) = 2.228138851986274; qt(0.05, 3) = -2.353363434801823
    assert parse("qt(0.975, 10)").evaluate(None) == pytest.approx(2.228138851986274, rel=1e-12)
    assert parse("qt(0.05, 3)").evaluate(None) == pytest.approx(-2.353363434801823, rel=1e-12)


# ---------------------------------------------------------------------------- generation


@pytest.fixture(scope="module")
def variant() -> pb.Variant:
    return pb.generate(pb.parse_spec(INTERVAL_SPEC), 3)


def _confint(variant: pb.Variant, z: float | None = None) -> tuple[float, float]:
    """confint.lm's interval from the reference fit, with scipy's t quantile (or ``z``)."""
    row = variant.reference["coefficients"]["Foodavailability"]
    q = z if z is not None else stats.t.ppf(0.975, variant.reference["df_resid"])
    return row["estimate"] - q * row["se"], row["estimate"] + q * row["se"]


def test_generation_stores_both_bounds_rounded_with_an_interval_each(variant):
    part = variant.part("slope_ci")
    lower, upper = _confint(variant)
    assert part.kind == "interval"
    assert part.answer == [float(f"{lower:.3g}"), float(f"{upper:.3g}")]
    assert len(part.acceptance.intervals) == 2
    for (lo, hi), exact in zip(part.acceptance.intervals, (lower, upper), strict=True):
        assert lo <= exact <= hi
    assert part.acceptance.partial_credit
    assert [m.id for m in part.misconceptions] == ["normal_quantile", "one_se"]
    assert kind_of("interval").problems(part) == []


def test_the_stored_variant_round_trips(variant):
    again = pb.Variant.from_dict(variant.to_dict())
    assert again.part("slope_ci") == variant.part("slope_ci")


def test_the_interval_generates_well_posed_over_many_seeds():
    spec = pb.parse_spec(INTERVAL_SPEC)
    for seed in range(12):
        part = pb.generate(spec, seed).part("slope_ci")
        assert part.answer[0] < part.answer[1]


# ------------------------------------------------------------------------------- grading


def _grade(variant: pb.Variant, answer):
    return grade(variant, {"slope_ci": answer}).parts[-1]


def test_both_bounds_right_is_correct(variant):
    lower, upper = _confint(variant)
    verdict = _grade(variant, [f"{lower:.4g}", f"{upper:.4g}"])
    assert (verdict.verdict, verdict.score) == ("correct", 1.0)


def test_the_api_object_form_grades_the_same(variant):
    lower, upper = _confint(variant)
    verdict = _grade(variant, {"lower": round(lower, 3), "upper": round(upper, 3)})
    assert verdict.score == 1.0


def test_one_right_bound_scores_half_and_names_the_other(variant):
    lower, upper = _confint(variant)
    verdict = _grade(variant, [f"{lower:.4g}", f"{upper + 1:.4g}"])
    assert (verdict.verdict, verdict.score) == ("partial", 0.5)
    assert "lower bound is right; check the upper bound" in verdict.message


def test_without_partial_credit_one_right_bound_scores_nothing(variant):
    part = variant.part("slope_ci")
    strict = Part(
        **{
            **part.__dict__,
            "acceptance": Acceptance(**{**part.acceptance.__dict__, "partial_credit": False}),
        }
    )
    lower, upper = _confint(variant)
    verdict = grade(
        pb.Variant(**{**variant.__dict__, "parts": (strict,)}), {"slope_ci": [lower, upper + 1]}
    )
    assert (verdict.parts[0].verdict, verdict.parts[0].score) == ("incorrect", 0.0)
    assert "check the upper bound" in verdict.parts[0].message


def test_a_z_interval_names_the_misconception(variant):
    lower, upper = _confint(variant, z=1.96)
    verdict = _grade(variant, [f"{lower:.3g}", f"{upper:.3g}"])
    assert verdict.misconception == "normal_quantile"
    assert "normal quantile" in verdict.message


def test_a_one_se_interval_names_the_misconception(variant):
    lower, upper = _confint(variant, z=1.0)
    verdict = _grade(variant, [f"{lower:.3g}", f"{upper:.3g}"])
    assert verdict.misconception == "one_se"


def test_swapped_bounds_are_unreadable_not_wrong(variant):
    lower, upper = _confint(variant)
    verdict = _grade(variant, [f"{upper:.4g}", f"{lower:.4g}"])
    assert verdict.verdict == "unreadable"
    assert "lower bound is above the upper bound" in verdict.message


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (["1.2", "abc"], "Upper bound:"),
        (["", "1.9"], "Lower bound is empty"),
        (["1.2"], "two numbers"),
        ({"low": 1, "high": 2}, "two numbers"),
    ],
)
def test_an_unreadable_bound_is_named(variant, answer, says):
    verdict = _grade(variant, answer)
    assert verdict.verdict == "unreadable" and says in verdict.message


def test_a_coarse_right_bound_is_told_the_precision():
    part = Part(
        id="ci",
        kind="interval",
        prompt="CI?",
        answer=[1.32, 1.88],
        acceptance=Acceptance(digits=3, intervals=((1.315, 1.325), (1.875, 1.885))),
    )
    verdict = grade(pb.Variant("p", 1, 0, "t", "s", (part,)), {"ci": ["1.3", "1.88"]}).parts[0]
    assert verdict.score == 0.0 and "Right, but give 3 significant digits in the lower bound" in (
        verdict.message
    )


def test_overlapping_interval_misconceptions_are_ill_posed():
    same = Misconception("a", [1.0, 2.0], "a"), Misconception("b", [1.0, 2.0], "b")
    part = Part(id="ci", kind="interval", prompt="?", answer=[5.0, 6.0], misconceptions=same)
    from problem_bank.wellposed import part_problems

    assert any("overlap" in r for r in part_problems(part))


# ------------------------------------------------------------------- form and API shapes


def test_the_form_reads_both_inputs_in_page_order():
    fields = {"part-ci": ["1.2", "3.4"], "part-x": ["9"]}
    assert INTERVAL.read_form(fields, "part-ci") == ["1.2", "3.4"]
    assert INTERVAL.read_form({}, "part-ci") == []


@pytest.mark.parametrize("value", [[1.2, 3.4], ["1.2", "3.4"], {"lower": 1.2, "upper": "3.4"}])
def test_the_api_shapes_an_interval_accepts(value):
    assert INTERVAL.shape_problem(value) == ""


@pytest.mark.parametrize(
    "value", [1.2, "1.2 3.4", [1.2], [1, 2, 3], {"lower": 1}, {"lower": 1, "upper": [2]}, [True, 2]]
)
def test_the_api_shapes_an_interval_refuses(value):
    assert "lower" in INTERVAL.shape_problem(value)


def test_only_the_unreadable_bound_is_marked_invalid():
    assert INTERVAL.invalid_inputs(["1.2", "x"], False) == [1]
    assert INTERVAL.invalid_inputs(["", "3"], False) == [0]
    assert INTERVAL.invalid_inputs({"lower": "x", "upper": "3"}, False) == [0]
    assert INTERVAL.invalid_inputs(["40%", "1"], True) == []
