"""The wrong answers no misconception named, grouped, with candidate explanations.

Every student has their own dataset, so the same slip gives a different number to each
student: grouping raw values across the class would scatter one mistake over many
groups and merge unrelated ones. An instructor needs "which computation did these
students do", so answers are grouped **by the candidate that reproduces them on the
student's own variant** (:mod:`problem_bank.alternatives`): the candidate explaining the
most answers forms the first group, the next one the remaining answers it explains, and
so on. What no candidate explains is grouped by raw value within the part's tolerance
when the key is the same in every variant seen (then equal values mean the same
mistake), else listed as one "not explained" group with each answer and its key.

An answer is one graded submission's answer to a part that is wrong (score 0, not a
right-but-too-coarse answer), readable, and matched no misconception; a student's
repeated wrong answers all count (the page shows answers and students). Practice
variants are left out, as in the analytics. Only numeric parts are grouped: a wrong
choice *is* its own group (the analytics show the picks), and tables and intervals have
no single value to explain; those parts are listed as skipped with the reason.

Candidates are computed on the variant's fits, which are not stored: the variant is
regenerated from its problem version and seed (and checked against the stored key; a
variant that does not regenerate the same is counted, not guessed at). Refitting costs
0.02 to 1 s per variant, so one request refits for at most BUDGET_SECONDS and the fits
are cached per process: answers left unchecked are counted and the next request goes
on where this one stopped. (Storing the fits' candidates at grading time would make the
page instant; it needs a table, so it is left for later.)
"""

from __future__ import annotations

import time
from collections import OrderedDict, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

import problem_bank
from graders.engine import parse_answer
from problem_bank import alternatives
from problem_bank.acceptance import accepted_range, part_range, within
from problem_bank.generate import GenerationError, VariantContext, generate_with_context
from problem_bank.spec import PartSpec, SpecError
from problem_bank.variant import Part
from problem_bank.variant import Variant as VariantData
from service.models import Assignment, AssignmentProblem, Variant
from service.services import analytics

#: Seconds one page or API call may spend refitting variants; the fits are cached, so the
#: answers left unchecked are checked by the next request.
BUDGET_SECONDS = 15.0
#: Variants' fits kept per process.
MAX_CACHED_FITS = 512

#: A candidate is offered as a misconception when it explains at least this share of a
#: group and at least MIN_ANSWERS answers.
OFFER_SHARE = 0.5
MIN_ANSWERS = 2


@dataclass
class Answer:
    """One unrecognised wrong answer, with the key of the student's own variant."""

    user_id: int
    variant_id: int
    value: float
    key: float


@dataclass
class Group:
    """Answers one candidate reproduces, or a raw value cluster, or the unexplained rest."""

    label: str
    answers: list[Answer]
    #: The candidate that explains most of the group, and how many answers it explains.
    candidate: alternatives.Candidate | None = None
    explained: int = 0
    #: Other candidates that explain every answer of the group equally well.
    also: list[str] = field(default_factory=list)
    #: The raw value of a value cluster (parts whose key is the same for everyone).
    value: float | None = None

    @property
    def count(self) -> int:
        return len(self.answers)

    @property
    def students(self) -> int:
        return len({a.user_id for a in self.answers})

    @property
    def share(self) -> float:
        return self.explained / self.count if self.count else 0.0

    @property
    def offered(self) -> bool:
        """One candidate explains most of the group: worth adding as a misconception."""
        return (
            self.candidate is not None
            and self.explained >= MIN_ANSWERS
            and self.share >= OFFER_SHARE
        )


@dataclass
class PartReport:
    id: str
    kind: str
    prompt: str
    answers: int = 0
    groups: list[Group] = field(default_factory=list)
    #: Raw value clusters, when every variant seen has the same key.
    clusters: list[Group] = field(default_factory=list)
    skipped: str = ""
    #: Answers whose variant did not regenerate as stored (no candidates for them).
    not_rebuilt: int = 0
    #: Answers not checked against candidates yet: the time budget ran out (reload).
    unchecked: int = 0


@dataclass
class ItemReport:
    item: AssignmentProblem
    parts: list[PartReport]


