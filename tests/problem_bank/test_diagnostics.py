"""diagnose(): every problem of a spec at once, with its line, field and a plain sentence."""

from __future__ import annotations

import time
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from problem_bank import Diagnostic, SpecError, diagnose, parse_spec
from problem_bank.error_text import WORDING
from problem_bank.spec import ProblemSpec
from problem_bank.yaml_lines import load_with_lines
from tests.bounded import FUZZ, bounded
from tests.hostile_yaml import HOSTILE_YAML
from tests.problem_bank.test_fuzz import mutated_specs

SPECS = resources.files("problem_bank") / "specs"
SKELETONS = resources.files("problem_bank") / "skeletons"


def _text(name: str) -> str:
    return (SPECS / name).read_text(encoding="utf-8")


SIMPLE = _text("01_simple_regression.yaml")
ADDITIVE = _text("02_additive_dose.yaml")
BUILTIN = sorted(
    e.name
    for e in (resources.files("problem_bank") / "specs").iterdir()
    if e.name.endswith(".yaml")
)


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def _errors(text: str, **kw: object) -> list[Diagnostic]:
    return [d for d in diagnose(text, **kw) if d.severity == "error"]  # type: ignore[arg-type]


def _only(text: str, **kw: object) -> Diagnostic:
    found = _errors(text, **kw)
    assert len(found) == 1, [str(d) for d in found]
    return found[0]


# ----------------------------------------------------------------------- all at once


#: The issue's new instructor's mistakes, made at once in one spec.
SEVERAL = (
    _replace(ADDITIVE, "id: additive_dose", "id: yes")
    .replace("plot: group_lines", "plot: logistic", 1)
    .replace("A pharmacologist gave {n}", "A pharmacologist gave {n} ({rate} per day)", 1)
    .replace(
        'expression: coef("(Intercept)")\n        message: That is the control group',
        'expression: coef("IC")\n        message: That is the control group',
        1,
    )
    .replace("answer: predict(IC=x0, Dose=g)", 'answer: predict(IC=x0, Dose="dose9")', 1)
)


def test_several_mistakes_are_all_reported_with_their_lines() -> None:
    found = diagnose(SEVERAL)
    where = {(d.line, d.field): d.message for d in found if d.severity == "error"}
    assert len(where) == len(found) == 5, [str(d) for d in found]
    assert 'quote it: id: "yes"' in where[(1, "id")]
    assert "'rate' is not defined" in where[(_line_of(SEVERAL, "{rate}"), "story")]
    plot = where[(_line_of(SEVERAL, "plot:"), "plot")]
    assert "family: binomial, not gaussian" in plot
    assert plot.endswith(
        "for this model write plot: group_lines or plot: scatter, or leave plot out"
    )
    mistake = where[
        (_line_of(SEVERAL, 'expression: coef("IC")'), "parts[1].misconceptions[0].expression")
    ]
    assert "gives the answer itself" in mistake
    answer = where[(_line_of(SEVERAL, 'Dose="dose9"'), "parts[3].answer")]
    assert "level 'dose9' is not in factor Dose (levels: control, dose1, dose2)" in answer
    assert [d.line for d in found] == sorted(d.line or 0 for d in found)


def test_parse_spec_raises_the_first_of_the_same_errors() -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(SEVERAL)
    assert (info.value.line, info.value.field) == (1, "id")


def test_every_shape_error_is_reported_once_per_place() -> None:
    text = (
        _replace(SIMPLE, "version: 1", "version: 0")
        .replace("n: [30, 80]", "n: [30, 80000]", 1)
        .replace("    digits: 3\n", "    digits: 3\n    tolerence: 2\n", 1)
    )
    found = diagnose(text)
    assert [(d.line, d.field) for d in found] == [
        (_line_of(text, "version: 0"), "version"),
        (_line_of(text, "n: [30, 80000]"), "dgp.n[1]"),
        (_line_of(text, "tolerence"), "parts[0].tolerence"),
    ], [str(d) for d in found]
    assert "less than or equal to 5000" in found[1].message  # the tuple item, not the int


