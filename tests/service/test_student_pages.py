"""The student's problem page: order, files, plot, submitting, feedback, solutions, practice."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from graders import grade
from problem_bank.variant import Variant
from service.grading_store import SqlGradingStore
from service.models import StoredVariant, Submission, SubmissionStatus, VariantPlot
from tests.conftest import csrf_token
from tests.service.web_world import as_user, build_world


def _variant(db_session, user, item) -> StoredVariant:
    db_session.expire_all()
    return db_session.scalar(
        select(StoredVariant).where(
            StoredVariant.user_id == user.id,
            StoredVariant.assignment_problem_id == item.id,
            StoredVariant.is_practice.is_(False),
        )
    )


def _form(page_html: str, answers: dict) -> MultiDict:
    form = [("csrf_token", csrf_token(page_html))]
    for part_id, value in answers.items():
        values = value if isinstance(value, list) else [value]
        form += [(f"part-{part_id}", str(v)) for v in values]
    return MultiDict(form)


def _right(content: dict) -> dict:
    return {p["id"]: p["answer"] for p in content["parts"]}


def _grade_now(settings, submission_id: int) -> None:
    """What the worker does, in-process: claim → grade → store (the real store)."""
    store = SqlGradingStore(settings.database_url)
    job = store.claim(submission_id)
    assert job is not None
    store.save_feedback(submission_id, grade(Variant.from_dict(job.variant), job.answers))


def _submit(client, url_item: int, answers: dict, *, practice_variant: int | None = None):
    page_url = f"/practice/{practice_variant}" if practice_variant else f"/items/{url_item}"
    html = client.get(page_url).get_data(as_text=True)
    return client.post(
        f"{page_url}/submit",
        data=_form(html, answers),
        headers={"Accept": "application/json"},
    )


@pytest.fixture
def world(db_session):
    return build_world(db_session)


def test_problem_page_shows_story_plot_files_output_parts_in_that_order(client, world):
    as_user(client, "alice")
    html = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    marks = ['id="story-h"', "plot.png", "files/data.csv", "files/fit.R", "files/fit.py"]
    marks += ['class="r-output"', 'id="parts-h"']
    positions = [html.index(m) for m in marks]
    assert positions == sorted(positions)
    assert '<label for="part-intercept" id="part-intercept-label">Your answer</label>' in html
    assert "A number, e.g." in html  # a format hint next to a numeric input
    # ...and the precision asked, inside the text the input is described by (issue 13)
    assert re.search(
        r'id="part-intercept-format">[^<]*<span class="precision">Give 3 significant digits.',
        html,
    )


def test_downloads_are_the_stored_variant_and_never_change(client, world, db_session):
    as_user(client, "alice")
    client.get(f"/items/{world.item.id}")
    variant = _variant(db_session, world.users["alice"], world.item)
    csv_response = client.get(f"/variants/{variant.id}/files/data.csv")
    assert csv_response.status_code == 200
    assert csv_response.headers["Content-Disposition"] == 'attachment; filename="data.csv"'
    assert csv_response.get_data(as_text=True) == variant.content["data_csv"]
    assert (
        client.get(f"/variants/{variant.id}/files/fit.R").get_data(as_text=True)
        == (variant.content["r_script"])
    )
    assert client.get(f"/variants/{variant.id}/files/fit.py").status_code == 200
    assert client.get(f"/variants/{variant.id}/files/secrets.txt").status_code == 404


def test_plot_is_drawn_once_and_stored(client, world, db_session):
    as_user(client, "alice")
    client.get(f"/items/{world.item.id}")
    variant = _variant(db_session, world.users["alice"], world.item)
    first = client.get(f"/variants/{variant.id}/plot.png")
    assert first.status_code == 200 and first.mimetype == "image/png"
    assert first.data.startswith(b"\x89PNG")
    db_session.expire_all()
    stored = db_session.get(VariantPlot, variant.id)
    assert stored is not None and stored.png == first.data
    assert client.get(f"/variants/{variant.id}/plot.png").data == first.data


def test_unreadable_answer_is_shown_next_to_its_input_and_costs_no_attempt(client, world):
    as_user(client, "alice")
    response = _submit(client, world.item.id, {"intercept": "one point two"})
    assert response.status_code == 422
    assert "intercept" in response.get_json()["errors"]
    # Without JavaScript the page comes back with the message by the input.
    html = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    plain = client.post(
        f"/items/{world.item.id}/submit", data=_form(html, {"intercept": "one point two"})
    )
    assert plain.status_code == 422
    text = plain.get_data(as_text=True)
    error_at = text.index('id="part-intercept-error"')
    assert text.index('id="part-intercept"') < error_at < text.index('id="part-slope-box"')
    assert 'value="one point two"' in text
    assert 'attempts left: <strong id="attempts-left">3</strong>' in text


def test_wrong_then_right_answer_feedback_points_and_attempts(client, world, db_session, settings):
    as_user(client, "alice")
    client.get(f"/items/{world.item.id}")
    content = _variant(db_session, world.users["alice"], world.item).content
    right = _right(content)
    slope = right["slope"]
    wrong = {**right, "intercept": f"{slope:.4g}"}  # the slope-for-intercept misconception
    first = _submit(client, world.item.id, wrong)
    assert first.status_code == 202
    body = client.get(first.get_json()["status_url"]).get_json()
    assert body["status"] == "queued"
    _grade_now(settings, first.get_json()["id"])
    body = client.get(first.get_json()["status_url"]).get_json()
    assert body["status"] == "graded" and body["attempts_left"] == 2
    intercept = next(p for p in body["parts"] if p["id"] == "intercept")
    assert intercept["misconception"] == "slope_for_intercept"
    assert "slope" in intercept["message"] and intercept["points"] == 0
    assert body["points"] < body["points_possible"] == 10

    second = _submit(client, world.item.id, right)
    _grade_now(settings, second.get_json()["id"])
    body = client.get(second.get_json()["status_url"]).get_json()
    assert body["points"] == 10 and body["attempts_left"] == 1
    html = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    assert "10 / 10 points" in html
    assert html.count("Attempt 2") >= 1 and "Attempt 1" in html  # history keeps both


def test_solution_is_hidden_until_the_last_attempt(client, db_session, settings):
    world = build_world(db_session, attempts=2)
    as_user(client, "alice")
    client.get(f"/items/{world.item.id}")
    content = _variant(db_session, world.users["alice"], world.item).content
    solution = content["parts"][0]["solution"].split("`")[-1]  # the numbers, after the code
    assert solution.strip(" .")
    answers = {"intercept": "0"}
    _submit(client, world.item.id, answers)
    html = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    assert "Worked solution" not in html and solution not in html
    _submit(client, world.item.id, answers)
    html = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    assert "Worked solution" in html and solution in html
    third = _submit(client, world.item.id, answers)
    assert third.status_code == 409  # no attempts left: a conflict with what is stored
    assert "No attempts left" in third.get_json()["detail"]
    assert third.get_json()["type"] == "urn:mixgrade:problem:attempts-exhausted"


def test_solution_shows_once_the_assignment_has_closed(client, db_session):
    world = build_world(db_session, due_in=-timedelta(hours=1))
    as_user(client, "alice")
    html = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    assert "Worked solution" in html
    assert _submit(client, world.item.id, {"intercept": "1"}).status_code == 403


def test_late_submission_is_marked_and_loses_the_penalty(client, db_session, settings):
    world = build_world(
        db_session, due_in=-timedelta(hours=1), late_for=timedelta(days=2), penalty=0.25
    )
    as_user(client, "alice")
    html = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    assert "marked late" in html and "Worked solution" not in html
    content = _variant(db_session, world.users["alice"], world.item).content
    response = _submit(client, world.item.id, _right(content))
    _grade_now(settings, response.get_json()["id"])
    body = client.get(response.get_json()["status_url"]).get_json()
    assert body["is_late"] is True and body["points"] == 7.5
    assert "late" in client.get(f"/courses/{world.course.id}").get_data(as_text=True)


def test_practice_versions_are_new_seeds_and_kept_apart(client, world, db_session, settings):
    as_user(client, "alice")
    client.get(f"/items/{world.item.id}")
    own = _variant(db_session, world.users["alice"], world.item)
    page = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    response = client.post(
        f"/items/{world.item.id}/practice", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 302
    practice_id = int(response.headers["Location"].rsplit("/", 1)[1])
    practice = db_session.get(StoredVariant, practice_id)
    assert practice.is_practice and practice.seed != own.seed
    for _ in range(4):  # more than the 3 assignment attempts: practice has no limit
        sent = _submit(
            client, world.item.id, _right(practice.content), practice_variant=practice_id
        )
        assert sent.status_code == 202
        _grade_now(settings, sent.get_json()["id"])
    html = client.get(f"/practice/{practice_id}").get_data(as_text=True)
    assert "Worked solution" in html and "does not count" in html
    course = client.get(f"/courses/{world.course.id}").get_data(as_text=True)
    assert "0 / 3" in course  # no assignment attempt used
    subs = db_session.scalars(select(Submission).where(Submission.variant_id == own.id)).all()
    assert subs == []


def test_practice_is_refused_when_the_instructor_has_it_off(client, db_session):
    world = build_world(db_session, practice=False)
    as_user(client, "alice")
    page = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    assert "New practice version" not in page
    response = client.post(
        f"/items/{world.item.id}/practice", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 403


def test_course_page_lists_due_date_attempts_and_score(client, world, db_session, settings):
    as_user(client, "alice")
    client.get(f"/items/{world.item.id}")
    content = _variant(db_session, world.users["alice"], world.item).content
    sent = _submit(client, world.item.id, _right(content))
    _grade_now(settings, sent.get_json()["id"])
    html = client.get(f"/courses/{world.course.id}").get_data(as_text=True)
    assert "Homework 1" in html and "1 / 3" in html and "10 / 10" in html and "UTC" in html
    assert db_session.get(Submission, sent.get_json()["id"]).status == SubmissionStatus.graded


def test_submitting_before_the_page_was_opened_issues_the_variant_first(client, world, db_session):
    as_user(client, "bob")
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert _variant(db_session, world.users["bob"], world.item) is None
    response = client.post(
        f"/items/{world.item.id}/submit",
        data=MultiDict([("csrf_token", token), ("part-intercept", "1.5")]),
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    variant = _variant(db_session, world.users["bob"], world.item)
    submission = db_session.get(Submission, response.get_json()["id"])
    assert submission.variant_id == variant.id and submission.attempt_number == 1
    assert submission.answers["intercept"] == "1.5"


def test_a_resent_submission_with_the_same_idempotency_key_is_stored_once(
    client, world, db_session
):
    as_user(client, "alice")
    html = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    sent = [
        client.post(
            f"/items/{world.item.id}/submit",
            data=_form(html, {"intercept": "1.5"}),
            headers={"Accept": "application/json", "Idempotency-Key": "tab-1"},
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in sent] == [202, 202]
    assert sent[0].get_json()["id"] == sent[1].get_json()["id"]
    variant = _variant(db_session, world.users["alice"], world.item)
    stored = db_session.scalars(select(Submission).where(Submission.variant_id == variant.id))
    assert [s.attempt_number for s in stored] == [1]


def test_a_stored_problem_that_no_longer_parses_is_a_409_page_not_a_500(client, world, db_session):
    """A spec saved before a limit it now exceeds: the student is told, nothing breaks."""
    as_user(client, "alice")
    assert client.get(f"/items/{world.item.id}").status_code == 200  # Alice's is issued
    world.problem.spec_text = "id: no_longer_valid\n"
    db_session.commit()
    plot = client.get(
        f"/variants/{_variant(db_session, world.users['alice'], world.item).id}/plot.png"
    )
    assert plot.status_code == 409, plot.get_data(as_text=True)
    as_user(client, "bob")  # Bob's variant must be generated from the broken spec
    page = client.get(f"/items/{world.item.id}")
    assert page.status_code == 409
    assert "cannot be generated" in page.get_data(as_text=True)


def _decided(client, world, settings, pick: str) -> tuple[dict, dict]:
    """Submit ``pick`` for the decision part, grade it: the status JSON and that part's."""
    sent = _submit(client, world.item.id, {"decision": pick})
    _grade_now(settings, sent.get_json()["id"])
    body = client.get(sent.get_json()["status_url"]).get_json()
    return body, next(p for p in body["parts"] if p["id"] == "decision")


