"""Meaning checks that need variants: draw a few seeds and name what makes them unusable.

Generation already refuses an ill-posed draw and redraws (:mod:`problem_bank.wellposed`,
the grader's own acceptance): a misconception that gives the answer itself makes every
draw ill-posed, so a saved draft could not generate one variant, and the self-test said
only "0/20 seeds passed". Here the same draws are made before saving, and the reasons are
traced back to the line that causes them. The rules stay the kinds' own: a misconception
is "the answer" when the kind's ``problems`` refuses the part with that misconception
alone, two overlap when the kind's ``overlap`` says so.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from problem_bank.generate import MAX_ATTEMPTS, Deadline, OverBudget, draws_of_seed
from problem_bank.kinds import kind_of
from problem_bank.render import plural
from problem_bank.spec import ProblemSpec
from problem_bank.variant import Part
from problem_bank.yaml_lines import Loc

#: Seeds drawn (0, 1, ...), as far as the time budget allows.
DRAW_SEEDS = 5
#: Share of draws redrawn from which the author is warned: at 80% a seed fails (25 draws
#: in a row refused) about once in 260; the built-in problems redraw at most 60%.
REDRAWN_SHARE = 0.8

Found = tuple[Loc, str, Literal["error", "warning"]]


def draw_problems(
    spec: ProblemSpec, seconds: float, errors: Sequence[str] = (), seeds: int = DRAW_SEEDS
) -> list[Found]:
    """What drawing ``seeds`` seeds of ``spec`` shows, within about ``seconds``.

    ``errors`` are the fields the meaning checks refused; the pieces they name are left
    out of the draws (:func:`drawable`), or nothing is drawn when that cannot be done.
    """
    drawn = drawable(spec, errors)
    if drawn is None:
        return []
    deadline = Deadline(seconds)
    failures: list[str] = []  # why each seed that drew no variant failed
    tried = made = 0
    built: list[tuple[Part, ...]] = []
    reasons: Counter[tuple[str, Loc]] = Counter()
    stopped = ""
    for seed in range(seeds):
        try:
            draws, failure = draws_of_seed(drawn, seed, deadline)
        except OverBudget as exc:
            stopped = str(exc)
            break
        tried += 1
        made += len(draws)
        built.extend(d.parts for d in draws if d.parts)
        reasons.update((d.reason, _where(spec, drawn, d.where)) for d in draws if d.reason)
        if failure is not None:
            failures.append(failure)
    found = list(_misconception_problems(spec, built))  # located by id in the spec as written
    if stopped and not tried:
        found.append(((), f"the checks that draw variants did not finish: {stopped}", "warning"))
    if any(severity == "error" for _l, _m, severity in found):
        return found  # the cause of the failed draws, at its line
    if failures:
        found.append(_unusable(tried, failures, reasons))
    elif reasons and sum(reasons.values()) >= REDRAWN_SHARE * made:
        (reason, where), _count = reasons.most_common(1)[0]
        advice = "; make the condition hold more often" if where[:1] == ("require",) else ""
        found.append(
            (
                where,
                f"{sum(reasons.values())} of the {made} draws tried were redrawn, most for "
                f"{reason!r}: a seed fails when {MAX_ATTEMPTS} draws in a row are{advice}",
                "warning",
            )
        )
    return found


#: A refused field whose piece a draw can do without: a text is drawn blank, a
#: misconception, a part or a require condition is left out, the plot is not drawn.
_TEXT = re.compile(
    r"^parts\[(\d+)\]\.(prompt|hint|solution|explanation|format_hint|choices\[\d+\]\.explanation)$"
)
_MISCONCEPTION = re.compile(r"^parts\[(\d+)\]\.misconceptions\[(\d+)\]")
_PART = re.compile(r"^parts\[(\d+)\]")
_REQUIRE = re.compile(r"^require\[(\d+)\]")


def drawable(spec: ProblemSpec, errors: Sequence[str]) -> ProblemSpec | None:
    """``spec`` without the pieces the refused fields ``errors`` name, so the rest can be
    drawn; None when a refused field is one every draw needs (the data, a model, a param).
    """
    if not errors:
        return spec
    texts: set[tuple[int, str]] = set()
    dropped: set[tuple[int, int]] = set()  # (part, misconception)
    dropped_parts: set[int] = set()
    dropped_require: set[int] = set()
    update: dict[str, Any] = {}
    for error in errors:
        if error == "story":
            update["story"] = "-"
        elif error == "plot":
            update["plot"] = None
        elif m := _TEXT.match(error):
            texts.add((int(m.group(1)), m.group(2)))
        elif m := _MISCONCEPTION.match(error):
            dropped.add((int(m.group(1)), int(m.group(2))))
        elif m := _PART.match(error):
            dropped_parts.add(int(m.group(1)))
        elif m := _REQUIRE.match(error):
            dropped_require.add(int(m.group(1)))
        else:
            return None
    parts = []
    for i, part in enumerate(spec.parts):
        if i in dropped_parts or any(p == i and "choices" in f for p, f in texts):
            continue
        blank = {f: "-" for p, f in texts if p == i}
        kept = [m for j, m in enumerate(part.misconceptions) if (i, j) not in dropped]
        parts.append(part.model_copy(update={**blank, "misconceptions": kept}))
    if not parts:
        return None
    update["parts"] = parts
    update["require"] = [r for i, r in enumerate(spec.require) if i not in dropped_require]
    return spec.model_copy(update=update)


def _where(spec: ProblemSpec, drawn: ProblemSpec, where: Loc) -> Loc:
    """A draw's location in ``drawn`` as the location in ``spec`` (parts may be left out)."""
    if len(where) == 2 and where[0] == "parts" and isinstance(where[1], int):
        part_id = drawn.parts[where[1]].id
        return ("parts", next(i for i, p in enumerate(spec.parts) if p.id == part_id))
    if where[:1] == ("require",) and isinstance(where[1], int):
        return ("require", spec.require.index(drawn.require[where[1]]))
    return where