# ------------------------------------------------------------------------- YAML traps


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("id: simple_regression", "id: yes", "id", "YAML reads yes as true (a YAML 1.1 boolean)"),
        ("id: simple_regression", "id: off", "id", 'quote it: id: "off"'),
        ("title: Simple linear regression", "title: No", "title", 'quote it: title: "No"'),
        ("title: Simple linear regression", "title: 010", "title", "reads 010 as an octal"),
        ("n: [30, 80]", "n: 1e3", "dgp.n", "reads 1e3 as text, not a number"),
        ("n: [30, 80]", "n: [30, 1e2]", "dgp.n[1]", "write 100"),
        ("n: [30, 80]", "n: 010", "dgp.n", "reads 010 as an octal number, 8"),
        ("decimals: 2}", "decimals: 010}", "dgp.predictors.Foodavailability.decimals", "octal"),
        ("title: Simple linear regression", "title: 1:30", "title", "base-60 number, 90"),
        ("n: [30, 80]", "n: [30, 1:20]", "dgp.n[1]", "base-60 number, 80: write the number"),
        (
            "{type: numeric, low: 1, high: 10, decimals: 2}",
            "{type: factor, levels: [yes, no]}",
            "dgp.predictors.Foodavailability.levels[0]",
            'quote it: - "yes"',
        ),
    ],
)
def test_yaml_1_1_traps_are_named(old: str, new: str, field: str, words: str) -> None:
    text = _replace(SIMPLE, old, new)
    found = [d for d in diagnose(text, generate=False) if d.field == field]
    assert found and words in found[0].message, [str(d) for d in diagnose(text, generate=False)]
    assert found[0].line == _line_of(text, new)


def test_1e3_where_a_float_is_written_is_a_number_and_no_error() -> None:
    """pydantic reads the text "1e1" as 10 for a float field: nothing to report."""
    assert diagnose(_replace(SIMPLE, "sigma: [0.5, 2.5]", "sigma: [0.5, 1e1]")) == []


def test_a_tab_in_the_indentation_is_named_at_its_line() -> None:
    text = _replace(SIMPLE, "  formula: ReproductiveEffort", "\tformula: ReproductiveEffort")
    (found,) = diagnose(text)
    assert found.line == _line_of(text, "\tformula") and "indented with a tab" in found.message


def test_a_tab_does_not_hide_the_other_errors_of_the_round() -> None:
    """The rest is read with the tab as the spaces it stands for (the step the other lines
    use), so the errors after it show now, each at its own line."""
    text = _replace(SIMPLE, "  formula: ReproductiveEffort", "\tformula: ReproductiveEffort")
    text = _replace(text, "sigma: [0.5, 2.5]", "sigma: [0.5, 2.5]\n  colour: red")
    found = diagnose(text, generate=False)
    assert [d.line for d in found] == [_line_of(text, "\tformula"), _line_of(text, "colour")]
    assert "indented with a tab" in found[0].message
    assert "colour" in found[1].message
    with pytest.raises(SpecError, match="indented with a tab"):
        parse_spec(text)


def test_a_tab_that_no_indentation_explains_is_reported_alone() -> None:
    text = "id: x\nmodel:\n\t  - [\n\tformula: y ~ x\n"
    (found,) = diagnose(text)
    assert "indented with a tab" in found.message and found.line == 3


def test_a_leading_0_that_changes_nothing_is_fine() -> None:
    """07 is 7 in octal too."""
    assert diagnose(_replace(SIMPLE, "decimals: 2}", "decimals: 02}"), generate=False) == []


def test_a_quoted_yes_is_text_and_fine() -> None:
    text = _replace(SIMPLE, "title: Simple linear regression", 'title: "yes"')
    assert diagnose(text, generate=False) == []


# ------------------------------------------------------------- every jargon message


