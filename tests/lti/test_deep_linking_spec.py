"""Deep Linking as LTI DL 2.0 says: a safe return URL, and the platform's settings honoured.

Every placement is checked on the signed response the simulated platform receives.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
import requests
from sqlalchemy import select

from service.lti.launch import DL_SETTINGS
from service.models import (
    Assignment,
    AssignmentProblem,
    Course,
    Enrollment,
    LtiContext,
    LtiIdentity,
    LtiLoginState,
    LtiPlatform,
    Role,
    User,
)
from tests.lti.platform import INSTRUCTOR, Platform, parse_form
from tests.lti.test_deep_linking_and_roster import _course_with_assignment, _csrf

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


@pytest.fixture
def bank(db_session) -> dict[str, Any]:
    """The instructor's two assignments in one course, and a third in another course."""
    course, first = _course_with_assignment(db_session)
    teacher = db_session.scalar(select(User).where(User.email == "prof@uni.edu"))
    problem = first.assignment_problems[0].problem
    second = Assignment(course=course, title="Week 2: GLM output", attempts_allowed=1)
    other_course = Course(code="OTHER", title="Another course")
    elsewhere = Assignment(course=other_course, title="Elsewhere", attempts_allowed=1)
    db_session.add_all(
        [
            second,
            AssignmentProblem(assignment=second, problem=problem, position=1, points=5),
            other_course,
            Enrollment(user=teacher, course=other_course, role=Role.instructor),
            elsewhere,
            AssignmentProblem(assignment=elsewhere, problem=problem, position=1, points=3),
        ]
    )
    # The local instructor's own account places their assignments (off by default).
    db_session.scalar(select(LtiPlatform)).link_by_email = True
    db_session.commit()
    return {"course": course, "first": first, "second": second, "elsewhere": elsewhere}


def _launch(tool, platform: Platform, browser: requests.Session, **settings: Any):
    """A Deep Linking launch whose settings are the platform's defaults changed by ``settings``
    (a value of None removes that setting)."""
    hint = platform.prepare(
        sub="prof-1", roles=[INSTRUCTOR], email="prof@uni.edu", message_type="LtiDeepLinkingRequest"
    )
    claim = platform.prepared[hint].claims[DL_SETTINGS]
    for name, value in settings.items():
        if value is None:
            claim.pop(name, None)
        else:
            claim[name] = value
    response, _ = platform.launch(tool.base_url, hint, browser)
    return response


def _picker(tool, platform: Platform, **settings: Any) -> tuple[requests.Session, Any]:
    browser = requests.Session()
    response = _launch(tool, platform, browser, **settings)
    assert response.status_code == 302, response.text
    picker = browser.get(tool.base_url + response.headers["Location"])
    assert picker.status_code == 200, picker.text
    return browser, picker


def _place(browser: requests.Session, picker, **form: Any) -> dict[str, Any]:
    """Post the picker; follow the return page's form to the platform; its received claims."""
    chosen = browser.post(picker.url, data={"csrf_token": _csrf(picker.text), **form})
    assert chosen.status_code == 200, chosen.text
    action, fields = parse_form(chosen.text)
    assert requests.post(action, data=fields, timeout=10).text == "placed"
    return chosen


def _received(platform: Platform) -> dict[str, Any]:
    [claims] = platform.deep_link_responses
    assert claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == (
        "LtiDeepLinkingResponse"
    )
    return claims


def _nothing_written(db_session) -> None:
    """A refused launch wrote nothing and left its state unspent."""
    db_session.expire_all()
    assert db_session.scalar(select(LtiContext)) is None
    assert db_session.scalar(select(LtiIdentity)) is None
    assert [s.used_at for s in db_session.scalars(select(LtiLoginState))] == [None]


