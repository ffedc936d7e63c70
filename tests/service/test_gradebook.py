"""The gradebook at course scale: the points that count in every cell, its views (one
assignment or the course), sorting and filtering from the query string, the markers, the
CSV's number format, and who may see it."""

from __future__ import annotations

import csv
import io
import re

import pytest

from service.models import (
    Assignment,
    AssignmentException,
    AssignmentProblem,
    ScoreOverride,
    ScorePolicy,
    StoredVariant,
    Submission,
    SubmissionStatus,
)
from service.services import gradebook, scoring, standings
from tests.conftest import settings_on
from tests.service.web_world import World, as_user, build_world, issued_variant


@pytest.fixture
def world(db_session) -> World:
    return build_world(db_session, penalty=0.5)


def _attempt(db_session, variant: StoredVariant, number: int, share: float, *, late=False):
    """A graded attempt scoring ``share`` on every part (None: still queued)."""
    graded = share is not None
    row = Submission(
        variant_id=variant.id,
        user_id=variant.user_id,
        attempt_number=number,
        answers={},
        status=SubmissionStatus.graded if graded else SubmissionStatus.queued,
        feedback={
            "score": share,
            "parts": [{"id": p["id"], "score": share} for p in variant.content["parts"]],
        }
        if graded
        else None,
        raw_score=share,
        score=share,
        is_late=late,
    )
    db_session.add(row)
    db_session.flush()
    return row


def _variant(db_session, world: World, key: str, item: AssignmentProblem | None = None):
    variant = issued_variant(world, b"k", key)
    if item is not None:
        variant.assignment_problem_id = item.id
        variant.problem_id = item.problem_id
    db_session.add(variant)
    db_session.flush()
    return variant


def _second_assignment(db_session, world: World) -> tuple[Assignment, AssignmentProblem]:
    other = Assignment(course=world.course, title="Homework 2", attempts_allowed=3)
    item = AssignmentProblem(assignment=other, problem=world.problem, position=1, points=4)
    db_session.add_all([other, item])
    db_session.commit()
    return other, item


def _page(client, world: World, query: str = "", status: int = 200) -> str:
    response = client.get(f"/teach/courses/{world.course.id}/gradebook{query}")
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def _csv(client, world: World, query: str = "") -> list[dict[str, str]]:
    response = client.get(f"/teach/courses/{world.course.id}/gradebook.csv{query}")
    assert response.status_code == 200
    raw = response.get_data(as_text=True)
    assert raw.startswith("\ufeff") and "\r\n" in raw
    return list(csv.DictReader(io.StringIO(raw.lstrip("\ufeff"))))


