"""Role checks, one test per route and role.

A student never sees another student's data, submissions, or a solution before it is
allowed; an instructor sees only their own courses and their own drafts. Unknown or
forbidden course data answer 404 (so ids leak nothing); instructor pages answer 403 to
students; anonymous visitors are sent to the login page.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.models import (
    Course,
    Enrollment,
    Problem,
    ProblemStatus,
    Role,
    StoredVariant,
    Submission,
    User,
)
from tests.conftest import csrf_token
from tests.service.web_world import as_user, build_world, issued_variant, simple_regression_content

ROLES = ("anonymous", "alice", "bob", "outsider", "teacher", "other_teacher")


@pytest.fixture
def ids(db_session, settings) -> dict[str, int]:
    """Alice's variant, practice variant and submission, and the other teacher's draft."""
    world = build_world(db_session)
    alice = world.users["alice"]
    own = issued_variant(world, settings.seed_key)
    practice = StoredVariant(
        user_id=alice.id,
        problem_id=world.problem.id,
        assignment_problem_id=world.item.id,
        seed=99,
        is_practice=True,
        content=simple_regression_content(2),
    )
    db_session.add_all([own, practice])
    db_session.flush()
    submission = Submission(
        variant_id=own.id, user_id=alice.id, attempt_number=1, answers={"intercept": "1"}
    )
    draft = Problem(
        slug="secret_draft",
        version=1,
        title="Secret draft",
        topic="t",
        spec_text=world.problem.spec_text,
        status=ProblemStatus.draft,
        created_by_id=world.users["other_teacher"].id,
    )
    db_session.add_all([submission, draft])
    db_session.commit()
    return {
        "course": world.course.id,
        "item": world.item.id,
        "assignment": world.assignment.id,
        "variant": own.id,
        "practice": practice.id,
        "submission": submission.id,
        "builtin": world.problem.id,
        "draft": draft.id,
    }


# (route name, method, url, expected status per role); "ok" = 200, or 302 for a POST
# that succeeds by redirecting.
R = 302  # to the login page
ROUTES = [
    (
        "course page",
        "GET",
        "/courses/{course}",
        {"anonymous": R, "alice": 200, "bob": 200, "outsider": 404, "other_teacher": 404},
    ),
    (
        "problem page",
        "GET",
        "/items/{item}",
        {"anonymous": R, "alice": 200, "outsider": 404, "other_teacher": 404},
    ),
    (
        "submit",
        "POST",
        "/items/{item}/submit",
        {"anonymous": R, "outsider": 404, "other_teacher": 404},
    ),
    (
        "new practice",
        "POST",
        "/items/{item}/practice",
        {"anonymous": R, "outsider": 404, "other_teacher": 404},
    ),
    (
        "practice page",
        "GET",
        "/practice/{practice}",
        {"anonymous": R, "alice": 200, "bob": 404, "teacher": 404, "outsider": 404},
    ),
    (
        "practice submit",
        "POST",
        "/practice/{practice}/submit",
        {"anonymous": R, "bob": 404, "teacher": 404},
    ),
    (
        "data.csv",
        "GET",
        "/variants/{variant}/files/data.csv",
        {
            "anonymous": R,
            "alice": 200,
            "bob": 404,
            "outsider": 404,
            "teacher": 200,
            "other_teacher": 404,
        },
    ),
    (
        "fit.R",
        "GET",
        "/variants/{variant}/files/fit.R",
        {"anonymous": R, "alice": 200, "bob": 404, "other_teacher": 404},
    ),
    (
        "plot",
        "GET",
        "/variants/{variant}/plot.png",
        {"anonymous": R, "alice": 200, "bob": 404, "other_teacher": 404},
    ),
    (
        "submission status",
        "GET",
        "/submissions/{submission}",
        {"anonymous": R, "alice": 200, "bob": 404, "teacher": 404, "outsider": 404},
    ),
    (
        "teaching home",
        "GET",
        "/teach/",
        {"anonymous": R, "alice": 403, "teacher": 200, "other_teacher": 200},
    ),
    ("bank", "GET", "/teach/problems", {"anonymous": R, "alice": 403, "teacher": 200}),
    (
        "preview built-in",
        "GET",
        "/teach/problems/{builtin}",
        {"anonymous": R, "alice": 403, "teacher": 200},
    ),
    (
        "preview someone's draft",
        "GET",
        "/teach/problems/{draft}",
        {"alice": 403, "teacher": 404, "other_teacher": 200},
    ),
    ("new problem", "GET", "/teach/problems/new", {"anonymous": R, "bob": 403, "teacher": 200}),
    (
        "edit draft",
        "GET",
        "/teach/problems/{draft}/edit",
        {"alice": 403, "teacher": 404, "other_teacher": 200},
    ),
    ("edit built-in", "GET", "/teach/problems/{builtin}/edit", {"teacher": 403}),
    (
        "self-test",
        "POST",
        "/teach/problems/{draft}/selftest",
        {"anonymous": R, "alice": 403, "teacher": 404},
    ),
    (
        "publish",
        "POST",
        "/teach/problems/{draft}/publish",
        {"anonymous": R, "alice": 403, "teacher": 404},
    ),
    (
        "course (teaching)",
        "GET",
        "/teach/courses/{course}",
        {"anonymous": R, "alice": 403, "teacher": 200, "other_teacher": 404},
    ),
    (
        "assignment builder",
        "GET",
        "/teach/courses/{course}/assignments/new",
        {"alice": 403, "teacher": 200, "other_teacher": 404},
    ),
    (
        "create assignment",
        "POST",
        "/teach/courses/{course}/assignments/new",
        {"alice": 403, "other_teacher": 404},
    ),
    (
        "assignment",
        "GET",
        "/teach/assignments/{assignment}",
        {"alice": 403, "teacher": 200, "other_teacher": 404},
    ),
    ("part points", "POST", "/teach/items/{item}/points", {"alice": 403, "other_teacher": 404}),
    (
        "gradebook",
        "GET",
        "/teach/courses/{course}/gradebook",
        {"anonymous": R, "alice": 403, "teacher": 200, "other_teacher": 404},
    ),
    (
        "gradebook csv",
        "GET",
        "/teach/courses/{course}/gradebook.csv",
        {"anonymous": R, "alice": 403, "teacher": 200, "other_teacher": 404},
    ),
    (
        "analytics",
        "GET",
        "/teach/items/{item}/analytics",
        {"alice": 403, "teacher": 200, "other_teacher": 404},
    ),
    (
        "regrade",
        "POST",
        "/teach/items/{item}/regrade",
        {"anonymous": R, "alice": 403, "other_teacher": 404},
    ),
    (
        "switch version",
        "POST",
        "/teach/items/{item}/switch-version",
        {"alice": 403, "teacher": 409, "other_teacher": 404},
    ),
]
CASES = [
    pytest.param(method, url, role, status, id=f"{name} · {role}")
    for name, method, url, expected in ROUTES
    for role, status in expected.items()
]


@pytest.mark.parametrize(("method", "url", "role", "status"), CASES)
def test_route_and_role(client, ids, method, url, role, status):
    if role != "anonymous":
        as_user(client, role)
    target = url.format(**ids)
    if method == "GET":
        response = client.get(target)
    else:
        token = csrf_token(client.get("/login").get_data(as_text=True))
        response = client.post(target, data={"csrf_token": token})
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    if status == R:
        assert "/login" in response.headers["Location"]


def test_classmates_see_only_their_own_dataset(client, ids, db_session):
    as_user(client, "bob")
    html = client.get(f"/items/{ids['item']}").get_data(as_text=True)
    alices = db_session.get(StoredVariant, ids["variant"])
    assert f"/variants/{ids['variant']}/" not in html
    assert alices.content["data_csv"].splitlines()[1] not in html


def test_instructor_home_lists_only_their_courses(client, ids):
    as_user(client, "other_teacher")
    html = client.get("/teach/").get_data(as_text=True)
    assert "STAT-2" in html and "STAT-1" not in html


def test_a_course_instructor_by_enrollment_teaches_that_course_only(client, ids, db_session):
    """Teaching comes from the enrollment (as an LMS launch makes it), not the site role:
    the site student who teaches STAT-2 uses its teaching pages, not STAT-1's, and the
    shared bank's writing pages stay with the site role."""
    outsider = db_session.scalar(select(User).where(User.email == "outsider@example.edu"))
    other = db_session.scalar(select(Course).where(Course.code == "STAT-2"))
    enrollment = db_session.scalar(
        select(Enrollment).where(
            Enrollment.user_id == outsider.id, Enrollment.course_id == other.id
        )
    )
    enrollment.role = Role.instructor
    db_session.commit()
    assert outsider.role == Role.student
    as_user(client, "outsider")
    assert 'href="/teach/"' in client.get("/").get_data(as_text=True)  # the nav link
    assert client.get("/teach/").status_code == 200
    assert client.get(f"/teach/courses/{other.id}").status_code == 200
    assert client.get(f"/teach/courses/{other.id}/gradebook").status_code == 200
    assert client.get(f"/teach/courses/{ids['course']}").status_code == 404
    assert client.get(f"/teach/assignments/{ids['assignment']}").status_code == 404
    assert client.get(f"/variants/{ids['variant']}/files/data.csv").status_code == 404
    assert client.get(f"/teach/problems/{ids['builtin']}").status_code == 200
    assert client.get("/teach/problems/new").status_code == 403
    assert client.get(f"/teach/problems/{ids['draft']}/edit").status_code == 403
