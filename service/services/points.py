"""Points per part and per submission, as the assignment item sets them.

An item has ``points`` in total and optional ``part_points``; parts not listed share
what is left in proportion to their weights. The same rule serves the problem page, the
course page, the gradebook and the CSV export, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from service.models import AssignmentProblem, Submission


def part_points(
    total: float, fixed: Mapping[str, float] | None, parts: Iterable[tuple[str, float]]
) -> dict[str, float]:
    """Part id → points available, from (part id, weight) pairs."""
    parts = list(parts)
    fixed = {k: float(v) for k, v in (fixed or {}).items() if k in {p for p, _ in parts}}
    rest = max(0.0, float(total) - sum(fixed.values()))
    free_weight = sum(w for p, w in parts if p not in fixed)
    out: dict[str, float] = {}
    for part_id, weight in parts:
        if part_id in fixed:
            out[part_id] = fixed[part_id]
        else:
            out[part_id] = rest * weight / free_weight if free_weight > 0 else 0.0
    return out


def item_part_points(item: AssignmentProblem, content: dict[str, Any]) -> dict[str, float]:
    """Points available per part of a stored variant of this item."""
    parts = [(p["id"], float(p.get("weight", 1.0))) for p in content.get("parts", [])]
    return part_points(item.points, item.part_points, parts)


def item_total(item: AssignmentProblem, content: dict[str, Any]) -> float:
    return sum(item_part_points(item, content).values())


def earned(
    item: AssignmentProblem, content: dict[str, Any], submission: Submission
) -> tuple[dict[str, float], float] | None:
    """(points per part, total after any late penalty), or None while not graded."""
    if submission.feedback is None:
        return None
    available = item_part_points(item, content)
    per_part = {
        p["id"]: available.get(p["id"], 0.0) * float(p.get("score", 0.0))
        for p in submission.feedback.get("parts", [])
    }
    total = sum(per_part.values())
    if submission.is_late:
        total *= max(0.0, 1.0 - item.assignment.late_penalty)
    return per_part, total
