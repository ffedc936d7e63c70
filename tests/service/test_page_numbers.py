"""Counts on pages agree with their nouns: "1 point", never "1 points"."""

from __future__ import annotations

import re

import problem_bank as pb
from tests.service.web_world import as_user, build_world


def test_a_one_point_part_says_1_point(client, db_session):
    world = build_world(db_session, attempts=1)
    spec = pb.builtin_problems()["simple_regression"]
    world.item.points = sum(p.weight for p in spec.parts)  # one point per unit of weight
    db_session.commit()
    as_user(client, "alice")
    html = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    assert "(1 point)" in html
    assert not re.search(r"\b1 (points|attempts|seeds)\b", html)


def test_instructor_pages_say_1_attempt(client, db_session):
    world = build_world(db_session, attempts=1)
    as_user(client, "teacher")
    for url in (f"/teach/courses/{world.course.id}", f"/teach/assignments/{world.assignment.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "1 attempt ·" in html, url
        assert not re.search(r"\b1 (points|attempts|students)\b", html), url
