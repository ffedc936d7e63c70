"""What a student sees after an instructor edits: "What changed" with dates, which
attempt counts, and a removed problem's work kept, read-only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.models import AuditEvent, ScorePolicy
from service.services import assignment_editing, teaching, variants
from service.services.problems import sync_builtin
from tests.conftest import csrf_token
from tests.service.test_assignment_editing import KEY, submitted
from tests.service.web_world import as_user, build_world


@pytest.fixture
def world(db_session):
    return build_world(db_session)


def _edit(db_session, world, **changes) -> None:
    settings = teaching.AssignmentSettings.of(world.assignment)
    for name, value in changes.items():
        setattr(settings, name, value)
    assignment_editing.edit_settings(db_session, world.assignment, world.users["teacher"], settings)


def test_the_attempts_line_says_which_attempt_counts(client, db_session, world):
    variant = variants.ensure(db_session, KEY, world.users["alice"], world.item)
    parts = [p["id"] for p in variant.content["parts"]]
    submitted(db_session, world)  # all right: 10/10
    submitted(db_session, world, scores={parts[0]: 1.0})  # part right only
    half = round(10 / len(parts), 2)
    as_user(client, "alice")
    page = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    assert f"Attempt 2: <strong>{half:g} / 10 points</strong>" in page
    assert "your score is your best attempt, 10/10" in page
    _edit(db_session, world, score_policy=ScorePolicy.last)
    page = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    assert f"your score is your last attempt, {half:g}/10" in page
    assert "What changed" in page and "Your score on each problem is now your last attempt" in page


def test_what_changed_and_a_removed_problem_with_work_kept(client, db_session, world):
    problems = {p.slug: p for p in sync_builtin(db_session)}
    teacher = world.users["teacher"]
    other = assignment_editing.add_problem(
        db_session, world.assignment, teacher, problems["additive_dose"].id, 5
    )
    submitted(db_session, world)
    due = datetime(2030, 12, 5, 17, 0, tzinfo=UTC)
    _edit(db_session, world, due_at=due, late_until=due + timedelta(days=1))
    assignment_editing.remove_problem(db_session, world.item, teacher)
    item_id, title = world.item.id, world.problem.title

    as_user(client, "alice")
    course = client.get(f"/courses/{world.course.id}").get_data(as_text=True)
    assert "What changed in Homework 1" in course
    assert "The due date moved to 5 Dec 2030 17:00 UTC." in course
    assert f"{title} was removed from the assignment; your submissions to it are kept." in course
    assert f'href="/items/{other.id}"' in course
    # Not listed as a problem; linked from what changed, to the work kept.
    assert f'<a href="/items/{item_id}">Your work on it</a>' in course
    assert course.count(f'href="/items/{item_id}"') == 1
    assert datetime.now(UTC).strftime("%Y-%m-%d") in course  # each change is dated

    page = client.get(f"/items/{item_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "This problem was removed from the assignment" in html and "Attempt 1" in html
    assert 'id="submit"' not in html
    variant = variants.find(db_session, world.users["alice"].id, item_id)
    answers = {f"part-{p['id']}": str(p["answer"]) for p in variant.content["parts"]}
    refused = client.post(
        f"/items/{item_id}/submit",
        data={"csrf_token": csrf_token(html), **answers},
        headers={"Accept": "application/json"},
    )
    assert refused.status_code in (403, 409) and "removed" in refused.get_json()["detail"]
    client.get("/logout")
    # Bob never submitted to it: for him it is gone.
    as_user(client, "bob")
    assert client.get(f"/items/{item_id}").status_code == 404
    assert "Your work on it" not in client.get(f"/courses/{world.course.id}").get_data(as_text=True)


def test_the_dashboard_lists_recent_changes_told_to_this_student_only(client, db_session, world):
    due = datetime(2030, 12, 5, 17, 0, tzinfo=UTC)
    _edit(db_session, world, due_at=due, late_until=due + timedelta(days=1))
    as_user(client, "alice")
    page = client.get("/").get_data(as_text=True)
    assert "What changed in the last 14 days" in page
    assert "Homework 1</a>: The due date moved to 5 Dec 2030 17:00 UTC." in page
    assert f'href="/courses/{world.course.id}"' in page
    # An event about another student only is not shown; older than 14 days, neither.
    bob = world.users["bob"]
    db_session.add(
        AuditEvent(
            course_id=world.course.id,
            assignment_id=world.assignment.id,
            student_id=bob.id,
            action="exception",
            summary="An extension for Bob only.",
        )
    )
    old = AuditEvent(
        course_id=world.course.id,
        assignment_id=world.assignment.id,
        action="edit",
        summary="A change long ago.",
        created_at=datetime.now(UTC) - timedelta(days=30),
    )
    db_session.add(old)
    db_session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "An extension for Bob only." not in page and "A change long ago." not in page
    as_user(client, "bob")
    assert "An extension for Bob only." in client.get("/").get_data(as_text=True)
    as_user(client, "teacher")
    assert "What changed in the last" not in client.get("/").get_data(as_text=True)
