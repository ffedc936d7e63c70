"""The two front ends of the submit use case, driven the same way by the tests.

The web form (``/items/<id>/submit``, answered in JSON as the page's script asks) and the
API (``/api/v1/variants/<id>/submissions``) must apply every submit rule alike, so the
submit tests run each case through both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from service.models import AssignmentProblem, StoredVariant, Submission
from service.services import tokens
from tests.conftest import csrf_token
from tests.service.web_world import World, as_user

FRONTS = ["web", "api"]


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    mimetype: str


@dataclass
class Front:
    """Alice, submitting through the web form or the API."""

    kind: str
    client: FlaskClient
    world: World
    session: Session
    _token: str = ""
    _csrf: str = ""
    _variants: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        alice = self.world.users["alice"]
        if self.kind == "web":
            as_user(self.client, "alice")
        else:
            self._token = tokens.create(self.session, alice, name="submit tests")[1]

    def second_item(self) -> AssignmentProblem:
        """Another item of the same assignment: another variant for alice."""
        item = AssignmentProblem(
            assignment=self.world.assignment, problem=self.world.problem, position=2, points=10
        )
        self.session.add(item)
        self.session.commit()
        return item

    def open(self, item: AssignmentProblem) -> int:
        """Issue alice's variant of the item, as opening it does; its id."""
        if self.kind == "web":
            page = self.client.get(f"/items/{item.id}")
            assert page.status_code == 200, page.get_data(as_text=True)
            self._csrf = csrf_token(page.get_data(as_text=True))
            self.session.expire_all()
            variant_id = self.session.scalar(
                select(StoredVariant.id).where(
                    StoredVariant.assignment_problem_id == item.id,
                    StoredVariant.user_id == self.world.users["alice"].id,
                    StoredVariant.is_practice.is_(False),
                    StoredVariant.replaced_at.is_(None),
                )
            )
        else:
            issued = self.client.post(
                f"/api/v1/items/{item.id}/variants", json={}, headers=self._auth()
            )
            assert issued.status_code in (200, 201), issued.get_data(as_text=True)
            variant_id = issued.get_json()["id"]
        self._variants[item.id] = variant_id
        return variant_id

    def submit(
        self, item: AssignmentProblem, answers: dict[str, Any], key: str | None = None
    ) -> Reply:
        headers = {"Idempotency-Key": key} if key is not None else {}
        if item.id not in self._variants:
            self.open(item)
        if self.kind == "web":
            form = MultiDict([("csrf_token", self._csrf)])
            for part_id, value in answers.items():
                form.add(f"part-{part_id}", value)
            response = self.client.post(
                f"/items/{item.id}/submit",
                data=form,
                headers={"Accept": "application/json", **headers},
            )
        else:
            response = self.client.post(
                f"/api/v1/variants/{self._variants[item.id]}/submissions",
                json={"answers": answers},
                headers={**self._auth(), **headers},
            )
        return Reply(
            response.status_code,
            response.get_json(silent=True) or {},
            dict(response.headers),
            response.mimetype,
        )

    def stored(self, item: AssignmentProblem) -> list[Submission]:
        self.session.expire_all()
        variant_id = self._variants[item.id]
        query = select(Submission).where(Submission.variant_id == variant_id)
        return list(self.session.scalars(query.order_by(Submission.id)))

    def count_all(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Submission)) or 0

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}
