"""Editing an assignment while students work on it: each use case, the recompute of late
flags and scores, archive instead of delete, and reorders racing on PostgreSQL."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.models import (
    AssignmentException,
    AssignmentProblem,
    AuditEvent,
    ScorePolicy,
    StoredVariant,
    Submission,
    SubmissionStatus,
)
from service.services import assignment_editing, audit, teaching, variants
from service.services.assignment_editing import EditRefused, Stale
from service.services.problems import sync_builtin
from tests.conftest import settings_on
from tests.service.web_world import build_world

KEY = b"assignment editing test key"


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path):
    return settings_on(request.param, request, tmp_path)


@pytest.fixture
def world(db_session):
    return build_world(db_session, penalty=0.2)


def submitted(session, world, key="alice", *, scores=None, at=None, item=None):
    """A graded submission of ``key`` made at ``at`` (now by default): part id → score."""
    user = world.users[key]
    item = item or world.item
    variant = variants.ensure(session, KEY, user, item)
    parts = [p["id"] for p in variant.content["parts"]]
    scores = scores or dict.fromkeys(parts, 1.0)
    used = session.scalar(
        select(Submission.attempt_number)
        .where(Submission.variant_id == variant.id)
        .order_by(Submission.attempt_number.desc())
        .limit(1)
    )
    share = sum(scores.get(p, 0.0) for p in parts) / len(parts)
    submission = Submission(
        variant=variant,
        user=user,
        attempt_number=(used or 0) + 1,
        answers={},
        status=SubmissionStatus.graded,
        feedback={
            "score": share,
            "parts": [
                {"id": p, "score": scores.get(p, 0.0), "verdict": "x", "message": ""} for p in parts
            ],
        },
        raw_score=share,
        score=share,
        created_at=at or datetime.now(UTC),
    )
    session.add(submission)
    session.commit()
    return submission


def settings_with(assignment, **changes) -> teaching.AssignmentSettings:
    now = teaching.AssignmentSettings.of(assignment)
    for name, value in changes.items():
        setattr(now, name, value)
    return now


def test_settings_are_stored_with_an_audit_event_students_read(db_session, world):
    teacher = world.users["teacher"]
    marker = assignment_editing.settings_marker(world.assignment)
    event = assignment_editing.edit_settings(
        db_session,
        world.assignment,
        teacher,
        settings_with(
            world.assignment,
            title="Homework one",
            attempts_allowed=1,
            practice_allowed=False,
            score_policy=ScorePolicy.last,
        ),
        marker=marker,
    )
    db_session.expire_all()
    assert world.assignment.title == "Homework one"
    assert world.assignment.attempts_allowed == 1
    assert world.assignment.score_policy == ScorePolicy.last
    assert event is not None and event.action == "assignment_edited"
    assert event.before["attempts_allowed"] == 3 and event.after["attempts_allowed"] == 1
    assert "now allows 1 attempts" in event.summary
    assert "submissions you already made are kept" in event.summary
    assert (
        "your last attempt" in event.summary and "Practice versions are now closed" in event.summary
    )
    told = audit.told_to_students(db_session, world.assignment.id, world.users["alice"].id)
    assert [e.id for e in told] == [event.id]
    # The same settings again change nothing and record nothing.
    again = settings_with(world.assignment)
    assert assignment_editing.edit_settings(db_session, world.assignment, teacher, again) is None


def test_a_stale_form_or_bad_settings_are_refused_and_nothing_changes(db_session, world):
    teacher = world.users["teacher"]
    old = assignment_editing.settings_marker(world.assignment)
    assignment_editing.edit_settings(
        db_session, world.assignment, teacher, settings_with(world.assignment, title="New")
    )
    with pytest.raises(Stale) as stale:
        assignment_editing.edit_settings(
            db_session,
            world.assignment,
            teacher,
            settings_with(world.assignment, title="Other"),
            marker=old,
        )
    assert stale.value.status == 409
    db_session.rollback()
    due = world.assignment.due_at
    with pytest.raises(EditRefused) as bad:
        assignment_editing.edit_settings(
            db_session,
            world.assignment,
            teacher,
            settings_with(world.assignment, late_until=due - timedelta(days=1)),
        )
    assert bad.value.status == 422 and "late_until" in bad.value.errors
    db_session.rollback()
    db_session.expire_all()
    assert world.assignment.title == "New" and world.assignment.late_until is None


def test_moving_the_due_date_recomputes_late_flags_and_scores(db_session, world):
    """Alice submitted an hour ago, full marks; the due date moves to two hours ago: her
    submission is late and keeps 80 %. Bob has an extension: his is not late. Moving the
    due date back undoes it."""
    now = datetime.now(UTC)
    alice = submitted(db_session, world, "alice", at=now - timedelta(hours=1))
    bob = submitted(db_session, world, "bob", at=now - timedelta(hours=1))
    db_session.add(
        AssignmentException(
            assignment_id=world.assignment.id,
            user_id=world.users["bob"].id,
            due_at=now + timedelta(days=2),
            reason="illness",
            created_by_id=world.users["teacher"].id,
        )
    )
    db_session.commit()
    teacher = world.users["teacher"]
    event = assignment_editing.edit_settings(
        db_session,
        world.assignment,
        teacher,
        settings_with(world.assignment, due_at=now - timedelta(hours=2)),
    )
    db_session.expire_all()
    assert alice.is_late and alice.raw_score == pytest.approx(1.0)
    assert alice.score == pytest.approx(0.8)
    assert not bob.is_late and bob.score == pytest.approx(1.0)
    assert "The due date moved to" in event.summary and "recomputed" in event.summary
    # A bigger penalty takes more off the late one only.
    assignment_editing.edit_settings(
        db_session, world.assignment, teacher, settings_with(world.assignment, late_penalty=0.5)
    )
    db_session.expire_all()
    assert alice.score == pytest.approx(0.5) and bob.score == pytest.approx(1.0)
    assignment_editing.edit_settings(
        db_session,
        world.assignment,
        teacher,
        settings_with(world.assignment, due_at=now + timedelta(days=1)),
    )
    db_session.expire_all()
    assert not alice.is_late and alice.score == pytest.approx(1.0)


def test_changing_points_per_part_recomputes_the_stored_share(db_session, world):
    """Two parts right out of the problem's parts: with all 10 points on a wrong part the
    share is 0, with all on a right part it is 1 (the grading path's own rule)."""
    variant = variants.ensure(db_session, KEY, world.users["alice"], world.item)
    parts = [p["id"] for p in variant.content["parts"]]
    right, wrong = parts[0], parts[1]
    sub = submitted(db_session, world, scores={right: 1.0})
    teacher = world.users["teacher"]

    def put_all_on(part: str, item_points: float = 10) -> None:
        form = {f"part-{world.item.id}-{p}": str(item_points if p == part else 0) for p in parts}
        assignment_editing.set_points(db_session, world.item, teacher, part_form=form)
        db_session.expire_all()

    put_all_on(wrong)
    assert sub.raw_score == pytest.approx(0.0) and sub.score == pytest.approx(0.0)
    put_all_on(right, 4)
    assert world.item.points == 4
    assert sub.raw_score == pytest.approx(1.0) and sub.score == pytest.approx(1.0)
    # A new total: parts share it by weight again, so the grader's weighted score counts.
    assignment_editing.set_points(db_session, world.item, teacher, points=20)
    db_session.expire_all()
    assert world.item.points == 20 and world.item.part_points is None
    assert sub.raw_score == pytest.approx(sub.feedback["score"])  # the grader's own share
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "points_changed").order_by(AuditEvent.id)
    ).all()
    assert len(events) == 3 and "now worth 20 points" in events[-1].summary
    with pytest.raises(EditRefused):
        assignment_editing.set_points(db_session, world.item, teacher, points=-1)


