"""Reading answers before they are stored, so an unreadable one costs no attempt."""

from __future__ import annotations

from typing import Any

from graders import parse_answer
from graders.parsing import ParseError, parse_typed_number
from problem_bank.variant import Variant

#: The fields a Variant needs besides its parts. Reading answers looks at the parts alone,
#: so a caller may pass just ``{"parts": [...]}`` and skip loading the dataset.
_NO_DATA = {"problem": "", "version": 0, "seed": 0, "title": "", "story": ""}


def unreadable_parts(content: dict[str, Any], answers: dict[str, Any]) -> dict[str, str]:
    """Part id → the parser's message, for every answer that cannot be read.

    ``content`` is the stored variant content, or any dict holding at least its ``parts``.
    """
    variant = Variant.from_dict({**_NO_DATA, "parts": content["parts"]})
    errors = {}
    for part in variant.parts:
        parsed = parse_answer(part, answers.get(part.id))
        if parsed.error:
            errors[part.id] = parsed.error
    return errors


def invalid_inputs(
    parts: list[dict[str, Any]], typed: dict[str, Any], errors: dict[str, str]
) -> dict[str, list[int]]:
    """Part id → which of its inputs to mark ``aria-invalid``, for each part in ``errors``.

    A table part lists the cells (row-major indices) that are blank or unreadable, read by
    the grader's own number parser, so a screen reader hears "invalid" on the cell that is
    wrong, not on the first one. An empty list marks the part's only input, or its whole
    group of options, as invalid.
    """
    invalid: dict[str, list[int]] = {}
    for part in parts:
        if part["id"] not in errors:
            continue
        cells = typed.get(part["id"])
        bad: list[int] = []
        if part["kind"] == "table" and isinstance(cells, list | tuple):
            percent = bool((part.get("acceptance") or {}).get("percent_allowed", False))
            bad = [i for i, cell in enumerate(cells) if not _readable(cell, percent)]
        invalid[part["id"]] = bad
    return invalid


def _readable(cell: Any, percent_allowed: bool) -> bool:
    if cell is None or not str(cell).strip():
        return False
    try:
        parse_typed_number(cell, percent_allowed=percent_allowed)
    except ParseError:
        return False
    return True
