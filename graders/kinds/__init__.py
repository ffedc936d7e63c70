"""The registry of answer kinds: one module per kind, one entry here.

Adding a kind means writing a module with an object that satisfies
:class:`graders.kinds.base.AnswerKind` and registering it below (or calling
:func:`register`); nothing else in the graders changes.
"""

from __future__ import annotations

from graders.kinds.base import AnswerKind, Comparison
from graders.kinds.choice import CHOICE
from graders.kinds.multi import MULTI
from graders.kinds.numeric import NUMERIC
from graders.kinds.table import TABLE

KINDS: dict[str, AnswerKind] = {
    NUMERIC.name: NUMERIC,
    CHOICE.name: CHOICE,
    MULTI.name: MULTI,
    TABLE.name: TABLE,
}


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


__all__ = ["KINDS", "AnswerKind", "Comparison", "kind_of", "register"]
