"""Roster sync (NRPS): bring a course's enrollments in line with the LMS membership."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.lti import advantage, launch
from service.models import Enrollment, LtiContext, LtiIdentity, Role, utcnow
from service.services import enrollments


class RosterUnavailable(Exception):
    """The context has no roster service, or the platform would not give the roster."""


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: Kept as they were: the LMS would demote or remove the course's last instructor.
    kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{len(self.added)} added, {len(self.updated)} role changes, "
            f"{len(self.removed)} removed, {len(self.skipped)} skipped"
        )
        if self.kept:
            text += f"; kept {', '.join(self.kept)} as the last instructor"
        return text


def sync(session: Session, context: LtiContext) -> SyncReport:
    """Add active members, update roles, and drop members the LMS marks inactive or deleted.

    People enrolled by other means (no identity from this platform) are left alone. The
    whole roster is read and checked first (``advantage.roster``), and the changes are
    one transaction: a platform answer that is broken anywhere changes no enrollment.
    """
    if not context.memberships_url:
        raise RosterUnavailable(
            "this LMS course has not offered a roster service (NRPS) in any launch yet"
        )
    try:
        members = advantage.roster(session, context.platform, context.memberships_url)
    except (advantage.PlatformUnavailable, advantage.PlatformRefused) as error:
        raise RosterUnavailable(str(error)) from None
    try:
        report = _apply(session, context, members)
    except BaseException:
        session.rollback()
        raise
    context.roster_synced_at = utcnow()
    session.commit()
    return report


def _apply(session: Session, context: LtiContext, members: list[dict[str, Any]]) -> SyncReport:
    report = SyncReport()
    course = context.course
    # Instructors first, so a course whose LMS hands teaching to someone else gets its new
    # instructor before the old one is demoted (the last instructor is never demoted).
    members = sorted(members, key=lambda m: _role_of(m) != Role.instructor)
    for member in members:
        subject = member["user_id"]
        label = member.get("email") or member.get("name") or subject
        status = str(member.get("status") or "Active")
        role = _role_of(member)
        if status != "Active" or role is None:
            identity = session.scalar(
                select(LtiIdentity).where(
                    LtiIdentity.platform_id == context.platform_id,
                    LtiIdentity.subject == subject,
                )
            )
            if identity is not None:
                launch.forget_member(session, context, identity.user_id)
            enrollment = identity and session.scalar(
                select(Enrollment).where(
                    Enrollment.user_id == identity.user_id, Enrollment.course_id == course.id
                )
            )
            if enrollment:
                try:
                    enrollments.remove(session, enrollment)
                    report.removed.append(label)
                except enrollments.LastInstructor:
                    report.kept.append(label)
            else:
                report.skipped.append(label)
            continue
        name = member.get("name") or " ".join(
            x for x in (member.get("given_name"), member.get("family_name")) if x
        )
        user = launch.user_for(
            session,
            context.platform,
            subject,
            email=member.get("email"),
            name=name,
        )
        launch.remember_member(session, context, user)
        before = session.scalar(
            select(Enrollment.role).where(
                Enrollment.user_id == user.id, Enrollment.course_id == course.id
            )
        )
        try:
            enrollments.set_role(session, user, course, role)
        except enrollments.LastInstructor:
            report.kept.append(label)
            continue
        if before is None:
            report.added.append(label)
        elif before != role:
            report.updated.append(label)
    return report


def _role_of(member: dict[str, Any]) -> Role | None:
    return launch.map_roles([str(r) for r in member.get("roles", [])])
