"""Grading: (Variant, answers as typed) → Feedback, as a pure library.

``grade`` is the one entry point the service, the Celery tasks and the CLI share. The
stages behind it (parse → compare → feedback) are exposed for testing and reuse.
"""

from graders.engine import compare_answer, grade, parse_answer, part_feedback
from graders.feedback import Feedback, PartFeedback
from problem_bank.kinds.parsing import ParseError

__all__ = [
    "Feedback",
    "ParseError",
    "PartFeedback",
    "compare_answer",
    "grade",
    "parse_answer",
    "part_feedback",
]
