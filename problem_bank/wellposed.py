"""Is a draw a fair question? Checks shared by generation (redraw) and the self-test (report).

Each function returns a list of reasons; an empty list means well posed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from problem_bank.dgp import Dataset
from problem_bank.expressions import parse
from problem_bank.families import THETA_BOUNDARY, family
from problem_bank.kinds import kind_of
from problem_bank.model_view import FittedView
from problem_bank.spec import ProblemSpec
from problem_bank.variant import Part

#: Fitted probabilities this close to 0 or 1 signal (quasi-)separation.
SEPARATION_EPS = 1e-6
#: A random-effect SD below this share of the residual SD counts as at the boundary.
BOUNDARY_SHARE = 0.02


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
        if family(model.family).response == "binary" and used[f.response].nunique() < 2:
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
        if view.family.response == "binary":
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
        theta = fitted.theta if view.family.has_theta else None
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
    reasons = kind_of(part.kind).problems(part)
    reasons.extend(_overlapping_misconceptions(part))
    if probability and part.answer in (0, 1, 0.0, 1.0):
        reasons.append(f"{part.id}: the probability prints as {part.answer}")
    return reasons


def probability_parts(spec: ProblemSpec) -> frozenset[str]:
    """Numeric parts whose answer is a predicted probability (predict on a 0/1 response)."""
    out = set()
    for part in spec.parts:
        if not kind_of(part.kind).answers_one_number:
            continue
        for call in parse(str(part.answer)).calls:
            model = spec.models.get(call.keywords.get("model", "main"))
            if (
                call.name == "predict"
                and model is not None
                and family(model.family).response == "binary"
                and call.keywords.get("scale", "response") == "response"
            ):
                out.add(part.id)
    return frozenset(out)


def _overlapping_misconceptions(part: Part) -> list[str]:
    ms = part.misconceptions
    kind = kind_of(part.kind)
    return [
        f"{part.id}: misconceptions {a.id} and {b.id} overlap ({a.answer} vs {b.answer})"
        for i, a in enumerate(ms)
        for b in ms[i + 1 :]
        if kind.overlap(part, a, b)
    ]
