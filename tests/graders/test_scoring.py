"""The one rule for weights and points (graders.scoring), and that the stored score and the
points the pages show come from it alike (service.services.scoring)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graders import scoring
from graders.feedback import Feedback, PartFeedback
from service.models import Assignment, AssignmentProblem, Submission
from service.services import scoring as service_scoring

ids = st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=6, unique=True)
weight = st.floats(min_value=0.1, max_value=10.0)
score = st.floats(min_value=0.0, max_value=1.0)


@st.composite
def items(draw: st.DrawFn) -> tuple[list[tuple[str, float]], dict[str, float], dict[str, float]]:
    part_ids = draw(ids)
    weights = [(p, draw(weight)) for p in part_ids]
    fixed = {p: draw(st.floats(0.0, 5.0)) for p in part_ids if draw(st.booleans())}
    scores = {p: draw(score) for p in part_ids}
    return weights, fixed, scores


@given(items(), st.floats(min_value=0.5, max_value=100.0))
def test_free_parts_share_what_fixed_points_leave_by_weight(case: Any, total: float) -> None:
    weights, fixed, _ = case
    available = scoring.part_points(total, fixed, weights)
    assert set(available) == {p for p, _ in weights}
    free = [(p, w) for p, w in weights if p not in fixed]
    rest = max(0.0, total - sum(fixed.values()))
    if free:
        assert sum(available[p] for p, _ in free) == pytest.approx(rest)
        first, w0 = free[0]
        for part_id, w in free:
            assert available[part_id] * w0 == pytest.approx(available[first] * w)


def test_weights_of_zero_or_less_earn_nothing() -> None:
    assert scoring.part_points(10, None, [("a", 1.0), ("b", -3.0)]) == {"a": 10.0, "b": 0.0}
    assert scoring.weighted_score([("a", 1.0), ("b", -3.0)], {"a": 1.0, "b": 0.0}) == 1.0
    assert scoring.weighted_score([("a", 0.0)], {"a": 1.0}) == 0.0


@given(items())
def test_grader_score_is_the_weighted_mean(case: Any) -> None:
    weights, _, scores = case
    expected = sum(w * scores[p] for p, w in weights) / sum(w for _, w in weights)
    assert scoring.weighted_score(weights, scores) == pytest.approx(expected)


@given(items(), st.floats(min_value=0.5, max_value=100.0), st.booleans(), st.floats(0.0, 1.0))
def test_stored_score_and_page_points_agree(
    case: Any, total: float, is_late: bool, penalty: float
) -> None:
    """What grading stores (a share) times the points possible is what the pages show."""
    weights, fixed, scores = case
    content = {"parts": [{"id": p, "weight": w} for p, w in weights]}
    feedback = Feedback(
        score=scoring.weighted_score(weights, scores),
        parts=tuple(PartFeedback(p, scores[p], "correct", "") for p, _ in weights),
    )
    item = AssignmentProblem(
        assignment=Assignment(title="A", late_penalty=penalty), points=total, part_points=fixed
    )
    submission = Submission(feedback=feedback.to_dict(), is_late=is_late)
    raw = service_scoring.points_fraction(feedback, content, total, fixed)
    stored = service_scoring.final_score(raw, is_late=is_late, late_penalty=penalty)
    got = service_scoring.earned(item, content, submission)
    assert got is not None
    possible = service_scoring.assignment_problem_total(item, content)
    if (
        possible > 0
        and sum(service_scoring.assignment_problem_part_points(item, content).values()) > 0
    ):
        assert got[1] == pytest.approx(stored * possible, abs=1e-9)
