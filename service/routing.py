"""URL converters: an id in a path is a row id the database can hold, or the route is a 404.

Every primary key is a 32-bit signed integer (``INTEGER``/``SERIAL``), so an id outside
1 … 2³¹−1 names no row. Without this bound, ``/items/9223372036854775808`` reaches the view
and SQLite's driver raises OverflowError (a 500). The converter is registered as both
``int`` (Flask's name, which every web, LTI and API route uses) and ``id``, so every route,
present and future, gets the bound without having to ask for it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

#: Largest row id: primary keys are 32-bit signed integers in every backend.
MAX_ROW_ID = 2**31 - 1


class RowId(IntegerConverter):
    """A database id in a path: 1 … 2³¹−1 (at most 10 digits, so no huge-int parsing)."""

    regex = r"\d{1,10}"

    def __init__(
        self, url_map: Any, *args: Any, min: int = 1, max: int = MAX_ROW_ID, **kwargs: Any
    ) -> None:
        # A route may narrow the range (``<int(min=5):n>``) but never widen it.
        kwargs.update(min=_clamp(min), max=_clamp(max), signed=False)
        super().__init__(url_map, *args, **kwargs)


def row_id(raw: object) -> int | None:
    """A form field or claim read as a row id, or None when no row can have it.

    For ids that come in other than in the path (``request.form.get(..., type=row_id)``):
    the same bound as the converter, so they too are "not found", never an overflow.
    """
    text = str(raw).strip() if raw is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ROW_ID else None


def _clamp(bound: int) -> int:
    return min(max(int(bound), 1), MAX_ROW_ID)


def init_app(app: Flask) -> None:
    """Make ``int`` and ``id`` the bounded row-id converter, before any route is added."""
    app.url_map.converters["int"] = RowId
    app.url_map.converters["id"] = RowId
