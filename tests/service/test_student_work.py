"""One student's work as their instructor sees it: the detail page, overrides, exceptions,
new versions and the audit log, on PostgreSQL, through the web pages and the real submit
path; who may reach each route; overrides counted by every policy and sent to the LMS."""

from __future__ import annotations

import html
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from service.models import (
    AuditEvent,
    LtiScoreSend,
    ScoreOverride,
    ScorePolicy,
    StoredVariant,
    Submission,
    SubmissionStatus,
)
from service.services import (
    exception_editing,
    overrides,
    standings,
    student_pages,
    submissions,
    variants,
)
from tests.conftest import csrf_token, settings_on
from tests.lti.test_passback import _placed, lms_platform
from tests.service.web_world import World, as_user, build_world

KEY = b"student work test key"
PARTS = ("intercept", "slope", "prediction", "t_slope", "decision")


@pytest.fixture
def settings(request, tmp_path):
    return settings_on("postgresql", request, tmp_path)


@pytest.fixture
def world(db_session) -> World:
    return build_world(db_session)


def _graded(session, world: World, scores: dict[str, float], key: str = "alice") -> Submission:
    """A graded attempt of ``key`` on the world's problem, with these part scores."""
    user = world.users[key]
    variant = variants.ensure(session, KEY, user, world.item)
    parts = [
        {
            "id": p,
            "score": scores.get(p, 0.0),
            "verdict": "correct" if scores.get(p, 0.0) == 1 else "incorrect",
            "message": f"message for {p}",
            "misconception": "slope_for_intercept" if p == "intercept" else None,
        }
        for p in PARTS
    ]
    raw = sum(scores.values()) / len(PARTS)
    submission = Submission(
        variant=variant,
        user=user,
        attempt_number=1 + len(student_pages.submissions_of(session, variant)),
        answers={p: f"typed {p} {len(scores)}" for p in PARTS},
        status=SubmissionStatus.graded,
        feedback={"score": raw, "parts": parts},
        raw_score=raw,
        score=raw,
        graded_at=datetime.now(UTC),
    )
    session.add(submission)
    session.commit()
    return submission


def _detail_url(world: World, key: str = "alice") -> str:
    return f"/teach/items/{world.item.id}/students/{world.users[key].id}"


def _post(client, page_url: str, url: str, data: dict):
    token = csrf_token(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


# ---------------------------------------------------------------------------- the page


def test_the_detail_page_shows_the_students_data_output_and_every_attempt(
    client, db_session, world
):
    first = _graded(db_session, world, {"slope": 1.0})
    _graded(db_session, world, {p: 1.0 for p in PARTS})
    as_user(client, "teacher")
    page = client.get(_detail_url(world))
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    variant = first.variant
    assert f"/variants/{variant.id}/files/data.csv" in body
    assert f"/variants/{variant.id}/plot.png" in body
    assert 'id="data-preview"' in body
    header = variant.content["data_csv"].splitlines()[0].split(",")[0].strip('"')
    assert header in body
    assert "Coefficients:" in body  # the printed R output
    assert "typed intercept 1" in body and "typed intercept 5" in body
    assert "message for slope" in body and "misconception: slope_for_intercept" in body
    assert body.index(f'id="attempt-{first.id}"') < body.index("Attempt 2")
    assert "your best attempt" in body and "10 / 10 points" in body
    # The student's own downloads work for their teacher too (the existing routes).
    download = client.get(f"/variants/{variant.id}/files/data.csv")
    assert download.status_code == 200
    assert download.get_data(as_text=True) == variant.content["data_csv"]


def test_a_student_who_has_not_opened_the_problem_has_an_empty_page(client, world):
    as_user(client, "teacher")
    page = client.get(_detail_url(world, "bob"))
    assert page.status_code == 200
    assert "has not opened this problem yet" in page.get_data(as_text=True)


def _routes(world: World, submission: Submission) -> list[tuple[str, str]]:
    a, item, alice = world.assignment.id, world.item.id, world.users["alice"].id
    return [
        ("GET", f"/teach/items/{item}/students/{alice}"),
        ("POST", f"/teach/submissions/{submission.id}/overrides"),
        ("POST", f"/teach/submissions/{submission.id}/overrides/remove"),
        ("POST", f"/teach/items/{item}/students/{alice}/new-version"),
        ("GET", f"/teach/assignments/{a}/exceptions"),
        ("POST", f"/teach/assignments/{a}/exceptions/{alice}"),
        ("POST", f"/teach/assignments/{a}/exceptions/{alice}/remove"),
        ("GET", f"/teach/courses/{world.course.id}/audit"),
    ]


@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("other_teacher", 404)])
def test_students_and_other_instructors_reach_no_route(client, db_session, world, who, status):
    submission = _graded(db_session, world, {"slope": 1.0})
    as_user(client, who)
    token = csrf_token(client.get("/").get_data(as_text=True))
    for method, url in _routes(world, submission):
        data = {"csrf_token": token, "reason": "r", "points": "1", "part_id": "slope"}
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        assert response.status_code == status, (method, url)
    assert db_session.scalar(select(func.count()).select_from(ScoreOverride)) == 0
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_user_who_is_not_a_student_of_the_course_is_a_404(client, db_session, world):
    as_user(client, "teacher")
    for key in ("outsider", "teacher"):
        assert client.get(_detail_url(world, key)).status_code == 404
    page = _detail_url(world, "bob")
    outsider = world.users["outsider"].id
    for url in (
        f"/teach/assignments/{world.assignment.id}/exceptions/{outsider}",
        f"/teach/items/{world.item.id}/students/{outsider}/new-version",
    ):
        assert _post(client, page, url, {"reason": "r", "extra_attempts": "1"}).status_code == 404


