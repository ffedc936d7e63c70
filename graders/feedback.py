"""Feedback: what grading returns, as plain data the service stores and shows."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

Verdict = Literal["correct", "partial", "incorrect", "unreadable", "unanswered"]


@dataclass(frozen=True)
class PartFeedback:
    """The verdict on one part.

    ``misconception`` is the id of the matched misconception, or None. An ``unreadable``
    verdict means the answer could not be parsed; ``message`` says what was wrong and what
    is expected, and such a submission costs the student no attempt.
    """

    id: str
    score: float
    verdict: Verdict
    message: str
    misconception: str | None = None
    hint: str = ""


_PART_FIELDS = tuple(field.name for field in fields(PartFeedback))


@dataclass(frozen=True)
class Feedback:
    """The verdicts on all parts and the weighted total score in [0, 1]."""

    score: float
    parts: tuple[PartFeedback, ...]

    @property
    def has_unreadable(self) -> bool:
        """True when some answer could not be read, so the attempt must not be counted."""
        return any(p.verdict == "unreadable" for p in self.parts)

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies field by field, recursively, and cost a
        # tenth of a worker's time per task; a part's fields are plain values.
        return {
            "score": self.score,
            "parts": [{name: getattr(p, name) for name in _PART_FIELDS} for p in self.parts],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Feedback:
        return cls(score=data["score"], parts=tuple(PartFeedback(**p) for p in data["parts"]))
