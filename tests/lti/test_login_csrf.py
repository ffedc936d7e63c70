"""Login CSRF: a launch is spent only by the browser that started its login (issue 12 §3).

An (id_token, state) pair is what an attacker can get from their own login; posted from
a victim's browser it would log the victim in as the attacker. The login cookie, and
where the LMS frame blocks it the client-side storage check, make that fail.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select, update

from service.lti import launch
from service.models import Enrollment, LtiIdentity, LtiLoginState, User, utcnow
from tests.conftest import settings_on
from tests.lti.platform import LEARNER, STORAGE_FRAME, Platform, parse_form


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path):
    """Both databases: the purge compares timestamps, which each stores its own way."""
    return settings_on(request.param, request, tmp_path)


def _counts(session) -> tuple[int, int, int]:
    session.expire_all()
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(model))
        for model in (User, Enrollment, LtiIdentity)
    )


def _state(session, value: str) -> LtiLoginState:
    session.expire_all()
    return session.scalars(select(LtiLoginState).where(LtiLoginState.state == value)).one()


def _login_cookies(browser: requests.Session) -> dict[str, str]:
    return {
        c.name: c.value for c in browser.cookies if c.name.startswith(launch.LOGIN_COOKIE_PREFIX)
    }


def test_a_pair_posted_from_another_browser_logs_nobody_in(tool, platform: Platform, db_session):
    hint = platform.prepare(sub="mallory", roles=[LEARNER], email="mallory@uni.edu")
    attacker = requests.Session()
    action, fields = platform.authorize(tool.base_url, hint, attacker)
    before = _counts(db_session)

    victim = requests.Session()
    refused = victim.post(action, data=fields, allow_redirects=False, timeout=30)
    assert refused.status_code == 401, refused.text[:300]
    assert "did not start in this browser" in refused.text
    assert "allow cookies" in refused.text
    assert "session" not in refused.cookies and not victim.cookies.get("session")
    assert _counts(db_session) == before  # no user, identity or enrollment written
    assert _state(db_session, fields["state"]).used_at is None  # and the state not spent

    # A cookie of the right name but another value is no better.
    name = launch.login_cookie_name(fields["state"])
    forged = requests.post(action, data=fields, cookies={name: "guessed"}, allow_redirects=False)
    assert forged.status_code == 401 and "did not start in this browser" in forged.text
    assert _counts(db_session) == before

    # The browser that started the login launches, and its login cookie is deleted.
    accepted = attacker.post(action, data=fields, allow_redirects=False, timeout=30)
    assert accepted.status_code == 404 and "not set up yet" in accepted.text  # not placed yet
    assert accepted.cookies.get("session") or attacker.cookies.get("session")
    assert _counts(db_session) == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert _login_cookies(attacker) == {}


def test_each_login_has_its_own_short_lived_cookie(tool, platform: Platform, db_session):
    """Two tool frames on one LMS page are two logins in one browser: neither's cookie
    overwrites the other's, and they launch in either order."""
    browser = requests.Session()
    first = platform.prepare(sub="s-a", roles=[LEARNER], resource_link_id="link-a")
    second = platform.prepare(sub="s-a", roles=[LEARNER], resource_link_id="link-b")
    action_a, fields_a = platform.authorize(tool.base_url, first, browser)
    start = browser.get(
        f"{tool.base_url}/lti/login",
        params=platform.login_params(tool.base_url, second),
        allow_redirects=False,
    )
    header = start.headers["Set-Cookie"]
    assert launch.login_cookie_name(_state_of(start)) in header
    assert "HttpOnly" in header and "Path=/lti/launch" in header
    assert f"Max-Age={int(launch.STATE_LIFETIME.total_seconds())}" in header
    action_b, fields_b = parse_form(browser.get(start.headers["Location"]).text)
    assert len(_login_cookies(browser)) == 2

    assert browser.post(action_b, data=fields_b, allow_redirects=False).status_code == 404
    assert browser.post(action_a, data=fields_a, allow_redirects=False).status_code == 404
    assert _login_cookies(browser) == {}
    assert _state(db_session, fields_a["state"]).used_at is not None


def test_over_https_the_login_cookie_reaches_a_cross_site_frame(app, platform: Platform):
    """SameSite=None; Secure; Partitioned (set_cross_site_cookie), set and deleted alike."""
    client = app.test_client()
    hint = platform.prepare(sub="s-tls", roles=[LEARNER])
    params = platform.login_params("https://tool.example", hint)
    start = client.get("/lti/login", query_string=params, base_url="https://tool.example")
    assert start.status_code == 302, start.text[:300]
    header = start.headers["Set-Cookie"]
    assert header.startswith(launch.LOGIN_COOKIE_PREFIX)
    attributes = ("Secure", "HttpOnly", "SameSite=None", "Partitioned", "Path=/lti/launch")
    assert all(a in header for a in attributes), header

    _action, fields = parse_form(requests.get(start.headers["Location"], timeout=10).text)
    launched = client.post("/lti/launch", data=fields, base_url="https://tool.example")
    assert launched.status_code == 404, launched.text[:300]  # accepted: the cookie came back
    name = header.partition("=")[0]
    deleted = [h for h in launched.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert len(deleted) == 1 and "Max-Age=0" in deleted[0], deleted
    assert all(a in deleted[0] for a in attributes), deleted


def _state_of(login_response: requests.Response) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(login_response.headers["Location"]).query)["state"][0]


