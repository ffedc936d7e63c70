"""(spec, seed) → Variant: draw data, fit the reference models, print, build the parts.

A draw that would make an ill-posed question (a fit that fails, separation, a probability
printed as 0 or 1, a variance at the boundary, a misconception that cannot be told apart
from the answer, a failed ``require`` condition) is redrawn with the next attempt number,
which is itself derived from the seed: generation stays deterministic.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from problem_bank import expressions as ex
from problem_bank.crosscheck import Disagreement, log_disagreement
from problem_bank.dgp import STREAM_PARAMS, Dataset, draw_dataset, rng_for
from problem_bank.families import UnusableResponse
from problem_bank.kinds import kind_of
from problem_bank.model_view import FitFailed, FittedView, fit_all
from problem_bank.output import render_output
from problem_bank.printers.rformat import Printed
from problem_bank.render import render
from problem_bank.scenarios import Scenario, draw_scenario, key_problems
from problem_bank.scripts import python_script, r_script
from problem_bank.spec import ParamSpec, PartSpec, ProblemSpec
from problem_bank.variant import Part, Variant
from problem_bank.wellposed import (
    data_problems,
    model_problems,
    part_problems,
    probability_parts,
)

#: Redraws before giving up on a seed (each is a new, seed-derived attempt).
MAX_ATTEMPTS = 25


class GenerationError(RuntimeError):
    """No well-posed variant could be drawn for this seed."""


class InvalidSeed(ValueError):
    """A seed must be a non-negative integer."""


class OverBudget(GenerationError):
    """Generation ran past its time budget; the message says where and what to reduce."""


@dataclass
class Deadline:
    """A wall-clock budget, checked between the steps of generation (draw, fit, parts).

    A step is not interrupted (a numpy fit cannot be), but the spec limits bound each
    step, so checking between them keeps preview and self-test within a few seconds of
    their budget instead of holding a web thread for minutes.
    """

    seconds: float
    start: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def check(self, doing: str) -> None:
        """:class:`OverBudget` when the budget is spent; ``doing`` names the next step."""
        if self.elapsed > self.seconds:
            raise OverBudget(
                f"generating the variant stopped after {self.elapsed:.1f} s "
                f"(the budget is {self.seconds:g} s), "
                f"before {doing}; reduce n, the number of groups, parts or redraws"
            )


@dataclass
class VariantContext:
    """What expressions read on one variant: fitted models and drawn values."""

    models: Mapping[str, FittedView]
    values: dict[str, Any] = field(default_factory=dict)
    #: What the variant's R output shows of each leaf (see :mod:`problem_bank.output`).
    printed: Printed = field(default_factory=dict)
    #: The variant's dataset, as its CSV holds it (None for a scenario problem).
    data: pd.DataFrame | None = None

    def model(self, name: str) -> FittedView:
        try:
            return self.models[name]
        except KeyError:
            raise ex.ExpressionError(f"no model named {name!r}") from None

    def value(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise ex.ExpressionError(f"no value named {name!r} here") from None

    def observed(self, column: str, row: int) -> Any:
        """The CSV's value: a number, or a factor's level as text; NA is an error."""
        if self.data is None:
            raise ex.ExpressionError("observed(): this problem has no data")
        if column not in self.data.columns:
            have = ", ".join(self.data.columns)
            raise ex.ExpressionError(f"observed(): {column!r} is not a column of the data ({have})")
        index = ex.row_index(row, len(self.data))
        value = self.data[column].iloc[index]
        if pd.isna(value):
            raise ex.ExpressionError(f"observed(): row {index + 1} of {column} is missing (NA)")
        return value if isinstance(value, str) else float(value)

    def with_values(self, **values: Any) -> VariantContext:
        return VariantContext(self.models, {**self.values, **values}, self.printed, self.data)

    def interval(self, source: str, digits: int) -> tuple[float, tuple[float, float]]:
        """The value of ``source`` and its rounding interval, from the leaves as printed."""
        return ex.rounding_interval(ex.parse(source), self, digits, self.printed)

    def shown(self, source: str) -> tuple[str, ...]:
        """How the output prints ``source`` when it is one printed quantity, else ()."""
        value, leaves = ex.parse(source).evaluate_with_leaves(self)
        if len(leaves) != 1:
            return ()
        ((key, leaf),) = leaves.items()
        return self.printed.get(key, ()) if leaf.value == value else ()


def check_seed(seed: Any) -> int:
    """The seed as an int; :class:`InvalidSeed` for negatives, bools and non-integers."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidSeed(f"seed must be a non-negative integer, not {seed!r}")
    if seed >= 2**63:
        raise InvalidSeed("seed must be below 2**63")
    return int(seed)


