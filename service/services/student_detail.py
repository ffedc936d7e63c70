"""One student's work on one problem, as their instructor reads it.

Every version of the student's variant (oldest first), each attempt under its version
with the answers as typed, the feedback and points per part, the overrides, and the score
that counts under the assignment's policy (``standings``: the same numbers the gradebook,
the student's page and the LMS use). Who may read it is the caller's to check
(``access.teaches``); this module only refuses a user who is not a student of the course.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from service.models import (
    AssignmentProblem,
    AuditEvent,
    ScoreOverride,
    StoredVariant,
    Submission,
    User,
)
from service.services import audit, scoring, standings, student_terms, teaching, variants


@dataclass
class Attempt:
    submission: Submission
    earned: scoring.Earned | None
    #: The current overrides by part id (None: the whole attempt).
    overrides: dict[str | None, ScoreOverride]

    @property
    def feedback_by_part(self) -> dict[str, dict[str, Any]]:
        parts = (self.submission.feedback or {}).get("parts", [])
        return {p["id"]: p for p in parts}


@dataclass
class Version:
    number: int
    variant: StoredVariant
    part_points: dict[str, float]
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def possible(self) -> float:
        return sum(self.part_points.values())

    @property
    def replaced(self) -> bool:
        return self.variant.replaced_at is not None

    def part_name(self, part_id: str | None) -> str:
        """ "part 2" (by its place in the problem), or "the whole attempt" for None."""
        if part_id is None:
            return "the whole attempt"
        ids = list(self.part_points)
        return f"part {ids.index(part_id) + 1}" if part_id in ids else f"part {part_id}"


@dataclass
class StudentProblem:
    assignment_problem: AssignmentProblem
    student: User
    standing: standings.Standing
    versions: list[Version]
    #: Audit events about this student on this problem (or on the whole assignment).
    events: list[AuditEvent]

    @property
    def terms(self) -> student_terms.Terms:
        return self.standing.terms

    @property
    def current(self) -> Version | None:
        """The version the student answers now (None before they opened the problem)."""
        return next((v for v in reversed(self.versions) if not v.replaced), None)

    @property
    def policy_words(self) -> str:
        return scoring.POLICY_WORDS[self.assignment_problem.assignment.score_policy]


def build(session: Session, assignment_problem: AssignmentProblem, user_id: int) -> StudentProblem:
    """The detail; LookupError when the user is not a student of the course."""
    assignment = assignment_problem.assignment
    student = teaching.student_in(session, assignment.course_id, user_id)
    if student is None:
        raise LookupError("No such student in this course.")
    standing = standings.standing(session, student.id, assignment_problem)
    versions = {
        v.id: Version(
            number, v, scoring.assignment_problem_part_points(assignment_problem, v.content)
        )
        for number, v in enumerate(
            variants.versions(session, student.id, assignment_problem.id), start=1
        )
    }
    for attempt in standing.attempts:
        version = versions.get(attempt.submission.variant_id)
        if version is not None:
            by_part = {o.part_id: o for o in attempt.overrides}
            version.attempts.append(Attempt(attempt.whole(), attempt.earned, by_part))
    events = [
        e
        for e in audit.for_course(
            session, assignment.course_id, student_id=student.id, assignment_id=assignment.id
        )
        if e.assignment_problem_id in (None, assignment_problem.id)
    ]
    return StudentProblem(assignment_problem, student, standing, list(versions.values()), events)
