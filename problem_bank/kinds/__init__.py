"""The registry of answer kinds: one module per kind, one entry here.

Adding a kind means writing a module with an object that satisfies
:class:`problem_bank.kinds.base.AnswerKind` (spec shape, generation, well-posedness,
parsing, comparison, misconception matching, form reading, API shape and its template
partial), adding its name to :data:`PartKind` and registering it below. Generation, the
graders and the service dispatch through :func:`kind_of`; nothing else changes. A kind of
numbers can start from :class:`~problem_bank.kinds.ranges.NumbersKind`, a kind of options
from :class:`~problem_bank.kinds.options.OptionsKind`, and build its part with
:mod:`problem_bank.kinds.building`. What other code must know about a kind is an attribute
of it (``answers_one_number``, ``partial``, an options kind's ``input_type``), never its name.
"""

from __future__ import annotations

from typing import Literal, get_args

from problem_bank.kinds.base import AnswerKind, Comparison
from problem_bank.kinds.choice import CHOICE
from problem_bank.kinds.interval import INTERVAL
from problem_bank.kinds.multi import MULTI
from problem_bank.kinds.numeric import NUMERIC
from problem_bank.kinds.table import TABLE
from problem_bank.variant import Part

#: The kind names a spec and a variant may use: exactly the registry's built-in kinds
#: (checked below, so the two cannot drift apart).
PartKind = Literal["numeric", "choice", "multi", "table", "interval"]

KINDS: dict[str, AnswerKind] = {
    kind.name: kind for kind in (NUMERIC, CHOICE, MULTI, TABLE, INTERVAL)
}

if set(get_args(PartKind)) != set(KINDS):  # pragma: no cover - a wrong registry edit
    raise ImportError(f"PartKind {get_args(PartKind)} is not the registry's {sorted(KINDS)}")


def register(kind: AnswerKind) -> None:
    """Add (or replace) an answer kind under ``kind.name``."""
    KINDS[kind.name] = kind


def kind_of(name: str) -> AnswerKind:
    """The kind registered under ``name``; ValueError names the unknown kind."""
    try:
        return KINDS[name]
    except KeyError:
        known = ", ".join(sorted(KINDS))
        raise ValueError(f"unknown answer kind {name!r} (known: {known})") from None


def accepted_text(part: Part) -> str:
    """What the grader accepts for ``part``, as the instructor preview says it."""
    return kind_of(part.kind).accepted_text(part)


def precision_for(part: Part) -> str:
    """What the student page says about the precision of ``part``."""
    return kind_of(part.kind).precision(part)


__all__ = [
    "KINDS",
    "AnswerKind",
    "Comparison",
    "PartKind",
    "accepted_text",
    "kind_of",
    "precision_for",
    "register",
]