# --------------------------------------------------------------------------- overrides


def _override(client, world, submission, **data):
    return _post(
        client,
        _detail_url(world),
        f"/teach/submissions/{submission.id}/overrides",
        data,
    )


@pytest.mark.parametrize(
    ("policy", "expected"),
    [(ScorePolicy.best, 6.0), (ScorePolicy.last, 4.0), (ScorePolicy.average, 5.0)],
)
def test_an_override_is_counted_by_each_policy(client, db_session, world, policy, expected):
    world.assignment.score_policy = policy
    db_session.commit()
    first = _graded(db_session, world, {"slope": 1.0})  # 2 points
    _graded(db_session, world, {"slope": 1.0, "intercept": 1.0})  # 4 points
    as_user(client, "teacher")
    # Part 1 of attempt 1 raised from 0 to 2, and part 3 to 2: attempt 1 is worth 6.
    for part in ("intercept", "prediction"):
        saved = _override(client, world, first, part_id=part, points="2", reason="typo in key")
        assert saved.status_code == 302, saved.get_data(as_text=True)
    db_session.expire_all()
    standing = standings.standing(db_session, world.users["alice"].id, world.item)
    assert standing.points == pytest.approx(expected)
    assert standing.overridden
    # The stored submission score is the grader's, untouched.
    assert db_session.get(Submission, first.id).score == pytest.approx(0.2)


def test_a_whole_attempt_override_replaces_its_points(client, db_session, world):
    first = _graded(db_session, world, {"slope": 1.0})
    as_user(client, "teacher")
    assert _override(client, world, first, points="9.5", reason="oral exam").status_code == 302
    db_session.expire_all()
    assert standings.standing(db_session, world.users["alice"].id, world.item).points == 9.5


def test_the_student_sees_the_override_and_its_reason(client, db_session, world):
    first = _graded(db_session, world, {"slope": 1.0})
    as_user(client, "teacher")
    _override(client, world, first, part_id="intercept", points="1.5", reason="Rounded well")
    _override(client, world, first, points="8", reason="Discussed in office hours")
    client.get("/logout")
    as_user(client, "alice")
    body = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    assert "Your instructor changed this to 1.5/2: Rounded well" in body
    assert "Your instructor changed this to 8/10: Discussed in office hours" in body


def test_replacing_and_removing_an_override_keeps_the_history(client, db_session, world):
    first = _graded(db_session, world, {"slope": 1.0})
    as_user(client, "teacher")
    _override(client, world, first, part_id="intercept", points="1", reason="first look")
    _override(client, world, first, part_id="intercept", points="2", reason="second look")
    assert db_session.scalar(select(func.count()).select_from(ScoreOverride)) == 1
    removed = _post(
        client,
        _detail_url(world),
        f"/teach/submissions/{first.id}/overrides/remove",
        {"part_id": "intercept", "reason": "changed my mind"},
    )
    assert removed.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(ScoreOverride)) == 0
    events = db_session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["score_override", "score_override", "override_removed"]
    assert events[0].before["points"] == 0 and events[0].after["points"] == 1
    assert events[1].before["points"] == 1 and events[1].after["points"] == 2
    assert events[2].reason == "changed my mind"
    assert all(e.actor_id == world.users["teacher"].id for e in events)
    assert all(e.student_id == world.users["alice"].id for e in events)
    log = client.get(f"/teach/courses/{world.course.id}/audit").get_data(as_text=True)
    assert "second look" in log and "override removed" in log
    filtered = client.get(
        f"/teach/courses/{world.course.id}/audit?student={world.users['bob'].id}"
    ).get_data(as_text=True)
    assert "second look" not in filtered and "No changes recorded" in filtered


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"part_id": "intercept", "points": "-1", "reason": "x"}, "between 0 and 2"),
        ({"part_id": "intercept", "points": "2.5", "reason": "x"}, "between 0 and 2"),
        ({"points": "11", "reason": "x"}, "between 0 and 10"),
        ({"part_id": "intercept", "points": "nan", "reason": "x"}, "finite"),
        ({"part_id": "intercept", "points": "lots", "reason": "x"}, "must be a number"),
        ({"part_id": "intercept", "points": "1", "reason": "  "}, "Give a reason"),
        ({"part_id": "intercept", "points": "1"}, "Give a reason"),
        ({"part_id": "nope", "points": "1", "reason": "x"}, "no part 'nope'"),
    ],
)
def test_a_bad_override_is_a_422_that_says_why(client, db_session, world, data, message):
    first = _graded(db_session, world, {"slope": 1.0})
    as_user(client, "teacher")
    response = _override(client, world, first, **data)
    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    assert db_session.scalar(select(func.count()).select_from(ScoreOverride)) == 0


