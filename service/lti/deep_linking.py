"""Deep Linking: an instructor picks an assignment; we sign the response the LMS places."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.lti import deep_link_settings, keys, launch, lineitems
from service.models import Assignment, Enrollment, LtiContext, LtiPlatform, Role
from service.routing import row_id

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


class PlacementRefused(ValueError):
    """The assignment cannot be placed in this LMS course (a clear reason for the instructor)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


#: How tall a frame the problem page asks for: it shows the story, a plot, the R output
#: and the question parts, which a platform's default frame height would cut short.
FRAME_HEIGHT = 900
#: The window a placed link opens in, named so that every mixgrade link reuses one tab.
WINDOW_NAME = "mixgrade"


def settings_from(claims: dict[str, Any], context: LtiContext) -> dict[str, Any]:
    """What the selection page must remember between the launch and the instructor's pick.

    Called after ``launch.validate``, which refuses settings that ``deep_link_settings.read``
    does not accept, so this reads them again without failing.
    """
    settings = deep_link_settings.read(context.platform, claims[launch.DL_SETTINGS])
    return {
        "platform_id": context.platform_id,
        "context_row_id": context.id,
        "deployment_id": claims[launch.DEPLOYMENT_ID],
        **settings.as_dict(),
    }


def pick(options: list[Assignment], raw_ids: list[str], accept_multiple: bool) -> list[Assignment]:
    """The listed assignments the instructor chose: one, or several if the LMS takes several."""
    by_id = {a.id: a for a in options}
    chosen: list[Assignment] = []
    for raw in raw_ids:
        found = by_id.get(row_id(raw) or 0)
        if found is None:
            raise PlacementRefused("Choose one of the listed assignments.", 404)
        if found not in chosen:
            chosen.append(found)
    if not chosen:
        raise PlacementRefused("Choose an assignment to place, or Cancel.", 400)
    if len(chosen) > 1 and not accept_multiple:
        raise PlacementRefused("This LMS places one assignment at a time; choose one.", 400)
    if len({a.course_id for a in chosen}) > 1:
        raise PlacementRefused(
            "An LMS course maps to one mixgrade course; choose assignments of one course."
        )
    return chosen


def target_for(settings: dict[str, Any], asked: str | None) -> str | None:
    """How the placed link is shown: the instructor's choice among those the LMS accepts.

    Without a choice, the first accepted (the frame, where the LMS takes one); None when
    the LMS accepts neither a frame nor a window, so the item leaves it to the platform.
    """
    targets: list[str] = settings.get("targets") or []
    if not asked:
        return targets[0] if targets else None
    if asked not in targets:
        raise PlacementRefused(
            f"This LMS does not show links as {asked[:20]!r}; choose one of the listed ways.", 400
        )
    return asked


def attach(session: Session, context: LtiContext, assignment: Assignment) -> None:
    """Tie the LMS course to the assignment's course when it is still our empty stand-in.

    One LMS course maps to one mixgrade course. A first launch creates an empty course;
    placing an assignment of an existing course moves the mapping (and any members) there.
    """
    if assignment.course_id == context.course_id:
        return
    placeholder = context.course
    if placeholder.assignments:
        raise PlacementRefused(
            f"This LMS course is linked to the mixgrade course {placeholder.code}; "
            f"choose one of its assignments."
        )
    for enrollment in list(placeholder.enrollments):
        launch.enroll(session, enrollment.user, assignment.course, enrollment.role)
        session.delete(enrollment)
    context.course_id = assignment.course_id
    session.flush()


def content_item(
    settings: dict[str, Any], assignment: Assignment, launch_url: str, target: str | None
) -> dict[str, Any]:
    """One ltiResourceLink item; its line item only where the platform creates them."""
    item: dict[str, Any] = {
        "type": deep_link_settings.RESOURCE_LINK,
        "title": assignment.title,
        "url": launch_url,
        "custom": {"assignment_id": str(assignment.id)},
    }
    if settings.get("accept_lineitem", True):
        item["lineItem"] = lineitems.fields_for(assignment)
    if target == "iframe":
        item["iframe"] = {"height": FRAME_HEIGHT}
    elif target == "window":
        item["window"] = {"targetName": WINDOW_NAME}
    return item


def response_jwt(
    session: Session,
    platform: LtiPlatform,
    settings: dict[str, Any],
    assignments: list[Assignment],
    launch_url: str,
    target: str | None = None,
) -> str:
    """The signed LtiDeepLinkingResponse: one resource link per assignment.

    No assignments is the instructor's Cancel: the spec allows an empty content_items,
    and the msg tells the LMS user that nothing was placed.
    """
    items = [content_item(settings, a, launch_url, target) for a in assignments]
    titles = ", ".join(a.title for a in assignments)
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "nonce": secrets.token_urlsafe(16),
        launch.MESSAGE_TYPE: "LtiDeepLinkingResponse",
        launch.VERSION: "1.3.0",
        launch.DEPLOYMENT_ID: settings["deployment_id"],
        DL + "content_items": items,
        DL + "msg": f"Placed {titles}." if items else "No mixgrade assignment was placed.",
    }
    if settings.get("data") is not None:
        claims[DL + "data"] = settings["data"]
    return keys.sign(session, claims)


def choices(session: Session, user_id: int, context: LtiContext) -> list[Assignment]:
    """Assignments the instructor may place: their courses' (this course's first)."""
    taught = select(Enrollment.course_id).where(
        Enrollment.user_id == user_id, Enrollment.role == Role.instructor
    )
    rows = list(
        session.scalars(
            select(Assignment).where(Assignment.course_id.in_(taught)).order_by(Assignment.id)
        )
    )
    return sorted(rows, key=lambda a: (a.course_id != context.course_id, a.course_id, a.id))
