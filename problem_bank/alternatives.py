"""Generic wrong computations for a numeric part: candidate misconceptions nobody wrote yet.

Given a part's answer expression, :func:`candidates` rewrites it the ways students
commonly slip, each as an expression in the spec vocabulary (so an instructor can paste
it under the part's ``misconceptions:`` unchanged): another coefficient; the link scale
for the response scale and back (``predict``, ``fitted``); another type of residual; a
variance for an SD and back; the other order of a
contrast (its other reference level) and a plain sign flip; a percent (×100) or /100;
another model the spec declares (ML for REML and back, the lm ignoring groups). Only
models the spec declares can be read: the vocabulary cannot refit a model another way,
so "ML for REML" is offered only when the spec has both fits.

Every candidate is validated by inserting it into the spec and parsing the result
(:func:`with_misconception`), so what is offered is what the editor will accept.
:func:`evaluate` then computes each candidate on one variant with the acceptance rule a
real misconception would get, and drops those that cannot be told apart from the key or
from a misconception the part already has.
"""

from __future__ import annotations

import ast
import functools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from problem_bank import expressions as ex
from problem_bank.acceptance import part_range
from problem_bank.families import family
from problem_bank.generate import VariantContext
from problem_bank.kinds.building import acceptance_for, typed_value
from problem_bank.kinds.numeric import NUMERIC
from problem_bank.kinds.ranges import misconception_ranges, ranges_overlap
from problem_bank.spec import PartSpec, ProblemSpec, SpecError, parse_spec
from problem_bank.variant import Misconception, Part

_STATS = ("coef", "se", "tvalue", "pvalue")


@dataclass(frozen=True)
class Candidate:
    """One alternative computation: a suggested misconception id, expression and message."""

    id: str
    expression: str
    #: What the slip is, in words, for the instructor page.
    label: str
    #: A first draft of what the student would be told (the instructor edits it).
    message: str


@dataclass(frozen=True)
class Evaluated:
    """A candidate on one variant: its value and the range the grader would match."""

    candidate: Candidate
    misconception: Misconception

    def explains(self, part: Part, value: float) -> bool:
        """The answer is what a student holding this misconception would be matched for."""
        return NUMERIC.matches(part, self.misconception, value)


# ------------------------------------------------------------------------- generation


def candidates(spec_text: str, part_id: str) -> list[Candidate]:
    """The validated candidates for a numeric part of the spec (empty for other kinds)."""
    return list(_validated(spec_text, part_id))


@functools.lru_cache(maxsize=64)
def _validated(spec_text: str, part_id: str) -> tuple[Candidate, ...]:
    spec = parse_spec(spec_text)
    ps = _part_spec(spec, part_id)
    if ps is None or ps.kind != "numeric" or not isinstance(ps.answer, str):
        return ()
    taken = {m.id for m in ps.misconceptions}
    known = {_canonical(str(m.expression)) for m in ps.misconceptions if m.expression}
    out: list[Candidate] = []
    seen = {_canonical(ps.answer), *known}
    for c in _rewrites(spec, ps.answer):
        key = _canonical(c.expression)
        if key in seen:
            continue
        seen.add(key)
        c = Candidate(_free_id(c.id, taken), c.expression, c.label, c.message)
        try:
            with_misconception(spec_text, part_id, c.id, c.expression, c.message)
        except SpecError:
            continue
        taken.add(c.id)
        out.append(c)
    return tuple(out)


def _part_spec(spec: ProblemSpec, part_id: str) -> PartSpec | None:
    return next((p for p in spec.parts if p.id == part_id), None)


def _free_id(wanted: str, taken: set[str]) -> str:
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted}_{n}" in taken:
        n += 1
    return f"{wanted}_{n}"


def _canonical(source: str) -> str:
    try:
        return ast.unparse(ast.parse(source.strip(), mode="eval"))
    except SyntaxError:
        return source


def _text(node: ast.expr) -> str:
    """Source for a rewritten tree, with strings in double quotes as the specs write them."""
    return re.sub(r"'([^'\"\\]*)'", r'"\1"', ast.unparse(node))


