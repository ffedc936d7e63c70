"""A student's own terms through both submit front ends: an extension, extra attempts,
a replaced version and a removed problem (web form and API, SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from service.config import Settings
from service.models import AssignmentException, AssignmentProblem, StoredVariant
from service.services import variants
from tests.conftest import settings_on
from tests.service.submit_fronts import FRONTS, Front
from tests.service.web_world import World, build_world

ANSWERS = {"intercept": "1.5"}


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path) -> Settings:
    return settings_on(request.param, request, tmp_path)


@pytest.fixture
def world(db_session) -> World:
    return build_world(db_session, attempts=1)


@pytest.fixture(params=FRONTS)
def front(request, client, world, db_session) -> Front:
    return Front(request.param, client, world, db_session)


def _except(db_session, world: World, **values) -> None:
    db_session.add(
        AssignmentException(
            assignment_id=world.assignment.id,
            user_id=world.users["alice"].id,
            reason="illness",
            **values,
        )
    )
    db_session.commit()


def test_an_extension_takes_work_after_the_due_date_and_it_is_not_late(
    front: Front, world, db_session
):
    past = datetime.now(UTC) - timedelta(hours=1)
    db_session.execute(update(type(world.assignment)).values(due_at=past))
    db_session.commit()
    assert front.submit(world.item, ANSWERS).status == 403  # closed for everyone else
    _except(db_session, world, due_at=datetime.now(UTC) + timedelta(days=2))
    accepted = front.submit(world.item, ANSWERS, key="after-extension")
    assert accepted.status == 202, accepted.body
    (stored,) = front.stored(world.item)
    assert stored.is_late is False


def test_an_extension_past_the_late_cut_off_moves_the_cut_off(front: Front, world, db_session):
    now = datetime.now(UTC)
    db_session.execute(
        update(type(world.assignment)).values(
            due_at=now - timedelta(days=2), late_until=now - timedelta(days=1)
        )
    )
    db_session.commit()
    _except(db_session, world, due_at=now + timedelta(days=1))
    assert front.submit(world.item, ANSWERS).status == 202


def test_extra_attempts_add_to_the_allowance(front: Front, world, db_session):
    assert front.submit(world.item, ANSWERS, key="one").status == 202
    assert front.submit(world.item, ANSWERS, key="two").status == 409
    _except(db_session, world, extra_attempts=2)
    assert front.submit(world.item, ANSWERS, key="three").status == 202
    assert front.submit(world.item, ANSWERS, key="four").status == 202
    refused = front.submit(world.item, ANSWERS, key="five")
    assert refused.status == 409 and "3 attempts" in refused.body["detail"]
    assert len(front.stored(world.item)) == 3


def test_a_replaced_version_takes_no_answers_but_keeps_its_submissions(
    front: Front, world, db_session, app
):
    assert front.submit(world.item, ANSWERS, key="old").status == 202
    old_id = front._variants[world.item.id]
    alice = world.users["alice"]
    new = variants.replace(db_session, b"k", alice, world.item)
    db_session.commit()
    assert new.id != old_id and variants.find(db_session, alice.id, world.item.id).id == new.id
    old = db_session.get(StoredVariant, old_id)
    assert old is not None and old.replaced_at is not None and old.seed != new.seed
    assert new.content["data_csv"] != old.content["data_csv"]
    if front.kind == "api":  # the API submits to a variant by id: the old one is refused
        refused = front.submit(world.item, ANSWERS, key="to-old")
        assert refused.status == 409 and "new version" in refused.body["detail"]
    front._variants.pop(world.item.id)
    assert front.submit(world.item, ANSWERS, key="to-new").status == 202  # fresh attempts
    assert [v.id for v in variants.versions(db_session, alice.id, world.item.id)] == [
        old_id,
        new.id,
    ]
    assert len(front.stored(world.item)) == 1 and front._variants[world.item.id] == new.id


def test_a_removed_problem_takes_no_answers(front: Front, world, db_session):
    front.open(world.item)
    db_session.execute(
        update(AssignmentProblem)
        .where(AssignmentProblem.id == world.item.id)
        .values(archived_at=datetime.now(UTC), position=-world.item.id)
    )
    db_session.commit()
    refused = front.submit(world.item, ANSWERS)
    assert refused.status in (403, 404), refused.body
    assert front.count_all() == 0