#: A second look at a draw's fits before it is kept: (fitted models, what the output
#: printed) → disagreements; any disagreement redraws (see :mod:`problem_bank.crosscheck`).
CrossCheck = Callable[[Mapping[str, Any], Printed], list[Disagreement]]


def generate(
    spec: ProblemSpec,
    seed: int,
    *,
    budget: float | None = None,
    crosscheck: CrossCheck | None = None,
) -> Variant:
    """The variant of ``spec`` for ``seed``; the same inputs give the same variant anywhere.

    With ``budget`` (seconds), :class:`OverBudget` is raised once it is spent. With
    ``crosscheck`` a draw whose fits it disagrees with is redrawn and logged (variants that
    are stored pass :func:`problem_bank.crosscheck.disagreements`; a preview need not).
    The check never changes a well-posed variant, only refuses wrong ones, so a variant is
    the same with or without it unless our fit is wrong.
    """
    deadline = Deadline(budget) if budget is not None else None
    return generate_with_redraws(spec, seed, deadline=deadline, crosscheck=crosscheck)[0]


#: What drawing and fitting may raise on a spec the checks let through (an edge of numpy
#: or of a fit): reported as a GenerationError naming it, so callers handle one error.
_NUMERIC_FAILURES = (ValueError, ArithmeticError, TypeError, KeyError, IndexError)


def generate_with_redraws(
    spec: ProblemSpec,
    seed: int,
    *,
    deadline: Deadline | None = None,
    crosscheck: CrossCheck | None = None,
) -> tuple[Variant, list[str]]:
    """The variant and why earlier draws were rejected (for the self-test report)."""
    variant, _ctx, reasons = _with_redraws(spec, seed, deadline, crosscheck)
    return variant, reasons


def generate_with_context(spec: ProblemSpec, seed: int) -> tuple[Variant, VariantContext]:
    """The variant and the context its expressions were evaluated in (fits and values).

    For evaluating expressions the spec does not hold yet on a stored variant (the
    suggestions for unrecognised answers): the same draws as :func:`generate`, so a
    caller compares the variant with the stored one before trusting the context.
    """
    variant, ctx, _reasons = _with_redraws(spec, seed, None, None)
    return variant, ctx


@dataclass(frozen=True)
class Draw:
    """One attempt at a seed: why it was redrawn (None: it was kept), where in the spec the
    reason lies (``("parts", 2)``, ``("require", 0)``; ``()`` for the data or fits), and
    the parts it built (none when it failed before building them)."""

    reason: str | None
    where: tuple[str | int, ...] = ()
    parts: tuple[Part, ...] = ()


def draws_of_seed(
    spec: ProblemSpec, seed: int, deadline: Deadline | None = None
) -> tuple[list[Draw], str | None]:
    """Every attempt generation makes at ``seed``, and why the seed failed (None if it did
    not): what :mod:`problem_bank.draw_checks` reads to name the cause at its line.
    :class:`OverBudget` past the deadline."""
    draws: list[Draw] = []
    try:
        _with_redraws(spec, seed, deadline, None, draws)
    except OverBudget:
        raise
    except GenerationError as exc:
        return draws, str(exc)
    return draws, None


