"""The score that counts: overrides, the score policy and a student's exception, read the
same way for the gradebook, the student's pages and the LMS total."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from graders import scoring as rule
from graders.feedback import Feedback, PartFeedback
from service.config import Settings
from service.lti import passback
from service.models import (
    Assignment,
    AssignmentException,
    AssignmentProblem,
    ScoreOverride,
    ScorePolicy,
    StoredVariant,
    Submission,
    SubmissionStatus,
)
from service.services import gradebook, scoring, standings, student_pages, student_terms, variants
from tests.conftest import settings_on
from tests.service.web_world import World, build_world, issued_variant

CONTENT = {"parts": [{"id": "a", "weight": 1.0}, {"id": "b", "weight": 1.0}]}


def _item(penalty: float = 0.0, policy: ScorePolicy = ScorePolicy.best) -> AssignmentProblem:
    assignment = Assignment(title="A", late_penalty=penalty, score_policy=policy)
    return AssignmentProblem(assignment=assignment, points=10.0, part_points=None)


def _graded(a: float, b: float, *, late: bool = False) -> Submission:
    feedback = {"score": (a + b) / 2, "parts": [{"id": "a", "score": a}, {"id": "b", "score": b}]}
    return Submission(feedback=feedback, is_late=late, status=SubmissionStatus.graded)


def test_a_part_override_replaces_that_part_and_the_late_penalty_still_applies():
    item = _item(penalty=0.2)
    got = scoring.earned(item, CONTENT, _graded(1.0, 0.0, late=True), [])
    assert got is not None and got.total == pytest.approx(4.0) and not got.overridden
    fix = ScoreOverride(part_id="b", points=5.0, reason="grader too strict")
    got = scoring.earned(item, CONTENT, _graded(1.0, 0.0, late=True), [fix])
    assert got is not None
    assert got.per_part == {"a": 5.0, "b": 5.0} and got.total == pytest.approx(8.0)
    assert got.overridden


def test_a_whole_attempt_override_is_the_points_given_with_no_penalty_on_top():
    whole = ScoreOverride(part_id=None, points=9.0, reason="regraded by hand")
    got = scoring.earned(_item(penalty=0.5), CONTENT, _graded(0.0, 0.0, late=True), [whole])
    assert got is not None and got.total == 9.0 and got.overridden


def test_an_ungraded_attempt_earns_nothing_yet_even_with_an_override():
    pending = Submission(feedback=None, status=SubmissionStatus.queued)
    assert scoring.earned(_item(), CONTENT, pending, [ScoreOverride(points=1.0)]) is None


@pytest.mark.parametrize(
    ("policy", "expected"),
    [(ScorePolicy.best, 10.0), (ScorePolicy.last, 6.0), (ScorePolicy.average, 7.0)],
)
def test_the_score_policy_picks_the_attempts_that_count(policy, expected):
    attempts = [scoring.Earned({}, 5.0), None, scoring.Earned({}, 10.0), scoring.Earned({}, 6.0)]
    assert scoring.counted(policy, attempts) == pytest.approx(expected)
    assert scoring.counted(policy, [None, None]) is None


def test_policy_words_cover_every_policy():
    assert set(scoring.POLICY_WORDS) == set(ScorePolicy)


def test_an_exception_replaces_dates_and_adds_attempts():
    due = datetime(2026, 12, 1, 17, tzinfo=UTC)
    late = due + timedelta(days=1)
    assert student_terms.combine(due, late, 3) == (due, late, 3)
    later = due + timedelta(days=5)
    assert student_terms.combine(due, late, 3, exception_due_at=later, extra_attempts=2) == (
        later,
        later,
        5,
    )
    own_late = due + timedelta(days=9)
    assert student_terms.combine(
        due, late, 3, exception_due_at=later, exception_late_until=own_late
    ) == (later, own_late, 3)
    naive = datetime(2026, 12, 1, 17)  # SQLite hands back naive UTC
    assert student_terms.combine(naive, None, 1)[0] == naive.replace(tzinfo=UTC)


# ------------------------------------------------------------- on the stored rows


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path) -> Settings:
    return settings_on(request.param, request, tmp_path)


@pytest.fixture
def world(db_session) -> World:
    return build_world(db_session, penalty=0.0)


def _attempt(
    db_session,
    variant: StoredVariant,
    number: int,
    a: float,
    b: float,
    *,
    item: AssignmentProblem,
    late: bool = False,
) -> Submission:
    """A graded attempt stored as grading stores it (feedback, raw score and score)."""
    weights = [(p["id"], float(p.get("weight", 1.0))) for p in variant.content["parts"]]
    scores = {pid: (a if i == 0 else b) for i, (pid, _) in enumerate(weights)}
    feedback = Feedback(
        score=rule.weighted_score(weights, scores),
        parts=tuple(PartFeedback(pid, scores[pid], "correct", "") for pid, _ in weights),
    )
    raw, score = scoring.stored_scores(
        feedback,
        variant.content,
        total_points=item.points,
        fixed_part_points=item.part_points,
        is_late=late,
        late_penalty=item.assignment.late_penalty,
    )
    row = Submission(
        variant_id=variant.id,
        user_id=variant.user_id,
        attempt_number=number,
        answers={},
        status=SubmissionStatus.graded,
        feedback=feedback.to_dict(),
        raw_score=raw,
        score=score,
        is_late=late,
    )
    db_session.add(row)
    db_session.flush()
    return row


def test_standings_count_every_version_overrides_and_the_policy(world: World, db_session, app):
    first = issued_variant(world, b"key")
    db_session.add(first)
    db_session.flush()
    parts = [p["id"] for p in first.content["parts"]]
    possible = scoring.assignment_problem_total(world.item, first.content)
    one = _attempt(db_session, first, 1, 1.0, 0.0, item=world.item)
    db_session.commit()
    alice = world.users["alice"]
    second = variants.replace(db_session, b"key", alice, world.item)
    db_session.commit()
    two = _attempt(db_session, second, 1, 0.0, 0.0, item=world.item)
    db_session.add(ScoreOverride(submission_id=two.id, part_id=None, points=2.5, reason="typo"))
    db_session.add(
        AssignmentException(assignment_id=world.assignment.id, user_id=alice.id, extra_attempts=1)
    )
    db_session.commit()

    found = standings.standing(db_session, alice.id, world.item)
    assert [v.id for v in found.versions] == [first.id, second.id]
    assert found.variant_id == second.id and found.attempts_used == 1
    assert found.attempts_allowed == world.assignment.attempts_allowed + 1
    assert [a.submission.id for a in found.attempts] == [one.id, two.id]
    first_points = one_points = possible * _share(world.item, first.content, parts[0])
    assert found.points == pytest.approx(max(first_points, 2.5))  # best, across versions
    assert found.overridden and found.exception is not None

    world.assignment.score_policy = ScorePolicy.last
    db_session.commit()
    assert standings.standing(db_session, alice.id, world.item).points == 2.5
    world.assignment.score_policy = ScorePolicy.average
    db_session.commit()
    found = standings.standing(db_session, alice.id, world.item)
    assert found.points == pytest.approx((one_points + 2.5) / 2)

    # The three readers agree: gradebook, the student's page and the LMS total.
    book = gradebook.build(db_session, world.course)
    row = next(r for r in book.rows if r.student.id == alice.id)
    assert row.cells[world.item.id].points == pytest.approx(found.points)
    page = student_pages.build(db_session, second)
    assert page.counted == pytest.approx(found.points) and page.overrides[two.id]
    total = passback.score_for(db_session, alice.id, world.assignment, "sub")
    assert total["scoreGiven"] == pytest.approx(round(found.points, 4))


def _share(item: AssignmentProblem, content: dict, part_id: str) -> float:
    per_part = scoring.assignment_problem_part_points(item, content)
    return per_part[part_id] / sum(per_part.values())


def test_a_student_without_a_variant_stands_at_nothing(world: World, db_session):
    found = standings.standing(db_session, world.users["bob"].id, world.item)
    assert found.versions == [] and found.points is None and found.attempts_used == 0
    assert found.possible_or_default == world.item.points


@pytest.mark.parametrize("policy", list(ScorePolicy))
def test_the_gradebook_read_and_the_whole_read_agree(world: World, db_session, policy):
    """standings() scores un-overridden attempts from their stored score; standing() from
    their feedback: the same points, late penalties, part points and overrides included."""
    world.assignment.late_penalty = 0.3
    world.assignment.score_policy = policy
    world.item.part_points = {"intercept": 7.0}
    variant = issued_variant(world, b"key")
    db_session.add(variant)
    db_session.flush()
    attempts = [
        _attempt(db_session, variant, 1, 0.5, 1.0, item=world.item),
        _attempt(db_session, variant, 2, 1.0, 0.0, item=world.item, late=True),
        _attempt(db_session, variant, 3, 1.0, 1.0, item=world.item, late=True),
    ]
    first_part = variant.content["parts"][0]["id"]
    db_session.add(
        ScoreOverride(submission_id=attempts[1].id, part_id=first_part, points=1.0, reason="r")
    )
    db_session.commit()
    alice = world.users["alice"]
    light = standings.standings(db_session, [world.item], [alice.id])[(alice.id, world.item.id)]
    whole = standings.standing(db_session, alice.id, world.item)
    assert light.points == pytest.approx(whole.points, abs=1e-9)
    assert [a.earned.total for a in light.attempts if a.earned] == pytest.approx(
        [a.earned.total for a in whole.attempts if a.earned], abs=1e-9
    )
    assert light.possible == pytest.approx(whole.possible)


@pytest.mark.parametrize("policy", list(ScorePolicy))
def test_the_gradebook_summaries_equal_each_standing(world: World, db_session, policy):
    """summaries() lets the database reduce each version's attempts (best, last, count,
    markers) where the policy allows; every cell must read exactly what standing() says:
    replaced versions, a pending and a late attempt, an override, an exception, nothing."""
    world.assignment.late_penalty = 0.25
    world.assignment.score_policy = policy
    alice, bob = world.users["alice"], world.users["bob"]
    first = issued_variant(world, b"key")
    db_session.add(first)
    db_session.flush()
    _attempt(db_session, first, 1, 0.5, 1.0, item=world.item)
    _attempt(db_session, first, 2, 1.0, 0.0, item=world.item, late=True)
    db_session.commit()
    second = variants.replace(db_session, b"key", alice, world.item)
    db_session.commit()
    _attempt(db_session, second, 1, 0.25, 0.5, item=world.item)
    waiting = Submission(
        variant_id=second.id,
        user_id=alice.id,
        attempt_number=2,
        answers={},
        status=SubmissionStatus.queued,
    )
    db_session.add(waiting)
    db_session.add(
        AssignmentException(assignment_id=world.assignment.id, user_id=alice.id, extra_attempts=1)
    )
    bobs = issued_variant(world, b"key", key="bob")
    db_session.add(bobs)
    db_session.flush()
    overridden = _attempt(db_session, bobs, 1, 0.0, 1.0, item=world.item)
    _attempt(db_session, bobs, 2, 1.0, 1.0, item=world.item, late=True)
    db_session.add(
        ScoreOverride(submission_id=overridden.id, part_id=None, points=9.5, reason="typo")
    )
    db_session.commit()

    people = [u.id for u in world.users.values()]
    found = standings.summaries(db_session, [world.item], people)
    assert set(found) == {(u, world.item.id) for u in people}
    for user_id in people:
        expected = standings.summary(standings.standing(db_session, user_id, world.item))
        assert found[(user_id, world.item.id)] == expected, user_id
    cell = found[(alice.id, world.item.id)]
    assert cell.attempts == 4 and cell.pending and cell.late and cell.exception
    assert found[(bob.id, world.item.id)].overridden
