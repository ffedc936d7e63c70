"""The score that counts, in one place: points per part, the late penalty, overrides,
the score policy and the totals.

An item has ``points`` in total and optional ``part_points``; how parts share them is
graders.scoring's rule. The share stored at grading time (sent to the gradebook and the
LMS) and the points the pages show are both worked out here, so they never disagree, and
the late penalty is applied by one function. An instructor's override is counted here on
top of the graded attempt (the graded row is never rewritten), and the assignment's score
policy picks which attempts count (:func:`counted`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from graders import scoring as rule
from graders.feedback import Feedback
from service.models import AssignmentProblem, ScoreOverride, ScorePolicy

part_points = rule.part_points


def late_factor(*, is_late: bool, late_penalty: float | None) -> float:
    """What a late submission keeps: 1 − the assignment's ``late_penalty`` (0.2 = 20 %)."""
    penalty = (late_penalty or 0.0) if is_late else 0.0
    return max(0.0, 1.0 - penalty)


def final_score(raw: float, *, is_late: bool, late_penalty: float | None) -> float:
    """The stored score: the raw share after any late penalty."""
    return max(0.0, raw * late_factor(is_late=is_late, late_penalty=late_penalty))


def _weights(content: Mapping[str, Any]) -> list[tuple[str, float]]:
    return [(p["id"], float(p.get("weight", 1.0))) for p in content.get("parts", [])]


def points_fraction(
    feedback: Feedback,
    content: Mapping[str, Any],
    total_points: float | None,
    fixed_part_points: Mapping[str, float] | None,
) -> float:
    """Share of the item's points earned, in [0, 1], before any late penalty.

    Without points set per part this is the grader's weighted score; with them, each part
    counts by its points, so the stored score is the one the pages show.
    """
    if not fixed_part_points or not total_points:
        return feedback.score
    available = rule.part_points(total_points, fixed_part_points, _weights(content))
    if sum(available.values()) <= 0:
        return feedback.score
    return rule.share(available, {p.id: p.score for p in feedback.parts})


def stored_scores(
    feedback: Feedback,
    content: Mapping[str, Any],
    *,
    total_points: float | None,
    fixed_part_points: Mapping[str, float] | None,
    is_late: bool,
    late_penalty: float | None,
) -> tuple[float, float]:
    """(raw_score, score) a submission stores: when it is graded, and again when an
    instructor changes points or dates (assignment_editing), so both agree."""
    raw = points_fraction(feedback, content, total_points, fixed_part_points)
    return raw, final_score(raw, is_late=is_late, late_penalty=late_penalty)


def assignment_problem_part_points(
    assignment_problem: AssignmentProblem, content: Mapping[str, Any]
) -> dict[str, float]:
    """Points available per part of a stored variant of this item."""
    return rule.part_points(
        assignment_problem.points, assignment_problem.part_points, _weights(content)
    )


def assignment_problem_total(
    assignment_problem: AssignmentProblem, content: Mapping[str, Any]
) -> float:
    return sum(assignment_problem_part_points(assignment_problem, content).values())


#: Decimals an attempt's points are kept to. The same points reached by different arithmetic
#: (a stored share × the points possible, or the parts' points added up) differ in a float's
#: last bits: 1.8 and 1.8000000000000003. Kept to 9 decimals they are one number, so the
#: gradebook, the student page and the LMS can never round them apart (2.67 against 2.68).
POINTS_DECIMALS = 9


def kept(points: float) -> float:
    """Points as every reader keeps them (see POINTS_DECIMALS)."""
    return round(points, POINTS_DECIMALS)


def points_from_share(share: float, possible: float) -> float:
    """An attempt's points from its stored share of the points possible."""
    return kept(share * possible)


def mean_points(total: float, count: int) -> float:
    """The "average" policy's points: the graded attempts' points added up, over how many.

    Kept (POINTS_DECIMALS) like each attempt's points: the gradebook adds up a course's
    shares in the database and the student page adds up each attempt's points, and the two
    sums differ in a float's last bits.
    """
    return kept(total / count)


class Earned(NamedTuple):
    """An attempt's points: per part, and in total after the late penalty and overrides."""

    per_part: Mapping[str, float]
    total: float
    overridden: bool = False


class Graded(Protocol):
    """What scoring reads of an attempt: a Submission row, or a lighter read of one."""

    @property
    def feedback(self) -> dict[str, Any] | None: ...

    @property
    def is_late(self) -> bool: ...


def earned_as_stored(score: float | None, possible: float) -> Earned | None:
    """An attempt's points from its stored score, without reading its feedback.

    The stored score is the share of the points after the late penalty, worked out by
    :func:`stored_scores` when the attempt was graded and again whenever an instructor
    changes its points or dates, so ``score × possible`` is :func:`earned`'s total (the
    gradebook reads 15,000 attempts this way; a test holds the two equal). Only for an
    attempt without overrides: an overridden one is scored from its feedback.
    """
    if score is None:
        return None
    return Earned(_NOT_READ, points_from_share(score, possible))


#: The per-part points of an attempt scored from its stored score: not read (one shared
#: empty mapping, not a new dict for each of thousands of attempts).
_NOT_READ: Mapping[str, float] = MappingProxyType({})


def earned(
    assignment_problem: AssignmentProblem,
    content: Mapping[str, Any],
    submission: Graded,
    overrides: Iterable[ScoreOverride] = (),
    *,
    available: Mapping[str, float] | None = None,
) -> Earned | None:
    """The attempt's points, or None while it is not graded.

    A part's override replaces the points that part earned; the late penalty then applies
    to the total as it would have. An override of the whole attempt is the attempt's
    points as the instructor gave them: no penalty is taken off again.
    """
    if submission.feedback is None:
        return None
    if available is None:  # a caller scoring many attempts works it out once (standings)
        available = assignment_problem_part_points(assignment_problem, content)
    per_part = {
        p["id"]: available.get(p["id"], 0.0) * float(p.get("score", 0.0))
        for p in submission.feedback.get("parts", [])
    }
    whole: float | None = None
    overridden = False
    for override in overrides:
        overridden = True
        if override.part_id is None:
            whole = override.points
        else:
            per_part[override.part_id] = override.points
    if whole is not None:
        return Earned(per_part, kept(whole), True)
    keeps = late_factor(
        is_late=submission.is_late, late_penalty=assignment_problem.assignment.late_penalty
    )
    return Earned(per_part, kept(sum(per_part.values()) * keeps), overridden)


#: How the student page names the attempts that count ("your score is your best attempt").
POLICY_WORDS: dict[ScorePolicy, str] = {
    ScorePolicy.best: "your best attempt",
    ScorePolicy.last: "your last attempt",
    ScorePolicy.average: "the average of your attempts",
}


def counted(policy: ScorePolicy, attempts: Sequence[Earned | None]) -> float | None:
    """The problem's points under the score policy; None until an attempt is graded.

    ``attempts`` in the order they were made; ungraded ones (queued, failed) are skipped:
    "last" is the last graded attempt, "average" the mean of the graded ones.
    """
    return counted_totals(policy, [a.total for a in attempts if a is not None])


def counted_totals(policy: ScorePolicy, totals: Sequence[float]) -> float | None:
    """:func:`counted` of the graded attempts' totals, in the order they were made."""
    if not totals:
        return None
    if policy == ScorePolicy.last:
        return totals[-1]
    if policy == ScorePolicy.average:
        return mean_points(sum(totals), len(totals))
    return max(totals)
