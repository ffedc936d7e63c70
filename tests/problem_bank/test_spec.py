"""Spec validation: every bad input is a SpecError naming the line and the field."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from problem_bank import SpecError, builtin_problems, parse_spec


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
