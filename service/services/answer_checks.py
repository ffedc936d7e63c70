"""Reading answers before they are stored, so an unreadable one costs no attempt."""

from __future__ import annotations

from typing import Any

from graders import parse_answer
from problem_bank.kinds import kind_of
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

    The part's kind says which inputs are blank or unreadable (a table's cells, an
    interval's bounds), read by the grader's own number parser, so a screen reader hears
    "invalid" on the input that is wrong, not on the first one. An empty list marks the
    part's only input, or its whole group of options, as invalid.
    """
    return {
        part["id"]: kind_of(part["kind"]).invalid_inputs(
            typed.get(part["id"]),
            bool((part.get("acceptance") or {}).get("percent_allowed", False)),
        )
        for part in parts
        if part["id"] in errors
    }