# ----------------------------------------------------------------- expiry and purging


def test_expired_states_are_purged_at_the_next_login(tool, platform: Platform, db_session):
    params = platform.login_params(tool.base_url, platform.prepare(sub="x", roles=[LEARNER]))
    for _ in range(50):  # anonymous GETs, nobody finishes a launch
        assert requests.get(f"{tool.base_url}/lti/login", params=params, allow_redirects=False)
    assert db_session.scalar(select(func.count()).select_from(LtiLoginState)) == 50
    db_session.execute(
        update(LtiLoginState).values(created_at=utcnow() - launch.STATE_LIFETIME - timedelta(1))
    )
    db_session.commit()

    kept = requests.get(f"{tool.base_url}/lti/login", params=params, allow_redirects=False)
    assert kept.status_code == 302
    db_session.expire_all()
    assert db_session.scalars(select(LtiLoginState.state)).all() == [_state_of(kept)]


def test_one_address_opens_only_so_many_logins_per_window(tool, platform: Platform, db_session):
    """A flood from one address stops at the cap: no state row, a 429 with Retry-After."""
    from service.models import LoginTries
    from service.services import login_limits

    params = platform.login_params(tool.base_url, platform.prepare(sub="x", roles=[LEARNER]))
    assert requests.get(f"{tool.base_url}/lti/login", params=params, allow_redirects=False)
    db_session.execute(
        update(LoginTries)
        .where(LoginTries.key == "lti-login:127.0.0.1")
        .values(tries=login_limits.LTI_LOGINS_PER_ADDRESS)
    )
    db_session.commit()
    refused = requests.get(f"{tool.base_url}/lti/login", params=params, allow_redirects=False)
    assert refused.status_code == 429, refused.text[:300]
    assert "Too many LMS sign-ins" in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= login_limits.WINDOW.total_seconds() + 1
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(LtiLoginState)) == 1


def test_the_purge_keeps_live_states_and_drops_used_ones_once_old(app, platform, db_session):
    from service.models import LtiPlatform

    lms = db_session.scalars(select(LtiPlatform)).one()
    old = utcnow() - launch.STATE_LIFETIME - timedelta(seconds=1)
    rows = {
        "live": LtiLoginState(state="live", nonce="n1", platform=lms),
        "old-unused": LtiLoginState(state="old-unused", nonce="n2", platform=lms, created_at=old),
        "old-used": LtiLoginState(
            state="old-used", nonce="n3", platform=lms, created_at=old, used_at=old
        ),
    }
    db_session.add_all(rows.values())
    db_session.commit()
    assert launch.purge_login_states(db_session) == 2
    db_session.commit()
    assert db_session.scalars(select(LtiLoginState.state)).all() == ["live"]


def test_the_beat_task_purges_login_states(app, settings, platform, db_session, monkeypatch):
    from graders.celery_app import celery_app
    from service.lti import tasks
    from service.models import LtiPlatform

    entries = {e["task"]: e for e in celery_app.conf.beat_schedule.values()}
    entry = entries["mixgrade.lti.purge_login_states"]
    assert entry["schedule"] <= launch.STATE_LIFETIME.total_seconds()

    lms = db_session.scalars(select(LtiPlatform)).one()
    old = utcnow() - launch.STATE_LIFETIME - timedelta(seconds=1)
    db_session.add(LtiLoginState(state="old", nonce="n", platform=lms, created_at=old))
    db_session.commit()
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setattr(tasks, "_sessions", None)
    assert tasks.purge_login_states.run() == 1
    tasks._session_factory().kw["bind"].dispose()  # the task's own engine, on this database
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(LtiLoginState)) == 0


# --------------------------------------------------- client-side storage (no cookies)


def _storage_login(tool, platform: Platform, hint: str, browser: requests.Session):
    """A login whose platform offers storage; the browser then loses the login cookie
    (what a browser that blocks cookies in the LMS frame does)."""
    page = browser.get(
        f"{tool.base_url}/lti/login",
        params=platform.login_params(tool.base_url, hint, storage_target=STORAGE_FRAME),
        allow_redirects=False,
    )
    assert page.status_code == 200, page.text[:300]
    assert 'data-step="put"' in page.text and f'data-storage-target="{STORAGE_FRAME}"' in page.text
    assert f'data-platform-origin="{platform.base_url}"' in page.text
    assert "<script>" not in page.text  # the CSP allows our static files only
    browser.cookies.clear()
    import html
    import re

    auth_url = html.unescape(re.search(r'data-next="([^"]+)"', page.text).group(1))
    return parse_form(browser.get(auth_url).text)


