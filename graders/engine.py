"""The grading pipeline: parse → compare → feedback, as three separate functions.

:func:`grade` takes plain data (a Variant and the answers as typed) and returns plain data
(Feedback). Nothing here knows about HTTP, databases or Celery, and nothing is refitted:
the reference answers and intervals come stored in the Variant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graders import scoring
from graders.feedback import Feedback, PartFeedback
from graders.kinds import AnswerKind, Comparison, kind_of
from graders.misconceptions import Match, find_misconception
from graders.parsing import ParseError
from problem_bank.variant import Part, Variant


@dataclass(frozen=True, slots=True)
class ParsedAnswer:
    """Stage 1 output: the part, its kind, and either a value or why there is none.

    ``value`` is None when the answer is missing (``error`` empty) or unreadable
    (``error`` holds the message for the student).
    """

    part: Part
    kind: AnswerKind
    value: Any = None
    error: str = ""

    @property
    def answered(self) -> bool:
        return self.value is not None


@dataclass(frozen=True, slots=True)
class Outcome:
    """Stage 2 output: the score, a remark on partial credit, and any matched misconception."""

    parsed: ParsedAnswer
    comparison: Comparison | None = None
    match: Match | None = None


def parse_answer(part: Part, raw: Any) -> ParsedAnswer:
    """Stage 1: read what the student typed for ``part`` (None or missing = unanswered)."""
    kind = kind_of(part.kind)
    if raw is None:
        return ParsedAnswer(part, kind)
    try:
        return ParsedAnswer(part, kind, value=kind.parse(part, raw))
    except ParseError as error:
        return ParsedAnswer(part, kind, error=str(error))


def compare_answer(parsed: ParsedAnswer) -> Outcome:
    """Stage 2: score a parsed answer; look for a misconception only when it is not right."""
    if not parsed.answered:
        return Outcome(parsed)
    comparison = parsed.kind.compare(parsed.part, parsed.value)
    if comparison.score >= 1.0:
        return Outcome(parsed, comparison)
    return Outcome(parsed, comparison, find_misconception(parsed.part, parsed.kind, parsed.value))


def part_feedback(outcome: Outcome) -> PartFeedback:
    """Stage 3: the verdict and message the student sees for one part.

    The part's ``explanation`` (why the right answer is right) goes with a correct verdict
    only: after a wrong one it would make the next attempt free. A wrong answer gets the
    matched misconception's message, else what its kind says about it (the picked option's
    own explanation, or a neutral "not this one"). The answer key's explanation is shown by
    the pages once the key is (:mod:`service.services.student_pages`).
    """
    parsed = outcome.parsed
    part = parsed.part
    comparison = outcome.comparison
    if comparison is None:
        if parsed.error:
            return PartFeedback(part.id, 0.0, "unreadable", parsed.error, hint=part.format_hint)
        return PartFeedback(part.id, 0.0, "unanswered", "No answer was given.", hint=part.hint)
    score = min(1.0, max(0.0, comparison.score))
    match = outcome.match
    if score >= 1.0:
        verdict, text, hint = "correct", "Correct.", ""
    elif comparison.too_coarse and match is None:  # right, too coarse: say the precision
        verdict, text, hint = ("partial" if score > 0.0 else "incorrect"), "", ""
    elif score > 0.0:
        verdict, text, hint = "partial", "Partly correct.", part.hint
    else:
        verdict, text, hint = "incorrect", "Not correct.", part.hint
    pieces = [text] if text else []
    if comparison.detail and (match is None or not comparison.too_coarse):
        pieces.append(comparison.detail)
    if score >= 1.0:
        if part.explanation:
            pieces.append(part.explanation)
    elif match is not None:
        pieces.append(match.message)
    elif note := parsed.kind.wrong_note(part, parsed.value):
        pieces.append(note)
    return PartFeedback(
        part.id,
        score,
        verdict,  # type: ignore[arg-type]
        " ".join(pieces),
        misconception=match.id if match is not None else None,
        hint=hint,
    )


def total_score(parts: tuple[Part, ...], feedback: list[PartFeedback]) -> float:
    """Weighted mean of part scores with ``Part.weight`` (graders.scoring holds the rule)."""
    if len(parts) != len(feedback):
        raise ValueError("one verdict per part")
    return scoring.weighted_score(
        [(part.id, part.weight) for part in parts], {v.id: v.score for v in feedback}
    )


def grade(variant: Variant, answers: Mapping[str, Any]) -> Feedback:
    """Grade ``answers`` (part id → what the student typed) against ``variant``.

    Answers for unknown part ids are ignored; a part with no answer is ``unanswered``.
    Raises ValueError only when the variant itself is malformed (an unknown part kind).
    """
    verdicts = [
        part_feedback(compare_answer(parse_answer(part, answers.get(part.id))))
        for part in variant.parts
    ]
    return Feedback(score=total_score(variant.parts, verdicts), parts=tuple(verdicts))