def _with_redraws(
    spec: ProblemSpec,
    seed: int,
    deadline: Deadline | None,
    crosscheck: CrossCheck | None,
    draws: list[Draw] | None = None,
) -> tuple[Variant, VariantContext, list[str]]:
    seed = check_seed(seed)
    reasons: list[str] = []
    for attempt in range(MAX_ATTEMPTS):
        try:
            variant, ctx = _attempt(spec, seed, attempt, deadline, crosscheck)
        except _Redraw as exc:
            reasons.append(str(exc))
            if draws is not None:
                draws.append(Draw(str(exc), exc.where, exc.parts))
            continue
        except GenerationError:
            raise
        except _NUMERIC_FAILURES as exc:
            raise GenerationError(
                f"{spec.id}: seed {seed} cannot be generated: {type(exc).__name__}: {exc}"
            ) from exc
        if draws is not None:
            draws.append(Draw(None, (), variant.parts))
        return variant, ctx, reasons
    raise GenerationError(
        f"{spec.id}: no well-posed variant for seed {seed} in {MAX_ATTEMPTS} draws "
        f"(last: {reasons[-1] if reasons else '?'})"
    )


class _Redraw(Exception):
    """This attempt is ill-posed; try the next one. ``where`` and ``parts``: see :class:`Draw`."""

    def __init__(
        self, reason: str, where: tuple[str | int, ...] = (), parts: tuple[Part, ...] = ()
    ) -> None:
        super().__init__(reason)
        self.where = where
        self.parts = parts


def _attempt(
    spec: ProblemSpec,
    seed: int,
    attempt: int,
    deadline: Deadline | None,
    crosscheck: CrossCheck | None = None,
) -> tuple[Variant, VariantContext]:
    def step(doing: str) -> None:
        if deadline is not None:
            deadline.check(f"{doing} (draw {attempt + 1})")

    dataset: Dataset | None = None
    views: dict[str, FittedView] = {}
    values: dict[str, Any] = {}
    scenario: Scenario | None = None
    if spec.dgp is not None:
        step("drawing the data")
        try:
            dataset = draw_dataset(spec, seed, attempt)
        except UnusableResponse as exc:
            raise _Redraw(str(exc), ("dgp", "coefficients")) from None
        if problems := data_problems(spec, dataset):
            raise _Redraw(problems[0])
        step("fitting the models")
        try:
            views = fit_all(spec, dataset.frame, dataset.levels)
        except FitFailed as exc:
            raise _Redraw(str(exc)) from None
        if problems := model_problems(spec, views):
            raise _Redraw(problems[0])
        values["n"] = len(dataset.frame)
        if "n_groups" in dataset.truth:
            values["n_groups"] = int(dataset.truth["n_groups"])
    if spec.scenarios is not None:
        scenario = draw_scenario(spec.scenarios.library, seed, attempt)
        if problems := key_problems(scenario.spec):
            raise _Redraw(problems[0])
        values.update(scenario.values)
    values.update(draw_params(spec, seed, attempt, dataset, views))
    fitted = {name: v.fitted for name, v in views.items()}
    printed: Printed = {}
    output = render_output(spec, fitted, spec.data_name, printed) if fitted else ""
    if crosscheck is not None and fitted:
        step("cross-checking the fits")
        if found := crosscheck(fitted, printed):
            for d in found:
                log_disagreement(spec.id, seed, attempt, d)
            raise _Redraw(str(found[0]))
    ctx = VariantContext(views, values, printed, dataset.frame if dataset else None)
    step("building the parts")
    where: tuple[str | int, ...] = ()  # what is being evaluated, for the diagnostics
    try:
        for i, cond in enumerate(spec.require):
            where = ("require", i)
            if not ex.parse(cond).evaluate(ctx):
                raise _Redraw(f"require: {cond}", where)
        built = []
        for i, ps in enumerate(spec.parts):
            where = ("parts", i)
            built.append(build_part(ps, ctx, scenario))
        parts = tuple(built)
        where = ("story",)
        story = render(spec.story, ctx)
    except (ex.ExpressionError, ValueError, ZeroDivisionError, OverflowError, KeyError) as exc:
        if isinstance(exc, _Redraw):
            raise
        raise _Redraw(f"cannot evaluate: {exc}", where) from None
    probabilities = probability_parts(spec)
    for i, part in enumerate(parts):
        if problems := part_problems(part, part.id in probabilities):
            raise _Redraw(problems[0], ("parts", i), parts)
    if scenario is not None:
        story = scenario.story + ("\n\n" + story if story.strip() else "")
    return _variant(spec, seed, story, parts, dataset, views, output, scenario), ctx


