"""Reading answers before they are stored, so an unreadable one costs no attempt."""

from __future__ import annotations

from typing import Any

from graders import parse_answer
from problem_bank.variant import Variant


def unreadable_parts(content: dict[str, Any], answers: dict[str, Any]) -> dict[str, str]:
    """Part id → the parser's message, for every answer that cannot be read."""
    variant = Variant.from_dict(content)
    errors = {}
    for part in variant.parts:
        parsed = parse_answer(part, answers.get(part.id))
        if parsed.error:
            errors[part.id] = parsed.error
    return errors
