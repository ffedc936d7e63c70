"""Regrading: grade every stored submission of an item again, against its stored variant.

Variants never change, so a regrade re-runs the (possibly fixed) grader on the same data
and reference answers the student saw. A fixed spec is a new problem version; switching
an item to it affects only variants issued from then on.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import queue
from service.models import (
    AssignmentProblem,
    Problem,
    ProblemStatus,
    StoredVariant,
    Submission,
    SubmissionStatus,
    utcnow,
)


def regrade_assignment_problem(
    session: Session, assignment_problem: AssignmentProblem
) -> tuple[int, int]:
    """Re-queue every graded or failed submission of the item; (re-queued, sent now).

    They are marked queued and committed before sending, so any that cannot be sent
    now (broker down) are picked up by the stuck-submission sweep.
    """
    subs = session.scalars(
        select(Submission)
        .join(StoredVariant, Submission.variant_id == StoredVariant.id)
        .where(
            StoredVariant.assignment_problem_id == assignment_problem.id,
            Submission.status.in_([SubmissionStatus.graded, SubmissionStatus.failed]),
        )
        .order_by(Submission.id)
    ).all()
    now = utcnow()
    for s in subs:
        s.status = SubmissionStatus.queued
        s.queued_at = now
        s.started_at = None
        s.failure_reason = None
        s.enqueue_count += 1
    session.commit()
    sent = sum(queue.send_grading(s.id) for s in subs)
    return len(subs), sent


def newer_version(session: Session, assignment_problem: AssignmentProblem) -> Problem | None:
    """The newest published version of the item's problem, if newer than the item's."""
    newest = session.scalar(
        select(Problem)
        .where(
            Problem.slug == assignment_problem.problem.slug,
            Problem.status == ProblemStatus.published,
        )
        .order_by(Problem.version.desc())
        .limit(1)
    )
    if newest is None or newest.version <= assignment_problem.problem.version:
        return None
    return newest


def switch_version(
    session: Session, assignment_problem: AssignmentProblem, problem: Problem
) -> None:
    """Point the item at a newer version: only variants issued from now on use it."""
    assignment_problem.problem = problem
    session.commit()