def _row_names(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="name">([^<]+)<br>', html)


@pytest.fixture
def graded(world: World, db_session):
    """Alice: 1.0 then a late 0.5 (late penalty 50 %), an override of the second attempt to
    3 points and an exception; Bob: one attempt at 0.5 and one still queued."""
    alice = _variant(db_session, world, "alice")
    _attempt(db_session, alice, 1, 1.0)
    late = _attempt(db_session, alice, 2, 0.5, late=True)
    db_session.add(ScoreOverride(submission_id=late.id, part_id=None, points=3.0, reason="typo"))
    db_session.add(
        AssignmentException(
            assignment_id=world.assignment.id, user_id=world.users["alice"].id, extra_attempts=1
        )
    )
    bob = _variant(db_session, world, "bob")
    _attempt(db_session, bob, 1, 0.5)
    _attempt(db_session, bob, 2, None)
    db_session.commit()
    return alice, bob


# ------------------------------------------------------------------------- the numbers


@pytest.mark.parametrize(
    ("policy", "alice", "bob"),
    [(ScorePolicy.best, 10.0, 5.0), (ScorePolicy.last, 3.0, 5.0), (ScorePolicy.average, 6.5, 5.0)],
)
def test_cells_are_the_points_that_count_under_the_policy_with_overrides(
    world: World, db_session, graded, policy, alice, bob
):
    world.assignment.score_policy = policy
    db_session.commit()
    book = gradebook.build(db_session, world.course, gradebook.View(problems=True))
    cells = {r.student.email: r.cells[world.item.id] for r in book.rows}
    assert cells["alice@example.edu"].points == pytest.approx(alice)
    assert cells["bob@example.edu"].points == pytest.approx(bob)
    a, b = cells["alice@example.edu"], cells["bob@example.edu"]
    assert a.late and a.overridden and a.exception and not a.pending and a.attempts == 2
    assert b.pending and not (b.late or b.overridden or b.exception)
    # The same number the student's page and the LMS read.
    for row in book.rows:
        found = standings.standing(db_session, row.student.id, world.item)
        assert row.cells[world.item.id].points == pytest.approx(found.points)


def test_bulk_standings_agree_with_one_standing_on_both_databases(tmp_path, request):
    """The bulk read (parts from one variant per problem) gives what the single read does,
    also after the item moved to another problem version (other parts)."""
    from service import create_app, migrate

    for database in ("sqlite", "postgresql"):
        settings = settings_on(database, request, tmp_path / database)
        migrate.upgrade(settings.database_url)
        app = create_app({"TESTING": True}, settings=settings)
        session = app.extensions["mixgrade.sessions"]()
        try:
            world = build_world(session, penalty=0.0)
            world.item.part_points = {"intercept": 4.0}
            for n, key in enumerate(("alice", "bob")):
                variant = _variant(session, world, key)
                _attempt(session, variant, 1, 0.25 * (n + 1))
            session.commit()
            users = [world.users["alice"].id, world.users["bob"].id]
            bulk = standings.standings(session, [world.item], users)
            for user_id in users:
                one = standings.standing(session, user_id, world.item)
                assert bulk[(user_id, world.item.id)].points == pytest.approx(one.points)
                assert bulk[(user_id, world.item.id)].possible == pytest.approx(one.possible)
                variant = session.get(StoredVariant, one.variant_id)
                assert one.possible == pytest.approx(
                    scoring.assignment_problem_total(world.item, variant.content)
                )
        finally:
            session.close()
            app.extensions["mixgrade.engine"].dispose()


# ------------------------------------------------------------------- views, sort, filter


def test_the_course_view_shows_assignment_totals_and_toggles_to_problems(
    client, world: World, db_session, graded
):
    _second_assignment(db_session, world)
    as_user(client, "teacher")
    html = _page(client, world)
    assert "A1 total" in html and "A2 total" in html and ">Total</a>" in html
    assert "A1·1" not in html  # problems only on request
    html = _page(client, world, "?show=problems")
    assert 'aria-label="A1·1: Homework 1 / 1. Simple linear regression, out of 10"' in html
    assert 'title="Homework 1 / 1. Simple linear regression, out of 10"' in html
    assert "A2·1" in html and "A1 total" not in html


def test_the_assignment_view_shows_its_problems_and_its_total(
    client, world: World, db_session, graded
):
    other, _ = _second_assignment(db_session, world)
    as_user(client, "teacher")
    html = _page(client, world, f"?assignment_id={other.id}")
    assert "A2·1" in html and "A2 total" in html
    assert "A1·1" not in html and "A1 total" not in html
    assert f'<option value="{other.id}" selected>' in html
    rows = _csv(client, world, f"?assignment_id={other.id}")
    columns = set(rows[0])
    assert "Homework 2 / 1. Simple linear regression: points" in columns
    assert not any(c.startswith("Homework 1") for c in columns)
    assert {r["Homework 2: total possible"] for r in rows} == {"4.00"}


def test_sorting_by_a_column_and_filtering_by_name_or_email(
    client, world: World, db_session, graded
):
    as_user(client, "teacher")
    assert _row_names(_page(client, world)) == ["Alice", "Bob"]
    assert _row_names(_page(client, world, "?sort=name&dir=desc")) == ["Bob", "Alice"]
    item = f"i{world.item.id}"
    assert _row_names(_page(client, world, f"?show=problems&sort={item}")) == ["Bob", "Alice"]
    html = _page(client, world, f"?show=problems&sort={item}&dir=desc")
    assert _row_names(html) == ["Alice", "Bob"] and 'aria-sort="descending"' in html
    assert _row_names(_page(client, world, "?sort=total&dir=desc")) == ["Alice", "Bob"]
    assert _row_names(_page(client, world, "?q=BOB")) == ["Bob"]
    assert _row_names(_page(client, world, "?q=alice%40example")) == ["Alice"]
    html = _page(client, world, "?q=nobody")
    assert _row_names(html) == [] and "No student matches." in html
    # The CSV follows the same view.
    assert [r["student"] for r in _csv(client, world, "?q=bob")] == ["Bob"]
    assert [r["student"] for r in _csv(client, world, f"?sort={item}")] == ["Bob", "Alice"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?assignment_id=abc", 400),
        ("?assignment_id=-1", 400),
        ("?assignment_id=1e9", 400),
        ("?assignment_id=99999999", 400),
        ("?assignment_id=" + "9" * 40, 400),
        ("?sort=%27%3B%20drop%20table", 200),
        ("?sort=i99999999999999999999", 200),
        ("?sort=a999&dir=sideways", 200),
        ("?show=everything&dir=", 200),
        ("?q=" + "x" * 5000, 200),
        ("?q=%3Cscript%3E", 200),
        ("?q=%00", 422),
    ],
)
def test_hostile_view_parameters_are_refused_or_ignored(client, world: World, query, status):
    as_user(client, "teacher")
    html = _page(client, world, query, status)
    assert "<script>" not in html
    response = client.get(f"/teach/courses/{world.course.id}/gradebook.csv{query}")
    assert response.status_code == status