def _variant(
    spec: ProblemSpec,
    seed: int,
    story: str,
    parts: tuple[Part, ...],
    dataset: Dataset | None,
    views: Mapping[str, FittedView],
    output: str,
    scenario: Scenario | None = None,
) -> Variant:
    fitted = {name: v.fitted for name, v in views.items()}
    reference: dict[str, Any] = {"scenario": scenario.spec.id} if scenario else {}
    if "main" in fitted:
        reference = dict(fitted["main"].reference())
        others = {n: f.reference() for n, f in fitted.items() if n != "main"}
        if others:
            reference["other_models"] = others
    levels = {
        k: v for k, v in (dataset.levels if dataset else {}).items() if k in spec.factor_levels()
    }
    return Variant(
        problem=spec.id,
        version=spec.version,
        seed=seed,
        title=spec.title,
        story=story,
        parts=parts,
        data_csv=dataset.to_csv() if dataset else "",
        output=output,
        r_script=r_script(spec, levels) if dataset else "",
        python_script=python_script(spec, levels) if dataset else "",
        reference=reference,
    )


# --------------------------------------------------------------------------- parameters


def _draw_param(
    rng: np.random.Generator,
    p: ParamSpec,
    levels: Mapping[str, list[str]],
    rows: Mapping[str, list[int]],
) -> Any:
    if p.row_of is not None:
        free = rows.get(p.row_of, [])
        if not free:
            raise GenerationError(f"no row of the data is left to draw for {p.row_of}")
        return free[int(rng.integers(len(free)))]
    if p.uniform is not None:
        return round(float(rng.uniform(*p.uniform)), p.decimals)
    if p.integer is not None:
        return int(rng.integers(p.integer[0], p.integer[1] + 1))
    if p.choice is not None:
        return p.choice[int(rng.integers(len(p.choice)))]
    assert p.level_of is not None
    options = [lv for lv in levels[p.level_of] if lv not in p.exclude]
    if not options:  # the same in every draw: redrawing cannot help
        raise GenerationError(f"no level of {p.level_of} is left to draw (excluded or taken)")
    return options[int(rng.integers(len(options)))]


def draw_params(
    spec: ProblemSpec,
    seed: int,
    attempt: int,
    dataset: Dataset | None,
    views: Mapping[str, FittedView] | None = None,
) -> dict[str, Any]:
    """The per-variant values of ``params``, from their own random stream (``row_of``
    draws among the rows the fitted ``views`` use)."""
    rng = rng_for(seed, attempt, STREAM_PARAMS)
    levels = dataset.levels if dataset else {}
    values: dict[str, Any] = {}
    for name, p in spec.params.items():
        rows: dict[str, list[int]] = {}
        if p.level_of is not None:
            # Distinct from earlier picks of the same factor, so "compare A with B" has A != B.
            taken = [v for k, v in values.items() if spec.params[k].level_of == p.level_of]
            p = p.model_copy(update={"exclude": [*p.exclude, *taken]})
        if p.row_of is not None and views is not None and p.row_of in views:
            # Distinct too: "compare row 3 with row 17" never draws one row twice.
            used = {v for k, v in values.items() if spec.params[k].row_of == p.row_of}
            rows[p.row_of] = [r for r in views[p.row_of].rows_used() if r not in used]
        values[name] = _draw_param(rng, p, levels, rows)
    return values


# --------------------------------------------------------------------------------- parts


def build_part(ps: PartSpec, ctx: VariantContext, scenario: Scenario | None) -> Part:
    """The part of this variant for one part spec, built by its kind."""
    return kind_of(ps.kind).build(ps, ctx, scenario)
