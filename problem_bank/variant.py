"""The Variant: what one student gets for one (problem, version, seed).

These value objects are the contract between the problem bank (which builds them), the
graders (which grade answers against them) and the service (which stores them as JSON).
They hold plain data only, so a stored variant can be graded again years later without
refitting anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the registry imports this module; the name is only an annotation here
    from problem_bank.kinds import PartKind

#: What a student types for one part: a number, a choice id, or a list of either.
Answer = float | str | list[float] | list[str]


@dataclass(frozen=True)
class Choice:
    """One option of a choice or multi-select part."""

    id: str
    label: str
    #: Why picking this option is wrong (shown only then); never names the right option.
    explanation: str = ""


@dataclass(frozen=True)
class Acceptance:
    """How close a numeric answer must be to count as correct.

    ``interval`` is the range of values a student gets when working from the quantities
    as R printed them (or rounded to ``digits`` significant digits), so a correct hand
    calculation is never rejected for rounding. ``digits`` is the number of significant
    digits the part asks for: the grader widens the interval by half a unit in that digit,
    and no more. ``rtol``/``atol`` are extra slack an author may add. For a table part,
    ``interval`` holds one (lo, hi) per cell in ``intervals``. ``printed`` is how the
    output prints the answer when the answer is one printed quantity (``("0.0003",)``).
    The rule is :mod:`problem_bank.acceptance`.
    """

    digits: int = 3
    rtol: float = 0.0
    atol: float = 0.0
    interval: tuple[float, float] | None = None
    intervals: tuple[tuple[float, float], ...] = ()
    percent_allowed: bool = False
    #: For multi-select parts: credit per correct choice minus wrong ones, if the spec says so.
    partial_credit: bool = False
    printed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Misconception:
    """A known wrong computation: what a student holding it would type, and what to tell them."""

    id: str
    answer: Answer
    message: str
    acceptance: Acceptance | None = None


@dataclass(frozen=True)
class Part:
    """One question part, with its reference answer and how to grade it."""

    id: str
    kind: PartKind
    prompt: str
    answer: Answer
    acceptance: Acceptance = field(default_factory=Acceptance)
    misconceptions: tuple[Misconception, ...] = ()
    choices: tuple[Choice, ...] = ()
    #: Why the right answer is right: shown with a correct verdict, and once the answer key
    #: is shown (last attempt, closed assignment), never after a wrong attempt before that.
    explanation: str = ""
    hint: str = ""
    #: The worked solution with this variant's numbers, shown once attempts or time run out.
    solution: str = ""
    #: Relative weight of the part in the problem's total.
    weight: float = 1.0
    #: Units or a format hint shown next to the input ("probability between 0 and 1").
    format_hint: str = ""
    #: For table parts: the row and column labels of the cells, in row-major order.
    rows: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Part:
        """Rebuild a part from its stored form (one entry of ``Variant.to_dict()["parts"]``)."""
        return _part_from_dict(data)


@dataclass(frozen=True)
class Variant:
    """Everything a student sees and everything needed to grade them, for one seed."""

    problem: str
    version: int
    seed: int
    title: str
    story: str
    parts: tuple[Part, ...]
    #: The dataset as CSV text, exactly the bytes the student downloads.
    data_csv: str = ""
    #: The model output printed as R prints it.
    output: str = ""
    r_script: str = ""
    python_script: str = ""
    #: Reference quantities (coefficients, variance components...) for analytics and solutions.
    reference: dict[str, Any] = field(default_factory=dict)

    def part(self, part_id: str) -> Part:
        """The part with this id; KeyError names the id when it is not there."""
        for part in self.parts:
            if part.id == part_id:
                return part
        raise KeyError(part_id)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (tuples become lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Variant:
        """Rebuild a variant from :meth:`to_dict` output (e.g. a stored ``variant.json``)."""
        parts = tuple(_part_from_dict(p) for p in data["parts"])
        fields = {k: v for k, v in data.items() if k != "parts"}
        return cls(parts=parts, **fields)


def _acceptance_from_dict(data: dict[str, Any] | None) -> Acceptance | None:
    if data is None:
        return None
    data = dict(data)
    if data.get("interval") is not None:
        data["interval"] = tuple(data["interval"])
    data["intervals"] = tuple(tuple(i) for i in data.get("intervals", ()))
    data["printed"] = tuple(data.get("printed", ()))
    return Acceptance(**data)


def _part_from_dict(data: dict[str, Any]) -> Part:
    data = dict(data)
    data["acceptance"] = _acceptance_from_dict(data.get("acceptance")) or Acceptance()
    data["misconceptions"] = tuple(
        Misconception(
            id=m["id"],
            answer=m["answer"],
            message=m["message"],
            acceptance=_acceptance_from_dict(m.get("acceptance")),
        )
        for m in data.get("misconceptions", ())
    )
    data["choices"] = tuple(Choice(**c) for c in data.get("choices", ()))
    data["rows"] = tuple(data.get("rows", ()))
    data["columns"] = tuple(data.get("columns", ()))
    return Part(**data)