def _rewrites(spec: ProblemSpec, answer: str) -> Iterator[Candidate]:
    tree = ast.parse(answer.strip(), mode="eval").body
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    for index, call in enumerate(calls):
        for new_call, cid, label, message in _call_rewrites(spec, call):
            yield Candidate(cid, _text(_replace_call(tree, index, new_call)), label, message)
    whole = ast.unparse(tree)
    yield Candidate(
        "sign_flip",
        _text(ast.UnaryOp(ast.USub(), tree)),
        "the sign flipped",
        "Check the sign: your answer has the opposite sign.",
    )
    yield Candidate(
        "percent_not_proportion",
        _text(ast.parse(f"100 * ({whole})", mode="eval").body),
        "a percent (100 times the answer)",
        "Your answer is 100 times the expected value: give it as a proportion, not a percent.",
    )
    yield Candidate(
        "proportion_not_percent",
        _text(ast.parse(f"({whole}) / 100", mode="eval").body),
        "a proportion where a percent is asked (the answer / 100)",
        "Your answer is the expected value divided by 100: give it as a percent.",
    )
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) and len(tree.args) == 1:
        unwrap = tree.func.id
        if unwrap in ("exp", "invlogit"):
            yield Candidate(
                "link_not_response",
                _text(tree.args[0]),
                f"the link scale (without {unwrap}())",
                f"That is on the link scale; apply {unwrap}() to it.",
            )
    used = {
        str(c.args[0].value)
        for c in calls
        if _name(c) in _STATS and c.args and isinstance(c.args[0], ast.Constant)
    }
    for name in _coef_names(spec, "main"):
        if name not in used:
            yield Candidate(
                "wrong_coefficient",
                f'coef("{name}")',
                f"the {name} estimate",
                f"That is the {name} estimate, not the quantity asked for.",
            )


