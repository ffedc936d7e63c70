"""The instructor's start page and a course's page."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from service.instructor.assignments import copy_targets
from service.instructor.blueprint import bp, taught_course
from service.services import access, regrade, teaching
from service.web_db import db


@bp.route("/")
def home():
    return render_template(
        "teach/home.html",
        courses=teaching.courses_taught(db(), current_user),
        can_author=access.is_author(current_user),
    )


@bp.route("/courses/<int:course_id>")
def course(course_id: int):
    course = taught_course(course_id)
    newer = {
        assignment_problem.id: regrade.newer_version(db(), assignment_problem)
        for a in course.assignments
        for assignment_problem in a.assignment_problems
    }
    return render_template(
        "teach/course.html",
        course=course,
        copy_targets=copy_targets(course.id),
        newer=newer,
        students=teaching.students(db(), course),
        failures=teaching.grading_problems(db(), course),
    )
