"""Spec validation: every bad input is a SpecError naming the line and the field."""

from __future__ import annotations

import contextlib
import re
import time
from importlib import resources

import pytest

from problem_bank import SpecError, builtin_problems, parse_spec
from tests.hostile_yaml import HOSTILE_YAML


def _text(name: str) -> str:
    return (resources.files("problem_bank") / "specs" / name).read_text(encoding="utf-8")


SIMPLE = _text("01_simple_regression.yaml")
ADDITIVE = _text("02_additive_dose.yaml")


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _error(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        parse_spec(text)
    return info.value


def test_builtin_specs_are_valid() -> None:
    problems = builtin_problems()
    assert len(problems) >= 9
    assert "simple_regression" in problems


def test_wrong_type() -> None:
    err = _error(SIMPLE.replace("version: 1", "version: one"))
    assert err.line == _line_of(SIMPLE, "version: 1") and err.field == "version"
    assert str(err).startswith(f"line {err.line}: version:")


def test_unknown_field_at_top_level() -> None:
    text = SIMPLE.replace("topic: linear models", "topic: linear models\ncolour: red")
    err = _error(text)
    assert (err.line, err.field) == (_line_of(text, "colour"), "colour")
    assert "unknown field" in str(err)


def test_unknown_field_in_a_part() -> None:
    text = SIMPLE.replace(
        "    digits: 3\n    hint: The intercept",
        "    digits: 3\n    tolerence: 2\n    hint: The intercept",
    )
    err = _error(text)
    assert (err.line, err.field) == (_line_of(text, "tolerence"), "parts[0].tolerence")


def test_missing_field() -> None:
    err = _error(SIMPLE.replace("title: Simple linear regression\n", ""))
    assert err.field == "title" and "required" in str(err)


def test_factor_level_the_data_lacks() -> None:
    text = ADDITIVE.replace("predict(IC=x0, Dose=g)", 'predict(IC=x0, Dose="dose3")')
    err = _error(text)
    assert err.line == _line_of(text, 'predict(IC=x0, Dose="dose3")')
    assert err.field == "parts[3].answer" and "dose3" in str(err)


def test_contrast_level_the_data_lacks() -> None:
    text = ADDITIVE.replace(
        'contrast("Dose", a, b, "se")', 'contrast("Dose", "control", "dose9", "se")'
    )
    assert "dose9" in str(_error(text))


@pytest.mark.parametrize(
    "expression",
    ['__import__("os").system("ls")', "coef.__class__", "'(lambda: 1)()'", "open('x')"],
)
def test_expression_outside_the_vocabulary(expression: str) -> None:
    text = SIMPLE.replace('answer: coef("Foodavailability")\n', f"answer: {expression}\n", 1)
    err = _error(text)
    assert err.field == "parts[1].answer"
    assert err.line == _line_of(text, f"answer: {expression}")


def test_unknown_coefficient_lists_valid_names() -> None:
    err = _error(SIMPLE.replace('answer: coef("(Intercept)")', 'answer: coef("Intercept")'))
    assert "(Intercept), Foodavailability" in str(err)


def test_unknown_placeholder_name() -> None:
    err = _error(SIMPLE.replace("{x0}?", "{x1}?"))
    assert err.field == "parts[2].prompt" and "x1" in str(err)


def test_bad_predictor_kind() -> None:
    err = _error(SIMPLE.replace("type: numeric, low: 1", "type: numerc, low: 1"))
    assert err.field == "dgp.predictors.Foodavailability"


def test_unknown_model_in_expression() -> None:
    err = _error(
        SIMPLE.replace('answer: coef("(Intercept)")', 'answer: coef("(Intercept)", model="naive")')
    )
    assert "naive" in str(err)


def test_invalid_yaml_has_a_line() -> None:
    err = _error(SIMPLE + "\n  - : [")
    assert err.line is not None and "YAML" in str(err)


def test_yaml_tags_are_not_constructed() -> None:
    err = _error("!!python/object/apply:os.system ['ls']")
    assert err.line == 1


def test_error_is_one_line() -> None:
    err = _error(SIMPLE.replace("version: 1", "version: [1, 2]"))
    assert "\n" not in str(err) and re.match(r"^line \d+: ", str(err))


def test_misconception_needs_expression_or_choice() -> None:
    text = SIMPLE.replace(
        '        expression: coef("Foodavailability")\n        message: That is the slope',
        "        message: That is the slope",
    )
    assert "exactly one of expression, choice" in str(_error(text))


# ------------------------------------------------------------------- hostile YAML (issue 11)


@pytest.mark.parametrize(("text", "line", "reason"), HOSTILE_YAML)
def test_hostile_yaml_is_a_spec_error_with_its_line(text: str, line: int, reason: str) -> None:
    """Each of these was a 500, a RecursionError or a 10-20 s parse before the loader limits."""
    t0 = time.perf_counter()
    err = _error(text)
    assert time.perf_counter() - t0 < 1.0
    assert reason in err.reason and err.line == line, str(err)


def test_a_date_like_value_is_text_not_a_crash() -> None:
    """PyYAML would build a date and fail on month 13 (a ValueError, so a 500)."""
    spec = parse_spec(SIMPLE.replace("title: Simple linear regression", "title: 2024-13-45"))
    assert spec.title == "2024-13-45"


def test_a_value_named_through_an_alias_keeps_working() -> None:
    text = SIMPLE.replace("topic: linear models", "topic: &t linear models\ndata_name: *t")
    assert "data_name" in str(_error(text))  # *t was read: "linear models" is no R name


def test_a_spec_too_large_is_refused_by_the_library() -> None:
    err = _error(SIMPLE + "#" + "x" * (64 * 1024) + "\n")
    assert "larger than 64 KB" in str(err)


@pytest.mark.parametrize(
    "text",
    [
        "[" + "1," * 32_000 + "1]",
        "a: " + "x " * 32_000,
        "".join(f"k{i}: [{i}]\n" for i in range(6_000)),
        "[" * 65_000,
    ],
)
def test_the_largest_specs_parse_quickly(text: str) -> None:
    """64 KB of the cheapest-to-write values: bounded work, whatever the outcome."""
    t0 = time.perf_counter()
    with contextlib.suppress(SpecError):
        parse_spec(text[: 64 * 1024])
    assert time.perf_counter() - t0 < 2.0


# ------------------------------------------------------ expression and size limits (§4)

MIXED = _text("09_random_slope.yaml")


def _story(placeholder: str) -> str:
    return SIMPLE.replace("An ecologist measured", f"An ecologist {{{placeholder}}} measured", 1)


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        (_story("9**9**7"), "story", "9 ** 4782969 is larger than 1e308"),
        (_story("1|99999999f"), "story", "decimals must be 0 to 15"),  # a 100 MB page
        (_story("x0|99999999"), "story", "significant digits must be 1 to 15"),
        (_story('"x" * 10**8'), "story", "only + works on text"),
        (_story("1/0"), "story", "cannot compute: division by zero"),
        (SIMPLE.replace("n: [30, 80]", "n: 2000000"), "dgp.n", "less than or equal to 5000"),
        (SIMPLE.replace("n: [30, 80]", "n: [30, 80000]"), "dgp.n", "less than or equal"),
        (SIMPLE.replace("n: [30, 80]", "n: -3"), "dgp.n", "greater than or equal to 1"),
        (SIMPLE.replace("n: [30, 80]", "n: [80, 30]"), "dgp.n", "low > high"),
        (SIMPLE.replace("sigma: [0.5, 2.5]", "sigma: [0.5, .inf]"), "dgp.sigma", "finite"),
        (
            MIXED.replace("n_groups: [12, 20]", "n_groups: [12, 200]").replace(
                "size: [10, 10]", "size: [10, 100]"
            ),
            "dgp.groups",
            "up to 20,000 rows (n_groups x size); at most 5,000",
        ),
        (
            MIXED.replace("n_groups: [12, 20]", "n_groups: 5000"),
            "dgp.groups.n_groups",
            "less than or equal to 200",
        ),
    ],
)
def test_limits_are_spec_errors_naming_the_limit(text: str, field: str, reason: str) -> None:
    """Each passed validation before, then held a preview for seconds to minutes."""
    err = _error(text)
    assert err.field.startswith(field) and reason in err.reason, str(err)


