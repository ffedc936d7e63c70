"""Ids that reach the LTI tool outside the URL path (a launch's custom claim, the Deep
Linking form) are read as row ids too: one no row can have is ignored or "not found"."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from service.models import LtiResourceLink
from tests.lti.platform import INSTRUCTOR, LEARNER, Platform


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