def _decision_part(client, world, db_session) -> dict:
    as_user(client, "alice")
    client.get(f"/items/{world.item.id}")
    content = _variant(db_session, world.users["alice"], world.item).content
    return next(p for p in content["parts"] if p["id"] == "decision")


def test_a_wrong_choice_is_told_why_it_is_wrong_and_the_key_only_at_the_last_attempt(
    client, db_session, settings
):
    # The decision part's explanation quotes the slope's p-value: shown after the first
    # wrong pick, it made the second attempt free.
    world = build_world(db_session, attempts=2)
    decision = _decision_part(client, world, db_session)
    key = decision["explanation"]
    assert "p-value of the slope" in key
    wrong_pick = next(c for c in decision["choices"] if c["id"] != decision["answer"])

    body, part = _decided(client, world, settings, wrong_pick["id"])
    assert part["verdict"] == "incorrect" and body["attempts_left"] == 1
    assert part["message"] == f"Not correct. {wrong_pick['explanation']}"
    assert key not in part["message"] and part["explanation"] == ""
    html = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    assert str(escape(wrong_pick["explanation"])) in html
    assert str(escape(key)) not in html and 'class="explanation"' not in html

    body, part = _decided(client, world, settings, wrong_pick["id"])
    assert body["attempts_left"] == 0 and part["explanation"] == key
    assert key not in part["message"]  # the stored verdict stays as graded
    html = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    assert f'<div class="explanation"><p>{escape(key)}</p></div>' in html  # as Markdown