def _check_page(browser, action, fields) -> dict[str, str]:
    page = browser.post(action, data=fields, allow_redirects=False, timeout=30)
    assert page.status_code == 200, page.text[:300]
    assert 'data-step="get"' in page.text
    continue_action, hidden = parse_form(page.text)
    assert continue_action == "/lti/launch/continue"
    assert set(hidden) == {"id_token", "state", "continuation"}
    return hidden


def test_a_storage_login_continues_once_from_our_page_only(tool, platform: Platform, db_session):
    hint = platform.prepare(sub="s-store", roles=[LEARNER], email="store@uni.edu")
    browser = requests.Session()
    action, fields = _storage_login(tool, platform, hint, browser)
    before = _counts(db_session)
    hidden = _check_page(browser, action, fields)
    assert _counts(db_session) == before and _state(db_session, fields["state"]).used_at is None
    # The pair posted again (another browser, or a reload) gets no second continuation.
    again = requests.post(action, data=fields, allow_redirects=False)
    assert again.status_code == 401 and "already being checked" in again.text

    url = f"{tool.base_url}/lti/launch/continue"
    ours = {"Origin": tool.base_url}
    for headers in [
        {},
        {"Origin": platform.base_url},
        {"Sec-Fetch-Site": "cross-site", "Origin": tool.base_url},
    ]:
        refused = requests.post(url, data=hidden, headers=headers, allow_redirects=False)
        assert refused.status_code == 403, refused.text[:300]
        assert "not sent by the mixgrade page" in refused.text
    token = hidden["continuation"]
    # Another first character (a token that already starts with "x" made this a no-op).
    wrong = {**hidden, "continuation": ("y" if token[0] == "x" else "x") + token[1:]}
    refused = requests.post(url, data=wrong, headers=ours, allow_redirects=False)
    assert refused.status_code == 401 and "not issued for this launch" in refused.text
    # A refusal shows inside the LMS frame, like the launch's own refusals.
    assert f"frame-ancestors {platform.base_url}" in refused.headers["Content-Security-Policy"]
    assert _counts(db_session) == before

    accepted = browser.post(url, data=hidden, headers=ours, allow_redirects=False)
    assert accepted.status_code == 404 and "not set up yet" in accepted.text
    assert _counts(db_session) == (before[0] + 1, before[1] + 1, before[2] + 1)
    replay = requests.post(url, data=hidden, headers=ours, allow_redirects=False)
    assert replay.status_code == 401 and "already used" in replay.text


def test_a_storage_login_still_prefers_the_cookie(tool, platform: Platform, db_session):
    """Storage is the fallback: a browser that kept the cookie launches straight away."""
    hint = platform.prepare(sub="s-both", roles=[LEARNER])
    browser = requests.Session()
    page = browser.get(
        f"{tool.base_url}/lti/login",
        params=platform.login_params(tool.base_url, hint, storage_target="_parent"),
    )
    assert page.status_code == 200 and _login_cookies(browser)
    import html
    import re

    auth_url = html.unescape(re.search(r'data-next="([^"]+)"', page.text).group(1))
    action, fields = parse_form(browser.get(auth_url).text)
    launched = browser.post(action, data=fields, allow_redirects=False)
    assert launched.status_code == 404 and "not set up yet" in launched.text


def test_without_storage_a_launch_without_the_cookie_is_refused(tool, platform, db_session):
    hint = platform.prepare(sub="s-none", roles=[LEARNER])
    browser = requests.Session()
    action, fields = platform.authorize(tool.base_url, hint, browser)
    browser.cookies.clear()
    refused = browser.post(action, data=fields, allow_redirects=False)
    assert refused.status_code == 401 and "did not start in this browser" in refused.text
    continued = requests.post(
        f"{tool.base_url}/lti/launch/continue",
        data={**fields, "continuation": "anything"},
        headers={"Origin": tool.base_url},
    )
    assert continued.status_code == 401 and "not issued for this launch" in continued.text


def test_a_storage_target_that_is_not_a_window_name_is_refused(tool, platform: Platform):
    hint = platform.prepare(sub="s-bad", roles=[LEARNER])
    params = platform.login_params(tool.base_url, hint, storage_target='x" onload="alert(1)')
    refused = requests.get(f"{tool.base_url}/lti/login", params=params, allow_redirects=False)
    assert refused.status_code == 400 and "lti_storage_target" in refused.text
