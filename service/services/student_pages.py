"""What a student's problem page shows, and when: attempts, lateness, the worked solution.

The rule that matters most lives here: a worked solution (and with it the reference
answers and the explanation of the right choice) is shown only after the student's last
attempt, once the assignment has closed, or, for a practice version, once that version has
been graded at least once. Before that a wrong answer is told only why it is wrong.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service import prose
from service.models import (
    AssignmentProblem,
    AuditEvent,
    ScoreOverride,
    ScorePolicy,
    StoredVariant,
    Submission,
    SubmissionStatus,
    User,
)
from service.services import audit, formats, scoring, standings, student_terms, timing, variants


@dataclass
class ProblemPage:
    """Everything the problem template needs, already decided."""

    assignment_problem: AssignmentProblem
    variant: StoredVariant
    submissions: list[Submission]
    practice: bool
    attempts_left: int | None
    closed: bool
    late_now: bool
    solution_visible: bool
    part_points: dict[str, float]
    #: The student's terms (an exception's dates and extra attempts applied).
    terms: student_terms.Terms
    #: Points per attempt (overrides counted), by submission id.
    earned: dict[int, scoring.Earned] = field(default_factory=dict)
    #: The instructor's overrides, by submission id.
    overrides: dict[int, list[ScoreOverride]] = field(default_factory=dict)
    #: The points that count under the score policy (None before a graded attempt).
    counted: float | None = None
    #: What the instructor changed that the student is told, newest first.
    changes: list[AuditEvent] = field(default_factory=list)

    @property
    def archived(self) -> bool:
        """Removed from the assignment after the student submitted: shown, read-only."""
        return self.assignment_problem.archived_at is not None

    @property
    def policy_text(self) -> str:
        """Which attempt counts and what that makes: "your score is your best attempt,
        10/10" (blank for practice, or before an attempt is graded)."""
        if self.practice or self.counted is None:
            return ""
        words = scoring.POLICY_WORDS[ScorePolicy(self.assignment_problem.assignment.score_policy)]
        counted, possible = formats.points(self.counted), formats.points(self.points_possible)
        return f"your score is {words}, {counted}/{possible}"

    @property
    def content(self) -> dict[str, Any]:
        return self.variant.content

    @property
    def latest(self) -> Submission | None:
        return self.submissions[-1] if self.submissions else None

    @property
    def points_possible(self) -> float:
        return sum(self.part_points.values())

    @property
    def can_submit(self) -> bool:
        if self.archived:
            return False
        if self.practice:
            return True
        return not self.closed and (self.attempts_left is None or self.attempts_left > 0)

    def override_of(self, submission_id: int, part_id: str | None) -> ScoreOverride | None:
        """The instructor's current override of a part (None: of the whole attempt)."""
        return next(
            (o for o in self.overrides.get(submission_id, []) if o.part_id == part_id), None
        )

    def last_answers(self) -> dict[str, Any]:
        return dict(self.latest.answers) if self.latest else {}

    def key_explanation(self, part_id: str, verdict: str) -> str:
        """Why the right answer is right, to show beside a verdict that is not correct:
        only once the answer key is shown (a correct verdict's message already has it)."""
        if not self.solution_visible or verdict == "correct":
            return ""
        for part in self.content.get("parts", []):
            if part.get("id") == part_id:
                return str(part.get("explanation", ""))
        return ""


def submissions_of(session: Session, variant: StoredVariant) -> list[Submission]:
    return list(
        session.scalars(
            select(Submission).where(Submission.variant_id == variant.id).order_by(Submission.id)
        )
    )


def build(session: Session, variant: StoredVariant) -> ProblemPage:
    """The page for one stored variant (an assignment one or a practice one)."""
    assignment_problem = variant.assignment_problem
    assert assignment_problem is not None, "every web variant belongs to an assignment item"
    assignment = assignment_problem.assignment
    subs = submissions_of(session, variant)
    terms = student_terms.for_student(session, assignment, variant.user_id)
    closed = timing.is_closed(terms)
    if variant.is_practice:
        attempts_left = None
        visible = any(s.status == SubmissionStatus.graded for s in subs)
    else:
        attempts_left = max(0, terms.attempts_allowed - len(subs))
        visible = attempts_left == 0 or closed
    page = ProblemPage(
        assignment_problem=assignment_problem,
        variant=variant,
        submissions=subs,
        practice=variant.is_practice,
        attempts_left=attempts_left,
        closed=closed,
        late_now=timing.is_late(terms),
        solution_visible=visible,
        part_points=scoring.assignment_problem_part_points(assignment_problem, variant.content),
        terms=terms,
        changes=audit.told_to_students(session, assignment.id, variant.user_id),
    )
    if not variant.is_practice:
        standing = standings.standing(session, variant.user_id, assignment_problem)
        page.counted = standing.points
        for attempt in standing.attempts:
            if attempt.overrides:
                page.overrides[attempt.submission.id] = attempt.overrides
    for sub in subs:
        got = scoring.earned(
            assignment_problem, variant.content, sub, page.overrides.get(sub.id, ())
        )
        if got is not None:
            page.earned[sub.id] = got
    return page


def status_body(session: Session, submission: Submission) -> dict[str, Any]:
    """The JSON the page polls: the verdicts with points, the total and what is left."""
    page = build(session, submission.variant)
    got = page.earned.get(submission.id)
    parts = []
    for fb in (submission.feedback or {}).get("parts", []):
        parts.append(
            {
                **fb,
                "points": round(got[0].get(fb["id"], 0.0), 2) if got else None,
                "points_possible": round(page.part_points.get(fb["id"], 0.0), 2),
                "explanation": (why := page.key_explanation(fb["id"], fb.get("verdict", ""))),
                "explanation_html": str(prose.to_html(why)),
            }
        )
    return {
        "id": submission.id,
        "status": submission.status.value,
        "attempt": submission.attempt_number,
        "score": submission.score,
        "is_late": submission.is_late,
        "practice": page.practice,
        "feedback": submission.feedback,
        "parts": parts,
        "points": round(got[1], 2) if got else None,
        "points_possible": round(page.points_possible, 2),
        "attempts_left": page.attempts_left,
        "policy_text": page.policy_text,
        "solution_available": page.solution_visible,
        "failed": submission.status == SubmissionStatus.failed,
    }


def new_practice_variant(
    session: Session, user: User, assignment_problem: AssignmentProblem
) -> StoredVariant:
    """A fresh practice version of the item's problem with a new random seed.

    Practice variants are stored like any other (so their data never change) but are
    flagged, and never count towards the assignment score.
    """
    for _ in range(5):
        seed = secrets.randbelow(2**variants.SEED_BITS)
        content = variants.generate_content(assignment_problem.problem.spec_text, seed)
        row = StoredVariant(
            user_id=user.id,
            problem_id=assignment_problem.problem_id,
            assignment_problem_id=assignment_problem.id,
            seed=seed,
            is_practice=True,
            content=content,
        )
        try:
            with session.begin_nested():
                session.add(row)
            session.commit()
            return row
        except IntegrityError:  # the same random seed twice: draw again
            continue
    raise RuntimeError("could not draw a fresh practice seed")


def practice_variants(session: Session, user_id: int, item_id: int) -> list[StoredVariant]:
    return variants.of_item(session, user_id, item_id, practice=True)