def test_a_right_choice_is_told_why_at_once(client, world, db_session, settings):
    decision = _decision_part(client, world, db_session)
    body, part = _decided(client, world, settings, decision["answer"])
    assert part["verdict"] == "correct" and body["attempts_left"] == 2
    assert part["message"] == f"Correct. {decision['explanation']}"
    assert part["explanation"] == ""  # already in the message: not said twice


def _attributes(html: str, tag_id: str) -> str:
    """The opening tag of the element with id ``tag_id``."""
    return re.search(rf'<[a-z]+ [^>]*id="{re.escape(tag_id)}"[^>]*>', html, re.S).group(0)


def test_without_javascript_exactly_the_unreadable_inputs_are_marked_invalid(client, world):
    """Server-rendered: the unreadable number and the unreadable choice group are marked,
    the readable slope is not, and each input is named by its prompt, described by its hint,
    error and feedback."""
    as_user(client, "alice")
    html = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    answers = {"intercept": "one point two", "slope": "0.5", "decision": "perhaps"}
    page = client.post(f"/items/{world.item.id}/submit", data=_form(html, answers))
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    intercept, slope = _attributes(text, "part-intercept"), _attributes(text, "part-slope")
    assert 'aria-invalid="true"' in intercept and "aria-invalid" not in slope
    assert 'aria-labelledby="part-intercept-prompt part-intercept-label"' in intercept
    described = (
        'aria-describedby="part-intercept-format part-intercept-error part-intercept-feedback"'
    )
    assert described in intercept
    group = _attributes(text, "part-decision")
    assert 'role="radiogroup"' in group and 'aria-invalid="true"' in group
    assert 'aria-labelledby="part-decision-prompt"' in group
    radios = re.findall(r'<input type="radio" name="part-decision"[^>]*>', text)
    assert radios and all('aria-invalid="true"' in r for r in radios)
    # The script is told the same, to mark the same inputs.
    reply = _submit(client, world.item.id, answers)
    assert reply.get_json()["invalid"] == {"decision": [], "intercept": []}


def test_plot_has_a_text_saying_what_it_shows(client, world, db_session):
    """Issue 13: the alt text was "Plot of your dataset"; now it says what is drawn."""
    import problem_bank

    as_user(client, "alice")
    html = client.get(f"/items/{world.item.id}").get_data(as_text=True)
    variant = _variant(db_session, world.users["alice"], world.item)
    spec = problem_bank.parse_spec(variant.problem.spec_text)
    words = problem_bank.plot_text(spec, problem_bank.Variant.from_dict(variant.content))
    assert words.startswith("Scatter plot of ReproductiveEffort against Foodavailability")
    assert f'alt="{escape(words)}"' in html
    assert (
        f"<figcaption><details><summary>The plot in words</summary><p>{escape(words)}</p>" in html
    )