def test_removing_archives_a_problem_with_submissions_and_deletes_one_without(db_session, world):
    teacher = world.users["teacher"]
    problems = {p.slug: p for p in sync_builtin(db_session)}
    second = assignment_editing.add_problem(
        db_session, world.assignment, teacher, problems["additive_dose"].id, 5
    )
    third = assignment_editing.add_problem(
        db_session, world.assignment, teacher, problems["which_random"].id, 5
    )
    assert [ap.position for ap in world.assignment.assignment_problems] == [1, 2, 3]
    sub = submitted(db_session, world)
    variants.ensure(db_session, KEY, world.users["bob"], second)  # issued, never submitted
    db_session.commit()
    second_id = second.id

    assert assignment_editing.remove_problem(db_session, world.item, teacher) is True
    db_session.expire_all()
    assert world.item.archived_at is not None and world.item.position == -world.item.id
    assert db_session.get(Submission, sub.id) is not None
    assert [ap.id for ap in world.assignment.assignment_problems] == [second_id, third.id]
    assert [ap.position for ap in world.assignment.assignment_problems] == [1, 2]

    assert assignment_editing.remove_problem(db_session, second, teacher) is False
    db_session.expire_all()
    assert db_session.get(AssignmentProblem, second_id) is None
    assert (
        db_session.scalars(
            select(StoredVariant).where(StoredVariant.assignment_problem_id == second_id)
        ).all()
        == []
    )
    actions = [e.action for e in audit.for_course(db_session, world.course.id)]
    assert "problem_archived" in actions and "problem_removed" in actions
    told = audit.told_to_students(db_session, world.assignment.id, world.users["alice"].id)
    assert any("your submissions to it are kept" in e.summary for e in told)
    with pytest.raises(EditRefused):
        assignment_editing.remove_problem(db_session, world.item, teacher)


