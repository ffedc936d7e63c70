"""A platform that answers 200 with the wrong thing: a clear message, and nothing written.

The roster (NRPS), the token endpoint and, in test_lineitems, the line-item service each
get answers that are not JSON or not of the spec's shape. The course page flashes the
reason, `mixgrade lti roster-sync` exits 1 with one line, and no enrollment changes.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from flask import jsonify, request
from sqlalchemy import select

from service.cli import main
from service.lti import advantage, roster
from service.models import LtiContext
from tests.lti.platform import INSTRUCTOR, LEARNER, Platform
from tests.lti.test_roster_last_instructor import _roles, _sync

MEMBERS = [{"user_id": f"m-{n}", "roles": [LEARNER], "email": f"m{n}@uni.edu"} for n in range(6)]


@pytest.fixture(autouse=True)
def _no_cached_tokens():
    advantage.forget_tokens()
    yield
    advantage.forget_tokens()


def _html():
    return (
        "<html>\n<body>Service busy, try later</body>\n</html>",
        200,
        {"Content-Type": "text/html"},
    )


def _with_next(link: str):
    def answer():
        return jsonify(members=MEMBERS[:2]), 200, {"Link": f'<{link}>; rel="next"'}

    return answer


BROKEN_ROSTERS = {
    "an HTML page": (_html, "answered HTTP 200 with text/html, not JSON"),
    "a JSON list": (lambda: jsonify([]), "the answer has no members list"),
    "members not a list": (lambda: jsonify(members="all"), "the answer has no members list"),
    "a member without user_id": (
        lambda: jsonify(members=[{"roles": [LEARNER], "email": "x@uni.edu"}]),
        "a member has no user_id",
    ),
    "a member that is not an object": (lambda: jsonify(members=["m-1"]), "is not an object"),
    "roles that are one string": (
        lambda: jsonify(members=[{"user_id": "m-1", "roles": LEARNER}]),
        "member 'm-1' has roles that are not a list of names",
    ),
    "a status that is not NRPS's": (
        lambda: jsonify(members=[{"user_id": "m-1", "roles": [LEARNER], "status": "active"}]),
        "member 'm-1' has status 'active', not one of Active, Inactive, Deleted",
    ),
    "a user_id too long to store": (
        lambda: jsonify(members=[{"user_id": "u" * 300, "roles": [LEARNER]}]),
        "a member's user_id is over 255 characters",
    ),
    "a next page on another host": (
        _with_next("https://evil.example/members?page=2"),
        "links its next page to 'https://evil.example/members?page=2', off the service's origin",
    ),
    "a next page that is the same page": (
        lambda: _with_next(request.url)(),
        "links back to a page already read",
    ),
}


def _launched_context(tool, platform: Platform, db_session) -> LtiContext:
    hint = platform.prepare(sub="prof-1", roles=[INSTRUCTOR], email="prof@uni.edu")
    response, _ = platform.launch(tool.base_url, hint)
    assert response.status_code == 302, response.text
    db_session.expire_all()
    return db_session.scalar(select(LtiContext))


@pytest.mark.parametrize("case", list(BROKEN_ROSTERS))
def test_a_broken_roster_is_refused_with_its_reason(tool, platform, db_session, app, case):
    context = _launched_context(tool, platform, db_session)
    answer, reason = BROKEN_ROSTERS[case]
    platform.answers["members"] = answer
    platform.members = MEMBERS
    with app.app_context(), pytest.raises(roster.RosterUnavailable) as refused:
        roster.sync(db_session, context)
    message = str(refused.value)
    assert reason in message, message
    assert "\n" not in message
    assert list(_roles(db_session, context.course_id)) == ["prof@uni.edu"]


BROKEN_TOKENS = {
    "an HTML page": (_html, "the token endpoint http://"),
    "no access_token": (lambda: jsonify(token_type="Bearer"), "answered without an access_token"),
    "expires_in in words": (
        lambda: jsonify(access_token="t", token_type="Bearer", expires_in="soon"),
        "answered with expires_in 'soon', not seconds",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN_TOKENS))
def test_a_broken_token_answer_is_refused_with_its_reason(tool, platform, db_session, app, case):
    context = _launched_context(tool, platform, db_session)
    answer, reason = BROKEN_TOKENS[case]
    platform.answers["token"] = answer
    with app.app_context(), pytest.raises(roster.RosterUnavailable) as refused:
        roster.sync(db_session, context)
    assert reason in str(refused.value), str(refused.value)


def test_a_roster_that_breaks_on_page_3_changes_no_enrollment(tool, platform, db_session):
    platform.answers["members"] = lambda: "{not json" if request.args.get("page") == "3" else None
    text, course_id = _sync(tool, platform, MEMBERS)
    assert "Roster sync failed: the roster at" in text, text
    assert "(page 3) answered HTTP 200" in text
    assert list(_roles(db_session, course_id)) == ["prof@uni.edu"]
    assert db_session.scalar(select(LtiContext)).roster_synced_at is None
    # The same roster read whole is applied: the refusal above came from page 3 alone.
    platform.answers.clear()
    text, course_id = _sync(tool, platform, MEMBERS)
    assert "6 added, 0 role changes, 0 removed, 0 skipped" in text, text


def test_the_course_page_flashes_a_roster_that_is_not_json(tool, platform, db_session):
    platform.answers["members"] = _html
    text, course_id = _sync(tool, platform, MEMBERS)
    flashed = re.search(r"Roster sync failed: [^<]*", text)
    assert flashed and "not JSON" in flashed.group(0), text
    assert list(_roles(db_session, course_id)) == ["prof@uni.edu"]


def test_the_cli_says_in_one_line_what_was_wrong(tool, platform, db_session, settings):
    context = _launched_context(tool, platform, db_session)
    platform.members = MEMBERS
    platform.answers["members"] = _html
    env = {
        "MIXGRADE_INSTANCE": str(settings.instance_dir),
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": "test-secret",
    }
    command = ["lti", "roster-sync", "--course", context.course.code]
    result = CliRunner().invoke(main, command, env=env)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: roster sync failed: the roster at "), line
    assert "not JSON" in line and "Traceback" not in result.output
    assert list(_roles(db_session, context.course_id)) == ["prof@uni.edu"]

    platform.answers.clear()
    result = CliRunner().invoke(main, command, env=env)
    assert result.exit_code == 0, result.output
    assert "6 added" in result.output


def test_the_roster_is_fetched_with_one_token_for_all_its_pages(tool, platform, db_session, app):
    context = _launched_context(tool, platform, db_session)
    platform.members = MEMBERS  # three pages of two
    with app.app_context():
        assert len(advantage.roster(db_session, context.platform, context.memberships_url)) == 6
    assert len(platform.token_requests) == 1


def test_a_relative_next_link_is_followed_on_the_same_host(tool, platform, db_session, app):
    context = _launched_context(tool, platform, db_session)
    platform.members = MEMBERS

    def relative_first_page():
        if request.args.get("page"):
            return None
        link = f'<{request.path}?page=2>; rel="next"'
        return jsonify(members=MEMBERS[:2]), 200, {"Link": link}

    platform.answers["members"] = relative_first_page
    with app.app_context():
        found = advantage.roster(db_session, context.platform, context.memberships_url)
    assert [m["user_id"] for m in found] == [m["user_id"] for m in MEMBERS]
