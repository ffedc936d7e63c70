"""The same points reached by different arithmetic are one number (scoring.kept)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.services import formats, scoring


def test_a_share_times_the_points_and_the_parts_added_up_are_one_number():
    """0.45 of 4 points over five equal parts: 1.8 one way, 1.8000000000000003 the other."""
    parts = sum([4 / 5 * 0.45] * 5)
    assert parts != 0.45 * 4
    assert scoring.points_from_share(0.45, 4) == scoring.kept(parts) == 1.8


@given(
    shares=st.lists(st.integers(0, 1000), min_size=1, max_size=6),
    weights=st.lists(st.integers(1, 9), min_size=6, max_size=6),
    points=st.integers(1, 100),
)
def test_every_route_to_an_attempts_points_shows_the_same_digits(shares, weights, points):
    """Parts scored k/1000 with integer weights: the stored share × the points, and the
    parts' points added up, print the same on every page after kept()."""
    used = weights[: len(shares)]
    per_part = [points * w / sum(used) for w in used]
    earned = [p * s / 1000 for p, s in zip(per_part, shares, strict=True)]
    share = sum(earned) / points
    by_parts, by_share = scoring.kept(sum(earned)), scoring.points_from_share(share, points)
    assert abs(by_parts - by_share) <= 1e-9
    assert formats.points(by_parts) == formats.points(by_share)