def test_an_override_without_the_csrf_token_is_refused(client, db_session, world):
    first = _graded(db_session, world, {"slope": 1.0})
    as_user(client, "teacher")
    response = client.post(
        f"/teach/submissions/{first.id}/overrides", data={"points": "1", "reason": "x"}
    )
    assert response.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(ScoreOverride)) == 0


def test_concurrent_overrides_leave_one_current_row(app, db_session, world):
    first = _graded(db_session, world, {"slope": 1.0})
    teacher_id, submission_id = world.users["teacher"].id, first.id
    sessions = app.extensions["mixgrade.sessions"]
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def save(n: int, part_id: str | None) -> None:
        session = sessions()
        try:
            from service.models import User

            actor = session.get(User, teacher_id)
            submission = session.get(Submission, submission_id)
            barrier.wait()
            overrides.set_override(session, actor, submission, part_id, n % 2, f"try {n}")
            session.commit()
        except BaseException as error:
            errors.append(error)
        finally:
            session.close()

    threads = [
        threading.Thread(target=save, args=(n, "intercept" if n < 3 else None)) for n in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    db_session.expire_all()
    rows = db_session.scalars(select(ScoreOverride)).all()
    assert sorted(str(r.part_id) for r in rows) == ["None", "intercept"]
    actions = db_session.scalars(select(AuditEvent.action)).all()
    assert actions == ["score_override"] * 6


def test_an_override_sends_the_new_total_to_the_lms(client, db_session, world):
    platform = lms_platform(db_session)
    _placed(db_session, world, platform, "ctx", "alice", "rl", "https://lms.test/lineitems/1")
    first = _graded(db_session, world, {"slope": 1.0})
    as_user(client, "teacher")
    assert _override(client, world, first, points="7", reason="regraded by hand").status_code == 302
    db_session.expire_all()
    sends = db_session.scalars(select(LtiScoreSend).order_by(LtiScoreSend.id)).all()
    assert sends and sends[-1].payload["scoreGiven"] == pytest.approx(7)
    assert sends[-1].payload["userId"] == "lms-alice"


# -------------------------------------------------------------------------- exceptions


def _target(session, world: World, key: str = "alice") -> submissions.Target:
    user = world.users[key]
    variants.ensure(session, KEY, user, world.item)
    found = submissions.assignment_problem_target(session, user.id, world.item.id)
    assert found is not None
    return found.target()


def _give_alice(session, world: World, terms: exception_editing.ExceptionTerms, reason: str):
    """Alice's exception, set by the teacher through the use case, and committed."""
    exception_editing.set_exception(
        session, world.users["teacher"], world.assignment, world.users["alice"].id, terms, reason
    )
    session.commit()


def _submit(session, world: World, key: str = "alice"):
    session.expire_all()
    return submissions.submit(
        session, world.users[key], _target(session, world, key), {"intercept": "1.5"}
    )


def test_an_extension_lets_the_student_submit_after_the_due_date_on_time(client, db_session):
    world = build_world(db_session, due_in=timedelta(days=-1))
    with pytest.raises(submissions.Refused):
        _submit(db_session, world)
    as_user(client, "teacher")
    later = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    saved = _post(
        client,
        f"/teach/assignments/{world.assignment.id}/exceptions",
        f"/teach/assignments/{world.assignment.id}/exceptions/{world.users['alice'].id}",
        {"due_at": later, "reason": "illness (note seen)"},
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    submission, _ = _submit(db_session, world)
    stored = db_session.get(Submission, submission.id)
    assert stored is not None and not stored.is_late
    with pytest.raises(submissions.Refused):  # Bob has no exception
        _submit(db_session, world, "bob")
    listing = client.get(f"/teach/assignments/{world.assignment.id}/exceptions")
    assert "illness (note seen)" in listing.get_data(as_text=True)
    [event] = db_session.scalars(select(AuditEvent)).all()
    assert event.action == "exception_set" and "illness" not in (event.summary or "")


def test_extra_attempts_allow_more_submissions(db_session):
    world = build_world(db_session, attempts=1)
    _submit(db_session, world)
    with pytest.raises(submissions.Refused):
        _submit(db_session, world)
    _give_alice(
        db_session, world, exception_editing.ExceptionTerms(extra_attempts=1), "accommodation"
    )
    _submit(db_session, world)
    with pytest.raises(submissions.Refused):
        _submit(db_session, world)


def test_moving_a_students_due_date_recomputes_late_flags_and_scores(db_session):
    world = build_world(db_session, due_in=timedelta(days=-1), late_for=timedelta(days=5))
    late = _graded(db_session, world, {p: 1.0 for p in PARTS})
    db_session.execute(
        update(Submission).where(Submission.id == late.id).values(is_late=True, score=0.8)
    )
    db_session.commit()
    _give_alice(
        db_session,
        world,
        exception_editing.ExceptionTerms(due_at=datetime.now(UTC) + timedelta(days=1)),
        "illness",
    )
    db_session.expire_all()
    again = db_session.get(Submission, late.id)
    assert again is not None and (again.is_late, again.score) == (False, 1.0)
    exception_editing.remove_exception(
        db_session, world.users["teacher"], world.assignment, world.users["alice"].id, "over"
    )
    db_session.commit()
    db_session.expire_all()
    back = db_session.get(Submission, late.id)
    assert back is not None and (back.is_late, back.score) == (True, pytest.approx(0.8))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "x"}, "Give a due date"),
        ({"extra_attempts": "-1", "reason": "x"}, "between 0 and 100"),
        ({"extra_attempts": "two", "reason": "x"}, "whole number"),
        ({"due_at": "tomorrow", "reason": "x"}, "date picker"),
        ({"extra_attempts": "1", "reason": ""}, "Give a reason"),
        (
            {"due_at": "2031-01-02T00:00", "late_until": "2031-01-01T00:00", "reason": "x"},
            "cannot be before",
        ),
    ],
)
def test_a_bad_exception_is_a_422(client, world, data, message):
    as_user(client, "teacher")
    page = f"/teach/assignments/{world.assignment.id}/exceptions"
    response = _post(client, page, f"{page}/{world.users['alice'].id}", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


# ------------------------------------------------------------------------- new version


def test_a_new_version_keeps_old_submissions_and_shows_a_new_dataset(client, db_session, world):
    first = _graded(db_session, world, {"slope": 1.0})
    old = first.variant
    as_user(client, "teacher")
    given = _post(
        client,
        _detail_url(world),
        f"/teach/items/{world.item.id}/students/{world.users['alice'].id}/new-version",
        {"reason": "the dataset had a typo"},
    )
    assert given.status_code == 302, given.get_data(as_text=True)
    db_session.expire_all()
    new = variants.find(db_session, world.users["alice"].id, world.item.id)
    assert new is not None and new.id != old.id
    assert new.content["data_csv"] != old.content["data_csv"]
    assert db_session.get(Submission, first.id) is not None
    assert db_session.get(StoredVariant, old.id).replaced_at is not None
    body = client.get(_detail_url(world)).get_data(as_text=True)
    assert "Version 1" in body and "Version 2" in body and f'id="attempt-{first.id}"' in body
    assert f"/variants/{new.id}/files/data.csv" in body
    [event] = db_session.scalars(select(AuditEvent)).all()
    assert event.action == "new_version" and event.reason == "the dataset had a typo"
    client.get("/logout")
    as_user(client, "alice")
    page = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    assert f"/variants/{new.id}/files/data.csv" in page
    assert "Your instructor gave you a new version" in page


def test_every_gradebook_cell_opens_the_students_problem(client, db_session, world):
    _graded(db_session, world, {"slope": 1.0})
    as_user(client, "teacher")
    url = f"/teach/courses/{world.course.id}/gradebook?assignment_id={world.assignment.id}"
    body = client.get(url).get_data(as_text=True)
    for key in ("alice", "bob"):  # bob has not opened it: his cell opens an empty page
        assert f'href="{_detail_url(world, key)}"' in body


def test_the_gradebook_marks_a_students_exception(client, db_session, world):
    _graded(db_session, world, {"slope": 1.0})
    as_user(client, "teacher")
    url = f"/teach/courses/{world.course.id}/gradebook?assignment_id={world.assignment.id}"
    mark = 'class="mark exception"'
    before = client.get(url).get_data(as_text=True).count(mark)
    _give_alice(
        db_session, world, exception_editing.ExceptionTerms(extra_attempts=2), "accommodation"
    )
    assert client.get(url).get_data(as_text=True).count(mark) == before + 1