def _name(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else ""


def _replace_call(tree: ast.expr, index: int, new: ast.Call) -> ast.expr:
    """A copy of ``tree`` with its ``index``-th call (in :func:`ast.walk` order) replaced."""
    copy = _copy(tree)
    calls = [n for n in ast.walk(copy) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    target = calls[index]
    if target is copy:
        return new
    for parent in ast.walk(copy):
        for field, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, field, new)
            elif isinstance(value, list):
                value[:] = [new if v is target else v for v in value]
    return copy


def _copy(node: ast.expr) -> ast.expr:
    return ast.parse(ast.unparse(node), mode="eval").body


def _coef_names(spec: ProblemSpec, model: str) -> list[str]:
    if model not in spec.models:
        return []
    try:
        return list(spec.formula(model).coef_names(spec.factor_levels()))
    except (KeyError, ValueError):
        return []


def _model_of(call: ast.Call) -> str:
    for kw in call.keywords:
        if kw.arg == "model" and isinstance(kw.value, ast.Constant):
            return str(kw.value.value)
    return "main"


def _with(call: ast.Call, args: list[Any] | None = None, **changes: str | None) -> ast.Call:
    """A copy of ``call`` with keywords set (None removes one) or ``args`` replaced."""
    new = _copy(call)
    assert isinstance(new, ast.Call)
    if args is not None:
        new.args = [ast.Constant(a) for a in args]
    for key, value in changes.items():
        new.keywords = [k for k in new.keywords if k.arg != key]
        if value is not None:
            new.keywords.append(ast.keyword(key, ast.Constant(value)))
    return new


_Rewrite = tuple[ast.Call, str, str, str]


def _call_rewrites(spec: ProblemSpec, call: ast.Call) -> Iterator[_Rewrite]:
    assert isinstance(call.func, ast.Name)
    name = call.func.id
    model = _model_of(call)
    if model not in spec.models:
        return
    linked = family(spec.models[model].family).link != "identity"
    literal = [a.value if isinstance(a, ast.Constant) else None for a in call.args]
    if name in _STATS and literal and isinstance(literal[0], str):
        for other in _coef_names(spec, model):
            if other != literal[0]:
                yield (
                    _with(call, args=[other]),
                    "wrong_coefficient",
                    f"{other} read instead of {literal[0]}",
                    f"That is the {other} row; the question is about {literal[0]}.",
                )
    if name in ("predict", "fitted") and linked:
        scale = next(
            (
                k.value.value
                for k in call.keywords
                if k.arg == "scale" and isinstance(k.value, ast.Constant)
            ),
            "response",
        )
        if scale == "response":
            yield (
                _with(call, scale="link"),
                "link_not_response",
                "the link scale (the linear predictor) instead of the response scale",
                "That is the linear predictor (link scale); apply the inverse link.",
            )
        else:
            yield (
                _with(call, scale=None),
                "response_not_link",
                "the response scale instead of the link scale",
                "That is on the response scale; the question asks for the linear predictor.",
            )
    if name == "residual" and len(literal) == 2 and literal[1] in ex.RESIDUAL_TYPES:
        for other in ex.RESIDUAL_TYPES:
            if other != literal[1]:
                new = _copy(call)
                assert isinstance(new, ast.Call)
                new.args[1] = ast.Constant(other)
                yield (
                    new,
                    f"{other}_residual",
                    f"the {other} residual instead of the {literal[1]} residual",
                    f"That is the {other} residual; the question asks for the {literal[1]} one.",
                )
    if name == "predict" and any(k.arg == "group" for k in call.keywords):
        yield (
            _with(call, group=None),
            "ignores_group_effect",
            "the prediction without the group's random effects",
            "That is the prediction for an average group; add this group's random effects.",
        )
    if name == "varcorr" and len(literal) >= 2:
        which = literal[2] if len(literal) > 2 else "sd"
        other = "var" if which == "sd" else "sd"
        yield (
            _with(call, args=[*literal[:2], other]),
            "variance_not_sd" if other == "var" else "sd_not_variance",
            f"the {'variance' if other == 'var' else 'SD'} of the random effect",
            "That is the variance; the SD is its square root."
            if other == "var"
            else "That is the standard deviation; the variance is its square.",
        )
    if name in ("residual_sd", "residual_var"):
        other_name = "residual_var" if name == "residual_sd" else "residual_sd"
        new = _copy(call)
        assert isinstance(new, ast.Call) and isinstance(new.func, ast.Name)
        new.func.id = other_name
        yield (
            new,
            "variance_not_sd" if other_name == "residual_var" else "sd_not_variance",
            f"the residual {'variance' if other_name == 'residual_var' else 'SD'}",
            "That is the residual variance; the SD is its square root."
            if other_name == "residual_var"
            else "That is the residual SD; the variance is its square.",
        )
    if name in ("varcorr", "ranef") and literal and isinstance(literal[0], str):
        yield from _other_terms(spec, call, model, str(literal[0]))
    yield from _other_levels(spec, call)
    if name == "contrast" and len(call.args) >= 3:
        new = _copy(call)
        assert isinstance(new, ast.Call)
        new.args[1], new.args[2] = new.args[2], new.args[1]
        yield (
            new,
            "wrong_reference",
            "the difference in the other order (the other reference level)",
            "That is the difference in the other order; check which level is subtracted.",
        )
    if ex.SIGNATURES[name].model:
        for other_model in spec.models:
            if other_model != model:
                cid, label = _model_slip(spec, model, other_model)
                yield (
                    _with(call, model=None if other_model == "main" else other_model),
                    cid,
                    label,
                    f"That is from another fit ({label}).",
                )


def _other_terms(spec: ProblemSpec, call: ast.Call, model: str, group: str) -> Iterator[_Rewrite]:
    """Another random-effect term of the same grouping (the intercept for the slope)."""
    terms = {r.group: r.names for r in spec.formula(model).random}.get(group, ())
    position = 2 if _name(call) == "ranef" else 1
    if len(call.args) <= position or not isinstance(call.args[position], ast.Constant):
        return
    term = call.args[position].value  # type: ignore[attr-defined]
    for other in terms:
        if other != term:
            new = _copy(call)
            assert isinstance(new, ast.Call)
            new.args[position] = ast.Constant(other)
            yield (
                new,
                "wrong_term",
                f"the {other} term of {group} instead of {term}",
                f"That is the {other} term of {group}; the question is about {term}.",
            )


def _other_levels(spec: ProblemSpec, call: ast.Call) -> Iterator[_Rewrite]:
    """Another drawn level of the same factor (group B's BLUP for group A's)."""
    factor_of = {n: p.level_of for n, p in spec.params.items() if p.level_of is not None}
    named = {a.id for a in call.args if isinstance(a, ast.Name)}
    for index, arg in enumerate(call.args):
        if isinstance(arg, ast.Name) and arg.id in factor_of:
            for other, factor in factor_of.items():
                if other not in named and factor == factor_of[arg.id]:
                    new = _copy(call)
                    assert isinstance(new, ast.Call)
                    new.args[index] = ast.Name(other)
                    yield (
                        new,
                        "wrong_level",
                        f"level {other} of {factor} instead of {arg.id}",
                        f"That is for the other {factor} level; check which one is asked.",
                    )


def _model_slip(spec: ProblemSpec, asked: str, used: str) -> tuple[str, str]:
    a, u = spec.models[asked], spec.models[used]
    a_random = bool(spec.formula(asked).random)
    u_random = bool(spec.formula(used).random)
    if a_random and not u_random:
        return "ignores_grouping", f"the {used!r} model ignoring the groups"
    if a_random and u_random and a.reml != u.reml:
        return ("reml_not_ml", "REML instead of ML") if u.reml else ("ml_not_reml", "ML for REML")
    return f"model_{used}", f"the {used!r} model instead of {asked!r}"


# ------------------------------------------------------------------------ evaluation

#: What evaluating a generated expression may raise on a fit it does not apply to
#: (a residual variance of an lm, a level this variant lacks): the candidate is skipped.
_CANNOT = (ArithmeticError, LookupError, NotImplementedError, TypeError, ValueError)


def evaluate(
    ps: PartSpec, part: Part, ctx: VariantContext, found: list[Candidate]
) -> list[Evaluated]:
    """The candidates on this variant that a grader could tell from the key and from the
    part's own misconceptions (their accepted ranges do not overlap)."""
    key_range = [part_range(part.acceptance, float(part.answer))]  # type: ignore[arg-type]
    out = []
    for c in found:
        try:
            value, interval = ctx.interval(c.expression, ps.digits)
            value = float(value)
        except _CANNOT:
            continue
        if not math.isfinite(value):
            continue
        m = Misconception(
            c.id, typed_value(value, ps.digits), c.message, acceptance_for(ps, interval)
        )
        ranges = misconception_ranges(part, m)
        if ranges_overlap(ranges, key_range):
            continue
        if any(ranges_overlap(ranges, misconception_ranges(part, k)) for k in part.misconceptions):
            continue
        out.append(Evaluated(c, m))
    return out


# ---------------------------------------------------------------------- spec editing


def with_misconception(
    spec_text: str, part_id: str, misconception_id: str, expression: str, message: str
) -> str:
    """The spec text with a misconception added at the end of the part's list.

    The author's text is kept as written (comments, order, quoting): the entry is inserted
    as lines under the part. A part written in a form the line edit cannot follow (flow
    style) is rewritten through the YAML loader instead. :class:`SpecError` when the
    result is not a valid spec; the result always holds the new misconception.
    """
    entry = {"id": misconception_id, "expression": expression, "message": message}
    text = _insert_lines(spec_text, part_id, entry)
    try:
        if text is not None and _has(text, part_id, misconception_id):
            return text
    except SpecError:
        pass  # e.g. ``misconceptions: []`` written inline: the loader's rewrite follows
    data = yaml.safe_load(spec_text)
    for part in data.get("parts", []):
        if isinstance(part, dict) and part.get("id") == part_id:
            part.setdefault("misconceptions", []).append(entry)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    if not _has(text, part_id, misconception_id):
        raise SpecError(f"no part {part_id!r} to add {misconception_id!r} to")
    return text


def _has(text: str, part_id: str, misconception_id: str) -> bool:
    spec = parse_spec(text)  # SpecError propagates: the insertion made an invalid spec
    ps = _part_spec(spec, part_id)
    return ps is not None and any(m.id == misconception_id for m in ps.misconceptions)


def _quoted(value: str) -> str:
    """A YAML single-quoted scalar (the expressions' own quotes are double quotes)."""
    return "'" + value.replace("'", "''") + "'"


def _insert_lines(text: str, part_id: str, entry: dict[str, str]) -> str | None:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if re.fullmatch(rf"\s*- id:\s*['\"]?{re.escape(part_id)}['\"]?\s*(#.*)?\n", line)
        ),
        None,
    )
    if start is None:
        return None
    item = len(lines[start]) - len(lines[start].lstrip())
    key = item + 2
    end = start + 1
    while end < len(lines):
        line = lines[end]
        code = line.strip() and not line.lstrip().startswith("#")
        if code and len(line) - len(line.lstrip()) <= item:
            break
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    header = re.compile(rf" {{{key}}}misconceptions:\s*\n")
    head = next((i for i in range(start + 1, end) if header.fullmatch(lines[i])), None)
    if head is None:
        at, dash = end, key + 2
        block = [" " * key + "misconceptions:\n"]
    else:
        at = head + 1
        first: int | None = None
        while at < end:
            line = lines[at]
            indent = len(line) - len(line.lstrip())
            if line.strip() and not (indent > key or line.lstrip().startswith("- ")):
                break
            if first is None and line.lstrip().startswith("- "):
                first = indent
            at += 1
        while at > head + 1 and not lines[at - 1].strip():
            at -= 1
        dash = first if first is not None else key + 2
        block = []
    pad = " " * (dash + 2)
    block += [
        " " * dash + f"- id: {entry['id']}\n",
        pad + f"expression: {_quoted(entry['expression'])}\n",
        pad + f"message: {_quoted(entry['message'])}\n",
    ]
    return "".join(lines[:at] + block + lines[at:])
