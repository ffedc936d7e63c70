"""Where each student stands on each assignment problem: the score that counts.

One builder for every place a problem's score is read: the gradebook (300 students at a
time), the student's own pages and the total sent to the LMS. It reads the versions a
student was given, every attempt on them, the instructor's overrides and the student's
exception, and lets services/scoring apply the rules (points per part, late penalty,
overrides, score policy), so the three can never show different numbers.

The reads are a fixed number of queries however many cells are asked for. A version's
dataset and printed output are never loaded: only its parts (for the points per part).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import (
    AssignmentException,
    AssignmentProblem,
    ScoreOverride,
    StoredVariant,
    Submission,
    SubmissionStatus,
)
from service.services import scoring, student_terms, timing


@dataclass(frozen=True)
class Version:
    """One dataset a student was given for a problem (not its content: only its parts)."""

    id: int
    number: int
    created_at: datetime | None
    replaced_at: datetime | None
    parts: list[dict[str, object]]


@dataclass
class Attempt:
    submission: Submission
    version: Version
    earned: scoring.Earned | None
    overrides: list[ScoreOverride] = field(default_factory=list)


@dataclass
class Standing:
    user_id: int
    assignment_problem: AssignmentProblem
    versions: list[Version] = field(default_factory=list)
    #: Every attempt on every version, in the order they were made.
    attempts: list[Attempt] = field(default_factory=list)
    exception: AssignmentException | None = None
    #: Points under the score policy (overrides counted); None until one is graded.
    points: float | None = None
    possible: float | None = None

    @property
    def current(self) -> Version | None:
        return next((v for v in reversed(self.versions) if v.replaced_at is None), None)

    @property
    def variant_id(self) -> int | None:
        current = self.current
        return current.id if current else None

    @property
    def attempts_used(self) -> int:
        """Attempts on the current version: what the attempt limit counts."""
        current = self.current
        return sum(1 for a in self.attempts if current and a.version.id == current.id)

    @property
    def terms(self) -> student_terms.Terms:
        return student_terms.terms(self.assignment_problem.assignment, self.exception)

    @property
    def attempts_allowed(self) -> int:
        return self.terms.attempts_allowed

    @property
    def pending(self) -> bool:
        waiting = (SubmissionStatus.queued, SubmissionStatus.grading)
        return any(a.submission.status in waiting for a in self.attempts)

    @property
    def late(self) -> bool:
        return any(a.submission.is_late for a in self.attempts)

    @property
    def overridden(self) -> bool:
        return any(a.overrides for a in self.attempts)

    @property
    def last_at(self) -> datetime | None:
        return timing.as_utc(self.attempts[-1].submission.created_at) if self.attempts else None

    @property
    def possible_or_default(self) -> float:
        """Points possible; the problem's points before the student opened it."""
        return self.possible if self.possible is not None else self.assignment_problem.points


Key = tuple[int, int]  # (user id, assignment problem id)


def standings(
    session: Session,
    assignment_problems: Sequence[AssignmentProblem],
    user_ids: Iterable[int],
) -> dict[Key, Standing]:
    """Every (student, problem) asked for, each with its attempts and counted points."""
    users = list(dict.fromkeys(user_ids))
    by_id = {ap.id: ap for ap in assignment_problems}
    if not users or not by_id:
        return {}
    exceptions = student_terms.for_assignments(
        session, {ap.assignment_id for ap in assignment_problems}, users
    )
    out: dict[Key, Standing] = {
        (u, ap.id): Standing(u, ap, exception=exceptions.get((ap.assignment_id, u)))
        for u in users
        for ap in assignment_problems
    }
    own = (
        StoredVariant.assignment_problem_id.in_(list(by_id)),
        StoredVariant.user_id.in_(users),
        StoredVariant.is_practice.is_(False),
    )
    rows = session.execute(
        select(
            StoredVariant.id,
            StoredVariant.user_id,
            StoredVariant.assignment_problem_id,
            StoredVariant.created_at,
            StoredVariant.replaced_at,
            StoredVariant.content["parts"].label("parts"),
        )
        .where(*own)
        .order_by(StoredVariant.id)
    ).all()
    versions: dict[int, tuple[Standing, Version]] = {}
    for row in rows:
        standing = out[(row.user_id, row.assignment_problem_id)]
        version = Version(
            row.id, len(standing.versions) + 1, row.created_at, row.replaced_at, row.parts or []
        )
        standing.versions.append(version)
        versions[row.id] = (standing, version)
    of_these = select(StoredVariant.id).where(*own)
    overrides: dict[int, list[ScoreOverride]] = defaultdict(list)
    for override in session.scalars(
        select(ScoreOverride)
        .join(Submission, Submission.id == ScoreOverride.submission_id)
        .where(Submission.variant_id.in_(of_these))
        .order_by(ScoreOverride.id)
    ):
        overrides[override.submission_id].append(override)
    for submission in session.scalars(
        select(Submission).where(Submission.variant_id.in_(of_these)).order_by(Submission.id)
    ):
        standing, version = versions[submission.variant_id]
        mine = overrides.get(submission.id, [])
        got = scoring.earned(
            standing.assignment_problem, {"parts": version.parts}, submission, mine
        )
        standing.attempts.append(Attempt(submission, version, got, mine))
    for standing in out.values():
        current = standing.current or (standing.versions[-1] if standing.versions else None)
        if current is not None:
            standing.possible = scoring.assignment_problem_total(
                standing.assignment_problem, {"parts": current.parts}
            )
        policy = standing.assignment_problem.assignment.score_policy
        standing.points = scoring.counted(policy, [a.earned for a in standing.attempts])
    return out


def standing(session: Session, user_id: int, assignment_problem: AssignmentProblem) -> Standing:
    """One student's standing on one problem."""
    return standings(session, [assignment_problem], [user_id])[(user_id, assignment_problem.id)]
