"""Who is in a course, and as what: every change of an enrollment goes through here.

The rule: a course that has an instructor keeps one. Demoting or removing its last
instructor (by the API, a roster sync or an LMS launch) would leave a course that nobody
but an admin can grade, fix or even re-enroll an instructor in, so it is refused with
:class:`LastInstructor`; the caller answers 409 or keeps the enrollment as it is.

A demotion or removal of an instructor is checked and made under a lock on the course row
(an UPDATE that changes nothing: a row lock on PostgreSQL, the write lock on SQLite), so
two instructors demoting each other at the same moment cannot both succeed. Callers commit.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.models import Course, Enrollment, Role, User


class LastInstructor(Exception):
    """The change would leave the course without an instructor."""

    def __init__(self, user: User, course: Course) -> None:
        super().__init__(
            f"{user.email or user.name} is the last instructor of {course.code}; "
            "enroll another instructor first."
        )


def set_role(session: Session, user: User, course: Course, role: Role) -> tuple[Enrollment, bool]:
    """Enroll ``user`` in ``course`` as ``role`` (or change their role); True if new."""
    enrollment = session.scalar(
        select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
    )
    if enrollment is None:
        enrollment = Enrollment(user=user, course=course, role=role)
        session.add(enrollment)
        session.flush()
        return enrollment, True
    if enrollment.role == role:
        return enrollment, False  # nothing changes (a student's every launch): no write
    if role != Role.instructor:
        _refuse_if_last(session, enrollment)
    enrollment.role = role
    session.flush()
    return enrollment, False


def remove(session: Session, enrollment: Enrollment) -> None:
    """Take the person out of the course (their submissions stay)."""
    _refuse_if_last(session, enrollment)
    session.delete(enrollment)
    session.flush()


def _refuse_if_last(session: Session, enrollment: Enrollment) -> None:
    """Under the course lock, re-read the role and refuse if no other instructor is left.

    Only a demotion or a removal can break the rule, so only those take the lock: a new
    enrollment, a promotion or an unchanged role (a student's launch) never waits for it.
    """
    session.execute(
        update(Course)
        .where(Course.id == enrollment.course_id)
        .values(id=Course.id)
        .execution_options(synchronize_session=False)
    )
    session.refresh(enrollment)
    if enrollment.role != Role.instructor:
        return
    others = session.scalar(
        select(func.count())
        .select_from(Enrollment)
        .where(
            Enrollment.course_id == enrollment.course_id,
            Enrollment.role == Role.instructor,
            Enrollment.id != enrollment.id,
        )
    )
    if not others:
        raise LastInstructor(enrollment.user, enrollment.course)