def test_an_assignment_of_another_course_is_not_shown(client, world: World, db_session):
    foreign = Assignment(course=world.other_course, title="Not yours")
    db_session.add(foreign)
    db_session.commit()
    as_user(client, "teacher")
    assert "Not yours" not in _page(client, world, f"?assignment_id={foreign.id}", 400)


# ----------------------------------------------------------------- markers and links


def test_markers_have_text_and_a_legend_and_every_cell_is_a_link(
    client, world: World, db_session, graded
):
    as_user(client, "teacher")
    html = _page(client, world, "?show=problems")
    legend = html[html.index('id="gradebook-legend"') :]
    for word in ("late", "exception", "overridden", "pending"):
        assert f'<abbr class="mark {word}" title="{word}">' in legend
        assert f"{word}:" in legend
    alice, bob = world.users["alice"].id, world.users["bob"].id
    cells = re.findall(r'<td class="num"><a href="([^"]+)"[^>]*>([^<]*)</a>(.*?)</td>', html)
    by_link = {link: (text, marks) for link, text, marks in cells}
    text, marks = by_link[f"/teach/items/{world.item.id}/students/{alice}"]
    assert text == "10" and 'title="late">L<' in marks and 'title="exception">E<' in marks
    assert 'title="overridden">O<' in marks and "pending" not in marks
    text, marks = by_link[f"/teach/items/{world.item.id}/students/{bob}"]
    assert text == "5" and 'title="pending">P<' in marks
    assert 'title="2 attempts · last ' in html


def test_a_student_who_never_opened_a_problem_has_a_linked_dash(client, world: World):
    as_user(client, "teacher")
    html = _page(client, world, "?show=problems")
    alice = world.users["alice"].id
    assert (
        f'<a href="/teach/items/{world.item.id}/students/{alice}" title="not opened">—</a>' in html
    )


# ------------------------------------------------------------------------------ CSV


def test_csv_numbers_read_the_same_for_every_student(client, world: World, db_session, graded):
    _second_assignment(db_session, world)  # nobody has opened it: zeros and blanks
    as_user(client, "teacher")
    rows = _csv(client, world)
    number = re.compile(r"^\d+\.\d\d$")
    for row in rows:
        for column, value in row.items():
            if column.endswith(("points", "out of", "possible")):
                assert value == "" or number.match(value), (column, value)
    alice = next(r for r in rows if r["email"] == "alice@example.edu")
    bob = next(r for r in rows if r["email"] == "bob@example.edu")
    first = "Homework 1 / 1. Simple linear regression"
    second = "Homework 2 / 1. Simple linear regression"
    assert alice[f"{first}: points"] == "10.00" and bob[f"{first}: points"] == "5.00"
    assert alice[f"{second}: points"] == "" and alice[f"{second}: out of"] == "4.00"
    assert alice["Homework 2: total points"] == bob["Homework 2: total points"] == "0.00"
    assert alice["total points"] == "10.00" and alice["total possible"] == "14.00"
    assert alice[f"{first}: late"] == "yes" and bob[f"{first}: late"] == "no"
    assert alice[f"{first}: exception"] == "yes" and alice[f"{first}: overridden"] == "yes"
    assert bob[f"{first}: pending"] == "yes"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (0, "0.00"),
        (0.0, "0.00"),
        (-0.0, "0.00"),
        (2.5, "2.50"),
        (10 / 3, "3.33"),
        (7, "7.00"),
    ],
)
def test_one_number_format(value, text):
    assert gradebook.number(value) == text


def test_csv_keeps_spreadsheet_safety(client, world: World, db_session):
    world.users["bob"].name = "=HYPERLINK(1)"
    world.users["alice"].name = "@SUM(1)"
    db_session.commit()
    as_user(client, "teacher")
    names = {r["student"] for r in _csv(client, world)}
    assert names == {"'=HYPERLINK(1)", "'@SUM(1)"}


# ------------------------------------------------------------------------ who may see


def test_students_and_other_instructors_cannot_see_the_gradebook(client, world: World):
    as_user(client, "alice")
    for path in ("gradebook", "gradebook.csv", "gradebook?assignment_id=abc"):
        assert client.get(f"/teach/courses/{world.course.id}/{path}").status_code == 403