# ----------------------------------------------------------------------- the return URL


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("javascript:alert(document.domain)", "not a 'javascript' URL"),
        ("JAVASCRIPT:alert(1)", "not a 'JAVASCRIPT' URL"),
        ("data:text/html,<script>alert(1)</script>", "not a 'data' URL"),
        ("https://evil.example/deep_link_return", "is on https://evil.example, which is not"),
        ("{lms}@evil.example/deep_link_return", "user name before its host (http://evil.example)"),
        ("http://prof@{host}/deep_link_return", "user name before its host"),
        ("http://evil.example\\@{host}/deep_link_return", "backslash"),
        (" {lms}/deep_link_return", "white space"),
        ("http://127.0.0.1:1/deep_link_return", "is on http://127.0.0.1:1, which is not"),
        ("/deep_link_return", "and this one is not a URL"),
        ("https:/deep_link_return", "has no plain host name"),
        ("https://lms.exämple.edu/return", "has no plain host name"),
    ],
    ids=[
        "javascript",
        "upper-case javascript",
        "data",
        "another host",
        "userinfo trick",
        "user name",
        "backslash",
        "white space",
        "another port",
        "relative",
        "no host",
        "non-ASCII host",
    ],
)
def test_a_return_url_off_the_platform_is_refused_at_launch(
    tool, platform: Platform, db_session, bank, url: str, why: str
):
    host = platform.base_url.split("//", 1)[1]
    url = url.format(lms=platform.base_url, host=host)
    response = _launch(tool, platform, requests.Session(), deep_link_return_url=url)
    assert response.status_code == 400, response.text
    shown = html.unescape(response.text)
    assert why in shown
    if "which is not" in why:
        assert f"registered: {platform.base_url})" in shown
        assert "add it to the platform's registration as a web origin" in shown
    assert "alert(" not in shown  # the URL itself is never echoed into the page
    _nothing_written(db_session)


def test_an_upper_case_scheme_on_the_platform_is_a_good_return_url(
    tool, platform: Platform, db_session, bank
):
    url = platform.base_url.replace("http://", "HTTP://") + "/deep_link_return"
    browser, picker = _picker(tool, platform, deep_link_return_url=url)
    chosen = _place(browser, picker, assignment_id=bank["first"].id)
    assert parse_form(chosen.text)[0] == url
    policy = chosen.headers["Content-Security-Policy"]
    [form_action] = [d for d in policy.split("; ") if d.startswith("form-action ")]
    assert form_action.count(platform.base_url) == 1
    assert len(_received(platform)[DL + "content_items"]) == 1


def test_a_return_url_on_an_origin_the_admin_added_is_accepted(
    tool, platform: Platform, db_session, bank
):
    db_session.scalar(select(LtiPlatform)).extra_origins = ["https://lms.example.edu"]
    db_session.commit()
    browser = requests.Session()
    response = _launch(
        tool, platform, browser, deep_link_return_url="https://lms.example.edu/courses/1/dl"
    )
    assert response.status_code == 302, response.text


def test_the_return_url_is_checked_again_before_the_return_page(
    tool, platform: Platform, db_session, bank
):
    """An origin the admin removes after the launch no longer receives the placement."""
    registration = db_session.scalar(select(LtiPlatform))
    registration.extra_origins = ["https://lms.example.edu"]
    db_session.commit()
    browser = requests.Session()
    response = _launch(
        tool, platform, browser, deep_link_return_url="https://lms.example.edu/courses/1/dl"
    )
    assert response.status_code == 302, response.text
    picker_url = tool.base_url + response.headers["Location"]
    picker = browser.get(picker_url)
    token = _csrf(picker.text)
    registration.extra_origins = None
    db_session.commit()
    for refused in (
        browser.get(picker_url),
        browser.post(picker_url, data={"csrf_token": token, "assignment_id": bank["first"].id}),
    ):
        assert refused.status_code == 400, refused.text
        assert "is on https://lms.example.edu, which is not a web origin" in refused.text
        assert 'name="JWT"' not in refused.text
    db_session.expire_all()
    assert db_session.scalar(select(LtiContext)).course_id != bank["course"].id  # not attached


# ----------------------------------------------------------------------- accept_types


def test_a_placement_that_takes_no_resource_links_is_refused(
    tool, platform: Platform, db_session, bank
):
    response = _launch(tool, platform, requests.Session(), accept_types=["link", "html"])
    assert response.status_code == 400, response.text
    assert "accepts link, html, but mixgrade places only LTI resource links" in response.text
    _nothing_written(db_session)


