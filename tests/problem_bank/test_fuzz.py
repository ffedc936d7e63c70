"""Fuzz the spec loader and the expression evaluator (hypothesis; issue 11, §4).

Every case is bounded in time and memory (tests.bounded) and may only end in the module's
own error: SpecError for parse_spec, ExpressionError for expressions and formats,
GenerationError for generating a spec that parsed. Anything else is a bug to fix at its
root, not to add here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import problem_bank as pb
from problem_bank import expressions as ex
from problem_bank.render import format_number, render
from tests.bounded import FUZZ, bounded

SPECS = {
    entry.name: entry.read_text(encoding="utf-8")
    for entry in sorted((resources.files("problem_bank") / "specs").iterdir(), key=str)
    if entry.name.endswith(".yaml")
}

# ---------------------------------------------------------------------------- YAML text

SCALARS = st.sampled_from(
    [
        "x",
        "id",
        "1",
        "-0.5",
        "1e999",
        "9" * 120,
        ".inf",
        "-.nan",
        "0x1F",
        "0b102",
        "1:20",
        "2024-13-45",
        "2001-12-14t21:59:43.10-05:00",
        "~",
        "null",
        "yes",
        "on",
        "''",
        '"\\0"',
        '"\\x01"',
        '"\\u00e9"',
        '"\\U0001F600"',
        '"a\\\\b"',
        "'it''s'",
        "|",
        ">",
        "!foo x",
        "!!python/name:os.system",
        "!!python/object/apply:os.system [ls]",
        "!!binary aGk=",
        "!!int 12x",
        "!!float abc",
        "!!bool maybe",
        "!!str 12",
        "!!timestamp 2024-99-99",
        "!!set {a: null}",
        "!!omap [a: 1]",
        "!<tag:x> y",
        "@x",
        "`",
        "%YAML 1.1",
        "---",
        "...",
        "- ",
        "? ",
        ": ",
        "#",
        "&",
        "*",
        "{",
        "[",
        "]",
        "}",
        ",",
    ]
) | st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
KEYS = st.sampled_from(["id", "title", "dgp", "n", "parts", "<<", "1", "true", "~", "? [a]"])


@st.composite
def flow_yaml(draw: st.DrawFn, depth: int = 0) -> str:
    """A flow-style YAML value with anchors, aliases (defined or not), tags and merges."""
    kind = draw(st.sampled_from(["scalar", "seq", "map", "alias"] if depth < 5 else ["scalar"]))
    anchor = f"&a{draw(st.integers(0, 3))} " if draw(st.integers(0, 4)) == 0 else ""
    if kind == "scalar":
        return anchor + draw(SCALARS)
    if kind == "alias":
        return f"*a{draw(st.integers(0, 4))}"
    items = draw(st.lists(flow_yaml(depth + 1), max_size=5))
    if kind == "seq":
        return f"{anchor}[{', '.join(items)}]"
    keys = draw(st.lists(KEYS, min_size=len(items), max_size=len(items)))
    return anchor + "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, items, strict=True)) + "}"


@st.composite
def hostile_documents(draw: st.DrawFn) -> str:
    """A block mapping of flow values, sometimes wrapped in deep nesting or an alias bomb."""
    lines = [f"{draw(KEYS)}: {draw(flow_yaml())}" for _ in range(draw(st.integers(1, 6)))]
    text = "\n".join(lines) + "\n"
    wrap = draw(st.sampled_from(["none", "none", "none", "prefix", "deep", "bomb"]))
    if wrap == "deep":
        depth = draw(st.integers(20, 2000))
        text = "x: " + "[" * depth + "1" + "]" * draw(st.integers(0, depth)) + "\n" + text
    elif wrap == "bomb":
        width = draw(st.integers(2, 12))
        text = "a0: &b0 [x]\n" + "".join(
            f"a{i}: &b{i} [{', '.join([f'*b{i - 1}'] * width)}]\n" for i in range(1, 9)
        )
    elif wrap == "prefix":
        text = draw(st.sampled_from(["%YAML 1.2\n---\n", "--- !foo\n", "\ufeff", "? "])) + text
    return text


def _parse(text: str) -> pb.ProblemSpec | pb.SpecError:
    result = bounded(lambda: pb.parse_spec(text), (pb.SpecError,))
    if isinstance(result, pb.SpecError):
        assert "\n" not in str(result) and str(result).startswith(("line ", "spec"))
    return result


@FUZZ
@given(text=st.text(max_size=400))
def test_random_text_is_a_spec_or_a_spec_error(text: str) -> None:
    _parse(text)


@settings(FUZZ, max_examples=60)  # an alias bomb costs 0.4 s under tracemalloc
@given(text=hostile_documents())
def test_hostile_yaml_is_a_spec_error(text: str) -> None:
    assert isinstance(_parse(text), pb.SpecError)  # none of these has the fields of a spec


@st.composite
def mutated_specs(draw: st.DrawFn) -> str:
    """A built-in spec with one line's value replaced, a line inserted, or a slice cut."""
    text = SPECS[draw(st.sampled_from(sorted(SPECS)))]
    lines = text.splitlines()
    i = draw(st.integers(0, len(lines) - 1))
    how = draw(st.sampled_from(["value", "insert", "cut", "number"]))
    if how == "value" and ": " in lines[i]:
        key = lines[i].split(": ", 1)[0]
        lines[i] = f"{key}: {draw(flow_yaml() | expressions())}"
    elif how == "insert":
        indent = " " * draw(st.integers(0, 8))
        lines.insert(i, indent + draw(flow_yaml() | st.text(max_size=30)))
    elif how == "cut":
        j = draw(st.integers(i, min(len(lines), i + 5)))
        del lines[i:j]
    else:
        numbers = list(re.finditer(r"(?<![\w.])-?\d+(\.\d+)?", text))
        if numbers:
            m = numbers[draw(st.integers(0, len(numbers) - 1))]
            new = draw(
                st.integers(-3, 6000).map(str)
                | st.floats(allow_nan=False, width=32).map(repr)
                | st.sampled_from(["1e308", "-1e308", "0", ".inf"])
            )
            return text[: m.start()] + new + text[m.end() :]
    return "\n".join(lines) + "\n"


