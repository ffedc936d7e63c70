"""A launch opens an LTI window: its pages may be framed by the launching platform only.

Plain HTTP here (the browser proof over HTTPS is tests/e2e/test_lms_frame.py), so the
session cookie stays SameSite=Lax, as browsers require without Secure.
"""

from __future__ import annotations

import requests

from service.lti import platforms
from tests.integration.stack import csrf_from
from tests.lti.platform import INSTRUCTOR, Platform


def _ancestors(response: requests.Response) -> str:
    policy = response.headers["Content-Security-Policy"]
    [value] = [d.strip() for d in policy.split(";") if d.strip().startswith("frame-ancestors ")]
    return value.removeprefix("frame-ancestors ")


def test_a_launched_session_is_framed_by_its_platform_until_logout(
    tool, platform: Platform, db_session
):
    platforms.register(
        db_session,
        issuer="https://other-lms.example",
        client_id="other",
        auth_login_url="https://other-lms.example/auth",
        auth_token_url="https://other-lms.example/token",
        jwks_url="https://other-lms.example/jwks",
        deployment_ids=["d"],
    )
    hint = platform.prepare(sub="t-1", roles=[INSTRUCTOR], email="prof@uni.edu", name="Prof")
    browser = requests.Session()
    launched, _ = platform.launch(tool.base_url, hint, browser)
    assert launched.status_code == 302, launched.text
    assert _ancestors(launched) == platform.base_url  # only this platform's origin
    assert "X-Frame-Options" not in launched.headers
    assert "SameSite=Lax" in launched.headers["Set-Cookie"]  # plain HTTP: no SameSite=None
    assert "Partitioned" not in launched.headers["Set-Cookie"]

    course_page = browser.get(f"{tool.base_url}{launched.headers['Location']}", timeout=10)
    assert course_page.status_code == 200
    assert _ancestors(course_page) == platform.base_url
    home = browser.get(f"{tool.base_url}/", timeout=10)
    assert _ancestors(home) == platform.base_url  # every page of the window

    token = csrf_from(course_page.text)
    browser.post(f"{tool.base_url}/logout", data={"csrf_token": token}, timeout=10)
    after = browser.get(f"{tool.base_url}/login", timeout=10)
    assert _ancestors(after) == "'none'" and after.headers["X-Frame-Options"] == "DENY"
