"""Editing an assignment while a term runs: settings, problems, order and points.

Each use case locks the assignment row (``SELECT … FOR UPDATE`` on PostgreSQL), so two
instructors editing at once are served one after the other; records an audit event whose
``summary`` is the sentence students are told; and commits. No submission is ever
deleted: a problem with submissions is archived instead. A change that moves scores or
lateness (dates, late penalty, points) recomputes every stored score with the grading
path's own rule (``scoring.stored_scores``) and sends the new totals to the LMS.

Who may edit is decided by the caller (services.access), as in services.teaching.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from graders.feedback import Feedback
from problem_bank.render import plural
from service.lti import passback
from service.models import (
    Assignment,
    AssignmentProblem,
    AuditEvent,
    StoredVariant,
    Submission,
    User,
    utcnow,
)
from service.services import audit, formats, scoring, student_terms, teaching, timing


class EditRefused(Exception):
    """An edit that was not made: nothing changed. ``status`` is what both fronts answer."""

    status = 422

    def __init__(self, detail: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = dict(errors or {})


class Stale(EditRefused):
    """The form was made from an assignment someone has changed since: reload and redo."""

    status = 409


STALE = "Someone changed this assignment since you opened the page; reload it and try again."


# ------------------------------------------------------------------------------ settings


def settings_marker(assignment: Assignment) -> str:
    """A short fingerprint of the settings a form was made from (its hidden ``version``)."""
    values = asdict(teaching.AssignmentSettings.of(assignment))
    text = repr(sorted((k, str(v)) for k, v in values.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def edit_settings(
    session: Session,
    assignment: Assignment,
    actor: User,
    settings: teaching.AssignmentSettings,
    *,
    marker: str | None = None,
    reason: str = "",
) -> AuditEvent | None:
    """Store new settings; None when nothing changed. Raises EditRefused / Stale.

    ``marker`` (from ``settings_marker`` when the form was drawn) makes a stale form a
    409 instead of silently undoing another instructor's change.
    """
    _lock(session, assignment)
    if marker is not None and marker != settings_marker(assignment):
        raise Stale(STALE)
    errors = teaching.check_settings(settings)
    if errors:
        raise EditRefused("The settings are not valid.", errors)
    old = teaching.AssignmentSettings.of(assignment)
    before, after = _changed(asdict(old), asdict(settings))
    if not after:
        return None
    assignment.title = settings.title.strip()[:255]
    assignment.due_at = settings.due_at
    assignment.late_until = settings.late_until
    assignment.late_penalty = settings.late_penalty
    assignment.attempts_allowed = settings.attempts_allowed
    assignment.practice_allowed = settings.practice_allowed
    assignment.score_policy = settings.score_policy
    session.flush()
    if {"due_at", "late_until", "late_penalty", "score_policy"} & after.keys():
        _rescore_and_send(session, assignment)
    event = audit.record(
        session,
        course_id=assignment.course_id,
        actor_id=actor.id,
        action="assignment_edited",
        reason=reason,
        before=_json(before),
        after=_json(after),
        assignment_id=assignment.id,
        summary=settings_summary(old, settings, after.keys()) or None,
    )
    session.commit()
    return event


def settings_summary(
    old: teaching.AssignmentSettings, new: teaching.AssignmentSettings, changed: Any
) -> str:
    """What a student is told about changed settings, one sentence per change."""
    said: list[str] = []
    if "title" in changed:
        said.append(f"The assignment is now called “{new.title}”.")
    if "due_at" in changed:
        said.append(
            f"The due date moved to {formats.time_words(new.due_at)}."
            if new.due_at
            else "The assignment no longer has a due date."
        )
    if "late_until" in changed:
        said.append(
            f"Late work is accepted until {formats.time_words(new.late_until)}."
            if new.late_until
            else "Late work is no longer accepted after the due date."
        )
    if "late_penalty" in changed:
        said.append(f"The late penalty is now {new.late_penalty * 100:g}%.")
    if "attempts_allowed" in changed:
        sentence = f"Each problem now allows {new.attempts_allowed} attempts"
        if new.attempts_allowed < old.attempts_allowed:
            sentence += (
                "; submissions you already made are kept, but if you have used that many"
                " you cannot submit more"
            )
        said.append(sentence + ".")
    if "practice_allowed" in changed:
        said.append(
            "Practice versions are now open."
            if new.practice_allowed
            else "Practice versions are now closed."
        )
    if "score_policy" in changed:
        said.append(f"Your score on each problem is now {scoring.POLICY_WORDS[new.score_policy]}.")
    if {"due_at", "late_until", "late_penalty"} & set(changed):
        said.append("Late flags and scores were recomputed.")
    return " ".join(said)


# ------------------------------------------------------------------------------ problems


def add_problem(
    session: Session, assignment: Assignment, actor: User, problem_id: int, points: float
) -> AssignmentProblem:
    """Place a published problem at the end of the assignment. Raises EditRefused."""
    _lock(session, assignment)
    try:
        problem = teaching.published_problem(session, problem_id)
        points = teaching.read_points(str(points), 10, zero_allowed=False)
    except ValueError as error:
        raise EditRefused(f"{error}.", {"problem_id": str(error)}) from error
    placed = [ap.position for ap in assignment.every_assignment_problem if ap.position > 0]
    assignment_problem = AssignmentProblem(
        assignment_id=assignment.id,
        problem=problem,
        position=max(placed, default=0) + 1,
        points=points,
    )
    session.add(assignment_problem)
    session.flush()
    _send_totals(session, assignment)
    audit.record(
        session,
        course_id=assignment.course_id,
        actor_id=actor.id,
        action="problem_added",
        after={"problem_id": problem.id, "points": points},
        assignment_id=assignment.id,
        assignment_problem_id=assignment_problem.id,
        summary=f"A problem was added: {problem.title} ({_points(points)}).",
    )
    session.commit()
    session.refresh(assignment)
    return assignment_problem


def has_submissions(session: Session, assignment_problem: AssignmentProblem) -> bool:
    """Whether any student (practice included) has submitted to this problem."""
    return bool(
        session.scalar(
            select(
                exists()
                .where(Submission.variant_id == StoredVariant.id)
                .where(StoredVariant.assignment_problem_id == assignment_problem.id)
            )
        )
    )


def remove_problem(session: Session, assignment_problem: AssignmentProblem, actor: User) -> bool:
    """Take a problem off its assignment; True if it was archived (it has submissions),
    False if it was deleted. Archived: ``archived_at`` is set and ``position`` becomes
    ``-id``, freeing its place; its variants and submissions stay."""
    assignment = assignment_problem.assignment
    _lock(session, assignment)
    session.refresh(assignment_problem)
    if assignment_problem.archived_at is not None:
        raise Stale("This problem was removed from the assignment already.")
    title = assignment_problem.problem.title
    archived = has_submissions(session, assignment_problem)
    before = {"problem_id": assignment_problem.problem_id, "points": assignment_problem.points}
    if archived:
        assignment_problem.archived_at = utcnow()
        assignment_problem.position = -assignment_problem.id
        session.flush()
        item_id: int | None = assignment_problem.id
    else:
        # Variants issued but never submitted to go with it (no student work is lost).
        session.execute(
            delete(StoredVariant).where(
                StoredVariant.assignment_problem_id == assignment_problem.id
            )
        )
        before["item_id"] = assignment_problem.id
        session.delete(assignment_problem)
        session.flush()
        item_id = None
    session.expire(assignment)
    _renumber(session, assignment, [ap.id for ap in assignment.assignment_problems])
    _send_totals(session, assignment)
    summary = f"{title} was removed from the assignment"
    audit.record(
        session,
        course_id=assignment.course_id,
        actor_id=actor.id,
        action="problem_archived" if archived else "problem_removed",
        before=before,
        assignment_id=assignment.id,
        assignment_problem_id=item_id,
        summary=summary + ("; your submissions to it are kept." if archived else "."),
    )
    session.commit()
    return archived


def reorder(session: Session, assignment: Assignment, actor: User, order: Sequence[int]) -> None:
    """Put the active problems in this order (every active item id, each once).

    A list with ids of this assignment that is not its active set is refused with 409
    (the form was made before another instructor added or removed one); a list with
    repeated ids or ids of no problem of this assignment with 422.
    """
    _lock(session, assignment)
    active = [ap.id for ap in assignment.assignment_problems]
    wanted = list(order)
    if len(set(wanted)) != len(wanted):
        raise EditRefused("Each problem must appear once in the order.", {"order": "repeated id"})
    if set(wanted) != set(active):
        every = {ap.id for ap in assignment.every_assignment_problem}
        if set(wanted) <= every:  # ids of this assignment, but not its active set now
            raise Stale(
                "The assignment's problems changed since you opened the page; "
                "reload it and try again."
            )
        raise EditRefused(
            "The order must list every problem of the assignment once, and no other.",
            {"order": f"expected the item ids {sorted(active)}"},
        )
    if wanted == active:
        return
    _renumber(session, assignment, wanted)
    audit.record(
        session,
        course_id=assignment.course_id,
        actor_id=actor.id,
        action="problems_reordered",
        before={"order": active},
        after={"order": wanted},
        assignment_id=assignment.id,
        summary="The problems were put in a new order.",
    )
    session.commit()


def move(session: Session, assignment_problem: AssignmentProblem, actor: User, step: int) -> None:
    """Move a problem one place up (step -1) or down (+1): a reorder of the whole list."""
    order = [ap.id for ap in assignment_problem.assignment.assignment_problems]
    if assignment_problem.id not in order:
        raise Stale("This problem is no longer in the assignment.")
    at = order.index(assignment_problem.id)
    to = min(max(at + step, 0), len(order) - 1)
    order.insert(to, order.pop(at))
    reorder(session, assignment_problem.assignment, actor, order)


def set_points(
    session: Session,
    assignment_problem: AssignmentProblem,
    actor: User,
    *,
    points: float | None = None,
    part_form: Any = None,
) -> None:
    """Change a problem's points: its total (parts share it by weight) or points per part
    (``part_form`` holds ``part-<item id>-<part id>`` fields, read by
    ``teaching.set_part_points``). Scores are recomputed and the totals sent to the LMS."""
    assignment = assignment_problem.assignment
    _lock(session, assignment)
    session.refresh(assignment_problem)
    if assignment_problem.archived_at is not None:
        raise Stale("This problem was removed from the assignment.")
    before = {"points": assignment_problem.points, "part_points": assignment_problem.part_points}
    if part_form is not None:
        errors = teaching.set_part_points(assignment_problem, part_form)
        if errors:
            session.rollback()
            raise EditRefused("The points per part are not valid.", errors)
    elif points is not None:
        try:
            value = teaching.read_points(str(points), 10, zero_allowed=False)
        except ValueError as error:
            raise EditRefused(f"{error}.", {"points": str(error)}) from error
        assignment_problem.points = value
        assignment_problem.part_points = None
    after = {"points": assignment_problem.points, "part_points": assignment_problem.part_points}
    if after == before:
        session.rollback()
        return
    session.flush()
    _rescore_and_send(session, assignment, [assignment_problem])
    title = assignment_problem.problem.title
    audit.record(
        session,
        course_id=assignment.course_id,
        actor_id=actor.id,
        action="points_changed",
        before=before,
        after=after,
        assignment_id=assignment.id,
        assignment_problem_id=assignment_problem.id,
        summary=(
            f"{title} is now worth {_points(assignment_problem.points)}"
            + (" (points per part changed)" if part_form is not None else "")
            + "; scores were recomputed."
        ),
    )
    session.commit()


# --------------------------------------------------------------------------- recompute


@dataclass(frozen=True)
class Rescored:
    #: Every student with a submission here, changed or not: their total may have moved
    #: (points), and passback skips totals already sent unchanged.
    students: set[int]
    #: Submissions whose late flag or stored scores changed.
    changed: int


def rescore(
    session: Session,
    assignment: Assignment,
    assignment_problems: Sequence[AssignmentProblem] | None = None,
    user_ids: Collection[int] | None = None,
) -> Rescored:
    """Recompute ``is_late``, ``raw_score`` and ``score`` of the assignment's submissions
    (of the given problems only, and these students only, if given). One student's
    exception rescores that student only.

    Late means submitted after the student's own due date (their exception, if any).
    Practice submissions are never late.
    """
    query = (
        select(Submission, StoredVariant, AssignmentProblem)
        .join(StoredVariant, StoredVariant.id == Submission.variant_id)
        .join(AssignmentProblem, AssignmentProblem.id == StoredVariant.assignment_problem_id)
        .where(AssignmentProblem.assignment_id == assignment.id)
    )
    if assignment_problems is not None:
        query = query.where(AssignmentProblem.id.in_([ap.id for ap in assignment_problems]))
    if user_ids is not None:
        query = query.where(Submission.user_id.in_(list(user_ids)))
    rows = list(session.execute(query).all())
    user_ids = {submission.user_id for submission, _, _ in rows}
    exceptions = student_terms.for_assignments(session, [assignment.id], sorted(user_ids))
    changed = 0
    for submission, variant, assignment_problem in rows:
        before = (submission.is_late, submission.raw_score, submission.score)
        dates = student_terms.terms(assignment, exceptions.get((assignment.id, submission.user_id)))
        submitted = timing.as_utc(submission.created_at)
        submission.is_late = not variant.is_practice and timing.is_late(dates, submitted)
        if submission.feedback is not None:  # else the worker scores it with the new settings
            submission.raw_score, submission.score = scoring.stored_scores(
                Feedback.from_dict(submission.feedback),
                variant.content,
                total_points=assignment_problem.points,
                fixed_part_points=assignment_problem.part_points,
                is_late=submission.is_late,
                late_penalty=assignment.late_penalty,
            )
        changed += before != (submission.is_late, submission.raw_score, submission.score)
    session.flush()
    return Rescored(user_ids, changed)


def _rescore_and_send(
    session: Session,
    assignment: Assignment,
    assignment_problems: Sequence[AssignmentProblem] | None = None,
) -> None:
    rescore(session, assignment, assignment_problems)
    _send_totals(session, assignment)


def _send_totals(session: Session, assignment: Assignment) -> None:
    """Record the LMS total of every student who has a variant here (passback skips
    totals already sent unchanged): a problem added or removed moves the maximum too."""
    user_ids = sorted(
        set(
            session.scalars(
                select(StoredVariant.user_id)
                .join(
                    AssignmentProblem,
                    AssignmentProblem.id == StoredVariant.assignment_problem_id,
                )
                .where(
                    AssignmentProblem.assignment_id == assignment.id,
                    StoredVariant.is_practice.is_(False),
                )
            )
        )
    )
    if user_ids:
        session.expire(assignment)
        passback.record_totals(session, assignment, user_ids)


# ------------------------------------------------------------------------------ helpers


def _lock(session: Session, assignment: Assignment) -> None:
    """Lock the assignment row for this transaction and reload it (FOR UPDATE is a
    no-op on SQLite, whose writers are serialised anyway)."""
    session.scalars(
        select(Assignment)
        .where(Assignment.id == assignment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    # Its problems as committed now, not as this session read them before the lock.
    session.scalars(
        select(AssignmentProblem)
        .where(AssignmentProblem.assignment_id == assignment.id)
        .execution_options(populate_existing=True)
    ).all()
    session.expire(assignment, ["assignment_problems", "every_assignment_problem"])


def _renumber(session: Session, assignment: Assignment, order: Sequence[int]) -> None:
    """Positions 1..n in this order, in two phases inside the transaction: first each
    to ``-id`` (free, as archived rows use their own id), then to its place, so no
    intermediate state breaks the unique (assignment, position)."""
    by_id = {ap.id: ap for ap in assignment.every_assignment_problem}
    if all(by_id[i].position == n for n, i in enumerate(order, start=1)):
        return
    for item_id in order:
        by_id[item_id].position = -item_id
    session.flush()
    for position, item_id in enumerate(order, start=1):
        by_id[item_id].position = position
    session.flush()
    session.expire(assignment, ["assignment_problems"])


def _changed(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _json(values: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as JSON values for the audit log (dates as ISO text)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, datetime):
            value = timing.as_utc(value).isoformat()  # type: ignore[union-attr]
        out[key] = str(value) if hasattr(value, "value") else value
    return out


def _points(value: float) -> str:
    return plural(round(float(value), 2), "point")