@FUZZ
@given(text=mutated_specs())
def test_mutated_builtin_specs_are_specs_or_spec_errors(text: str) -> None:
    _parse(text)


@pytest.fixture(scope="module")
def warm() -> None:
    """Import what generation imports once, outside any bound."""
    pb.generate(pb.builtin_problem("simple_regression"), 0)


@settings(FUZZ, max_examples=20, deadline=None)
@given(text=mutated_specs(), seed=st.integers(0, 2**20))
def test_a_mutated_spec_that_parses_generates_or_says_why(warm, text: str, seed: int) -> None:
    """What preview does with it: a variant, or a GenerationError (never a 500)."""
    spec = _parse(text)
    if isinstance(spec, pb.ProblemSpec):
        bounded(
            lambda: pb.generate(spec, seed, budget=2.0),
            (pb.GenerationError,),
            seconds=8.0,  # the budget is checked between steps; one step may run past it
            megabytes=None,
        )


# --------------------------------------------------------------------------- expressions


class FakeModel:
    """Any name is a coefficient, any group has a random intercept: values, not errors."""

    def stat(self, what: str, name: str) -> float:
        return 0.25 + len(name) / 7

    def design_row(self, values: Mapping[str, Any]) -> dict[str, float]:
        row = {"(Intercept)": 1.0}
        for k, v in values.items():
            row[k] = float(v) if isinstance(v, int | float) else 1.0
        return row

    def inverse_link(self, eta: float) -> float:
        return eta

    def varcorr(self, group: str, term: str, which: str) -> float:
        return 0.5

    def ranef(self, group: str, level: str, term: str) -> float:
        return 0.1

    def residual_var(self) -> float:
        return 1.2

    def contrast(self, factor: str, a: str, b: str, what: str) -> float:
        return 0.3

    def anova(self, term: str, what: str) -> float:
        return 2.0

    def scalar(self, name: str) -> float:
        return 3.0

    def row_values(self, row: int) -> dict[str, Any]:
        ex.row_index(row, 10)
        return {"x": 1.5, "Dose": "b"}

    def response(self, row: int) -> float:
        return 2.0

    def residual(self, y: float, mu: float, kind: str) -> float:
        return y - mu

    def groups(self) -> dict[str, list[str]]:
        return {"g": ["(Intercept)"]}


VALUES: dict[str, Any] = {
    "x0": 3.5, "k": 7, "g": "dose1", "s": "x" * 150, "big": 10**300, "neg": -8.0,
    "tiny": 5e-324, "n": 40, "answer": "0.5",
}  # fmt: skip


class FakeContext:
    def model(self, name: str) -> FakeModel:
        if name != "main":
            raise ex.ExpressionError(f"no model named {name!r}")
        return FakeModel()

    def observed(self, column: str, row: int) -> Any:
        return [1.5, 2.0, 0.0, 7.0, 3.25, 1e308, -0.0, 4.0, 5.5, 6.0][ex.row_index(row, 10)]

    def value(self, name: str) -> Any:
        if name not in VALUES:
            raise ex.ExpressionError(f"no value named {name!r}")
        return VALUES[name]


