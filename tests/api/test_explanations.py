"""The API's submission JSON follows the page's rule: a wrong choice is told why it is
wrong, and why the right one is right only once the answer key is shown."""

from __future__ import annotations

from graders import grade
from problem_bank.variant import Variant
from service.grading_store import SqlGradingStore
from tests.api.conftest import ApiWorld, build_api_world

API = "/api/v1"


def _grade_now(settings, submission_id: int) -> None:
    store = SqlGradingStore(settings.database_url)
    job = store.claim(submission_id)
    assert job is not None
    store.save_feedback(submission_id, grade(Variant.from_dict(job.variant), job.answers))


def _decision(client, world: ApiWorld, submission_id: int) -> tuple[dict, dict]:
    body = client.get(f"{API}/submissions/{submission_id}", headers=world.auth("alice"))
    assert body.status_code == 200, body.get_data(as_text=True)
    data = body.get_json()
    return data, next(p for p in data["parts"] if p["id"] == "decision")


def test_submission_json_keeps_the_key_explanation_until_the_last_attempt(
    client, db_session, settings
):
    world = build_api_world(db_session, attempts=2)
    issued = client.post(f"{API}/items/{world.item.id}/variants", json={},
                         headers=world.auth("alice"))  # fmt: skip
    assert issued.status_code == 201, issued.get_data(as_text=True)
    variant = issued.get_json()
    decision = next(p for p in variant["parts"] if p["id"] == "decision")
    assert "explanation" not in decision and "answer" not in decision
    url = f"{API}/variants/{variant['id']}/submissions"
    # Which option is wrong, from the stored variant (the student's view does not say).
    from service.models import StoredVariant

    stored = db_session.get(StoredVariant, variant["id"]).content
    key_part = next(p for p in stored["parts"] if p["id"] == "decision")
    wrong = next(c for c in key_part["choices"] if c["id"] != key_part["answer"])

    first = client.post(url, json={"answers": {"decision": wrong["id"]}},
                        headers=world.auth("alice"))  # fmt: skip
    _grade_now(settings, first.get_json()["id"])
    data, part = _decision(client, world, first.get_json()["id"])
    assert data["attempts_left"] == 1 and part["verdict"] == "incorrect"
    assert part["message"] == f"Not correct. {wrong['explanation']}"
    assert key_part["explanation"] not in part["message"]
    assert part["explanation"] == ""

    last = client.post(url, json={"answers": {"decision": wrong["id"]}},
                       headers=world.auth("alice"))  # fmt: skip
    _grade_now(settings, last.get_json()["id"])
    data, part = _decision(client, world, last.get_json()["id"])
    assert data["attempts_left"] == 0
    assert part["explanation"] == key_part["explanation"]
    # The first attempt's verdict, read again now, shows the key as well.
    _, earlier = _decision(client, world, first.get_json()["id"])
    assert earlier["explanation"] == key_part["explanation"]
