"""Fuzz the answer parser: whatever a student or a client sends, parsing answers quickly
with a value or a ParseError, never another exception (issue 11, §4)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from problem_bank.kinds.parsing import (
    ParseError,
    parse_cells,
    parse_choice,
    parse_choice_set,
    parse_number,
)
from tests.bounded import FUZZ, bounded

CHOICES = ["a", "b", "reject", "keep", "1", "2", "B"]

number_like = st.from_regex(
    r"\A[ \t]*[+\-−–]?[0-9]{0,12}[.,]?[0-9]{0,8}([eE][+-]?[0-9]{1,4})?[ ]?%?[ \t]*\Z"
)
huge_digits = st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n)
texts = (
    st.text(max_size=80)
    | st.text(alphabet=st.characters(codec="utf-8"), min_size=60, max_size=300)
    | number_like
    | huge_digits
    | st.sampled_from(["nan", "-inf", "∞", "1,000", "0,38", "1/0", "exp(1)", "38 %", "%"])
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**5000), max_value=10**5000)
    | st.floats(allow_nan=True, allow_infinity=True)
    | texts,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)


@FUZZ
@given(raw=json_values, percent=st.booleans())
def test_parse_number_answers_a_finite_float_or_a_parse_error(raw, percent) -> None:
    result = bounded(lambda: parse_number(raw, percent_allowed=percent), (ParseError,))
    if not isinstance(result, ParseError):
        assert isinstance(result, float) and math.isfinite(result)
    else:
        assert str(result) and len(str(result)) < 400  # quoted input is shortened


@FUZZ
@given(raw=json_values)
def test_parse_choice_answers_one_of_the_ids_or_a_parse_error(raw) -> None:
    result = bounded(lambda: parse_choice(raw, CHOICES), (ParseError,))
    assert isinstance(result, ParseError) or result in CHOICES


@FUZZ
@given(raw=json_values)
def test_parse_choice_set_answers_a_subset_or_a_parse_error(raw) -> None:
    result = bounded(lambda: parse_choice_set(raw, CHOICES), (ParseError,))
    assert isinstance(result, ParseError) or result <= set(CHOICES)


@FUZZ
@given(raw=json_values, n_cells=st.integers(min_value=1, max_value=8), percent=st.booleans())
def test_parse_cells_answers_n_floats_or_a_parse_error(raw, n_cells, percent) -> None:
    result = bounded(
        lambda: parse_cells(raw, n_cells, percent_allowed=percent, labels=["x"] * n_cells),
        (ParseError,),
    )
    if not isinstance(result, ParseError):
        assert len(result) == n_cells and all(math.isfinite(v) for v in result)
