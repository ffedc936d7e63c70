"""Who may reach what: the one set of access rules that web pages, the API and LTI share.

What a person may do in a course comes from their enrollment in that course; the site
role decides site-wide things only: writing and publishing problems in the shared bank
(``is_author``) and running the site (``is_admin``: LMS platforms, everyone's API tokens).
A site admin counts as an instructor of every course, on every front alike: they are the
one who repairs a roster or a stuck grade when the course's own instructor cannot. An LMS
launch never changes a site role.

The rules are framework-free answers about a user and stored rows; each front (web, API,
LTI) turns a "no" into its own 404, so ids of what a user may not see never leak. An API
token's scope narrows these rules further (service.api.access); it never widens them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Enrollment, Role, StoredVariant, User


def is_admin(user: User) -> bool:
    """Runs the site: LMS platforms, site roles, every API token, every course."""
    return user.role == Role.admin


def is_author(user: User) -> bool:
    """May write, self-test and publish problems in the bank, which every course shares."""
    return user.role in (Role.instructor, Role.admin)


def role_in(session: Session, user: User, course_id: int) -> Role | None:
    """The user's role in this course (an admin's is instructor), None if not enrolled."""
    if is_admin(user):
        return Role.instructor
    return session.scalar(
        select(Enrollment.role).where(
            Enrollment.user_id == user.id, Enrollment.course_id == course_id
        )
    )


def teaches(session: Session, user: User, course_id: int) -> bool:
    """True for an instructor enrolled in this very course (or a site admin)."""
    return role_in(session, user, course_id) == Role.instructor


def may_teach(session: Session, user: User) -> bool:
    """May open the teaching pages: an author, or an instructor of at least one course.

    Each course page still checks ``teaches`` for that course.
    """
    return is_author(user) or (
        session.scalar(
            select(Enrollment.id)
            .where(Enrollment.user_id == user.id, Enrollment.role == Role.instructor)
            .limit(1)
        )
        is not None
    )


def course_of(variant: StoredVariant) -> int | None:
    """The course a variant was issued in (None for one not tied to an assignment)."""
    assignment_problem = variant.assignment_problem
    return assignment_problem.assignment.course_id if assignment_problem is not None else None


def may_view_variant(session: Session, user: User, variant: StoredVariant) -> bool:
    """A variant (its data, plot, files, submissions) is its owner's and its teachers'."""
    if variant.user_id == user.id:
        return True
    course_id = course_of(variant)
    return course_id is not None and teaches(session, user, course_id)
