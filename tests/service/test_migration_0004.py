"""Migration 0004 on a database that already holds the old race's duplicate attempts.

Before 0004 concurrent submits could store several "attempt 1"s of one variant. The
migration must keep every row, renumber them per variant in the order they were stored,
and only then add the unique (variant_id, attempt_number) constraint.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from service import migrate
from service.db import make_engine

#: Rows in the schema of revision 0003, written as SQL so later model changes do not matter.
_WORLD = [
    "INSERT INTO users (id, email, name, role, created_at) VALUES "
    "(1, 'a@x.edu', 'A', 'student', CURRENT_TIMESTAMP)",
    "INSERT INTO courses (id, code, title, created_at) VALUES (1, 'C', 'C', CURRENT_TIMESTAMP)",
    "INSERT INTO problems (id, slug, version, title, topic, spec_text, status, builtin, "
    "created_at) VALUES (1, 'p', 1, 'P', 't', '', 'published', FALSE, CURRENT_TIMESTAMP)",
    "INSERT INTO assignments (id, course_id, title, attempts_allowed, late_penalty, "
    "practice_allowed, created_at) VALUES (1, 1, 'A', 1, 0, TRUE, CURRENT_TIMESTAMP)",
    "INSERT INTO assignment_problems (id, assignment_id, problem_id, position, points) "
    "VALUES (1, 1, 1, 1, 10)",
    "INSERT INTO variants (id, user_id, problem_id, assignment_problem_id, seed, is_practice, "
    "content, created_at) VALUES (1, 1, 1, 1, 1, FALSE, '{}', CURRENT_TIMESTAMP), "
    "(2, 1, 1, 1, 2, TRUE, '{}', CURRENT_TIMESTAMP), "
    "(3, 1, 1, 1, 3, TRUE, '{}', CURRENT_TIMESTAMP)",
]

#: (id, variant_id, attempt_number) as the race left them: variant 1 has six "attempt 1"s
#: stored out of id order with a 2 among them, variant 2 is already right, variant 3 has a gap.
_SUBMISSIONS = [
    (10, 1, 1),
    (11, 1, 1),
    (12, 2, 1),
    (13, 1, 2),
    (14, 1, 1),
    (15, 2, 2),
    (16, 1, 1),
    (17, 1, 1),
    (18, 3, 2),
    (19, 3, 5),
]


def _submission_sql(row: tuple[int, int, int]) -> str:
    submission_id, variant_id, attempt = row
    return (
        "INSERT INTO submissions (id, variant_id, user_id, attempt_number, answers, status, "
        "is_late, enqueue_count, idempotency_key, created_at, queued_at) VALUES "
        f"({submission_id}, {variant_id}, 1, {attempt}, '{{}}', 'queued', FALSE, 1, "
        f"'key-{submission_id}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'm.sqlite'}"


def test_duplicate_attempts_are_renumbered_by_id_and_then_kept_unique(database_url):
    migrate.upgrade(database_url, "0003")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            for statement in [*_WORLD, *map(_submission_sql, _SUBMISSIONS)]:
                connection.execute(text(statement))
        migrate.upgrade(database_url, "0004")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, variant_id, attempt_number FROM submissions ORDER BY id")
            ).all()
        # Nothing dropped; each variant numbered 1..n in the order its rows were stored.
        assert [tuple(r) for r in rows] == [
            (10, 1, 1),
            (11, 1, 2),
            (12, 2, 1),
            (13, 1, 3),
            (14, 1, 4),
            (15, 2, 2),
            (16, 1, 5),
            (17, 1, 6),
            (18, 3, 1),
            (19, 3, 2),
        ]
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(_submission_sql((20, 1, 3))))

        # A key of 255 characters now fits (it was 128).
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE submissions SET idempotency_key = :key WHERE id = 10"),
                {"key": "k" * 255},
            )
        migrate.downgrade(database_url, "0003")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, idempotency_key FROM submissions"))
            keys = {row.id: row.idempotency_key for row in rows}
        assert keys[10] is None and keys[11] == "key-11"  # too long for 0003's column
    finally:
        engine.dispose()
