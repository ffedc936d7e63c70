"""Turning a grader's raw score into the score that counts: the late penalty."""

from __future__ import annotations

from service.models import Submission


def submission_scores(submission: Submission, raw: float) -> tuple[float, float]:
    """(raw, final): a late submission loses the assignment's late_penalty fraction."""
    item = submission.variant.assignment_problem
    penalty = item.assignment.late_penalty if (item is not None and submission.is_late) else 0.0
    return raw, max(0.0, raw * (1.0 - penalty))
