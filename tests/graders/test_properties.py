"""Property tests: the reference always scores 1; outside the interval scores 0."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from graders import grade
from problem_bank.acceptance import accepted_range, part_range
from problem_bank.variant import Misconception
from tests.graders.builders import choice, numeric, table, variant

magnitudes = st.floats(min_value=1e-6, max_value=1e6)
references = st.builds(lambda m, s: m * s, magnitudes, st.sampled_from([1.0, -1.0])) | st.just(0.0)
digits = st.integers(min_value=1, max_value=6)
slack = st.floats(min_value=0.0, max_value=0.1)


@st.composite
def numeric_parts(draw: st.DrawFn) -> Any:
    reference = draw(references)
    spread = abs(reference) * draw(st.floats(min_value=0.0, max_value=0.05))
    interval = draw(
        st.none() | st.just((reference - spread * draw(st.floats(0, 1)), reference + spread))
    )
    wrong = draw(st.lists(st.floats(-1e7, 1e7), max_size=3))
    return numeric(
        reference,
        digits=draw(digits),
        interval=interval,
        rtol=draw(slack),
        atol=draw(st.sampled_from([0.0, 1e-4])),
        percent_allowed=draw(st.booleans()),
        misconceptions=tuple(Misconception(f"m{i}", w, "no") for i, w in enumerate(wrong)),
    )


@given(numeric_parts())
def test_reference_answer_always_scores_one(part: Any) -> None:
    v = variant(part)
    digits = part.acceptance.digits
    for typed in (part.answer, repr(part.answer), f"{part.answer:.{digits}g}", f" {part.answer} "):
        feedback = grade(v, {"a": typed})
        assert feedback.score == 1.0, typed
        assert feedback.parts[0].misconception is None


@given(numeric_parts(), st.floats(min_value=1e-9, max_value=1e3), st.booleans())
def test_outside_the_widened_interval_scores_zero(part: Any, gap: float, above: bool) -> None:
    acc = part.acceptance
    lo, hi = part_range(acc, part.answer)
    width = max(hi - lo, 1e-12)
    value = hi + gap * width if above else lo - gap * width
    assume(math.isfinite(value) and not lo <= value <= hi)
    (verdict,) = grade(variant(part), {"a": value}).parts
    assert verdict.score == 0.0
    assert verdict.verdict == "incorrect"


@given(
    st.lists(st.floats(-100, 100), min_size=1, max_size=6),
    st.data(),
)
def test_table_without_partial_credit_is_all_or_nothing(cells: list[float], data: Any) -> None:
    part = table(cells)
    wrong_index = data.draw(st.integers(0, len(cells) - 1))
    lo, hi = accepted_range(part.acceptance, cells[wrong_index])
    answer = list(cells)
    answer[wrong_index] = hi + (hi - lo) + 1.0
    assert grade(variant(part), {"t": cells}).score == 1.0
    assert grade(variant(part), {"t": answer}).score == 0.0
    partial = table(cells, partial_credit=True)
    assert grade(variant(partial), {"t": answer}).score == (len(cells) - 1) / len(cells)


ids = ("a", "b", "c", "d", "e")


@given(st.sets(st.sampled_from(ids), min_size=1), st.sets(st.sampled_from(ids)))
def test_multi_scores_stay_in_range(right: set[str], picked: set[str]) -> None:
    strict = choice(sorted(right), ids, kind="multi", part_id="m")
    lenient = choice(sorted(right), ids, kind="multi", part_id="m", partial_credit=True)
    strict_score = grade(variant(strict), {"m": sorted(picked)}).score
    lenient_score = grade(variant(lenient), {"m": sorted(picked)}).score
    assert strict_score == (1.0 if picked == right else 0.0)
    assert 0.0 <= lenient_score <= 1.0
    assert (lenient_score == 1.0) == (picked == right)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@given(json_values, json_values, json_values, json_values)
def test_any_input_is_graded_never_crashes(a: Any, c: Any, m: Any, t: Any) -> None:
    v = variant(
        numeric(0.5),
        choice("a"),
        choice(["a"], kind="multi", part_id="m"),
        table([1.0, 2.0]),
    )
    feedback = grade(v, {"a": a, "c": c, "m": m, "t": t})
    assert 0.0 <= feedback.score <= 1.0
    for verdict in feedback.parts:
        assert 0.0 <= verdict.score <= 1.0
        if verdict.verdict == "unreadable":
            assert verdict.message