#: One edit of SIMPLE per pydantic error type the spec models produce: (type, old, new,
#: words of the plain sentence). The test below checks the edit does produce that type.
JARGON = [
    ("missing", "title: Simple linear regression\n", "", "title is required: add a line"),
    (
        "extra_forbidden",
        "topic: linear models",
        "topic: linear models\ncolour: red",
        "unknown field 'colour'",
    ),
    (
        "string_type",
        "title: Simple linear regression",
        "title: [a, b]",
        "write text here, not a list",
    ),
    (
        "string_pattern_mismatch",
        "id: simple_regression",
        "id: Simple-Reg",
        "lowercase letters, digits and underscores, starting with a letter, e.g. poisson_rate",
    ),
    ("string_too_short", "title: Simple linear regression", 'title: ""', "this is empty"),
    (
        "string_too_long",
        "id: simple_regression",
        "id: " + "a" * 70,
        "at most 64 characters, not 70",
    ),
    ("int_type", "version: 1", "version: [1]", "write a whole number"),
    ("int_parsing", "version: 1", "version: one", "write a whole number, e.g. 3, not 'one'"),
    ("int_from_float", "version: 1", "version: 1.5", "no fractional part"),
    ("float_type", "    digits: 3\n", "    digits: 3\n    rtol: [1]\n", "write a number, e.g. 0.5"),
    (
        "float_parsing",
        "    digits: 3\n",
        "    digits: 3\n    rtol: abc\n",
        "write a number, e.g. 0.5, not 'abc'",
    ),
    ("finite_number", "sigma: [0.5, 2.5]", "sigma: [0.5, .inf]", "finite number"),
    (
        "bool_type",
        "Foodavailability}\noutput",
        "Foodavailability, reml: [1]}\noutput",
        "write true or false",
    ),
    (
        "bool_parsing",
        "Foodavailability}\noutput",
        "Foodavailability, reml: maybe}\noutput",
        "write true or false, not 'maybe'",
    ),
    ("greater_than", "    digits: 3\n", "    digits: 3\n    weight: 0\n", "greater than 0"),
    ("greater_than_equal", "version: 1", "version: 0", "greater than or equal to 1"),
    ("less_than_equal", "n: [30, 80]", "n: 2000000", "less than or equal to 5000"),
    ("literal_error", "kind: numeric", "kind: number", "write one of 'numeric', 'choice'"),
    ("list_type", "output: [summary_lm]", "output: summary_lm", "write a list here"),
    ("tuple_type", "uniform: [2, 9]", "uniform: 2", "a range [low, high]"),
    (
        "dict_type",
        "  main: {family: gaussian, formula: ReproductiveEffort ~ Foodavailability}",
        "  - main",
        "write `name: value` lines",
    ),
    ("model_type", "x0: {uniform: [2, 9], decimals: 1}", "x0: [2, 9]", "write the fields of x0"),
    (
        "too_short",
        "parts:\n  - id: intercept",
        "parts: []\nxparts:\n  - id: intercept",
        "give at least 1 item, not 0",
    ),
    ("too_long", "uniform: [2, 9]", "uniform: [2, 9, 3]", "at most 2 items, not 3"),
    (
        "union_tag_invalid",
        "{type: numeric, low: 1",
        "{type: num, low: 1",
        "type must be 'numeric' or 'factor', not 'num'",
    ),
    ("union_tag_not_found", "{type: numeric, low: 1", "{low: 1", "add a type"),
    ("value_error", "low: 1, high: 10", "low: 10, high: 1", "low must be below high"),
]


@pytest.mark.parametrize(("kind", "old", "new", "words"), JARGON, ids=[j[0] for j in JARGON])
def test_each_pydantic_error_type_is_a_plain_sentence(
    kind: str, old: str, new: str, words: str
) -> None:
    text = _replace(SIMPLE, old, new)
    data, _lines = load_with_lines(text)
    with pytest.raises(ValidationError) as info:
        ProblemSpec.model_validate(data)
    assert kind in {e["type"] for e in info.value.errors()}
    found = diagnose(text, generate=False)
    assert any(words in d.message for d in found), [str(d) for d in found]
    for d in found:
        assert "Input should" not in d.message and "String should" not in d.message, str(d)


def test_the_table_words_exactly_the_types_provoked() -> None:
    """A type added to the table without a case here, or the other way round, fails."""
    assert {j[0] for j in JARGON} == set(WORDING)


def test_a_python_format_placeholder_says_what_the_syntax_is() -> None:
    text = _replace(SIMPLE, "An ecologist measured", "An ecologist {x0:.3f} {x0:.2g} {x0:d}")
    messages = [d.message for d in diagnose(text, generate=False)]
    assert messages[0].endswith("not a colon: write {x0|3f} for 3 decimals")
    assert messages[1].endswith("write {x0|2} for 2 significant digits")
    assert "{x0|3} for 3 significant digits or {x0|2f} for 2 decimals" in messages[2]
    assert not any("invalid decimal literal" in m for m in messages)


def test_a_placeholder_in_a_story_of_several_lines_is_named_at_its_own_line() -> None:
    text = _replace(ADDITIVE, "(dose1, dose2). For each", "(dose1, dose2) at {rate}. For each")
    text = _replace(
        text,
        "    prompt: What is the common slope of IC?",
        "    prompt: |\n      What\n      is {x9}?",
    )
    found = diagnose(text, generate=False)
    assert [(d.field, d.line) for d in found] == [
        ("story", _line_of(text, "{rate}")),
        ("parts[1].prompt", _line_of(text, "{x9}")),
    ]
    assert type(found[0].message) is str


def test_an_undefined_placeholder_says_where_to_declare_it() -> None:
    text = _replace(SIMPLE, "What is the estimated intercept?", "What is {lizards}?")
    found = _only(text)
    assert found.field == "parts[0].prompt" and found.line == _line_of(text, "{lizards}")
    assert "'lizards' is not defined" in found.message and "under params" in found.message


