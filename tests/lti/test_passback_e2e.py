"""The whole LMS round trip through real processes: `mixgrade serve`, `mixgrade worker`, and
the simulated platform over HTTP. Deep Linking places the demo assignment; a student
launches, submits, the worker grades; the score reaches the platform's line item even
though the platform is down at the first try.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
from sqlalchemy import select

from service.models import Assignment, LtiScoreSend, ScoreSendStatus, StoredVariant, User
from tests.integration.stack import (
    Stack,
    csrf_from,
    student_session,
    wait_for_status,
)
from tests.lti.platform import INSTRUCTOR, LEARNER, Platform, parse_form, register_with_cli

INSTRUCTOR_EMAIL = "instructor@demo.mixgrade"


@pytest.mark.parametrize("given_lineitem", [True, False], ids=["lineitem", "lineitems-only"])
def test_launch_submit_grade_and_the_score_arrives_at_the_platform(
    stack: Stack, given_lineitem: bool
):
    """With a line item in the launch, or only the line-item service: then the worker
    makes the line item before its first score."""
    lms = Platform(fail_scores=1).start()
    try:
        _round_trip(stack, lms, given_lineitem)
    finally:
        lms.stop()


def _round_trip(stack: Stack, lms: Platform, given_lineitem: bool) -> None:
    # The demo instructor's own account places the demo assignment: linked by email.
    result = register_with_cli(stack, lms, "--link-by-email")
    assert "/lti/login" in result.stdout and "/lti/jwks" in result.stdout
    stack.start_worker("worker", "--concurrency=1", MIXGRADE_LTI_RETRY_BASE="0.3")
    stack.start_web()
    lms.tool_jwks_url = f"{stack.base_url}/lti/jwks"

    with stack.session() as session:
        assignment = session.scalar(select(Assignment).order_by(Assignment.id))
        assignment_id, course_id = assignment.id, assignment.course_id
        first_item = assignment.assignment_problems[0].id
        possible = sum(i.points for i in assignment.assignment_problems)

    # The demo instructor places the demo assignment through Deep Linking.
    teacher = requests.Session()
    hint = lms.prepare(
        sub="lms-teacher",
        roles=[INSTRUCTOR],
        email=INSTRUCTOR_EMAIL,
        message_type="LtiDeepLinkingRequest",
    )
    response, _ = lms.launch(stack.base_url, hint, teacher)
    assert response.status_code == 302, response.text
    picker = teacher.get(stack.base_url + response.headers["Location"], timeout=10)
    chosen = teacher.post(
        picker.url,
        data={"assignment_id": assignment_id, "csrf_token": csrf_from(picker.text)},
        timeout=10,
    )
    action, fields = parse_form(chosen.text)
    assert requests.post(action, data=fields, timeout=10).text == "placed"
    [item] = lms.deep_link_responses[0][
        "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
    ]

    # A student launches the placed link and lands on the assignment.
    student = requests.Session()
    hint = lms.prepare(
        sub="lms-student",
        roles=[LEARNER],
        email="lms.student@uni.edu",
        name="Lou Student",
        resource_link_id="placed-1",
        custom=item["custom"],
        lineitem=lms.lineitem_url(7) if given_lineitem else None,
    )
    response, _ = lms.launch(stack.base_url, hint, student)
    assert response.status_code == 302, response.text
    assert re.search(rf"/(courses/{course_id}|items/{first_item})$", response.headers["Location"])

    # They answer the first problem correctly (reference answers from their stored variant).
    page = student.get(f"{stack.base_url}/items/{first_item}", timeout=30)
    assert page.status_code == 200
    with stack.session() as session:
        user = session.scalar(select(User).where(User.email == "lms.student@uni.edu"))
        variant = session.scalar(
            select(StoredVariant).where(
                StoredVariant.user_id == user.id, StoredVariant.assignment_problem_id == first_item
            )
        )
        parts = variant.content["parts"]
    form = [("csrf_token", csrf_from(page.text))]
    for part in parts:
        values = part["answer"] if isinstance(part["answer"], list) else [part["answer"]]
        form += [(f"part-{part['id']}", str(v)) for v in values]
    submitted = student.post(
        f"{stack.base_url}/items/{first_item}/submit",
        data=form,
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert submitted.status_code == 202, submitted.text
    graded = wait_for_status(student, stack.base_url + submitted.json()["status_url"], {"graded"})
    assert graded["score"] == pytest.approx(1.0)

    # The platform was down once; the task retried with backoff and the score arrived.
    try:
        [score] = lms.wait_for_scores(1, timeout=45)
    except AssertionError:
        raise AssertionError(
            "no score reached the platform: is service.lti.passback.after_graded called in "
            f"service/grading_store.py? worker log:\n{stack.log('worker')}"
        ) from None
    assert score["lineitem"] == (7 if given_lineitem else 101)
    assert len(lms.lineitem_posts) == (0 if given_lineitem else 1)
    assert score["userId"] == "lms-student"
    assert score["scoreMaximum"] == pytest.approx(possible)
    assert score["scoreGiven"] == pytest.approx(assignment.assignment_problems[0].points, rel=1e-3)
    assert score["gradingProgress"] == "FullyGraded"
    assert score["timestamp"].endswith("+00:00")

    # The worker records "sent" just after the platform answered: wait for that commit.
    deadline = time.monotonic() + 15
    while True:
        with stack.session() as session:
            [sent] = session.scalars(select(LtiScoreSend)).all()
            recorded = (sent.status, sent.tries, sent.response_status, sent.sent_at is not None)
        if recorded[0] == ScoreSendStatus.sent or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert recorded == (ScoreSendStatus.sent, 2, 204, True)

    # The instructor sees what was sent, and when.
    instructor = student_session(stack, INSTRUCTOR_EMAIL)
    record = instructor.get(f"{stack.base_url}/lti/courses/{course_id}", timeout=10).text
    assert "Lou Student" in record and "status-sent" in record and "HTTP 204" in record
