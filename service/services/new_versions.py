"""Giving a student a new version of a problem: a new dataset, their old work kept.

The old variant is marked replaced, never deleted, and its submissions stay (the
instructor's detail page shows them under their version). The new version starts with the
student's attempts afresh, so the score that counts may move; the new total goes to the
LMS in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.models import AssignmentProblem, StoredVariant, User
from service.services import variants
from service.services.exception_editing import student_of
from service.services.overrides import RACED, Refused, read_reason, record_student_change


def give(
    session: Session,
    seed_key: bytes,
    actor: User,
    assignment_problem: AssignmentProblem,
    user_id: int,
    reason: Any,
) -> StoredVariant:
    """Replace the student's current variant with the next version; audit; send. Caller commits."""
    assignment = assignment_problem.assignment
    student = student_of(session, assignment, user_id)
    why = read_reason(reason)
    old = variants.find(session, student.id, assignment_problem.id)
    if old is None:
        raise Refused("This student has not opened this problem yet: they have no version.", 409)
    try:
        new = variants.replace(session, seed_key, student, assignment_problem)
    except IntegrityError:  # another request gave the same next version first
        raise Refused(RACED, 409) from None
    number = len(variants.versions(session, student.id, assignment_problem.id))
    record_student_change(
        session,
        actor=actor,
        assignment=assignment,
        student_id=student.id,
        action="new_version",
        reason=why,
        before={"variant_id": old.id},
        after={"variant_id": new.id, "version": number},
        summary=(
            f"Your instructor gave you a new version of {assignment_problem.problem.title}, "
            "with a new dataset."
        ),
        assignment_problem_id=assignment_problem.id,
    )
    return new
