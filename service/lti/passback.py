"""Grade passback (AGS): after grading, record the score for each LMS line item and send it.

A link whose launch gave only the course's line-item service gets its score recorded
too; the worker finds or creates the line item before posting (see ``lineitems``).

``after_graded`` runs in the grading transaction and only writes rows; the Celery task is
sent once that transaction commits, so a worker never looks for a row that is not there
and a crash in between loses nothing (``resend_unsent`` picks such rows up). The score
sent is the student's assignment total (each problem's points under the assignment's
score policy, overrides counted), so the LMS column matches mixgrade's gradebook.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from graders.celery_app import celery_app
from service.lti import advantage, lineitems
from service.models import (
    Assignment,
    LtiContext,
    LtiContextMember,
    LtiIdentity,
    LtiResourceLink,
    LtiScoreSend,
    ScoreSendStatus,
    Submission,
    SubmissionStatus,
    utcnow,
)
from service.services import standings

log = logging.getLogger(__name__)

#: The registered name of the task that posts one score (service.lti.tasks.send_score).
#: Sent by name, so this module needs no import of the task's module (which imports
#: this one to deliver); the app's routes apply to a task sent by name as well.
SEND_SCORE_TASK = "mixgrade.lti.send_score"


def score_for(
    session: Session, user_id: int, assignment: Assignment, subject: str
) -> dict[str, Any]:
    """The AGS score object for a student's assignment total, stamped now.

    The total is the one the gradebook shows: each problem's points under the score
    policy, overrides counted (services/standings).
    """
    placed = assignment.assignment_problems
    mine = standings.standings(session, placed, [user_id])
    given, maximum, done, pending = 0.0, 0.0, 0, False
    for assignment_problem in placed:
        standing = mine[(user_id, assignment_problem.id)]
        maximum += standing.possible_or_default
        given += standing.points or 0.0
        done += 1 if standing.attempts else 0
        pending = pending or standing.pending
    return {
        "userId": subject,
        "scoreGiven": round(given, 4),
        "scoreMaximum": round(maximum, 4),
        "activityProgress": "Completed" if done == len(placed) else "InProgress",
        "gradingProgress": "Pending" if pending else "FullyGraded",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }


def after_graded(session: Session, submission: Submission | int) -> list[int]:
    """Record a score send for each LMS line item this submission's assignment is placed in.

    Call it in the transaction that stored the grade. Does nothing for practice versions
    or students who never came from an LMS. A submission graded again with the same
    result sends nothing new; a regrade that changes the total sends the new total.
    Only line items of the LMS courses the student launched from or is rostered in get it.
    The tasks are queued after the caller commits. It never raises: a passback problem
    must not undo a grade, so it runs in a savepoint and is logged. ``submission`` may be
    the row or its id.
    """
    if isinstance(submission, int):
        found = session.get(Submission, submission)
        if found is None:
            return []
        submission = found
    try:
        with session.begin_nested():
            return _record(session, submission)
    except Exception:
        log.exception("recording the LMS score of submission %s failed", submission.id)
        return []


def _record(session: Session, submission: Submission) -> list[int]:
    session.flush()
    session.refresh(submission)
    variant = submission.variant
    assignment_problem = variant.assignment_problem
    if (
        variant.is_practice
        or assignment_problem is None
        or submission.status != SubmissionStatus.graded
    ):
        return []
    return _record_total(session, submission.user_id, assignment_problem.assignment, submission.id)


def record_totals(session: Session, assignment: Assignment, user_ids: Iterable[int]) -> list[int]:
    """Record (and, after the caller commits, send) these students' assignment totals.

    For changes that move scores without a new grade: an edit of points or dates, an
    override, an exception, a new version. Call it in the transaction that made the
    change. A total the LMS already has unchanged is not sent again; students who never
    came from an LMS are skipped. It never raises (see :func:`after_graded`).
    """
    ids: list[int] = []
    for user_id in dict.fromkeys(user_ids):
        try:
            with session.begin_nested():
                ids += _record_total(session, user_id, assignment, None)
        except Exception:
            log.exception("recording the LMS total of user %s failed", user_id)
    return ids


def _record_total(
    session: Session, user_id: int, assignment: Assignment, submission_id: int | None
) -> list[int]:
    """Score sends of one student's total on one assignment, to each of their line items.

    With a ``submission_id`` (a grade), a regrade with the same result sends nothing new;
    without one (an instructor's change), a total equal to the last one sent to that line
    item is not sent again.
    """
    identities = {
        row.platform_id: row.subject
        for row in session.scalars(select(LtiIdentity).where(LtiIdentity.user_id == user_id))
    }
    if not identities:
        return []
    # Only the line items of LMS courses this student is in: one assignment may be placed
    # in several LMS courses, and each gradebook gets only its own students.
    member_of = select(LtiContextMember.context_row_id).where(LtiContextMember.user_id == user_id)
    # A link with a line item, or in an LMS course with a line-item service to make one.
    links = session.scalars(
        select(LtiResourceLink)
        .join(LtiContext, LtiResourceLink.context_row_id == LtiContext.id)
        .where(
            LtiResourceLink.assignment_id == assignment.id,
            LtiResourceLink.lineitem_url.is_not(None) | LtiContext.lineitems_url.is_not(None),
            LtiResourceLink.platform_id.in_(list(identities)),
            LtiResourceLink.context_row_id.in_(member_of),
        )
    ).all()
    created: list[LtiScoreSend] = []
    for link in links:
        payload = score_for(session, user_id, assignment, identities[link.platform_id])
        same = (
            LtiScoreSend.submission_id == submission_id
            if submission_id is not None
            else LtiScoreSend.user_id == user_id
        )
        earlier = session.scalar(
            select(LtiScoreSend)
            .where(same, LtiScoreSend.resource_link_id == link.id)
            .order_by(LtiScoreSend.id.desc())
            .limit(1)
        )
        if earlier is not None and _same_score(earlier.payload, payload):
            continue  # the LMS has this total already
        row = LtiScoreSend(
            resource_link=link,
            user_id=user_id,
            submission_id=submission_id,
            lineitem_url=link.lineitem_url,
            payload=payload,
            status=ScoreSendStatus.pending,
        )
        session.add(row)
        created.append(row)
    session.flush()
    ids = [row.id for row in created]
    if ids:
        _queue_after_commit(session, ids)
    return ids


def _same_score(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("scoreGiven", "scoreMaximum", "activityProgress", "gradingProgress")
    return all(a.get(k) == b.get(k) for k in keys)


def _queue_after_commit(session: Session, ids: list[int]) -> None:
    def _send(_session: Session) -> None:
        for send_id in ids:
            queue_send(send_id)

    event.listen(session, "after_commit", _send, once=True)


def queue_send(send_id: int, countdown: float = 0) -> bool:
    """Hand a score send to the workers; False (and left for resend) if the broker is down."""
    try:
        celery_app.send_task(SEND_SCORE_TASK, args=(send_id,), countdown=countdown, retry=False)
    except Exception as error:  # kombu/redis raise transport-specific errors
        log.warning("score send %s left for resend: %s", send_id, error)
        return False
    return True


def deliver(session: Session, send_id: int) -> str:
    """Post one recorded score now. Raises advantage.PlatformUnavailable to be retried.

    The link's granted scopes are checked first: without the score scope nothing is
    sent (and no line item made for a score that could not go), and the row says why.
    """
    row = session.get(LtiScoreSend, send_id)
    if row is None:
        return "missing"
    if row.status == ScoreSendStatus.sent:
        return "already sent"
    row.tries += 1
    link = row.resource_link
    try:
        advantage.require(link.ags_scopes, advantage.POST_SCORE)
        url = row.lineitem_url or lineitems.url_for_link(session, link)
        row.lineitem_url = url
        status = advantage.post_score(session, link.platform, url, row.payload, link.ags_scopes)
    except advantage.PlatformUnavailable as error:
        row.last_error = str(error)[:2000]
        session.commit()
        raise
    except advantage.PlatformRefused as error:
        row.status = ScoreSendStatus.failed
        row.response_status = error.status
        row.last_error = str(error)[:2000]
        session.commit()
        return "refused"
    row.status = ScoreSendStatus.sent
    row.response_status = status
    row.sent_at = utcnow()
    row.last_error = None
    session.commit()
    return "sent"


def give_up(session: Session, send_id: int, reason: str) -> None:
    row = session.get(LtiScoreSend, send_id)
    if row is not None and row.status != ScoreSendStatus.sent:
        row.status = ScoreSendStatus.failed
        row.last_error = f"gave up after {row.tries} tries: {reason}"[:2000]
        session.commit()


def resend_unsent(session: Session, *, include_failed: bool = False) -> list[int]:
    """Queue again every score send not sent yet (after an outage, or on request)."""
    wanted = [ScoreSendStatus.pending]
    if include_failed:
        wanted.append(ScoreSendStatus.failed)
    rows = session.scalars(select(LtiScoreSend).where(LtiScoreSend.status.in_(wanted))).all()
    for row in rows:
        row.status = ScoreSendStatus.pending
    session.commit()
    return [row.id for row in rows if queue_send(row.id)]


def resend_never_tried(session: Session, older_than_seconds: float = 300) -> list[int]:
    """Queue pending sends that no worker ever tried (the broker was down at commit time).

    Rows with tries > 0 are in a Celery retry chain already and are left to it, so a
    periodic sweep never starts a second chain for the same score.
    """
    from datetime import timedelta

    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    rows = session.scalars(
        select(LtiScoreSend.id).where(
            LtiScoreSend.status == ScoreSendStatus.pending,
            LtiScoreSend.tries == 0,
            LtiScoreSend.created_at < cutoff,
        )
    ).all()
    return [send_id for send_id in rows if queue_send(send_id)]


def sends_for_course(session: Session, course_id: int, limit: int = 500) -> list[LtiScoreSend]:
    """The record of scores sent for a course's assignments, newest first."""
    return list(
        session.scalars(
            select(LtiScoreSend)
            .join(LtiResourceLink)
            .join(Assignment, LtiResourceLink.assignment_id == Assignment.id)
            .where(Assignment.course_id == course_id)
            .order_by(LtiScoreSend.id.desc())
            .limit(limit)
        )
    )