def test_settings_of_the_wrong_type_are_refused(tool, platform: Platform, db_session, bank):
    for settings, why in (
        ({"accept_types": "ltiResourceLink"}, "accept_types must be a list of strings"),
        ({"accept_multiple": 3}, "accept_multiple must be true or false, not 3"),
        ({"deep_link_return_url": None}, "must carry deep_link_return_url"),
    ):
        response = _launch(tool, platform, requests.Session(), **settings)
        assert response.status_code == 400, response.text
        assert why in response.text
    db_session.expire_all()
    assert db_session.scalar(select(LtiContext)) is None


def test_absent_accept_types_still_place_a_resource_link(
    tool, platform: Platform, db_session, bank
):
    browser, picker = _picker(tool, platform, accept_types=None)
    _place(browser, picker, assignment_id=bank["first"].id)
    [item] = _received(platform)[DL + "content_items"]
    assert item["type"] == "ltiResourceLink"


# ----------------------------------------------------------------------- accept_multiple


def test_accept_multiple_places_each_ticked_assignment(tool, platform: Platform, db_session, bank):
    browser, picker = _picker(tool, platform, accept_multiple=True)
    assert picker.text.count('type="checkbox" name="assignment_id"') == 3
    assert 'type="radio" name="assignment_id"' not in picker.text
    first, second = bank["first"], bank["second"]
    _place(browser, picker, assignment_id=[first.id, second.id])
    claims = _received(platform)
    items = claims[DL + "content_items"]
    assert [i["custom"] for i in items] == [
        {"assignment_id": str(first.id)},
        {"assignment_id": str(second.id)},
    ]
    assert [i["lineItem"]["scoreMaximum"] for i in items] == [12, 5]
    assert [i["lineItem"]["resourceId"] for i in items] == [
        f"mixgrade-assignment-{first.id}",
        f"mixgrade-assignment-{second.id}",
    ]
    assert claims[DL + "msg"] == "Placed Week 1: reading lm output, Week 2: GLM output."


@pytest.mark.parametrize("multiple", [False, "false", None], ids=["false", "string", "absent"])
def test_without_accept_multiple_exactly_one_is_placed(
    tool, platform: Platform, db_session, bank, multiple
):
    browser, picker = _picker(tool, platform, accept_multiple=multiple)
    assert picker.text.count('type="radio" name="assignment_id"') == 3
    assert "checkbox" not in picker.text
    token = _csrf(picker.text)
    two = browser.post(
        picker.url,
        data={"csrf_token": token, "assignment_id": [bank["first"].id, bank["second"].id]},
    )
    assert two.status_code == 400, two.text
    assert "places one assignment at a time" in two.text
    none = browser.post(picker.url, data={"csrf_token": token})
    assert none.status_code == 400 and "Choose an assignment to place, or Cancel." in none.text
    assert platform.deep_link_responses == []
    _place(browser, picker, assignment_id=bank["second"].id)
    [item] = _received(platform)[DL + "content_items"]
    assert item["custom"] == {"assignment_id": str(bank["second"].id)}


def test_several_picks_must_come_from_one_course(tool, platform: Platform, db_session, bank):
    browser, picker = _picker(tool, platform, accept_multiple=True)
    mixed = browser.post(
        picker.url,
        data={
            "csrf_token": _csrf(picker.text),
            "assignment_id": [bank["first"].id, bank["elsewhere"].id],
        },
    )
    assert mixed.status_code == 409, mixed.text
    assert "choose assignments of one course" in mixed.text
    db_session.expire_all()
    assert db_session.scalar(select(LtiContext)).course_id != bank["course"].id


# ----------------------------------------------------------------------- accept_lineitem


@pytest.mark.parametrize("accept", [True, None], ids=["true", "absent"])
def test_a_line_item_goes_where_the_platform_may_create_one(
    tool, platform: Platform, db_session, bank, accept
):
    browser, picker = _picker(tool, platform, accept_lineitem=accept)
    _place(browser, picker, assignment_id=bank["first"].id)
    [item] = _received(platform)[DL + "content_items"]
    assert item["lineItem"] == {
        "scoreMaximum": 12,
        "label": "Week 1: reading lm output",
        "resourceId": f"mixgrade-assignment-{bank['first'].id}",
        "tag": "mixgrade",
    }