def test_another_courses_instructor_gets_404(app, world: World):
    other = app.test_client()
    as_user(other, "other_teacher")
    for path in ("gradebook", "gradebook.csv", "gradebook?assignment_id=1"):
        assert other.get(f"/teach/courses/{world.course.id}/{path}").status_code == 404


@pytest.mark.parametrize("query", ["", "?show=problems", "?assignment_id={a}"])
def test_names_and_titles_are_escaped_in_every_view(client, world: World, db_session, query):
    """The cells are written in Python (service/instructor/gradebook_cells.py): what a user
    typed (a student's name and email, an assignment's title) still reaches the page as
    text."""
    student = world.users["alice"]
    student.name = '<img src=x onerror="alert(1)">'
    student.email = 'a"b&c@example.edu'
    world.assignment.title = '</td><script>alert("t")</script>'
    db_session.commit()
    variant = _variant(db_session, world, "alice")
    _attempt(db_session, variant, 1, 1.0)
    db_session.commit()
    as_user(client, "teacher")
    html = _page(client, world, query.format(a=world.assignment.id))
    assert "<img src=x" not in html and "<script>alert" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    if "assignment_id" not in query and "problems" not in query:
        # the per-assignment total links to that assignment's view of this student
        assert "q=a%22b%26c%40example.edu" in html
        assert "&lt;/td&gt;&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;: each problem of" in html


def _variant_on(db_session, world: World, key: str, item: AssignmentProblem):
    """The student's variant of ``item``, its seed its own (one variant per seed)."""
    variant = _variant(db_session, world, key, item)
    variant.seed += item.id
    db_session.flush()
    return variant


def _assert_each_cell_is_the_standing(db_session, book, items) -> None:
    """Every cell of ``book`` in ``items`` reads exactly as the student's own standing."""
    for row in book.rows:
        for placed in items:
            expected = standings.summary(standings.standing(db_session, row.student.id, placed))
            assert row.cells[placed.id] == expected, (row.student.email, placed.id)


def test_each_assignment_is_counted_by_its_own_policy_in_one_read(client, world, db_session):
    """One gradebook read over assignments of different policies ("average" reads every
    graded attempt, "last" and "best" their reductions): each cell is the student's own
    standing, exactly."""
    world.assignment.score_policy = ScorePolicy.average
    other, item = _second_assignment(db_session, world)
    other.score_policy = ScorePolicy.last
    db_session.commit()
    shares = {"alice": (0.3, 0.7, None, 1 / 3), "bob": (0.9, 0.1, 0.2, 0.45)}
    for key, scores in shares.items():
        for placed in (world.item, item):
            variant = _variant_on(db_session, world, key, placed)
            for number, share in enumerate(scores, start=1):
                _attempt(db_session, variant, number, share)
    db_session.commit()
    book = gradebook.build(db_session, world.course)
    _assert_each_cell_is_the_standing(db_session, book, (world.item, item))
    alice = next(r for r in book.rows if r.student.email.startswith("alice"))
    possible = world.item.points
    average = (0.3 * possible + 0.7 * possible + possible / 3) / 3
    assert alice.cells[world.item.id].points == pytest.approx(average)
    assert alice.cells[item.id].points == pytest.approx(item.points / 3)  # the last graded


def test_scattered_overrides_are_each_their_own_standing(client, world, db_session):
    """Overrides on a few cells spread over students and problems: each overridden cell is
    scored attempt by attempt, and only those (their students × problems would be most of a
    course); every cell still reads as the student's own standing."""
    _, item = _second_assignment(db_session, world)
    submissions = {}
    for key in ("alice", "bob"):
        for placed in (world.item, item):
            variant = _variant_on(db_session, world, key, placed)
            submissions[(key, placed.id)] = _attempt(db_session, variant, 1, 0.5)
    for key, placed in (("alice", world.item), ("bob", item)):
        attempt = submissions[(key, placed.id)]
        db_session.add(
            ScoreOverride(submission_id=attempt.id, part_id=None, points=1.25, reason="r")
        )
    db_session.commit()
    book = gradebook.build(db_session, world.course)
    _assert_each_cell_is_the_standing(db_session, book, (world.item, item))
    cells = {
        (r.student.email[:3], p.id): r.cells[p.id] for r in book.rows for p in (world.item, item)
    }
    assert cells[("ali", world.item.id)].overridden and cells[("ali", world.item.id)].points == 1.25
    assert cells[("bob", item.id)].overridden and not cells[("bob", world.item.id)].overridden
