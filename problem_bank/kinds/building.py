"""What every kind's part builder shares: acceptance from the spec, the misconceptions that
apply in this variant, the answer as a student types it, and the rendered texts.

Pure functions of a part spec and a :class:`problem_bank.generate.VariantContext`; the
kind modules call them, :mod:`problem_bank.generate` calls the kinds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypedDict

from problem_bank import expressions as ex
from problem_bank.variant import Acceptance, Answer, Choice, Misconception, Part

if TYPE_CHECKING:
    from problem_bank.generate import VariantContext
    from problem_bank.kinds import PartKind
    from problem_bank.scenarios import Scenario
    from problem_bank.spec import MisconceptionSpec, PartSpec


def acceptance_for(
    ps: PartSpec, interval: tuple[float, float] | None = None, **kw: Any
) -> Acceptance:
    """The part's acceptance rule with this variant's rounding interval(s)."""
    return Acceptance(
        digits=ps.digits,
        rtol=ps.rtol,
        atol=ps.atol,
        interval=interval,
        percent_allowed=ps.percent_allowed,
        partial_credit=ps.partial_credit,
        **kw,
    )


def applicable(ps: PartSpec, ctx: VariantContext) -> list[MisconceptionSpec]:
    """The part's misconceptions whose ``when`` condition holds in this variant."""
    return [m for m in ps.misconceptions if m.when is None or ex.parse(m.when).evaluate(ctx)]


def finite_number(value: Any) -> float:
    """The value as a float; ValueError (a redraw) when it is not finite."""
    v = float(value)
    if not math.isfinite(v):
        raise ValueError("not a finite number")
    return v


def typed_value(value: float, digits: int) -> float | int:
    """What a student types: ``digits`` significant digits; counts stay whole numbers."""
    from problem_bank.render import signif  # render imports spec, which imports the kinds

    rounded = signif(value, digits)
    return int(rounded) if value.is_integer() and abs(value) < 1e15 else rounded


def typed_numbers(
    sources: Iterable[Any], digits: int, ctx: VariantContext
) -> tuple[list[float], tuple[tuple[float, float], ...]]:
    """Each expression's value as a student types it, and its rounding interval.

    What every number-answer kind evaluates, for its answer and its misconceptions alike;
    a value that is not finite raises ValueError (a redraw).
    """
    values, intervals = [], []
    for source in sources:
        value, interval = ctx.interval(str(source), digits)
        values.append(typed_value(finite_number(value), digits))
        intervals.append(interval)
    return values, tuple(intervals)


def part_misconceptions(
    ps: PartSpec, ctx: VariantContext, wrong: Callable[[MisconceptionSpec], Answer | None]
) -> tuple[Misconception, ...]:
    """The misconceptions that apply in this variant, their messages rendered.

    ``wrong(m)`` is what a student holding ``m`` answers, or None to leave ``m`` out.
    """
    out = []
    for m in applicable(ps, ctx):
        answer = wrong(m)
        if answer is not None:
            out.append(Misconception(m.id, answer, render_text(m.message, ctx)))
    return tuple(out)


def number_misconceptions(
    ps: PartSpec, ctx: VariantContext, evaluate: Callable[[Any], tuple[Answer, Acceptance]]
) -> tuple[Misconception, ...]:
    """The applicable misconceptions of a number-answer part: ``evaluate(m.expression)``
    gives each one's typed answer and its own acceptance (its rounding intervals)."""
    out = []
    for m in applicable(ps, ctx):
        answer, acceptance = evaluate(m.expression)
        out.append(Misconception(m.id, answer, render_text(m.message, ctx), acceptance))
    return tuple(out)


