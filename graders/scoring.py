"""How part scores become a total: the one rule for weights and points.

Pure, so the grader (a variant's score from its parts' weights) and the service (points an
assignment item sets per part) share it: a part's share of the total is its fixed points,
or else its weight's share of the points left over. Weights of 0 or less count as 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def part_points(
    total: float, fixed: Mapping[str, float] | None, parts: Iterable[tuple[str, float]]
) -> dict[str, float]:
    """Part id → points available, from (part id, weight) pairs and any fixed points."""
    parts = [(part_id, max(0.0, float(weight))) for part_id, weight in parts]
    known = {part_id for part_id, _ in parts}
    fixed = {k: float(v) for k, v in (fixed or {}).items() if k in known}
    rest = max(0.0, float(total) - sum(fixed.values()))
    free_weight = sum(w for p, w in parts if p not in fixed)
    out: dict[str, float] = {}
    for part_id, weight in parts:
        if part_id in fixed:
            out[part_id] = fixed[part_id]
        else:
            out[part_id] = rest * weight / free_weight if free_weight > 0 else 0.0
    return out


def share(available: Mapping[str, float], scores: Mapping[str, float]) -> float:
    """Share of the available points earned, in [0, 1]; 0 when nothing is available."""
    possible = sum(available.values())
    if possible <= 0.0:
        return 0.0
    earned = sum(points * scores.get(part_id, 0.0) for part_id, points in available.items())
    return min(1.0, max(0.0, earned / possible))


def weighted_score(weights: Iterable[tuple[str, float]], scores: Mapping[str, float]) -> float:
    """The grader's score of a variant: the weighted mean of its part scores."""
    return share(part_points(1.0, None, weights), scores)
