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

from sqlalchemy import ColumnElement, Select, case, func, null, select, tuple_
from sqlalchemy.orm import Session, aliased

from service.db import among
from service.models import (
    AssignmentException,
    AssignmentProblem,
    ScoreOverride,
    ScorePolicy,
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
        """When the latest attempt was made."""
        made = [timing.as_utc(a.submission.created_at) for a in self.attempts]
        return max(filter(None, made), default=None)

    @property
    def possible_or_default(self) -> float:
        """Points possible; the problem's points before the student opened it."""
        return self.possible if self.possible is not None else self.assignment_problem.points


Key = tuple[int, int]  # (user id, assignment problem id)


@dataclass(slots=True)
class Summary:
    """A standing as the gradebook shows it in one cell: the counted points and the
    markers, without the attempts (see :func:`summaries`)."""

    points: float | None = None
    possible: float | None = None
    attempts: int = 0
    last_at: datetime | None = None
    late: bool = False
    pending: bool = False
    overridden: bool = False
    exception: bool = False
    opened: bool = False


def summary(standing: Standing) -> Summary:
    return Summary(
        points=standing.points,
        possible=standing.possible,
        attempts=len(standing.attempts),
        last_at=standing.last_at,
        late=standing.late,
        pending=standing.pending,
        overridden=standing.overridden,
        exception=standing.exception is not None,
        opened=bool(standing.versions),
    )


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


def summaries(
    session: Session,
    assignment_problems: Sequence[AssignmentProblem],
    user_ids: Iterable[int],
) -> dict[Key, Summary]:
    """:func:`summary` of every (student, problem) asked for, for a whole course at once.

    The same numbers as :func:`standings`, read more cheaply: for a student with no
    override on the problem, the database reduces each version's attempts to their count,
    markers, best stored score and last graded stored score (7,500 rows for a course of
    300 × 25 instead of 15,000 attempts built one by one), and scoring.counted_totals picks
    among those; under "average" it also adds up each version's graded shares and counts
    them. A cell with an override takes :func:`standings` (its attempts are scored from
    their feedback). A test holds the two paths equal.
    """
    users = list(dict.fromkeys(user_ids))
    if not users or not assignment_problems:
        return {}
    out, overridden = _reduced(session, assignment_problems, users)
    if overridden:
        again = _standings(
            session,
            [ap for ap in assignment_problems if ap.id in {ap_id for _, ap_id in overridden}],
            {user_id for user_id, _ in overridden},
            whole_submissions=False,
            only_overridden=True,
        )
        out.update((key, summary(again[key])) for key in overridden)
    return out


def _reduced(
    session: Session, assignment_problems: Sequence[AssignmentProblem], users: list[int]
) -> tuple[dict[Key, Summary], set[Key]]:
    """:func:`summaries` for reducible policies, and the keys with an override (whose
    summaries the caller replaces from :func:`standings`)."""
    by_id = {ap.id: ap for ap in assignment_problems}
    exceptions = student_terms.for_assignments(
        session, {ap.assignment_id for ap in assignment_problems}, users
    )
    assignment_of = {ap.id: ap.assignment_id for ap in assignment_problems}  # ORM reads, once
    out: dict[Key, Summary] = {}
    own = (
        among(session, StoredVariant.assignment_problem_id, by_id),
        among(session, StoredVariant.user_id, users),
        StoredVariant.is_practice.is_(False),
    )
    of_these = select(StoredVariant.id).where(*own)
    overridden: set[Key] = {
        (row.user_id, row.assignment_problem_id) for row in session.execute(_overridden_cells(own))
    }
    graded_score = case((Submission.status == SubmissionStatus.graded, Submission.score))
    waiting = (SubmissionStatus.queued, SubmissionStatus.grading)
    runs = (
        select(
            Submission.variant_id,
            func.count().label("attempts"),
            func.max(graded_score).label("best"),
            # For "average": the graded attempts' shares added up, and how many.
            func.sum(graded_score).label("share_sum"),
            func.count(graded_score).label("graded"),
            func.max(case((graded_score.is_not(None), Submission.id))).label("last_graded_id"),
            func.max(Submission.created_at).label("last_at"),
            func.max(case((Submission.is_late, 1), else_=0)).label("late"),
            func.max(case((Submission.status.in_(waiting), 1), else_=0)).label("pending"),
        )
        .where(Submission.variant_id.in_(of_these))
        .group_by(Submission.variant_id)
        .subquery()
    )
    # The last graded attempt's own score: a second look-up per version, only when a
    # "last" policy reads it.
    last_graded = aliased(Submission)
    wants_last = any(ap.assignment.score_policy == ScorePolicy.last for ap in assignment_problems)
    read = (
        select(
            StoredVariant.user_id,
            StoredVariant.assignment_problem_id,
            StoredVariant.problem_id,
            StoredVariant.replaced_at,
            runs.c.attempts,
            runs.c.best,
            runs.c.share_sum,
            runs.c.graded,
            runs.c.last_graded_id,
            runs.c.late,
            runs.c.pending,
            (last_graded.score if wants_last else null()).label("last_score"),
            runs.c.last_at,
        )
        .where(*own)
        .outerjoin(runs, runs.c.variant_id == StoredVariant.id)
        .order_by(StoredVariant.id)
    )
    if wants_last:
        read = read.outerjoin(last_graded, last_graded.id == runs.c.last_graded_id)
    rows = session.connection().execute(read).all()
    parts = _parts_by_problem(session, {row.problem_id for row in rows})
    points_per_part = _PartPoints(by_id)
    # Per cell: each version's (last graded id, best points, last points); the possible
    # points of the current version (the last one not replaced, else the last).
    graded_runs: dict[Key, list[tuple[int, float, float]]] = defaultdict(list)
    current: dict[Key, float] = {}
    possibles: dict[tuple[int, int], float] = {}  # (item, problem row): its parts' points
    # Unpacked as tuples: 7,500 rows, and a tuple's unpacking costs less than named reads.
    averaged = {
        ap.id for ap in assignment_problems if ap.assignment.score_policy == ScorePolicy.average
    }
    # Under "average": each cell's graded points added up over its versions, and how many.
    sums: dict[Key, tuple[float, int]] = {}
    for (
        user_id,
        assignment_problem_id,
        problem_id,
        replaced_at,
        attempts,
        best,
        share_sum,
        graded_count,
        last_graded_id,
        late,
        pending,
        last_score,
        last_at,
    ) in rows:
        key = (user_id, assignment_problem_id)
        cell = out.get(key)
        if cell is None:
            cell = out[key] = Summary(
                exception=(assignment_of[assignment_problem_id], user_id) in exceptions
            )
        possible = possibles.get((assignment_problem_id, problem_id))
        if possible is None:
            version = Version(0, 0, None, None, parts.get(problem_id, []))
            possible = points_per_part.possible(assignment_problem_id, version)
            possibles[(assignment_problem_id, problem_id)] = possible
        cell.opened = True
        cell.possible = possible
        if replaced_at is None:
            current[key] = possible
        if attempts:
            cell.attempts += attempts
            cell.late = cell.late or bool(late)
            cell.pending = cell.pending or bool(pending)
            made = timing.as_utc(last_at)
            if made is not None and (cell.last_at is None or made > cell.last_at):
                cell.last_at = made
        if graded_count and assignment_problem_id in averaged:
            total, count = sums.get(key, (0.0, 0))
            sums[key] = (total + share_sum * possible, count + graded_count)
        elif last_graded_id is not None:
            best_points = scoring.points_from_share(best, possible)
            last = (
                best_points
                if last_score is None
                else scoring.points_from_share(last_score, possible)
            )
            graded_runs[key].append((last_graded_id, best_points, last))
    for key, possible in current.items():
        out[key].possible = possible
    policies = {ap.id: ap.assignment.score_policy for ap in assignment_problems}
    for key, graded in graded_runs.items():
        policy = policies[key[1]]
        ordered = sorted(graded) if len(graded) > 1 else graded
        totals = [best if policy == ScorePolicy.best else last for _, best, last in ordered]
        out[key].points = scoring.counted_totals(policy, totals)
    for key, (total, count) in sums.items():
        out[key].points = scoring.mean_points(total, count)
    # The cells of students who never opened the problem.
    for user_id in users:
        for ap_id, assignment_id in assignment_of.items():
            if (user_id, ap_id) not in out:
                out[(user_id, ap_id)] = Summary(exception=(assignment_id, user_id) in exceptions)
    return out, overridden


def _overridden_cells(own: Sequence[ColumnElement[bool]]) -> Select[int, int | None]:
    """(user, item) of every cell among ``own``'s versions with an override on an attempt."""
    return (
        select(StoredVariant.user_id, StoredVariant.assignment_problem_id)
        .join(Submission, Submission.variant_id == StoredVariant.id)
        .join(ScoreOverride, ScoreOverride.submission_id == Submission.id)
        .where(*own)
        .distinct()
    )


def _standings(
    session: Session,
    assignment_problems: Sequence[AssignmentProblem],
    user_ids: Iterable[int],
    *,
    whole_submissions: bool,
    only_overridden: bool = False,
) -> dict[Key, Standing]:
    """The standings of ``user_ids`` × ``assignment_problems``; with ``only_overridden``,
    only the cells with an override are read and returned (the gradebook's: a few hundred
    scattered over a course, whose students × problems would be most of it)."""
    users = list(dict.fromkeys(user_ids))
    by_id = {ap.id: ap for ap in assignment_problems}
    if not users or not by_id:
        return {}
    exceptions = student_terms.for_assignments(
        session, {ap.assignment_id for ap in assignment_problems}, users
    )
    placed = [(ap, ap.id, ap.assignment_id) for ap in assignment_problems]
    # Every cell asked for; with only_overridden, those read (made as their rows come).
    out: dict[Key, Standing] = {
        (u, ap_id): Standing(u, ap, exception=exceptions.get((assignment_id, u)))
        for u in ([] if only_overridden else users)
        for ap, ap_id, assignment_id in placed
    }
    own: tuple[ColumnElement[bool], ...] = (
        among(session, StoredVariant.assignment_problem_id, by_id),
        among(session, StoredVariant.user_id, users),
        StoredVariant.is_practice.is_(False),
    )
    if only_overridden:
        cell = tuple_(StoredVariant.user_id, StoredVariant.assignment_problem_id)
        own = (*own, cell.in_(_overridden_cells(own)))
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
    points_per_part = _PartPoints(by_id)

    versions: dict[int, tuple[Standing, Version, float]] = {}
    for row in rows:
        standing = out.get((row.user_id, row.assignment_problem_id))
        if standing is None:
            placed_here = by_id[row.assignment_problem_id]
            standing = out[(row.user_id, placed_here.id)] = Standing(
                row.user_id,
                placed_here,
                exception=exceptions.get((placed_here.assignment_id, row.user_id)),
            )
        version = Version(
            row.id,
            len(standing.versions) + 1,
            row.created_at,
            row.replaced_at,
            parts.get(row.problem_id, []),
        )
        standing.versions.append(version)
        possible = points_per_part.possible(row.assignment_problem_id, version)
        versions[row.id] = (standing, version, possible)
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
                available=points_per_part(standing.assignment_problem.id, version),
            )
        standing.attempts.append(Attempt(submission, version, got, mine))
    policies = {ap.id: ap.assignment.score_policy for ap in assignment_problems}
    for (_, assignment_problem_id), standing in out.items():
        if not standing.versions:
            continue
        current = standing.current or standing.versions[-1]
        standing.possible = points_per_part.possible(assignment_problem_id, current)
        policy = policies[assignment_problem_id]
        standing.points = scoring.counted(policy, [a.earned for a in standing.attempts])
    return out


class _PartPoints:
    """Points per part of an item for a version's parts, worked out once per (item, parts)
    and not once per attempt (keyed by the parts list's id: an ORM attribute read costs
    more than the lookup, thousands of times over)."""

    def __init__(self, by_id: dict[int, AssignmentProblem]) -> None:
        self._by_id = by_id
        self._known: dict[tuple[int, int], dict[str, float]] = {}

    def __call__(self, assignment_problem_id: int, version: Version) -> dict[str, float]:
        key = (assignment_problem_id, id(version.parts))
        if key not in self._known:
            self._known[key] = scoring.assignment_problem_part_points(
                self._by_id[assignment_problem_id], {"parts": version.parts}
            )
        return self._known[key]

    def possible(self, assignment_problem_id: int, version: Version) -> float:
        return sum(self(assignment_problem_id, version).values())


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
