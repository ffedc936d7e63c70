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
from typing import Any, Protocol, cast

from sqlalchemy import func, select
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
    #: The parts as scoring reads them: id and weight (the same for every variant of a
    #: problem row; the student's own prompts and keys are in the stored variant).
    parts: list[dict[str, Any]]


class Submitted(Protocol):
    """What a standing reads of an attempt: the Submission row (:func:`standing`), or
    only its columns (:func:`standings`, which never loads 15,000 feedback documents)."""

    @property
    def id(self) -> int: ...

    @property
    def variant_id(self) -> int: ...

    @property
    def attempt_number(self) -> int: ...

    @property
    def status(self) -> SubmissionStatus: ...

    @property
    def is_late(self) -> bool: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def score(self) -> float | None: ...


@dataclass
class Attempt:
    submission: Submitted
    version: Version
    earned: scoring.Earned | None
    overrides: list[ScoreOverride] = field(default_factory=list)

    def whole(self) -> Submission:
        """The Submission row (answers, feedback): only in a :func:`standing`."""
        assert isinstance(self.submission, Submission), "read by standing(), not standings()"
        return self.submission


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

#: The columns a light read of an attempt takes (the fields of :class:`Submitted`).
_LIGHT = ("id", "variant_id", "attempt_number", "status", "is_late", "created_at", "score")


@dataclass(frozen=True)
class _Feedback:
    feedback: dict[str, Any] | None
    is_late: bool


def standings(
    session: Session,
    assignment_problems: Sequence[AssignmentProblem],
    user_ids: Iterable[int],
) -> dict[Key, Standing]:
    """Every (student, problem) asked for, each with its attempts and counted points.

    Built for a whole course at once (the gradebook: 300 students × 25 problems, 15,000
    attempts): the attempts' answers are not loaded (read on first use, one query per
    attempt), only what scoring needs.
    """
    return _standings(session, assignment_problems, user_ids, whole_submissions=False)


def _standings(
    session: Session,
    assignment_problems: Sequence[AssignmentProblem],
    user_ids: Iterable[int],
    *,
    whole_submissions: bool,
) -> dict[Key, Standing]:
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
    # Plain rows on the session's connection: the ORM's result processing costs more than
    # the query for the thousands of rows of a course (as in services/submissions.py).
    rows = (
        session.connection()
        .execute(
            select(
                StoredVariant.id,
                StoredVariant.user_id,
                StoredVariant.assignment_problem_id,
                StoredVariant.problem_id,
                StoredVariant.created_at,
                StoredVariant.replaced_at,
            )
            .where(*own)
            .order_by(StoredVariant.id)
        )
        .all()
    )
    parts = _parts_by_problem(session, {row.problem_id for row in rows})
    available: dict[tuple[int, int], dict[str, float]] = {}

    def points_per_part(standing: Standing, version: Version) -> dict[str, float]:
        """Worked out once per problem and version's parts, not once per attempt."""
        key = (standing.assignment_problem.id, id(version.parts))
        if key not in available:
            available[key] = scoring.assignment_problem_part_points(
                standing.assignment_problem, {"parts": version.parts}
            )
        return available[key]

    versions: dict[int, tuple[Standing, Version, float]] = {}
    for row in rows:
        standing = out[(row.user_id, row.assignment_problem_id)]
        version = Version(
            row.id,
            len(standing.versions) + 1,
            row.created_at,
            row.replaced_at,
            parts.get(row.problem_id, []),
        )
        standing.versions.append(version)
        versions[row.id] = (standing, version, sum(points_per_part(standing, version).values()))
    of_these = select(StoredVariant.id).where(*own)
    overrides: dict[int, list[ScoreOverride]] = defaultdict(list)
    for override in session.scalars(
        select(ScoreOverride)
        .join(Submission, Submission.id == ScoreOverride.submission_id)
        .where(Submission.variant_id.in_(of_these))
        .order_by(ScoreOverride.id)
    ):
        overrides[override.submission_id].append(override)
    if whole_submissions:
        attempts: Iterable[Submitted] = session.scalars(
            select(Submission).where(Submission.variant_id.in_(of_these)).order_by(Submission.id)
        )
    else:
        attempts = (
            session.connection()
            .execute(
                select(*(getattr(Submission, name) for name in _LIGHT))
                .where(Submission.variant_id.in_(of_these))
                .order_by(Submission.id)
            )
            .all()
        )
    # Only an overridden attempt is scored from its feedback when the rows are light.
    feedback: dict[int, Any] = {}
    if overrides and not whole_submissions:
        read = select(Submission.id, Submission.feedback)
        for row in session.execute(read.where(Submission.id.in_(list(overrides)))):
            feedback[row.id] = row.feedback
    graded_status = SubmissionStatus.graded
    for submission in attempts:
        standing, version, possible = versions[submission.variant_id]
        mine = overrides.get(submission.id, [])
        got: scoring.Earned | None
        if not (whole_submissions or mine):
            score = submission.score if submission.status == graded_status else None
            got = scoring.earned_as_stored(score, possible)
        else:
            graded: scoring.Graded = (
                cast(Submission, submission)
                if whole_submissions
                else _Feedback(feedback.get(submission.id), submission.is_late)
            )
            got = scoring.earned(
                standing.assignment_problem,
                {"parts": version.parts},
                graded,
                mine,
                available=points_per_part(standing, version),
            )
        standing.attempts.append(Attempt(submission, version, got, mine))
    for standing in out.values():
        current = standing.current or (standing.versions[-1] if standing.versions else None)
        if current is not None:
            standing.possible = sum(points_per_part(standing, current).values())
        policy = standing.assignment_problem.assignment.score_policy
        standing.points = scoring.counted(policy, [a.earned for a in standing.attempts])
    return out


def standing(session: Session, user_id: int, assignment_problem: AssignmentProblem) -> Standing:
    """One student's standing on one problem, its attempts loaded whole (answers too)."""
    found = _standings(session, [assignment_problem], [user_id], whole_submissions=True)
    return found[(user_id, assignment_problem.id)]


def _parts_by_problem(session: Session, problem_ids: set[int]) -> dict[int, list[dict[str, Any]]]:
    """Each problem's parts, as scoring reads them (id and weight), from one variant each.

    A problem row is one version of its spec, and a part's id and weight come from the spec
    (problem_bank/kinds/building.py), so every variant of that row has the same ones; what
    differs between students (data, prompts, keys) scoring never reads. Reading the parts of
    every stored variant instead (7,500 JSON documents of ~5 KB for a course of 300 × 25)
    took seconds; this reads as many as there are problems.
    """
    if not problem_ids:
        return {}
    first = (
        select(func.min(StoredVariant.id))
        .where(StoredVariant.problem_id.in_(sorted(problem_ids)))
        .group_by(StoredVariant.problem_id)
    )
    rows = session.execute(
        select(StoredVariant.problem_id, StoredVariant.content["parts"]).where(
            StoredVariant.id.in_(first)
        )
    ).all()
    return {
        problem_id: [{"id": p["id"], "weight": p.get("weight", 1.0)} for p in parts or []]
        for problem_id, parts in rows
    }
