"""An instructor's edit that moves scores sends the new totals to the LMS: the student
launched from the simulated platform over real HTTP, and the test delivers what the send
task would and reads what the platform received."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from service.models import LtiScoreSend, ScoreSendStatus, User
from service.services import assignment_editing, teaching
from tests.lti.test_lineitems import Course, _no_cached_tokens, course, settings  # noqa: F401


def _deliver_pending(course: Course, session) -> list[str]:  # noqa: F811
    session.expire_all()
    pending = session.scalars(
        select(LtiScoreSend.id)
        .where(LtiScoreSend.status == ScoreSendStatus.pending)
        .order_by(LtiScoreSend.id)
    ).all()
    return [course.deliver(session, send_id) for send_id in pending]


def test_points_and_due_date_changes_resend_the_total(course: Course, db_session):  # noqa: F811
    student = course.student(db_session)
    [first] = course.graded(db_session, student, 1.0)
    assert course.deliver(db_session, first) == "sent"
    assert [(s["scoreGiven"], s["scoreMaximum"]) for s in course.lms.scores] == [(10, 10)]

    teacher = db_session.get(User, course.world.users["teacher"].id)
    assignment_editing.set_points(db_session, course.world.item, teacher, points=20)
    assert _deliver_pending(course, db_session) == ["sent"]
    assert (course.lms.scores[-1]["scoreGiven"], course.lms.scores[-1]["scoreMaximum"]) == (20, 20)

    # The due date moves to before the submission: it is late, 20 % off.
    settings_now = teaching.AssignmentSettings.of(course.world.assignment)
    settings_now.due_at = datetime.now(UTC) - timedelta(hours=1)
    assignment_editing.edit_settings(db_session, course.world.assignment, teacher, settings_now)
    assert _deliver_pending(course, db_session) == ["sent"]
    assert course.lms.scores[-1]["scoreGiven"] == 16
    assert course.lms.scores[-1]["userId"] == "stu-1"

    # A change that moves nothing sends nothing.
    settings_now.title = "Renamed"
    assignment_editing.edit_settings(db_session, course.world.assignment, teacher, settings_now)
    assert _deliver_pending(course, db_session) == []
    assert len(course.lms.scores) == 3
