"""Copying assignments into another course, for the next term.

A copy takes every mapped column of ``Assignment`` and ``AssignmentProblem`` except the
row's identity and place (``id``, the course or assignment it belongs to, when it was
created), read from the mapper, so a column added later (a score policy, an archive
stamp) is copied without this module changing. Problems placed in an assignment and
then archived out of it (``archived_at`` set, where that column exists) stay behind.
Nothing of a student's is copied: variants, submissions and scores belong to the old
course. Each copied problem keeps its version, so the copy asks what the original asked.

Who may copy is decided by the caller (``services.access.teaches`` on both courses).
"""

from __future__ import annotations

import copy as deep
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import DateTime, inspect
from sqlalchemy.orm import Session

from service.db import Base
from service.models import Assignment, AssignmentProblem, Course

#: Columns that say which row this is and where it lives, never what it asks.
NOT_COPIED: dict[type[Base], frozenset[str]] = {
    Assignment: frozenset({"id", "course_id", "created_at"}),
    AssignmentProblem: frozenset({"id", "assignment_id", "created_at"}),
}
#: The most days an instructor may move the dates by, either way (ten years).
MAX_SHIFT_DAYS = 3650

_Row = TypeVar("_Row", bound=Base)


def copied_columns(model: type[Base]) -> list[str]:
    """The attribute names of ``model``'s columns that a copy takes over."""
    return [
        column.key for column in inspect(model).column_attrs if column.key not in NOT_COPIED[model]
    ]


def _values(row: Base, shift: timedelta) -> dict[str, Any]:
    """The copied columns' values, every date moved by ``shift``."""
    model = type(row)
    dates = {
        column.key
        for column in inspect(model).column_attrs
        if any(isinstance(c.type, DateTime) for c in column.columns)
    }
    values = {}
    for key in copied_columns(model):
        value = getattr(row, key)
        if key in dates and isinstance(value, datetime):
            value = value + shift
        values[key] = deep.deepcopy(value)  # JSON columns: the copy owns its own
    return values


def _copy(row: _Row, shift: timedelta, **place: Any) -> _Row:
    return type(row)(**_values(row, shift), **place)


def read_shift_days(raw: str | None) -> int:
    """Days to move every date by, as typed in a form (blank: 0); ValueError if not a
    whole number within MAX_SHIFT_DAYS."""
    text = (raw or "").strip()
    if not text:
        return 0
    try:
        days = int(text) if len(text) <= 6 else MAX_SHIFT_DAYS + 1
    except ValueError:
        raise ValueError("the days to shift the dates by must be a whole number") from None
    if not -MAX_SHIFT_DAYS <= days <= MAX_SHIFT_DAYS:
        raise ValueError(f"dates can move by at most {MAX_SHIFT_DAYS} days either way")
    return days


def copy_assignment(
    session: Session, assignment: Assignment, course: Course, shift_days: int = 0
) -> Assignment:
    """A new assignment in ``course`` asking what ``assignment`` asks, dates moved by
    ``shift_days``; committed."""
    copy = _copy_one(session, assignment, course, timedelta(days=shift_days))
    session.commit()
    return copy


def copy_course_assignments(
    session: Session, source: Course, course: Course, shift_days: int = 0
) -> list[Assignment]:
    """Every assignment of ``source`` copied into ``course`` (in order), in one commit."""
    shift = timedelta(days=shift_days)
    copies = [_copy_one(session, a, course, shift) for a in list(source.assignments)]
    session.commit()
    return copies


def _copy_one(
    session: Session, assignment: Assignment, course: Course, shift: timedelta
) -> Assignment:
    if not -MAX_SHIFT_DAYS <= shift.days <= MAX_SHIFT_DAYS:
        raise ValueError(f"dates can move by at most {MAX_SHIFT_DAYS} days either way")
    copy = _copy(assignment, shift, course=course)
    session.add(copy)
    for assignment_problem in assignment.assignment_problems:
        if getattr(assignment_problem, "archived_at", None) is not None:
            continue
        session.add(_copy(assignment_problem, shift, assignment=copy))
    session.flush()
    return copy
