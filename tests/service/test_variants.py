"""Issued variants: seeds keyed by the server's secret, never shown to their student.

With a student's seed, the public generator (``mixgrade problems generate``, the
instructor preview) rebuilds their variant, reference answers and worked solution
included. So the seed is an HMAC under a key derived from SECRET_KEY, and nothing a
student receives (pages, plot, downloads, API JSON, file names) contains it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from graders import grade
from problem_bank import Variant
from problem_bank.cli import problems
from service import create_app, migrate
from service.config import Settings
from service.grading_store import SqlGradingStore
from service.models import StoredVariant, Submission, User
from service.services import tokens, variants
from tests.conftest import csrf_token
from tests.service.web_world import World, as_user, build_world

API = "/api/v1"


def _app(tmp_path: Path, secret: str, instance: str = "instance") -> Flask:
    settings = Settings.from_env(
        {"MIXGRADE_INSTANCE": str(tmp_path / instance), "SECRET_KEY": secret}
    )
    migrate.upgrade(settings.database_url)
    return create_app({"TESTING": True}, settings=settings)


@dataclass(frozen=True)
class _Ids:
    alice: int
    bob: int
    item: int


def _world(app: Flask) -> _Ids:
    """A fresh course (build_world) in this app's database, by ids."""
    session = app.extensions["mixgrade.sessions"]()
    try:
        world = build_world(session)
        return _Ids(world.users["alice"].id, world.users["bob"].id, world.item.id)
    finally:
        session.close()


def _issued(app: Flask, user_id: int, item_id: int) -> StoredVariant:
    session = app.extensions["mixgrade.sessions"]()
    try:
        return session.scalar(
            select(StoredVariant).where(
                StoredVariant.user_id == user_id,
                StoredVariant.assignment_problem_id == item_id,
                StoredVariant.is_practice.is_(False),
            )
        )
    finally:
        session.close()


def _open_problem(app: Flask, ids: _Ids, who: str = "alice") -> tuple[FlaskClient, StoredVariant]:
    """Log in and open the problem page, which issues the variant; return it as stored."""
    client = as_user(app.test_client(), who)
    assert client.get(f"/items/{ids.item}").status_code == 200
    return client, _issued(app, getattr(ids, who), ids.item)


