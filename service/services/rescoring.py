"""Late flags and stored scores worked out again when a student's dates change.

A submission is late when it was made after the due date that applied to its student
(``timing.is_late`` at submit time). When that date moves — an edited assignment, or a
per-student exception — the flag and the stored score (the raw share after the late
penalty, ``scoring.final_score``) are recomputed from what was stored at grading time;
nothing is graded again and no submission is removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy.orm import Session

from service.models import Submission
from service.services import scoring, timing


def rescore_submissions(
    session: Session,
    submissions: Iterable[Submission],
    terms_by_user: Mapping[int, timing.Dated],
) -> list[Submission]:
    """Set each submission's ``is_late`` and ``score`` under its student's dates.

    ``terms_by_user`` maps a user id to the dates that apply to them (the assignment, or
    their ``student_terms.Terms``). Practice submissions are never late. Returns the
    submissions that changed; flushes, the caller commits (and sends the new totals).
    """
    changed = []
    for submission in submissions:
        variant = submission.variant
        if variant.is_practice or variant.assignment_problem is None:
            continue
        dates = terms_by_user[submission.user_id]
        late = timing.is_late(dates, timing.as_utc(submission.created_at))
        penalty = variant.assignment_problem.assignment.late_penalty
        score = submission.score
        if submission.raw_score is not None:
            score = scoring.final_score(submission.raw_score, is_late=late, late_penalty=penalty)
        if late != submission.is_late or score != submission.score:
            submission.is_late, submission.score = late, score
            changed.append(submission)
    session.flush()
    return changed