def _unusable(tried: int, failures: list[str], reasons: Counter[tuple[str, Loc]]) -> Found:
    """The seeds that drew no usable variant, with the reason most draws failed for."""
    if reasons:
        (reason, where), count = reasons.most_common(1)[0]
        why = f": {reason} (in {count} of {plural(sum(reasons.values()), 'draw')})"
    else:  # a draw that raised, not one refused
        where, why = (), f": {failures[0]}"
    seeds = plural(tried, "seed")
    if len(failures) == tried:
        return where, f"none of the {seeds} tried gave a usable variant{why}", "error"
    return where, f"{len(failures)} of the {seeds} tried gave no usable variant{why}", "warning"


def _misconception_loc(spec: ProblemSpec, i: int, misconception: str) -> Loc:
    """Where the spec writes a part's misconception: its expression or choice, or the
    part's ``choices_from`` when the misconception is the scenario library's."""
    ms = spec.parts[i].misconceptions
    j = next((j for j, m in enumerate(ms) if m.id == misconception), None)
    if j is None:
        return ("parts", i, "choices_from")
    return (
        "parts",
        i,
        "misconceptions",
        j,
        "expression" if ms[j].expression is not None else "choice",
    )


def _misconception_problems(spec: ProblemSpec, built: list[tuple[Part, ...]]) -> Iterator[Found]:
    """Misconceptions equal to the answer, or to each other, in the draws that built parts:
    an error when it holds in every draw where both are present (generation then has no
    draw left), a warning when in at least half (generation redraws those, at a cost);
    a coincidence in fewer draws is what redrawing is for, and is not reported."""
    index = {p.id: i for i, p in enumerate(spec.parts)}
    shown: Counter[tuple[str, ...]] = Counter()
    equal: Counter[tuple[str, ...]] = Counter()
    for parts in built:
        for part in parts:
            kind = kind_of(part.kind)
            alone = set(kind.problems(dataclasses.replace(part, misconceptions=())))
            for j, m in enumerate(part.misconceptions):
                key: tuple[str, ...] = (part.id, m.id)
                shown[key] += 1
                if set(kind.problems(dataclasses.replace(part, misconceptions=(m,)))) - alone:
                    equal[key] += 1
                for other in part.misconceptions[j + 1 :]:
                    pair = (part.id, m.id, other.id)
                    shown[pair] += 1
                    if kind.overlap(part, m, other):
                        equal[pair] += 1
    for key, count in equal.items():
        if 2 * count < shown[key]:
            continue
        loc = _misconception_loc(spec, index[key[0]], key[-1])  # a pair: at the second
        always = count == shown[key]
        share = "" if always else f" in {count} of {plural(shown[key], 'draw')} tried"
        severity: Literal["error", "warning"] = "error" if always else "warning"
        if len(key) == 2:
            yield (
                loc,
                f"this misconception gives the answer itself{share}, so a right answer would be "
                "marked as this mistake: make its expression compute the wrong value"
                + ("" if always else " (generation redraws those draws)"),
                severity,
            )
        else:
            yield (
                loc,
                f"misconceptions {key[1]} and {key[2]} give the same value{share}, so an answer "
                "matching one matches the other: make them compute different values"
                + ("" if always else " (generation redraws those draws)"),
                severity,
            )
