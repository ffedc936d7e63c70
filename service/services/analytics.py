"""Where the class struggles, per problem part: first-attempt and eventual success, and
the misconceptions met most often (as a share of the students who answered)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import AssignmentProblem, Submission, SubmissionStatus, Variant


@dataclass
class MisconceptionCount:
    id: str
    message: str
    students: int
    share: float


@dataclass
class PartStats:
    id: str
    prompt: str
    students: int = 0
    first_correct: float = 0.0
    eventually_correct: float = 0.0
    misconceptions: list[MisconceptionCount] = field(default_factory=list)


def graded(session: Session, item: AssignmentProblem) -> list[tuple[Submission, Variant]]:
    """The students' own (not practice) graded submissions of this item, per student in
    attempt order: what the analytics count."""
    rows = session.execute(
        select(Submission, Variant)
        .join(Variant, Submission.variant_id == Variant.id)
        .where(
            Variant.assignment_problem_id == item.id,
            Variant.is_practice.is_(False),
            Submission.status == SubmissionStatus.graded,
        )
        .order_by(Submission.user_id, Submission.attempt_number)
    ).all()
    return [(submission, variant) for submission, variant in rows]


def for_item(session: Session, item: AssignmentProblem) -> list[PartStats]:
    """Stats over the students' own (not practice) graded submissions of this item."""
    rows = graded(session, item)
    prompts: dict[str, str] = {}
    messages: dict[tuple[str, str], str] = {}
    order: list[str] = []
    # part id → user id → verdicts in attempt order; and misconceptions seen per user
    verdicts: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    seen: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for submission, variant in rows:
        for part in variant.content.get("parts", []):
            if part["id"] not in prompts:
                prompts[part["id"]] = part.get("prompt", "")
                order.append(part["id"])
            for m in part.get("misconceptions", []):
                messages.setdefault((part["id"], m["id"]), m.get("message", ""))
        for fb in (submission.feedback or {}).get("parts", []):
            if fb["verdict"] in ("unanswered", "unreadable"):
                continue
            verdicts[fb["id"]][submission.user_id].append(fb["verdict"])
            if fb.get("misconception"):
                seen[fb["id"]][fb["misconception"]].add(submission.user_id)
    out = []
    for part_id in order:
        by_user = verdicts.get(part_id, {})
        n = len(by_user)
        stats = PartStats(part_id, prompts[part_id], students=n)
        if n:
            stats.first_correct = sum(v[0] == "correct" for v in by_user.values()) / n
            stats.eventually_correct = sum("correct" in v for v in by_user.values()) / n
            counts = Counter({m: len(users) for m, users in seen.get(part_id, {}).items()})
            stats.misconceptions = [
                MisconceptionCount(m, messages.get((part_id, m), ""), c, c / n)
                for m, c in counts.most_common()
            ]
        out.append(stats)
    return out
