"""The line item (the LMS's grade column) a link's scores go to, found or made by a worker.

A launch's AGS claim may carry only the course's ``lineitems`` service URL and no
``lineitem``: the LMS made no column for the link (a link added by hand, or placed
without Deep Linking's lineItem). The worker sending the link's first score then looks
for the link's line item and creates one if there is none, and the link remembers its
URL. That is network work, so it happens in the send task, never in a launch request.

Only one worker at a time may do it for a link: it claims the link with a conditional
UPDATE, so two scores sent at the same moment never make two grade columns; the other
send is retried once the URL is stored. A claim goes stale after ``CLAIM_SECONDS``, so a
worker killed half-way does not block the link, and the next claimer looks before it
creates (the killed worker's POST may have landed).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from service.db import rows_changed
from service.lti import advantage
from service.models import Assignment, LtiResourceLink, utcnow

log = logging.getLogger(__name__)

#: How long a claim on a link's line item holds (well over a token grant, a GET and a POST).
CLAIM_SECONDS = 300
#: The tag on the line items mixgrade creates, so an LMS admin can tell them apart.
TAG = "mixgrade"


class LineItemPending(advantage.PlatformUnavailable):
    """Another worker is finding or creating this link's line item: send again later."""


def resource_id(assignment: Assignment) -> str:
    """The line item's resourceId: which mixgrade assignment the grade column is for."""
    return f"mixgrade-assignment-{assignment.id}"


def max_score(assignment: Assignment) -> float:
    """The assignment's total points, as the line item's scoreMaximum."""
    return round(sum(p.points for p in assignment.assignment_problems), 4)


def fields_for(assignment: Assignment) -> dict[str, Any]:
    """The line item mixgrade wants for an assignment, whoever creates it.

    The same fields go in a Deep Linking response's ``lineItem`` (the platform creates it)
    and in a POST to the line-item service (we create it), so an LMS column looks the
    same either way and :func:`url_for_link` recognises it by resourceId and tag.
    """
    return {
        "scoreMaximum": max_score(assignment),
        "label": assignment.title,
        "resourceId": resource_id(assignment),
        "tag": TAG,
    }


def new_lineitem(link: LtiResourceLink, assignment: Assignment) -> dict[str, Any]:
    """The line item to create for a link (AGS 2.0 line item fields)."""
    return {**fields_for(assignment), "resourceLinkId": link.resource_link_id}


def url_for_link(session: Session, link: LtiResourceLink) -> str:
    """The link's line item URL: the stored one, else found or created now.

    Raises advantage.PlatformRefused (with the reason for the instructor's LMS page) when
    there is none to be had, and LineItemPending while another worker is on it. Commits.
    """
    session.refresh(link)  # another worker may have stored it since this session read it
    if link.lineitem_url:
        return link.lineitem_url
    assignment = link.assignment
    if assignment is None:
        raise advantage.PlatformRefused(
            "this LMS link opens no mixgrade assignment, so no grade column is made for it"
        )
    lineitems_url = link.context.lineitems_url
    if not lineitems_url:
        raise advantage.PlatformRefused(
            "the LMS gave this link neither a grade column (lineitem) nor a line-item service"
        )
    granted = link.ags_scopes
    advantage.require(granted, advantage.READ_LINEITEMS)
    claim = _claim(session, link)
    if claim is None:
        raise LineItemPending("waiting: another worker is finding or creating the grade column")
    try:
        url = advantage.find_lineitem(
            session,
            link.platform,
            lineitems_url,
            granted,
            resource_link_id=link.resource_link_id,
            resource_id=resource_id(assignment),
        )
        if url is None:
            if not advantage.allows(granted, advantage.CREATE_LINEITEM):
                raise advantage.ScopeNotGranted(
                    "the LMS has no grade column for this link and granted only read access "
                    "to line items (no lineitem scope), so mixgrade cannot create one; add "
                    "the column in the LMS or let the tool manage line items"
                )
            url = advantage.create_lineitem(
                session, link.platform, lineitems_url, granted, new_lineitem(link, assignment)
            )
    except BaseException:
        session.rollback()
        _release(session, link, claim)
        raise
    return _store(session, link, url)


def _claim(session: Session, link: LtiResourceLink) -> datetime | None:
    """Take the link for this worker (committed); its claim's time, or None if taken."""
    now = utcnow()
    taken = session.execute(
        update(LtiResourceLink)
        .where(
            LtiResourceLink.id == link.id,
            LtiResourceLink.lineitem_url.is_(None),
            or_(
                LtiResourceLink.lineitem_claimed_at.is_(None),
                LtiResourceLink.lineitem_claimed_at < now - timedelta(seconds=CLAIM_SECONDS),
            ),
        )
        .values(lineitem_claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return now if rows_changed(taken) == 1 else None


def _release(session: Session, link: LtiResourceLink, claim: datetime) -> None:
    session.execute(
        update(LtiResourceLink)
        .where(LtiResourceLink.id == link.id, LtiResourceLink.lineitem_claimed_at == claim)
        .values(lineitem_claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _store(session: Session, link: LtiResourceLink, url: str) -> str:
    stored = session.execute(
        update(LtiResourceLink)
        .where(LtiResourceLink.id == link.id, LtiResourceLink.lineitem_url.is_(None))
        .values(lineitem_url=url, lineitem_claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.refresh(link)
    if rows_changed(stored) != 1 and link.lineitem_url != url:
        # Only after a stale claim was taken over while this worker was still at it.
        log.warning(
            "link %s: line item %s made, but %s was stored first", link.id, url, link.lineitem_url
        )
    assert link.lineitem_url is not None
    return link.lineitem_url
