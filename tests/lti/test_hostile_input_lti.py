"""Hostile input that reaches the LTI tool outside the JSON and form checks.

Ids outside the URL path (a launch's custom claim, the Deep Linking form) are read as row
ids: one no row can have is ignored or "not found". An id_token's header is JSON that PyJWT
parses before any signature is checked, so anyone who starts a login can send one.
"""

from __future__ import annotations

import base64
import re

import pytest
import requests
from sqlalchemy import select

from service.models import LtiResourceLink
from tests.lti.platform import INSTRUCTOR, LEARNER, Platform, parse_form


@pytest.mark.parametrize("raw", [str(2**63), "9" * 30, "2147483647", "-3", "１２"])
def test_a_launch_naming_an_assignment_that_cannot_exist_is_an_unlinked_link(
    tool, platform: Platform, db_session, raw
):
    hint = platform.prepare(
        sub="stu-1", roles=[LEARNER], email="stu@uni.edu", custom={"assignment_id": raw}
    )
    response, _ = platform.launch(tool.base_url, hint)
    assert response.status_code == 404, response.text[:500]
    assert "This LMS link is not set up yet" in response.text
    link = db_session.scalar(select(LtiResourceLink))
    assert link is not None and link.assignment_id is None


def test_the_deep_linking_form_with_an_id_no_row_can_have_is_a_404(
    tool, platform: Platform, db_session
):
    browser = requests.Session()
    hint = platform.prepare(
        sub="prof-1", roles=[INSTRUCTOR], email="prof@uni.edu", message_type="LtiDeepLinkingRequest"
    )
    response, _ = platform.launch(tool.base_url, hint, browser)
    assert response.status_code == 302, response.text
    picker = browser.get(tool.base_url + response.headers["Location"])
    token = re.search(r'name="csrf_token" value="([^"]+)"', picker.text).group(1)
    for raw in (str(2**63), "9" * 30, "0", "x"):
        chosen = browser.post(picker.url, data={"assignment_id": raw, "csrf_token": token})
        assert chosen.status_code == 404, (raw, chosen.text[:300])
        assert "Choose one of the listed assignments." in chosen.text


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "header",
    [
        '{"alg": "RS256", "kid": "\\ud800"}',  # a lone surrogate, quoted in the message
        "[" * 50_000 + "]" * 50_000,
        '{"alg": "RS256", "kid": ' + "7" * 5000 + "}",
        '"\\udfff"',
    ],
    ids=["surrogate kid", "deep", "huge int", "surrogate header"],
)
def test_an_id_token_with_a_hostile_header_is_refused_not_a_500(tool, platform: Platform, header):
    browser = requests.Session()
    hint = platform.prepare(sub="stu-1", roles=[LEARNER], email="stu@uni.edu")
    start = browser.get(
        f"{tool.base_url}/lti/login",
        params=platform.login_params(tool.base_url, hint),
        allow_redirects=False,
    )
    action, fields = parse_form(browser.get(start.headers["Location"]).text)
    fields["id_token"] = f"{_b64(header)}.{_b64('{}')}.c2ln"
    response = browser.post(action, data=fields, allow_redirects=False)
    assert response.status_code == 401, response.text[:300]
    assert "The launch is signed with a key the platform does not publish" in response.text
