"""Is a draw a fair question? Checks shared by generation (redraw) and the self-test (report).

Each function returns a list of reasons; an empty list means well posed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from problem_bank.acceptance import accepted_range, part_range, within
from problem_bank.dgp import Dataset
from problem_bank.expressions import parse
from problem_bank.model_view import FittedView
from problem_bank.spec import ProblemSpec
from problem_bank.variant import Misconception, Part

#: Fitted probabilities this close to 0 or 1 signal (quasi-)separation.
SEPARATION_EPS = 1e-6
#: A random-effect SD below this share of the residual SD counts as at the boundary.
BOUNDARY_SHARE = 0.02
#: A negative binomial θ̂ above this is at its boundary (the Poisson limit): glmmTMB then
#: stops anywhere along the flat ridge, and for some data its Hessian is not positive
#: definite and R prints AIC NA (seen on a ZINB fit with θ̂ = 1.7e7).
THETA_BOUNDARY = 1e4


def data_problems(spec: ProblemSpec, dataset: Dataset) -> list[str]:
    """Every factor level present in the rows the model uses; both outcomes for binomial."""
    reasons = []
    frame = dataset.frame
    for name, model in spec.models.items():
        f = spec.formula(name)
        cols = [f.response, *f.variables, *(r.group for r in f.random)]
        used = frame.loc[frame[cols].notna().all(axis=1).to_numpy(), cols]
        for var in f.variables:
            if var in dataset.levels:
                present = {str(v) for v in used[var].unique()}
                missing = [lv for lv in dataset.levels[var] if lv not in present]
                if missing:
                    reasons.append(f"level {missing[0]} of {var} is absent")
        if model.family == "binomial" and used[f.response].nunique() < 2:
            reasons.append("the binary response has one value only")
        for r in f.random:
            if used[r.group].value_counts().min() < 2:
                reasons.append(f"a group of {r.group} has fewer than 2 rows")
    return reasons


def model_problems(spec: ProblemSpec, views: Mapping[str, FittedView]) -> list[str]:
    """Separation in logistic fits; random-effect variances and NB θ at the boundary."""
    reasons = []
    for name, view in views.items():
        fitted = view.fitted
        if spec.models[name].family == "binomial":
            mu = np.asarray(getattr(fitted, "fitted_values", []), dtype=float)
            if mu.size and (mu.min() < SEPARATION_EPS or mu.max() > 1 - SEPARATION_EPS):
                reasons.append(f"{name}: fitted probabilities at 0 or 1 (separation)")
        if view.formula.random:
            if getattr(fitted, "singular", False):
                reasons.append(f"{name}: singular fit")
                continue
            vc = fitted.varcorr()
            for term in vc.terms:
                if term.sd < BOUNDARY_SHARE * vc.residual_sd:
                    reasons.append(f"{name}: SD of {term.group}/{term.name} at the boundary")
        theta = fitted.theta if spec.models[name].family in ("negbin", "zinb") else None
        if theta is not None and theta > THETA_BOUNDARY:
            reasons.append(f"{name}: negative binomial theta at the boundary ({theta:.3g})")
        for coef in fitted.coef_names():
            if not math.isfinite(fitted.se(coef)):
                reasons.append(f"{name}: SE of {coef} is not finite")
    return reasons


def part_problems(part: Part, probability: bool = False) -> list[str]:
    """The answer is finite, prints as neither 0 nor 1 when it is a probability, every
    misconception lies outside what the grader accepts for the answer, and no two
    misconceptions overlap (an answer matching both would get whichever message the grader
    picks). Ranges are :mod:`problem_bank.acceptance`'s, the grader's own."""
    reasons = PART_CHECKS[part.kind](part)
    reasons.extend(_overlapping_misconceptions(part))
    if probability and part.answer in (0, 1, 0.0, 1.0):
        reasons.append(f"{part.id}: the probability prints as {part.answer}")
    return reasons


def probability_parts(spec: ProblemSpec) -> frozenset[str]:
    """Numeric parts whose answer is a predicted probability (predict on a binomial model)."""
    out = set()
    for part in spec.parts:
        if part.kind != "numeric":
            continue
        for call in parse(str(part.answer)).calls:
            model = spec.models.get(call.keywords.get("model", "main"))
            if (
                call.name == "predict"
                and model is not None
                and model.family == "binomial"
                and call.keywords.get("scale", "response") == "response"
            ):
                out.add(part.id)
    return frozenset(out)


def _numeric_problems(part: Part) -> list[str]:
    reasons = []
    answer = float(part.answer)  # type: ignore[arg-type]
    acc = part.acceptance
    if not math.isfinite(answer):
        return [f"{part.id}: answer is not finite"]
    # The accepted range always holds the answer itself (problem_bank.acceptance), so only
    # the misconceptions need checking against it.
    bounds = part_range(acc, answer)
    for m in part.misconceptions:
        if within(float(m.answer), bounds):  # type: ignore[arg-type]
            reasons.append(
                f"{part.id}: misconception {m.id} not told apart ({m.answer} vs {answer})"
            )
    return reasons


def misconception_ranges(part: Part, m: Misconception) -> list[tuple[float, float]]:
    """What the grader counts as ``m`` on a numeric or table part, one range per cell: the
    misconception's own interval widened like the answer's, or the part's slack around it
    (:func:`problem_bank.acceptance.accepted_range`, as the grader's ``matches``)."""
    acc = m.acceptance or replace(part.acceptance, interval=None, intervals=())
    if isinstance(m.answer, list):  # a table: one interval per cell
        wrong = list(m.answer)
        cells = [acc.intervals[i] if i < len(acc.intervals) else None for i in range(len(wrong))]
    else:
        wrong, cells = [m.answer], [acc.interval]
    return [
        accepted_range(acc, float(w), interval)  # type: ignore[arg-type]
        for w, interval in zip(wrong, cells, strict=True)
    ]


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _ranges_overlap(part: Part, a: Misconception, b: Misconception) -> bool:
    """Numbers (or every cell of a table) in both accepted ranges exist."""
    ra, rb = misconception_ranges(part, a), misconception_ranges(part, b)
    return len(ra) == len(rb) and all(_overlap(x, y) for x, y in zip(ra, rb, strict=True))


def _picks_overlap(part: Part, a: Misconception, b: Misconception) -> bool:
    """One option named by both."""
    return bool(_id_set(a.answer) & _id_set(b.answer))


def _same_set(part: Part, a: Misconception, b: Misconception) -> bool:
    """A multi-select misconception matches its exact set only."""
    return _id_set(a.answer) == _id_set(b.answer)


#: Part kind → can one answer match both misconceptions (as the grader matches them)?
MISCONCEPTIONS_OVERLAP = {
    "numeric": _ranges_overlap,
    "table": _ranges_overlap,
    "choice": _picks_overlap,
    "multi": _same_set,
}


def _id_set(answer: Any) -> frozenset[str]:
    items = answer if isinstance(answer, list) else [answer]
    return frozenset(str(a) for a in items)


def _overlapping_misconceptions(part: Part) -> list[str]:
    ms = part.misconceptions
    return [
        f"{part.id}: misconceptions {a.id} and {b.id} overlap ({a.answer} vs {b.answer})"
        for i, a in enumerate(ms)
        for b in ms[i + 1 :]
        if MISCONCEPTIONS_OVERLAP[part.kind](part, a, b)
    ]


def _table_problems(part: Part) -> list[str]:
    reasons = []
    cells: list[Any] = list(part.answer)  # type: ignore[arg-type]
    intervals = part.acceptance.intervals
    for i, cell in enumerate(cells):
        if not math.isfinite(float(cell)):
            reasons.append(f"{part.id}: cell {i} is not finite")
    for m in part.misconceptions:
        wrong = list(m.answer)  # type: ignore[arg-type]
        if all(
            within(float(w), accepted_range(part.acceptance, float(c), intervals[i]))
            for i, (w, c) in enumerate(zip(wrong, cells, strict=True))
        ):
            reasons.append(f"{part.id}: misconception {m.id} not told apart")
    return reasons


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def wrong_choice_texts(part: Part) -> list[tuple[str, str]]:
    """(what, text) for everything shown after a wrong pick, before the answer key."""
    right = _id_set(part.answer)
    texts = [(f"misconception {m.id}", m.message) for m in part.misconceptions]
    texts += [(f"choice {c.id}", c.explanation) for c in part.choices if c.id not in right]
    return texts


def _choice_problems(part: Part) -> list[str]:
    ids = {c.id for c in part.choices}
    answers = part.answer if isinstance(part.answer, list) else [part.answer]
    reasons = [f"{part.id}: answer {a!r} is not a choice" for a in answers if a not in ids]
    for m in part.misconceptions:
        if m.answer == part.answer:
            reasons.append(f"{part.id}: misconception {m.id} equals the answer")
    # What a wrong pick is told must not hand over the right option for the next attempt.
    right_labels = [_words(c.label) for c in part.choices if c.id in answers]
    for what, text in wrong_choice_texts(part):
        words = f" {_words(text)} "
        for label in right_labels:
            if label and f" {label} " in words:
                reasons.append(f"{part.id}: {what} names the right option ({label!r})")
    return reasons


PART_CHECKS = {
    "numeric": _numeric_problems,
    "table": _table_problems,
    "choice": _choice_problems,
    "multi": _choice_problems,
}
