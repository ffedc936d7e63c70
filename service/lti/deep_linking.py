"""Deep Linking: an instructor picks an assignment; we sign the response the LMS places."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.lti import keys, launch
from service.models import Assignment, Enrollment, LtiContext, LtiPlatform, Role

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


class PlacementRefused(ValueError):
    """The assignment cannot be placed in this LMS course (a clear reason for the instructor)."""


def settings_from(claims: dict[str, Any], context: LtiContext) -> dict[str, Any]:
    """What the selection page must remember between the launch and the instructor's pick."""
    settings = claims[launch.DL_SETTINGS]
    return {
        "platform_id": context.platform_id,
        "context_row_id": context.id,
        "deployment_id": claims[launch.DEPLOYMENT_ID],
        "return_url": settings["deep_link_return_url"],
        "data": settings.get("data"),
        "accept_lineitem": settings.get("accept_lineitem", True),
    }


def max_score(assignment: Assignment) -> float:
    """The assignment's total points, as the line item's scoreMaximum."""
    return round(sum(item.points for item in assignment.items), 4)


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


def response_jwt(
    session: Session,
    platform: LtiPlatform,
    settings: dict[str, Any],
    assignment: Assignment,
    launch_url: str,
) -> str:
    """The signed LtiDeepLinkingResponse with one resource link and its line item."""
    item: dict[str, Any] = {
        "type": "ltiResourceLink",
        "title": assignment.title,
        "url": launch_url,
        "custom": {"assignment_id": str(assignment.id)},
    }
    if settings.get("accept_lineitem", True):
        item["lineItem"] = {
            "scoreMaximum": max_score(assignment),
            "label": assignment.title,
            "resourceId": f"mixgrade-assignment-{assignment.id}",
            "tag": "mixgrade",
        }
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "nonce": secrets.token_urlsafe(16),
        launch.MESSAGE_TYPE: "LtiDeepLinkingResponse",
        launch.VERSION: "1.3.0",
        launch.DEPLOYMENT_ID: settings["deployment_id"],
        DL + "content_items": [item],
        DL + "msg": f"Placed {assignment.title}.",
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