def built_part(
    ps: PartSpec,
    ctx: VariantContext,
    *,
    kind: PartKind,
    answer: Answer,
    shown: str,
    misconceptions: tuple[Misconception, ...],
    acceptance: Acceptance | None = None,
    explanation_extra: str = "",
    **fields: Any,
) -> Part:
    """The part every kind's ``build`` returns: its answer, acceptance (the spec's, with no
    rounding interval, unless given), misconceptions and texts; ``shown`` is the answer as
    the solution names it, ``explanation_extra`` is appended to the explanation, and
    ``fields`` are the kind's own (choices, rows, columns)."""
    texts = part_texts(ps, ctx, shown)
    if explanation_extra:
        texts["explanation"] = (texts["explanation"] + " " + explanation_extra).strip()
    return Part(
        id=ps.id,
        kind=kind,
        answer=answer,
        acceptance=acceptance if acceptance is not None else acceptance_for(ps),
        misconceptions=misconceptions,
        weight=ps.weight,
        **fields,
        **texts,
    )


def numbers_part(
    ps: PartSpec,
    ctx: VariantContext,
    *,
    kind: PartKind,
    expressions: Callable[[Any], list[Any]],
    joiner: str,
    check: Callable[[list[float]], None] = lambda numbers: None,
    fields: Callable[[], dict[str, Any]] = dict,
) -> Part:
    """A part whose answer is several numbers (table cells, interval bounds), each with its
    own rounding interval, as are a misconception's. ``expressions(answer)`` lists the
    expressions of the spec's answer or a misconception's, ``check`` may refuse the answer
    (ValueError, a redraw), ``joiner`` joins the numbers as the solution names them, and
    ``fields()`` gives the kind's own fields (rendered after the numbers, as they always were).
    """
    numbers, intervals = typed_numbers(expressions(ps.answer), ps.digits, ctx)
    check(numbers)

    def wrong(expression: Any) -> tuple[list[float], Acceptance]:
        m_numbers, m_intervals = typed_numbers(expressions(expression), ps.digits, ctx)
        return m_numbers, acceptance_for(ps, intervals=m_intervals)

    misconceptions = number_misconceptions(ps, ctx, wrong)
    acceptance = acceptance_for(ps, intervals=intervals)
    return built_part(
        ps,
        ctx,
        kind=kind,
        answer=numbers,
        misconceptions=misconceptions,
        acceptance=acceptance,
        shown=joiner.join(format_answer(n, ps.digits) for n in numbers),
        **fields(),
    )


class PartTexts(TypedDict):
    """The texts every kind's part carries, rendered on the variant."""

    prompt: str
    hint: str
    solution: str
    explanation: str
    format_hint: str


def part_texts(ps: PartSpec, ctx: VariantContext, answer_text: str) -> PartTexts:
    """The part's texts rendered on this variant; the solution may name ``{answer}``."""
    from problem_bank.render import render

    solution_ctx = ctx.with_values(answer=answer_text)
    return {
        "prompt": render(ps.prompt, ctx),
        "hint": render(ps.hint, ctx),
        "solution": render(ps.solution, solution_ctx),
        "explanation": render(ps.explanation, solution_ctx),
        "format_hint": ps.format_hint,
    }


def format_answer(value: float, digits: int) -> str:
    """The answer as the solution prints it."""
    from problem_bank.render import format_number

    return format_number(value, str(digits))


def choice_value(item: Any, ctx: VariantContext, choice_ids: set[str]) -> str:
    """A choice id given literally or by an expression evaluating to one."""
    text = str(item)
    if text in choice_ids:
        return text
    value = ex.parse(text).evaluate(ctx)
    if str(value) not in choice_ids:
        raise ValueError(f"{text!r} gives {value!r}, which is not a choice")
    return str(value)


def part_choices(
    ps: PartSpec, ctx: VariantContext, scenario: Scenario | None
) -> tuple[Choice, ...]:
    """The options shown: the spec's own, or the scenario question's."""
    if ps.choices_from is not None:
        assert scenario is not None, "choices_from needs a scenario problem"
        return scenario.choices(ps.choices_from)
    from problem_bank.render import render

    return tuple(Choice(c.id, render(c.label, ctx), render(c.explanation, ctx)) for c in ps.choices)


def render_text(text: str, ctx: VariantContext) -> str:
    """A spec text with this variant's placeholders filled in."""
    from problem_bank.render import render

    return render(text, ctx)