def test_only_published_problems_are_added(db_session, world):
    from service.models import Problem, ProblemStatus

    draft = Problem(
        slug="draft", version=1, title="Draft", spec_text="x", status=ProblemStatus.draft
    )
    db_session.add(draft)
    db_session.commit()
    with pytest.raises(EditRefused, match="not published"):
        assignment_editing.add_problem(
            db_session, world.assignment, world.users["teacher"], draft.id, 5
        )


def _three_problems(session, world):
    teacher = world.users["teacher"]
    problems = {p.slug: p for p in sync_builtin(session)}
    for slug in ("additive_dose", "which_random"):
        assignment_editing.add_problem(session, world.assignment, teacher, problems[slug].id, 5)
    return [ap.id for ap in world.assignment.assignment_problems]


def test_reorder_takes_exactly_the_active_set(db_session, world):
    teacher = world.users["teacher"]
    a, b, c = _three_problems(db_session, world)
    assignment_editing.reorder(db_session, world.assignment, teacher, [c, a, b])
    db_session.expire_all()
    assert [ap.id for ap in world.assignment.assignment_problems] == [c, a, b]
    for wrong in ([c, a, b, a], [c, a, b, 999_999]):
        with pytest.raises(EditRefused) as refused:
            assignment_editing.reorder(db_session, world.assignment, teacher, wrong)
        assert refused.value.status == 422
        db_session.rollback()
    # Ids of this assignment but not its whole active set: made before a change, 409.
    with pytest.raises(Stale):
        assignment_editing.reorder(db_session, world.assignment, teacher, [c, a])
    db_session.rollback()
    # The form was made before someone removed b: its order is stale, not wrong.
    assignment_editing.remove_problem(db_session, db_session.get(AssignmentProblem, b), teacher)
    with pytest.raises(Stale):
        assignment_editing.reorder(db_session, world.assignment, teacher, [a])
    db_session.rollback()
    assignment_editing.move(db_session, db_session.get(AssignmentProblem, a), teacher, -1)
    db_session.expire_all()
    assert [ap.id for ap in world.assignment.assignment_problems] == [a, c]


@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_reorders_racing_on_postgresql_leave_a_valid_order(app, db_session, world):
    """Eight instructors reorder at once: each waits for the row lock, none fails, and the
    positions end as 1..n in one of the orders sent."""
    ids = _three_problems(db_session, world)
    factory = app.extensions["mixgrade.sessions"]
    orders = [random.Random(n).sample(ids, len(ids)) for n in range(8)]
    start = threading.Barrier(len(orders))
    failures: list[BaseException] = []

    def edit(order: list[int]) -> None:
        session = factory()
        try:
            from service.models import Assignment, User

            assignment = session.get(Assignment, world.assignment.id)
            teacher = session.get(User, world.users["teacher"].id)
            start.wait()
            assignment_editing.reorder(session, assignment, teacher, order)
        except BaseException as error:
            failures.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=edit, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    db_session.expire_all()
    final = [ap.id for ap in world.assignment.assignment_problems]
    assert sorted(ap.position for ap in world.assignment.assignment_problems) == [1, 2, 3]
    assert final in orders