# ------------------------------------------------------------------ meaning checks


def test_a_misconception_equal_to_the_answer_is_an_error_at_its_line() -> None:
    """The issue's draft saved and then generated no variant ("0/20 seeds passed")."""
    text = _replace(
        SIMPLE,
        'id: slope_for_intercept\n        expression: coef("Foodavailability")',
        'id: slope_for_intercept\n        expression: coef("(Intercept)")',
    )
    found = _only(text)
    assert found.field == "parts[0].misconceptions[0].expression"
    assert found.line == _line_of(text, 'expression: coef("(Intercept)")')
    assert "gives the answer itself" in found.message
    assert diagnose(text, generate=False) == []  # only drawing shows it


def test_a_misconception_within_the_accepted_tolerance_is_the_answer() -> None:
    text = _replace(
        SIMPLE,
        'id: slope_for_intercept\n        expression: coef("Foodavailability")',
        'id: slope_for_intercept\n        expression: coef("(Intercept)") * 1.0001',
    )
    assert "gives the answer itself" in _only(text).message


def test_two_misconceptions_giving_one_value_are_an_error() -> None:
    text = _replace(
        SIMPLE,
        "        message: You multiplied the slope by x but forgot to add the intercept.\n",
        "        message: You multiplied the slope by x but forgot to add the intercept.\n"
        "      - id: again\n"
        '        expression: coef("Foodavailability") * x0 + 0\n'
        "        message: The same mistake.\n",
    )
    found = _only(text)
    assert found.field == "parts[2].misconceptions[1].expression"
    assert "misconceptions slope_times_x and again give the same value" in found.message


def test_a_spec_no_seed_makes_usable_is_an_error_with_the_reason() -> None:
    text = _replace(SIMPLE, "params:\n", "require:\n  - n > 1000\nparams:\n")
    found = _only(text)
    assert found.field == "require[0]" and found.line == _line_of(text, "- n > 1000")
    assert found.message.startswith("none of the 5 seeds tried gave a usable variant: ")
    assert "require: n > 1000 (in 125 of 125 draws)" in found.message


def test_a_factor_level_the_data_lack_is_an_error() -> None:
    text = _replace(
        ADDITIVE,
        'expression: predict(IC=x0, Dose="control")',
        'expression: predict(IC=x0, Dose="placebo")',
    )
    found = _only(text)
    assert (
        found.line == _line_of(text, "placebo")
        and "level 'placebo' is not in factor Dose" in found.message
    )


@pytest.mark.parametrize("name", BUILTIN)
def test_every_builtin_spec_diagnoses_clean(name: str) -> None:
    assert diagnose(_text(name)) == []


# --------------------------------------------------------------- bounds and hostility


@pytest.mark.parametrize(("text", "line", "reason"), HOSTILE_YAML)
def test_hostile_yaml_is_one_bounded_refusal(text: str, line: int, reason: str) -> None:
    t0 = time.perf_counter()
    (found,) = diagnose(text)
    assert time.perf_counter() - t0 < 1.0
    assert (found.line, found.severity) == (line, "error") and reason in found.message


def test_the_draws_keep_to_the_time_budget() -> None:
    """At the row limit one variant takes seconds; diagnose stops near its budget."""
    text = _replace(_text("09_random_slope.yaml"), "n_groups: [12, 20]", "n_groups: 200")
    text = _replace(text, "size: [10, 10]", "size: 25")
    t0 = time.perf_counter()
    assert [d for d in diagnose(text, seconds=1.0) if d.severity == "error"] == []
    assert time.perf_counter() - t0 < 6.0  # one fit may run past; the machine is shared
    (stopped,) = diagnose(text, seconds=0.0)
    assert stopped.severity == "warning" and "did not finish" in stopped.message


def test_a_part_no_draw_can_evaluate_is_an_error_at_that_part() -> None:
    text = _replace(SIMPLE, "answer: predict(Foodavailability=x0)", "answer: 1 / (x0 - x0)")
    found = _only(text)
    assert found.field == "parts[2]" and found.line == _line_of(text, "- id: prediction")
    assert "none of the 5 seeds tried gave a usable variant: cannot evaluate" in found.message


def test_a_misconception_equal_to_the_answer_in_some_draws_is_a_warning() -> None:
    """Generation redraws those draws, so the problem works, at a cost the author sees."""
    slope_x = 'coef("Foodavailability") * x0'
    text = _replace(SIMPLE, slope_x, slope_x + ' + ifelse(x0 > 4, coef("(Intercept)"), 0)')
    (found,) = diagnose(text)
    assert (found.severity, found.field) == ("warning", "parts[2].misconceptions[0].expression")
    assert "gives the answer itself in " in found.message and "redraws" in found.message


