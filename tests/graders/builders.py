"""Hand-built parts and variants, so grader tests do not depend on the problem bank."""

from __future__ import annotations

from typing import Any

from problem_bank.variant import Acceptance, Choice, Misconception, Part, Variant


def numeric(
    answer: float,
    *,
    part_id: str = "a",
    digits: int = 3,
    interval: tuple[float, float] | None = None,
    misconceptions: tuple[Misconception, ...] = (),
    weight: float = 1.0,
    **acceptance: Any,
) -> Part:
    return Part(
        id=part_id,
        kind="numeric",
        prompt="What is it?",
        answer=answer,
        acceptance=Acceptance(digits=digits, interval=interval, **acceptance),
        misconceptions=misconceptions,
        weight=weight,
        hint="Look at the printed output again.",
        format_hint="a number",
    )


def choice(
    answer: str | list[str],
    ids: tuple[str, ...] = ("a", "b", "c"),
    *,
    part_id: str = "c",
    kind: str = "choice",
    explanation: str = "Because the tank is what was randomised.",
    misconceptions: tuple[Misconception, ...] = (),
    partial_credit: bool = False,
    weight: float = 1.0,
) -> Part:
    return Part(
        id=part_id,
        kind=kind,  # type: ignore[arg-type]
        prompt="Pick one.",
        answer=answer,
        acceptance=Acceptance(partial_credit=partial_credit),
        choices=tuple(Choice(i, f"Option {i}") for i in ids),
        explanation=explanation,
        misconceptions=misconceptions,
        weight=weight,
    )


def table(
    answer: list[float],
    *,
    part_id: str = "t",
    intervals: tuple[tuple[float, float], ...] = (),
    partial_credit: bool = False,
    digits: int = 3,
    rows: tuple[str, ...] = (),
    columns: tuple[str, ...] = (),
    misconceptions: tuple[Misconception, ...] = (),
) -> Part:
    return Part(
        id=part_id,
        kind="table",
        prompt="Fill in the table.",
        answer=answer,
        acceptance=Acceptance(digits=digits, intervals=intervals, partial_credit=partial_credit),
        rows=rows,
        columns=columns,
        misconceptions=misconceptions,
    )


def variant(*parts: Part) -> Variant:
    return Variant(
        problem="hand_built",
        version=1,
        seed=7,
        title="Hand-built",
        story="A story.",
        parts=tuple(parts),
    )
