"""The submit use case through both front ends: Idempotency-Key scope and limits, answers.

Each case runs on the web form and on the API (they share one use case), on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from problem_bank.kinds.base import MAX_ANSWER_CHARS
from service.config import Settings
from service.models import Submission
from service.services import submissions
from tests.conftest import settings_on
from tests.service.submit_fronts import FRONTS, Front
from tests.service.web_world import World, build_world

ANSWERS = {"intercept": "1.5"}


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path) -> Settings:
    return settings_on(request.param, request, tmp_path)


@pytest.fixture
def world(db_session) -> World:
    return build_world(db_session)


@pytest.fixture(params=FRONTS)
def front(request, client, world, db_session) -> Front:
    return Front(request.param, client, world, db_session)


def test_a_key_used_on_another_variant_is_a_409_and_stores_nothing(front: Front, world):
    first_item, second_item = world.item, front.second_item()
    first = front.submit(first_item, ANSWERS, key="k-1")
    assert first.status == 202

    elsewhere = front.submit(second_item, ANSWERS, key="k-1")
    assert elsewhere.status == 409, elsewhere.body
    assert "NOT stored" in elsewhere.body["detail"]
    assert elsewhere.body["type"] == "urn:mixgrade:problem:idempotency-key-reused"
    assert front.stored(second_item) == []  # the old submission was not handed back either

    changed = front.submit(first_item, {"intercept": "2.5"}, key="k-1")
    assert changed.status == 409 and "NOT stored" in changed.body["detail"]
    again = front.submit(first_item, ANSWERS, key="k-1")
    assert again.status == 202 and again.body["id"] == first.body["id"]
    [stored] = front.stored(first_item)
    assert stored.answers["intercept"] == "1.5"
    assert stored.answers_sha256 == submissions.answers_digest(stored.answers)

    other_key = front.submit(second_item, ANSWERS, key="k-2")
    assert other_key.status == 202 and len(front.stored(second_item)) == 1


def test_a_resent_key_returns_its_submission_after_attempts_run_out_or_the_deadline(
    front: Front, world, db_session
):
    db_session.execute(update(type(world.assignment)).values(attempts_allowed=1))
    db_session.commit()
    first = front.submit(world.item, ANSWERS, key="last-one")
    assert first.status == 202
    resent = front.submit(world.item, ANSWERS, key="last-one")
    assert resent.status == 202 and resent.body["id"] == first.body["id"]
    refused = front.submit(world.item, ANSWERS, key="another")
    assert refused.status == 409 and "No attempts left" in refused.body["detail"]

    closed = datetime.now(UTC) - timedelta(minutes=1)
    db_session.execute(update(type(world.assignment)).values(due_at=closed, attempts_allowed=5))
    db_session.commit()
    late_resend = front.submit(world.item, ANSWERS, key="last-one")
    assert late_resend.status == 202 and late_resend.body["id"] == first.body["id"]
    after_close = front.submit(world.item, ANSWERS, key="new")
    assert after_close.status == 403 and "closed" in after_close.body["detail"]
    assert len(front.stored(world.item)) == 1


def test_an_overlong_key_is_refused_with_its_limit_and_stores_nothing(front: Front, world):
    too_long = front.submit(world.item, ANSWERS, key="k" * 256)
    assert too_long.status == 400, too_long.body
    assert (
        "at most 255" in too_long.body["detail"] and "Nothing was stored" in too_long.body["detail"]
    )
    assert front.stored(world.item) == []
    longest = front.submit(world.item, ANSWERS, key="k" * 255)
    assert longest.status == 202
    assert front.submit(world.item, ANSWERS, key="k" * 255).body["id"] == longest.body["id"]


def test_a_key_stored_before_answers_were_hashed_still_replays(front: Front, world, db_session):
    first = front.submit(world.item, ANSWERS, key="old")
    db_session.execute(update(Submission).values(answers_sha256=None))  # as 0004 left old rows
    db_session.commit()
    assert front.submit(world.item, ANSWERS, key="old").body["id"] == first.body["id"]
    assert front.submit(world.item, {"intercept": "9"}, key="old").status == 409


def test_an_overlong_answer_is_a_422_naming_the_part_and_uses_no_attempt(front: Front, world):
    reply = front.submit(world.item, {"intercept": "1" * (MAX_ANSWER_CHARS + 1)})
    assert reply.status == 422, reply.body
    assert "2000 characters" in reply.body["errors"]["intercept"]
    blank = front.submit(world.item, {"intercept": "   "})
    assert blank.status == 422 and "Nothing to submit" in blank.body["detail"]
    assert front.stored(world.item) == []