def test_an_unknown_field_names_the_fields_that_may_be_there() -> None:
    text = _replace(SIMPLE, "decimals: 2}", "decimals: 2, mena: 3}")
    (found,) = diagnose(text)
    assert found.field == "dgp.predictors.Foodavailability.mena"
    assert found.message == (
        "unknown field 'mena': did you mean mean? the fields here are "
        "type, dist, low, high, mean, sd, step, decimals"
    )


def test_a_boolean_key_is_named_as_the_yaml_trap() -> None:
    (found,) = diagnose("id: x\nyes: 1\n")
    assert found.line == 2
    assert (
        found.message == "the key 'yes' must be text: YAML 1.1 reads it as true; write it in quotes"
    )


def test_a_condition_that_refuses_most_draws_is_a_warning_at_its_line() -> None:
    text = _replace(SIMPLE, "params:\n", "require:\n  - x0 > 8.3\nparams:\n")
    (found,) = diagnose(text)
    assert (found.severity, found.field) == ("warning", "require[0]")
    assert found.line == _line_of(text, "- x0 > 8.3")
    assert "draws tried were redrawn, most for 'require: x0 > 8.3'" in found.message


# ------------------------------------------------------------------------------- fuzz


@FUZZ
@given(text=mutated_specs() | st.text(max_size=400))
def test_diagnose_agrees_with_parse_spec_and_never_raises(text: str) -> None:
    """parse_spec refuses exactly the specs diagnose finds an error in, with one of them."""
    found = bounded(lambda: diagnose(text, generate=False), ())
    assert isinstance(found, list)
    parsed = bounded(lambda: parse_spec(text), (SpecError,))
    errors = [(d.line, d.field, d.message) for d in found if d.severity == "error"]
    if isinstance(parsed, SpecError):
        assert (parsed.line, parsed.field, parsed.reason) in errors
    else:
        assert errors == []


@settings(FUZZ, max_examples=15, deadline=None)
@given(text=mutated_specs())
def test_diagnose_with_draws_is_bounded_and_never_raises(text: str) -> None:
    found = bounded(lambda: diagnose(text, seconds=1.0), (), seconds=8.0, megabytes=None)
    assert isinstance(found, list)


# ------------------------------------------------------------- YAML syntax in words


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("topic: linear models", "topic: linear: models", 'put the text in quotes (title: "'),
        ("topic: linear models", "topic: linear models\nno colon here", "add the colon"),
        ("topic: linear models", "topic: `lm` fits", "a value cannot start with `"),
        ("topic: linear models", 'topic: "a \\d b"', "use single quotes"),
        ("output: [summary_lm]", "output: [summary_lm", "a list opened with [ is not closed"),
        ("  - id: slope\n", "   - id: slope\n", "line up with the list items above"),
        ("topic: linear models", "topic: {n} models", "starts with a placeholder in quotes"),
        ("topic: linear models", 'topic: "linear models', "the quote opened on this line"),
        ("topic: linear models", "topic: 'it''s linear", "the quote opened on this line"),
    ],
)
def test_yaml_syntax_errors_say_what_to_write(old: str, new: str, words: str) -> None:
    text = _replace(SIMPLE, old, new)
    (found,) = diagnose(text)
    assert words in found.message
    assert found.line == _line_of(text, new) + new.rstrip("\n").count("\n")  # its last line


def test_a_multi_line_quoted_text_that_closes_is_not_blamed() -> None:
    text = _replace(SIMPLE, "topic: linear models", 'topic: "linear\n  models"\nfoo: [1')
    (found,) = diagnose(text)
    assert "a list opened with [ is not closed" in found.message
    assert found.line == _line_of(text, "foo: [1")


def test_counts_too_large_to_draw_are_named_at_the_coefficients():
    """A slope meant per kilogram written per gram: exp() of the linear predictor overflows.
    numpy refused with "lam value too large"; the author is told what to change, where."""
    text = (SKELETONS / "3_poisson.yaml").read_text()
    text = text.replace("Seed: [0.002, 0.006]", "Seed: [2.0, 6.0]")
    (found,) = [d for d in diagnose(text, seconds=4.0) if d.severity == "error"]
    assert found.field == "dgp.coefficients"
    key = text.splitlines().index("  coefficients:") + 1
    assert found.line in (key, key + 1)  # the key, or the mapping's first line under it
    assert "expected counts reach" in found.message and "smaller" in found.message
