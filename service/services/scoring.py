"""Turning a grader's raw score into the score that counts: the late penalty."""

from __future__ import annotations


def final_score(raw: float, *, is_late: bool, late_penalty: float | None) -> float:
    """A late submission loses the assignment's ``late_penalty`` fraction (0.2 = 20 %)."""
    penalty = (late_penalty or 0.0) if is_late else 0.0
    return max(0.0, raw * (1.0 - penalty))
