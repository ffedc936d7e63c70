"""Turning a grader's raw score into the score that counts: the late penalty."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graders.feedback import Feedback
from service.services.points import part_points


def final_score(raw: float, *, is_late: bool, late_penalty: float | None) -> float:
    """A late submission loses the assignment's ``late_penalty`` fraction (0.2 = 20 %)."""
    penalty = (late_penalty or 0.0) if is_late else 0.0
    return max(0.0, raw * (1.0 - penalty))


def points_fraction(
    feedback: Feedback,
    content: Mapping[str, Any],
    total_points: float | None,
    fixed_part_points: Mapping[str, float] | None,
) -> float:
    """Share of the item's points earned, in [0, 1], before any late penalty.

    Without points set per part this is the grader's weighted score; with them, each part
    counts by its points, so the stored score (sent to the gradebook and the LMS) is the
    one the pages show.
    """
    if not fixed_part_points or not total_points:
        return feedback.score
    weights = [(p["id"], float(p.get("weight", 1.0))) for p in content.get("parts", [])]
    available = part_points(total_points, fixed_part_points, weights)
    possible = sum(available.values())
    if possible <= 0:
        return feedback.score
    earned = sum(available.get(p.id, 0.0) * p.score for p in feedback.parts)
    return min(1.0, earned / possible)