def for_assignment(
    session: Session, assignment: Assignment, budget: float = BUDGET_SECONDS
) -> list[ItemReport]:
    """Every problem of the assignment, part by part, refitting for at most ``budget`` s."""
    until = time.monotonic() + budget
    return [ItemReport(item, for_item(session, item, until)) for item in assignment.items]


def for_item(
    session: Session, item: AssignmentProblem, until: float | None = None
) -> list[PartReport]:
    """The unrecognised answers of one assignment problem, grouped per part; variants not
    yet fitted when ``time.monotonic()`` passes ``until`` are left unchecked."""
    rows = analytics.graded(session, item)
    reports: dict[str, PartReport] = {}
    found: dict[str, list[tuple[Answer, Variant, Part]]] = defaultdict(list)
    for spec_part in _spec_parts(item.problem.spec_text):
        reports[spec_part.id] = PartReport(spec_part.id, spec_part.kind, spec_part.prompt)
        if spec_part.kind != "numeric":
            reports[spec_part.id].skipped = _SKIPPED.get(spec_part.kind, "not a single number")
    for submission, variant in rows:
        data = VariantData.from_dict(variant.content)
        verdicts = {fb["id"]: fb for fb in (submission.feedback or {}).get("parts", [])}
        for part in data.parts:
            report = reports.get(part.id)
            fb = verdicts.get(part.id)
            if report is None or report.skipped or fb is None:
                continue
            if fb.get("verdict") != "incorrect" or fb.get("misconception"):
                continue
            value = _wrong_value(part, submission.answers.get(part.id))
            if value is None:
                continue
            answer = Answer(submission.user_id, variant.id, value, float(part.answer))  # type: ignore[arg-type]
            found[part.id].append((answer, variant, part))
    for part_id, answers in found.items():
        _group(item.problem.spec_text, reports[part_id], answers, until)
    return list(reports.values())


_SKIPPED = {
    "choice": "a wrong pick is its own group: see the analytics' misconceptions",
    "multi": "a wrong set of picks has no value to explain",
    "table": "a table has no single value to explain",
    "interval": "an interval has two values; not grouped yet",
}


def _spec_parts(spec_text: str) -> list[PartSpec]:
    try:
        return list(problem_bank.parse_spec(spec_text).parts)
    except SpecError:
        return []


def _wrong_value(part: Part, raw: Any) -> float | None:
    """The typed number, if it is readable and wrong (not right-but-too-coarse)."""
    parsed = parse_answer(part, raw)
    if not parsed.answered or not isinstance(parsed.value, float):
        return None
    if parsed.kind.compare(part, parsed.value).too_coarse:
        return None
    return float(parsed.value)


def _group(
    spec_text: str,
    report: PartReport,
    rows: list[tuple[Answer, Variant, Part]],
    until: float | None,
) -> None:
    report.answers = len(rows)
    spec = problem_bank.parse_spec(spec_text)
    ps = next(p for p in spec.parts if p.id == report.id)
    found = alternatives.candidates(spec_text, report.id)  # cached per spec and part
    explains: list[set[str]] = []
    by_id = {c.id: c for c in found}
    left: list[int] = []
    for i, (answer, variant, part) in enumerate(rows):
        explains.append(set())
        try:
            evaluated = _evaluated(spec_text, variant.seed, ps, part, found, until)
        except _OutOfTime:
            report.unchecked += 1
            continue
        left.append(i)
        if evaluated is None:
            report.not_rebuilt += 1
            continue
        explains[i] = {e.candidate.id for e in evaluated if e.explains(part, answer.value)}
    while True:
        counts: dict[str, int] = defaultdict(int)
        for i in left:
            for cid in explains[i]:
                counts[cid] += 1
        if not counts:
            break
        order = [c.id for c in found]
        best = max(counts, key=lambda cid: (counts[cid], -order.index(cid)))
        members = [i for i in left if best in explains[i]]
        also = [cid for cid in order if cid != best and all(cid in explains[i] for i in members)]
        report.groups.append(
            Group(
                by_id[best].label,
                [rows[i][0] for i in members],
                by_id[best],
                len(members),
                also,
            )
        )
        left = [i for i in left if best not in explains[i]]
    keys = [rows[i][2] for i in range(len(rows))]
    same_key = len({float(p.answer) for p in keys}) == 1  # type: ignore[arg-type]
    if same_key:
        report.clusters = _clusters(rows, explains, found)
    if left:
        report.groups.append(Group("not explained by any candidate", [rows[i][0] for i in left]))


