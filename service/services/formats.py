"""How pages and messages write points and times: one rule each.

The gradebook, the student's pages, the CSV and the notices a student is sent all write
"2.5" and a date the same way, because they all call these.
"""

from __future__ import annotations

from datetime import datetime

from service.services import timing

#: What a page shows for "nothing": no points yet, no date.
NOTHING = "—"


def points(value: float | None) -> str:
    """Points without noise: 10, 2.5, 3.33 (at most two decimals, never "-0")."""
    if value is None:
        return NOTHING
    text = f"{value + 0.0:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def table_time(moment: datetime | None) -> str:
    """A time in a table: 2026-12-05 17:00 UTC (SQLite's naive datetimes are UTC)."""
    moment = timing.as_utc(moment)
    # isoformat writes strftime's "%Y-%m-%d %H:%M" in a fraction of the time (the gradebook
    # writes 7,500 of these a page).
    return f"{moment.isoformat(' ', 'minutes')[:16]} UTC" if moment else NOTHING


def time_words(moment: datetime | None) -> str:
    """A time in a sentence a student reads: 5 Dec 2026 17:00 UTC."""
    moment = timing.as_utc(moment)
    return f"{moment.day} {moment:%b %Y %H:%M} UTC" if moment else NOTHING