def test_no_line_item_when_the_platform_does_not_accept_them(
    tool, platform: Platform, db_session, bank
):
    browser, picker = _picker(tool, platform, accept_lineitem=False, accept_multiple=True)
    assert "grade column" not in picker.text
    _place(browser, picker, assignment_id=[bank["first"].id, bank["second"].id])
    items = _received(platform)[DL + "content_items"]
    assert len(items) == 2 and all("lineItem" not in i for i in items)


# ------------------------------------------------------ accept_presentation_document_targets


def test_the_frame_is_the_default_when_both_are_accepted(
    tool, platform: Platform, db_session, bank
):
    browser, picker = _picker(
        tool, platform, accept_presentation_document_targets=["window", "iframe"]
    )
    assert re.search(r'name="target" value="iframe" checked', picker.text)
    _place(browser, picker, assignment_id=bank["first"].id)  # no choice posted: the default
    [item] = _received(platform)[DL + "content_items"]
    assert item["iframe"] == {"height": 900} and "window" not in item


def test_the_instructor_may_choose_a_window(tool, platform: Platform, db_session, bank):
    browser, picker = _picker(tool, platform)
    _place(browser, picker, assignment_id=bank["first"].id, target="window")
    [item] = _received(platform)[DL + "content_items"]
    assert item["window"] == {"targetName": "mixgrade"} and "iframe" not in item


@pytest.mark.parametrize(
    ("targets", "expected"),
    [(["window"], "window"), (["iframe", "embed"], "iframe"), (["embed"], None), (None, None)],
    ids=["window only", "iframe and embed", "embed only", "absent"],
)
def test_only_an_accepted_target_is_named(
    tool, platform: Platform, db_session, bank, targets, expected
):
    browser, picker = _picker(tool, platform, accept_presentation_document_targets=targets)
    assert 'name="target"' not in picker.text  # nothing to choose between
    refused = browser.post(
        picker.url,
        data={
            "csrf_token": _csrf(picker.text),
            "assignment_id": bank["first"].id,
            "target": "iframe" if expected != "iframe" else "window",
        },
    )
    assert refused.status_code == 400 and "does not show links as" in refused.text
    _place(browser, picker, assignment_id=bank["first"].id)
    [item] = _received(platform)[DL + "content_items"]
    assert {"iframe", "window"} & item.keys() == ({expected} if expected else set())


# ----------------------------------------------------------------------- data and Cancel


@pytest.mark.parametrize(
    "data",
    ['csrf:{"state": "a&b<c>"} ünïcode', {"course": 7, "nested": [1, None]}],
    ids=["string", "object"],
)
def test_data_is_echoed_unchanged(tool, platform: Platform, db_session, bank, data):
    browser, picker = _picker(tool, platform, data=data)
    _place(browser, picker, assignment_id=bank["first"].id)
    assert _received(platform)[DL + "data"] == data


def test_no_data_claim_when_the_platform_sent_none(tool, platform: Platform, db_session, bank):
    browser, picker = _picker(tool, platform, data=None)
    _place(browser, picker, assignment_id=bank["first"].id)
    assert DL + "data" not in _received(platform)


def test_cancel_returns_no_content_items(tool, platform: Platform, db_session, bank):
    browser, picker = _picker(tool, platform)
    chosen = _place(browser, picker, action="cancel", assignment_id=bank["first"].id)
    assert "without placing anything" in chosen.text
    claims = _received(platform)
    assert claims[DL + "content_items"] == []
    assert claims[DL + "msg"] == "No mixgrade assignment was placed."
    assert claims[DL + "data"] == "opaque-platform-data"
    db_session.expire_all()
    assert db_session.scalar(select(LtiContext)).course_id != bank["course"].id  # not attached
    again = browser.post(picker.url, data={"csrf_token": _csrf(picker.text), "action": "cancel"})
    assert again.status_code == 400 and "This placement has expired" in again.text


def test_cancel_is_offered_when_there_is_nothing_to_place(tool, platform: Platform, db_session):
    browser, picker = _picker(tool, platform)
    assert "You have no assignments yet" in picker.text
    _place(browser, picker, action="cancel")
    assert _received(platform)[DL + "content_items"] == []