def _clusters(
    rows: list[tuple[Answer, Variant, Part]],
    explains: list[set[str]],
    found: list[alternatives.Candidate],
) -> list[Group]:
    """Raw values within the part's tolerance of the cluster's first value, largest first."""
    part = rows[0][2]
    order = sorted(range(len(rows)), key=lambda i: rows[i][0].value)
    clusters: list[list[int]] = []
    for i in order:
        value = rows[i][0].value
        if clusters:
            first = rows[clusters[-1][0]][0].value
            if within(value, accepted_range(part.acceptance, first)):
                clusters[-1].append(i)
                continue
        clusters.append([i])
    out = []
    for members in sorted(clusters, key=len, reverse=True):
        counts: dict[str, int] = defaultdict(int)
        for i in members:
            for cid in explains[i]:
                counts[cid] += 1
        group = Group(f"value {rows[members[0]][0].value:g}", [rows[i][0] for i in members])
        group.value = rows[members[0]][0].value
        if counts:
            best = max(found, key=lambda c: counts.get(c.id, 0))
            group.candidate, group.explained = best, counts[best.id]
        out.append(group)
    return out


def _evaluated(
    spec_text: str,
    seed: int,
    ps: PartSpec,
    part: Part,
    found: list[alternatives.Candidate],
    until: float | None,
) -> list[alternatives.Evaluated] | None:
    ctx = _context(spec_text, seed, until)
    if ctx is None:
        return None
    rebuilt, context = ctx
    try:
        same = within(
            float(rebuilt.part(part.id).answer),  # type: ignore[arg-type]
            part_range(part.acceptance, float(part.answer)),  # type: ignore[arg-type]
        )
    except (KeyError, TypeError, ValueError):
        same = False
    if not same:
        return None
    return alternatives.evaluate(ps, part, context, found)


class _OutOfTime(Exception):
    """The request's refitting budget is spent and this variant is not cached."""


_Fit = tuple[VariantData, VariantContext] | None
_FITS: OrderedDict[tuple[str, int], _Fit] = OrderedDict()


def _context(spec_text: str, seed: int, until: float | None) -> _Fit:
    """The variant's fits, regenerated (cached: refitting is the slow step)."""
    key = (spec_text, seed)
    if key in _FITS:
        _FITS.move_to_end(key)
        return _FITS[key]
    if until is not None and time.monotonic() > until:
        raise _OutOfTime
    fit: _Fit
    try:
        fit = generate_with_context(problem_bank.parse_spec(spec_text), seed)
    except (GenerationError, SpecError):
        fit = None
    _FITS[key] = fit
    while len(_FITS) > MAX_CACHED_FITS:
        _FITS.popitem(last=False)
    return fit


def editor_query(group: Group, part_id: str) -> dict[str, str]:
    """The spec editor's query parameters that insert the group's candidate at the part."""
    assert group.candidate is not None
    c = group.candidate
    return {
        "part": part_id,
        "misconception": c.id,
        "expression": c.expression,
        "message": c.message,
    }


@dataclass(frozen=True)
class Added:
    """What the editor prefilled: the misconception, at which part, or why not."""

    part: str
    misconception: str
    error: str = ""


def prefill(text: str, args: Mapping[str, str]) -> tuple[str, Added | None]:
    """The editor's spec text with the misconception the query asks for added at its part.

    The query comes from :func:`editor_query`; a spec the result would not validate
    leaves the text as it was and says why, so the editor never opens on a broken spec.
    """
    part, mid = args.get("part", ""), args.get("misconception", "")
    expression, message = args.get("expression", ""), args.get("message", "")
    if not (part and mid and expression and message):
        return text, None
    try:
        return alternatives.with_misconception(text, part, mid, expression, message), Added(
            part, mid
        )
    except SpecError as error:
        return text, Added(part, mid, str(error))
