"""Dates of an assignment: due, late, closed. SQLite hands back naive datetimes (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

ZERO = timedelta(0)


class Dated(Protocol):
    """An assignment's dates: the Assignment row, or a query row carrying the same columns."""

    @property
    def due_at(self) -> datetime | None: ...

    @property
    def late_until(self) -> datetime | None: ...


def as_utc(moment: datetime | None) -> datetime | None:
    """The moment in UTC: a naive one (SQLite) is UTC already, an aware one is converted."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment if moment.utcoffset() == ZERO else moment.astimezone(UTC)


def closes_at(assignment: Dated) -> datetime | None:
    """When submissions stop: the late cut-off if there is one, else the due date."""
    return as_utc(assignment.late_until) or as_utc(assignment.due_at)


def is_late(assignment: Dated, now: datetime | None = None) -> bool:
    due = as_utc(assignment.due_at)
    return due is not None and (now or datetime.now(UTC)) > due


def is_closed(assignment: Dated, now: datetime | None = None) -> bool:
    end = closes_at(assignment)
    return end is not None and (now or datetime.now(UTC)) > end
