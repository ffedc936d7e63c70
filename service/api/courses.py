"""Courses and enrollments, and who the token belongs to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.api import access, schemas
from service.api.access import abort
from service.models import Course, Enrollment, Role, User
from service.services import enrollments
from service.web_db import db

blp = access.blueprint("courses", "Courses, enrollments and the calling token.")


@blp.route("/me")
@blp.response(200, schemas.Me)
def me() -> dict[str, Any]:
    """The token's user and the courses it reaches."""
    who = access.caller()
    return {
        "user": access.user_dict(who.user),
        "token_id": who.token.id,
        "course_ids": sorted(who.course_ids) if who.course_ids is not None else None,
    }


@blp.route("/courses")
@blp.arguments(schemas.PageArgs, location="query")
@blp.response(200, schemas.CoursePage)
def list_courses(args: dict[str, Any]) -> dict[str, Any]:
    """Courses the token reaches, by code."""
    who = access.caller()
    query = select(Course).order_by(Course.code)
    if who.course_ids is not None:
        query = query.where(Course.id.in_(sorted(who.course_ids)))
    rows, page = access.paginate(query, args)
    return {**page, "items": [course_dict(c) for c in rows]}


@blp.route("/courses/<id:course_id>")
@blp.response(200, schemas.Course)
def get_course(course_id: int) -> dict[str, Any]:
    return course_dict(access.course_for(course_id))


@blp.route("/courses/<id:course_id>/enrollments")
@blp.arguments(schemas.PageArgs, location="query")
@blp.response(200, schemas.EnrollmentPage)
def list_enrollments(args: dict[str, Any], course_id: int) -> dict[str, Any]:
    """The course's members (instructors only)."""
    course = access.course_for(course_id, teach=True)
    query = (
        select(Enrollment)
        .join(User)
        .where(Enrollment.course_id == course.id)
        .order_by(Enrollment.role, User.name, User.id)
    )
    rows, page = access.paginate(query, args)
    return {**page, "items": [enrollment_dict(e) for e in rows]}


@blp.route("/courses/<id:course_id>/enrollments", methods=["POST"])
@blp.arguments(schemas.EnrollmentCreate)
@blp.response(201, schemas.Enrollment)
@blp.alt_response(200, schema=schemas.Enrollment, description="Already enrolled; role updated.")
@blp.alt_response(409, description="The change would leave the course without an instructor.")
def enroll(body: dict[str, Any], course_id: int) -> Any:
    """Enroll a person by email as the given role, creating an account if needed.

    Enrolling someone already in the course changes their role; the course's last
    instructor cannot be demoted (409). The role is the person's role in this course
    only: a new account gets the lowest site role (student), and an existing account's
    site role is never changed, as with LMS launches (what someone may do in a course
    comes from their enrollment in it; site roles are an admin's to give).
    """
    course = access.course_for(course_id, teach=True)
    email = body["email"].strip().lower()
    role = Role(body["role"])
    session = db()
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=body["name"].strip() or email, role=Role.student)
        session.add(user)
        session.flush()
    try:
        enrollment, created = enrollments.set_role(session, user, course, role)
    except enrollments.LastInstructor as refused:
        session.rollback()
        abort(409, message=str(refused))
    session.commit()
    return enrollment_dict(enrollment), 201 if created else 200


@blp.route("/courses/<id:course_id>/enrollments/<id:enrollment_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(409, description="The course's last instructor cannot be removed.")
def unenroll(course_id: int, enrollment_id: int) -> None:
    """Take a person out of the course (instructors only); their submissions are kept."""
    course = access.course_for(course_id, teach=True)
    session = db()
    enrollment = session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.course_id != course.id:
        abort(404, message=f"No enrollment {enrollment_id} in {course.code}.")
    try:
        enrollments.remove(session, enrollment)
    except enrollments.LastInstructor as refused:
        session.rollback()
        abort(409, message=str(refused))
    session.commit()


def course_dict(course: Course) -> dict[str, Any]:
    role = access.caller().role_in(course.id)
    return {
        "id": course.id,
        "code": course.code,
        "title": course.title,
        "role": role.value if role else None,
    }


def enrollment_dict(enrollment: Enrollment) -> dict[str, Any]:
    return {
        "id": enrollment.id,
        "role": enrollment.role.value,
        "user": access.user_dict(enrollment.user),
    }