def _hmac_seed(key: bytes, user_id: int, item_id: int) -> int:
    """HMAC-SHA256(key, "user:item") as a number, reduced to the seed column's range."""
    digest = hmac.new(key, f"{user_id}:{item_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest, "big") % 2**variants.SEED_BITS


def _sha256_seed(user_id: int, item_id: int) -> int:
    """The seed formula before issue 11: anyone who knows the two ids could compute it."""
    digest = hashlib.sha256(f"mixgrade:{user_id}:{item_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def test_the_seed_is_a_keyed_hash_of_the_servers_secret(tmp_path):
    """Two servers with the same users and items but different SECRET_KEYs: different seeds."""
    seeds = []
    for secret in ("first secret", "second secret"):
        app = _app(tmp_path, secret, instance=secret.replace(" ", "-"))
        ids = _world(app)
        _, variant = _open_problem(app, ids)
        key = hmac.new(secret.encode(), b"mixgrade seed v1", hashlib.sha256).digest()
        assert variant.seed == _hmac_seed(key, ids.alice, ids.item)
        assert variant.seed != _sha256_seed(ids.alice, ids.item)
        seeds.append((ids, variant.seed))
        app.extensions["mixgrade.engine"].dispose()
    (first_ids, first), (second_ids, second) = seeds
    assert first_ids == second_ids and first != second


def test_the_seed_key_is_not_the_cookie_signing_key(settings):
    assert settings.seed_key != settings.secret_key.encode()
    assert len(settings.seed_key) == 32


def test_a_new_secret_key_leaves_issued_variants_as_they_are(tmp_path):
    """The seed and the data are stored: a key change affects only variants issued later."""
    before = _app(tmp_path, "old secret")
    ids = _world(before)
    client, issued = _open_problem(before, ids)
    csv = client.get(f"/variants/{issued.id}/files/data.csv").get_data()
    before.extensions["mixgrade.engine"].dispose()

    after = _app(tmp_path, "new secret")  # the same instance folder, so the same database
    client, again = _open_problem(after, ids)
    assert (again.id, again.seed, again.content) == (issued.id, issued.seed, issued.content)
    assert client.get(f"/variants/{again.id}/files/data.csv").get_data() == csv
    _, bobs = _open_problem(after, ids, "bob")
    new_key = after.config["MIXGRADE_SETTINGS"].seed_key
    assert bobs.seed == _hmac_seed(new_key, ids.bob, ids.item)
    after.extensions["mixgrade.engine"].dispose()


def _form(page_html: str, content: dict) -> MultiDict:
    form = [("csrf_token", csrf_token(page_html))]
    form += [(f"part-{p['id']}", str(p["answer"])) for p in content["parts"]]
    return MultiDict(form)


def _grade_now(settings: Settings, submission_id: int) -> None:
    """What the worker does, so the submission JSON below carries real feedback."""
    store = SqlGradingStore(settings.database_url)
    job = store.claim(submission_id)
    assert job is not None
    store.save_feedback(submission_id, grade(Variant.from_dict(job.variant), job.answers))


def _no_seed(seed: int, response, what: str) -> None:
    assert response.status_code in (200, 201, 202), (what, response.status_code)
    assert str(seed).encode() not in response.get_data(), what
    for name, value in response.headers.items():
        assert str(seed) not in value, (what, name)


def _student_surfaces(client: FlaskClient, token: str, page: str, variant_id: int) -> dict:
    """Every response a student gets for one variant of theirs, by what it is."""
    bearer = {"Authorization": f"Bearer {token}"}
    html = client.get(page).get_data(as_text=True)
    seen = {
        "problem page": client.get(page),
        "plot": client.get(f"/variants/{variant_id}/plot.png"),
        **{
            name: client.get(f"/variants/{variant_id}/files/{name}")
            for name in ("data.csv", "fit.R", "fit.py")
        },
        "API variant": client.get(f"{API}/variants/{variant_id}", headers=bearer),
        "API data.csv": client.get(f"{API}/variants/{variant_id}/data.csv", headers=bearer),
    }
    assert re.search(r"/variants/\d+/plot\.png", html), "the problem has a plot to check"
    return seen


def test_nothing_a_student_receives_names_their_seed(app, client, db_session, settings):
    """Pages, plot, downloads and file names, API variant and submission JSON, practice too."""
    world = build_world(db_session)
    alice = db_session.get(User, world.users["alice"].id)
    token = tokens.create(db_session, alice, name="alice's script")[1]
    bearer = {"Authorization": f"Bearer {token}"}
    as_user(client, "alice")
    item_page = f"/items/{world.item.id}"
    issued = client.post(f"{API}/items/{world.item.id}/variants", json={}, headers=bearer)
    own = db_session.scalar(select(StoredVariant).where(StoredVariant.user_id == alice.id))
    seen = {"API issue": issued, **_student_surfaces(client, token, item_page, own.id)}

    html = client.get(item_page).get_data(as_text=True)
    submitted = client.post(
        f"{item_page}/submit",
        data=_form(html, own.content),
        headers={"Accept": "application/json"},
    )
    api_sub = client.post(
        f"{API}/variants/{own.id}/submissions",
        json={"answers": {p["id"]: p["answer"] for p in own.content["parts"]}},
        headers=bearer,
    )
    for sub in db_session.scalars(select(Submission).where(Submission.variant_id == own.id)):
        _grade_now(settings, sub.id)
    seen |= {
        "web submit": submitted,
        "web submission status": client.get(submitted.get_json()["status_url"]),
        "API submit": api_sub,
        "API submission": client.get(api_sub.get_json()["status_url"], headers=bearer),
        "problem page after grading": client.get(item_page),
    }
    for what, response in seen.items():
        _no_seed(own.seed, response, what)

    practice = client.post(
        f"{item_page}/practice", data={"csrf_token": csrf_token(client.get(item_page).text)}
    )
    assert practice.status_code == 302
    drawn = db_session.scalar(
        select(StoredVariant).where(
            StoredVariant.user_id == alice.id, StoredVariant.is_practice.is_(True)
        )
    )
    practice_page = practice.headers["Location"]
    for what, response in _student_surfaces(client, token, practice_page, drawn.id).items():
        _no_seed(drawn.seed, response, f"practice {what}")

    teacher = client.get(f"{API}/variants/{own.id}", headers=_teacher_bearer(db_session, world))
    assert teacher.get_json()["seed"] == own.seed  # instructors keep it, to preview with


def _teacher_bearer(session, world: World) -> dict[str, str]:
    teacher = session.get(User, world.users["teacher"].id)
    return {"Authorization": f"Bearer {tokens.create(session, teacher, name='t')[1]}"}


def test_the_public_cli_cannot_rebuild_a_students_variant(app, client, db_session, tmp_path):
    """From every number a student sees or could compute, the generator gives other data.

    The control: at the stored seed the same CLI gives exactly the stored data.csv, so
    the CLI is the tool that would rebuild the answers, if the seed were known.
    """
    world = build_world(db_session)
    as_user(client, "alice")
    assert client.get(f"/items/{world.item.id}").status_code == 200
    own = db_session.scalar(
        select(StoredVariant).where(StoredVariant.user_id == world.users["alice"].id)
    )
    alice, item = own.user_id, own.assignment_problem_id
    guesses = {_sha256_seed(alice, item), alice, item, own.id, world.problem.id}

    def generated_csv(seed: int) -> str:
        out = tmp_path / f"seed-{seed}"
        result = CliRunner().invoke(
            problems, ["generate", own.content["problem"], "--seed", str(seed), "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        return (out / "data.csv").read_text(encoding="utf-8")

    assert generated_csv(own.seed) == own.content["data_csv"]
    for guess in sorted(guesses):
        assert generated_csv(guess) != own.content["data_csv"], guess


@pytest.mark.parametrize("seed", ["own", "1"])
def test_a_student_cannot_open_the_instructor_preview(app, client, db_session, seed):
    world = build_world(db_session)
    as_user(client, "alice")
    client.get(f"/items/{world.item.id}")
    own = db_session.scalar(
        select(StoredVariant).where(StoredVariant.user_id == world.users["alice"].id)
    )
    value = own.seed if seed == "own" else seed
    response = client.get(f"/teach/problems/{world.problem.id}?seed={value}")
    assert response.status_code == 403
    assert str(own.seed).encode() not in response.get_data()