def test_formulas_and_factors_cannot_multiply_the_design_without_bound() -> None:
    crossed = ADDITIVE.replace("FC ~ IC + Dose", "FC ~ IC * Dose * a * b * c * d")
    assert "at most 5 variables crossed" in str(_error(crossed))
    levels = ", ".join(f"d{i}" for i in range(51))
    many = ADDITIVE.replace("levels: [control, dose1, dose2]", f"levels: [control, {levels}]")
    assert "at most 50 items" in str(_error(many))
    doses = ", ".join(f"d{i}" for i in range(3, 20))
    blocks = ", ".join(f"b{i}" for i in range(20))
    text = ADDITIVE.replace(
        "Dose: {type: factor, levels: [control, dose1, dose2]}",
        f"Dose: {{type: factor, levels: [control, dose1, dose2, {doses}]}}\n"
        f"    Block: {{type: factor, levels: [{blocks}]}}",
    ).replace("  formula: FC ~ IC + Dose\n", "  formula: FC ~ IC + Dose * Block\n", 1)
    err = _error(text)  # 1 + 1 + 19 + 19 + 19 x 19: counted, never listed
    assert (err.field, err.reason) == (
        "dgp.formula",
        "401 coefficients with these factor levels; at most 100",
    )


def test_every_builtin_spec_is_well_inside_the_limits() -> None:
    """The limits leave room: half of each one still admits every built-in problem."""
    from problem_bank import spec as s

    for problem in builtin_problems().values():
        if problem.dgp is not None:
            dgp = problem.dgp
            rows = (
                s._high(dgp.n)
                if dgp.n is not None
                else s._high(dgp.groups.n_groups) * s._high(dgp.groups.size)
            )
            assert rows <= s.MAX_ROWS // 5
            assert all(
                len(p.levels) <= s.MAX_LEVELS // 5
                for p in dgp.predictors.values()
                if hasattr(p, "levels")
            )
        assert len(problem.parts) <= s.MAX_PARTS // 5
        assert all(len(p.misconceptions) <= s.MAX_MISCONCEPTIONS // 2 for p in problem.parts)


def test_a_loader_error_names_the_field_as_well_as_the_line() -> None:
    text = SIMPLE.replace("    kind: numeric\n", "    kind: !foo numeric\n", 1)
    err = _error(text)
    assert (err.line, err.field) == (_line_of(text, "kind: !foo"), "parts[0].kind")
    assert str(err).startswith(f"line {err.line}: parts[0].kind: tag !foo is not allowed")


POISSON_ZEROS = _text("05_poisson_zeros.yaml")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "{printer: check_zeroinflation, model: nb}",
            "{printer: check_zeroinflation, model: zip}",
            "check_zeroinflation needs a poisson or negbin model",
        ),
        (
            "{printer: aic_table, models: [main, nb, zip, zinb]}",
            "{printer: aic_table, models: [main]}",
            "aic_table compares at least two models",
        ),
        (
            "{printer: aic_table, models: [main, nb, zip, zinb]}",
            "{printer: aic_table, models: [main, nbx]}",
            "no model named 'nbx'",
        ),
        (
            "- check_overdispersion\n",
            "- {printer: check_overdispersion, models: [main, nb]}\n",
            "only aic_table takes `models`",
        ),
        (
            'answer: predicted_zeros(model="nb")',
            'answer: predicted_zeros(model="zinb")',
            "predicted_zeros() needs a poisson or negbin model",
        ),
    ],
)
def test_count_model_outputs_are_validated(old: str, new: str, message: str) -> None:
    assert old in POISSON_ZEROS
    assert message in str(_error(POISSON_ZEROS.replace(old, new, 1)))