ATOMS = (
    st.integers(-(10**400), 10**400).map(str)
    | st.sampled_from(["0", "1", "2", "9", "10", "0.5", "1e308", "1e-320", "1e999", "-0.0"])
    | st.sampled_from([*sorted(VALUES), "missing", "_x", "True", "None"])
    | st.sampled_from(['"x"', '"(Intercept)"', '"Dose"', "''", '"' + "y" * 250 + '"'])
    | st.sampled_from(['coef("x")', 'se("(Intercept)")', 'pvalue("Dose" + g)', "nobs()"])
    | st.sampled_from(['predict(x=x0, Dose=g, scale="link")', 'varcorr("g", "(Intercept)")'])
    | st.sampled_from(["icc()", 'contrast("Dose", "a", "b", "p")', 'param("k")', "x0.real"])
    | st.sampled_from(["fitted(k)", 'residual(k, "pearson")', 'observed("x", k)', "fitted(1e999)"])
)


def _combine(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "//", "%", "|"]), inner)
    compare = st.tuples(inner, st.sampled_from(["<", "<=", "==", "!=", ">", "in"]), inner)
    calls = st.tuples(
        st.sampled_from(
            ["exp", "log", "sqrt", "abs", "invlogit", "logit", "round", "min", "max", "fitted"]
        ),
        st.lists(inner, min_size=1, max_size=3),
    )
    return (
        binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})")
        | compare.map(lambda t: f"{t[0]} {t[1]} {t[2]}")
        | inner.map(lambda a: f"-{a}")
        | inner.map(lambda a: f"not {a}")
        | st.tuples(inner, inner).map(lambda t: f"{t[0]} and {t[1]}")
        | st.tuples(inner, inner, inner).map(lambda t: f"ifelse({t[0]}, {t[1]}, {t[2]})")
        | calls.map(lambda t: f"{t[0]}({', '.join(t[1])})")
    )


def expressions() -> st.SearchStrategy[str]:
    return st.recursive(ATOMS, _combine, max_leaves=12)


EXPRESSION_TEXT = st.text(alphabet="0123456789.e+-*/()<>=!,\"' _xkgsnabcdefilmnoprtuv", max_size=60)
FORMATS = st.from_regex(r"\A[0-9]{1,10}f?\Z")


def _check_value(value: Any) -> None:
    if isinstance(value, str):
        assert len(value) <= ex.MAX_TEXT_CHARS
    elif isinstance(value, int):
        assert abs(value) <= ex.MAX_INT
    else:
        assert isinstance(value, float)


@FUZZ
@given(source=expressions() | EXPRESSION_TEXT)
def test_expressions_evaluate_to_a_bounded_value_or_an_expression_error(source: str) -> None:
    parsed = bounded(lambda: ex.parse(source), (ex.ExpressionError,))
    if isinstance(parsed, ex.ExpressionError):
        return
    value = bounded(lambda: parsed.evaluate(FakeContext()), (ex.ExpressionError,))
    if not isinstance(value, ex.ExpressionError):
        _check_value(value)
    interval = bounded(
        lambda: ex.rounding_interval(parsed, FakeContext(), 3), (ex.ExpressionError,)
    )
    if not isinstance(interval, ex.ExpressionError):
        low, high = interval[1]
        assert low <= high or math.isnan(low) or math.isnan(high)


@FUZZ
@given(source=expressions(), fmt=FORMATS | st.none(), copies=st.integers(1, 400))
def test_placeholders_render_bounded_text_or_an_expression_error(
    source: str, fmt: str | None, copies: int
) -> None:
    placeholder = "{" + source + (f"|{fmt}" if fmt else "") + "}"
    text = bounded(
        lambda: render(f"At {placeholder}. " * copies, FakeContext()), (ex.ExpressionError,)
    )
    if isinstance(text, str):
        assert len(text) <= 200_000 + 20 * copies


@FUZZ
@given(
    value=st.floats() | st.integers(-(10**308), 10**308) | st.booleans(),
    fmt=FORMATS | st.none(),
)
def test_format_number_is_short_text_or_an_expression_error(value: Any, fmt: str | None) -> None:
    text = bounded(lambda: format_number(value, fmt), (ex.ExpressionError,))
    if isinstance(text, str):
        assert 0 < len(text) <= 340
