"""What every answer kind provides, from spec to page: one object per kind.

A kind is one module with one object satisfying :class:`AnswerKind`, and one entry in
:data:`problem_bank.kinds.KINDS`: its spec shape, how a part is built on a variant, what
makes it ill-posed, how a typed answer is parsed, compared and matched to a misconception,
how a form and an API body carry it, and which template partial shows it. Generation, the
graders and the service look a kind up by name, so a new kind never adds an
``if kind == ...`` branch anywhere else. Everything here is pure: the service passes in
plain form fields and JSON values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from problem_bank.variant import Misconception, Part

if TYPE_CHECKING:
    from problem_bank.generate import VariantContext
    from problem_bank.scenarios import Scenario
    from problem_bank.spec import PartSpec

#: Where a spec error is (field names and list indices), as pydantic reports locations.
Loc = tuple[str | int, ...]
#: Form fields as the browser sent them: field name → every value under that name.
FormFields = Mapping[str, Sequence[str]]
#: The longest answer text read from a form or API body.
MAX_ANSWER_CHARS = 2000
#: The most values one part's answer may carry (table cells, ticked options).
MAX_LIST = 200


@dataclass(frozen=True, slots=True)
class Comparison:
    """The outcome of comparing a parsed answer with the reference.

    ``score`` is in [0, 1]; ``detail`` is a short, answer-free remark for partial credit
    ("2 of 4 cells are right"), empty when there is nothing to add. ``too_coarse`` marks a
    right answer typed with fewer digits than asked: ``detail`` then says the precision
    asked, and the engine shows that instead of "Not correct" and a conceptual hint.
    """

    score: float
    detail: str = ""
    too_coarse: bool = False


class ExpressionChecker(Protocol):
    """What :mod:`problem_bank.spec` checks an answer expression with."""

    def expr(self, loc: Loc, source: str) -> Iterator[tuple[Loc, str]]: ...


class AnswerKind(Protocol):
    """The operations generation, the graders and the service need from a kind of answer."""

    name: str
    #: The template partial that shows the part's inputs (``service/templates/parts/``).
    partial: str
    #: What the page says about the format when the spec gives no ``format_hint``.
    default_format_hint: str
    #: True when the answer is one number (one expression in the spec, one float on the
    #: part): checks that reason about a single value ask this, never the kind's name.
    answers_one_number: bool

    # -- spec and generation (problem_bank) --------------------------------------------
    def spec_shape(self, ps: PartSpec) -> str:
        """Why a part spec's ``answer`` (and choices, rows...) cannot be this kind ("" if fine)."""
        ...

    def answer_errors(
        self, answer: Any, loc: Loc, checker: ExpressionChecker, choice_ids: set[str]
    ) -> Iterator[tuple[Loc, str]]:
        """Errors in the expressions of an answer or misconception of this kind."""
        ...

    def build(self, ps: PartSpec, ctx: VariantContext, scenario: Scenario | None) -> Part:
        """The part on one variant: reference answer, acceptance, misconceptions, texts."""
        ...

    def problems(self, part: Part) -> list[str]:
        """Why a built part is ill-posed (a misconception the grader cannot tell apart...)."""
        ...

    def overlap(self, part: Part, a: Misconception, b: Misconception) -> bool:
        """True when one answer could match both misconceptions, as the grader matches."""
        ...

    def accepted_text(self, part: Part) -> str:
        """What the grader accepts, as the instructor preview says it ("" for none)."""
        ...

    def precision(self, part: Part) -> str:
        """What the student page says about precision ("" for none)."""
        ...

    # -- the service's inputs ----------------------------------------------------------
    def read_form(self, fields: FormFields, key: str) -> Any:
        """The answer as typed in a form posted without JavaScript (None when absent)."""
        ...

    def shape_problem(self, value: Any) -> str:
        """Why an API body's value cannot be this kind's answer ("" if it can be read)."""
        ...

    def invalid_inputs(self, typed: Any, percent_allowed: bool) -> list[int]:
        """Which of the part's inputs to mark invalid after an unreadable answer; [] = all.

        Takes what was typed and the part's percent rule only, so a page can ask with the
        stored part's fields and no Variant."""
        ...

    # -- grading (graders) -------------------------------------------------------------

    def parse(self, part: Part, raw: Any) -> Any:
        """The typed answer as a value to compare; raises ``ParseError`` with a message."""
        ...

    def compare(self, part: Part, value: Any) -> Comparison:
        """Score a parsed answer against the part's reference answer."""
        ...

    def matches(self, part: Part, misconception: Misconception, value: Any) -> bool:
        """True when the parsed answer is what a student holding ``misconception`` types."""
        ...

    def distance(self, part: Part, misconception: Misconception, value: Any) -> float:
        """How far a matching answer is from ``misconception``'s: the nearest match wins."""
        ...

    def wrong_note(self, part: Part, value: Any) -> str:
        """What to say about a wrong answer no misconception explains ("" for nothing).

        Shown before the answer key is, so it must not name or hint at the right answer.
        """
        ...


def choice_ids(part: Part) -> list[str]:
    """The ids of a part's options, in display order."""
    return [choice.id for choice in part.choices]


#: Said of a wrong option that carries no explanation of its own: it reveals nothing.
NOT_THIS_ONE = "That option is not the right one; read the question and the study again."
#: Said of a wrong multi-select set, when the kind has no count of right ticks to give.
NOT_THIS_SET = "That set of options is not the right one; check each option again."


def as_id_set(answer: Any) -> frozenset[str]:
    """A reference or misconception answer for a choice part as a set of ids."""
    if isinstance(answer, list | tuple | set | frozenset):
        return frozenset(str(item) for item in answer)
    return frozenset((str(answer),))


def scalar_ok(value: Any) -> bool:
    """A finite number or a text short enough to parse: one typed answer."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value == value and abs(value) != float("inf")
    return isinstance(value, str) and len(value) <= MAX_ANSWER_CHARS


def one_value_problem(value: Any) -> str:
    """The API shape of a one-input part: a number or a text."""
    if scalar_ok(value):
        return ""
    return f"expected a number or a text of at most {MAX_ANSWER_CHARS} characters"


def list_problem(value: Any) -> str:
    """The API shape of a many-input part: a list of numbers or texts (or one of them)."""
    if isinstance(value, list):
        if len(value) > MAX_LIST or not all(scalar_ok(v) for v in value):
            return (
                f"expected at most {MAX_LIST} numbers or texts "
                f"of at most {MAX_ANSWER_CHARS} characters"
            )
        return ""
    return "" if scalar_ok(value) else "expected a list of numbers or texts"


def first_value(fields: FormFields, key: str) -> str | None:
    """A one-input part's form value: the first under its name, None if none was sent."""
    values = fields.get(key) or ()
    return values[0] if values else None


def all_values(fields: FormFields, key: str) -> list[str]:
    """A many-input part's form values, in page order."""
    return list(fields.get(key) or ())


def expression_items(
    answer: Any, loc: Loc, checker: ExpressionChecker, choice_ids: set[str]
) -> Iterator[tuple[Loc, str]]:
    """Check an answer given as one expression or a list of them; choice ids pass as is."""
    items = answer if isinstance(answer, list) else [answer]
    for k, item in enumerate(items):
        here = (*loc, k) if isinstance(answer, list) else loc
        if str(item) in choice_ids:
            continue
        yield from checker.expr(here, str(item))
