"""Writing problems: validate an uploaded spec, store versions, self-test, publish.

A spec is data and is only ever read with a safe YAML loader (inside
``problem_bank.parse_spec``); nothing in it is executed. Every stored row is one version
and never changes its text: an edit is a new row with version + 1, so variants already
issued keep the version they were made from.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import problem_bank
from problem_bank.skeletons import skeleton_texts
from service import queue
from service.db import rows_changed
from service.models import AssignmentProblem, Problem, ProblemStatus, StoredVariant, User, utcnow

#: Largest spec accepted, in bytes (the app-wide request limit is larger); the library's.
MAX_SPEC_BYTES = problem_bank.MAX_SPEC_BYTES
#: Seeds the self-test runs before a problem may be published.
SELFTEST_SEEDS = 20
#: Seconds a preview may spend generating one variant in a web request.
PREVIEW_SECONDS = 10.0
#: Seconds a self-test may run (in a worker, or in the request when the broker is down).
SELFTEST_SECONDS = 20.0
#: Seconds the meaning checks before a save (or the editor's Check) may spend drawing
#: variants: a misconception equal to the answer, a part no seed makes well posed.
CHECK_SECONDS = 5.0

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class SpecProblem:
    """Why a spec was refused (or what to look at): where (line, field) and what.

    Errors block a save; warnings are shown beside their line and do not.
    """

    message: str
    line: int | None = None
    field: str = ""
    severity: Severity = "error"


class Refused(ValueError):
    """The spec or the action is refused. ``problems`` lists every reason (the errors
    and the warnings beside them, by line); ``problem`` is the first error, for callers
    that report one."""

    def __init__(self, problems: SpecProblem | Sequence[SpecProblem]) -> None:
        listed = [problems] if isinstance(problems, SpecProblem) else list(problems)
        first = next((p for p in listed if p.severity == "error"), listed[0])
        super().__init__(first.message)
        self.problem = first
        self.problems = listed


def errors_in(found: Sequence[SpecProblem]) -> list[SpecProblem]:
    return [p for p in found if p.severity == "error"]


def diagnose(text: str, seconds: float = CHECK_SECONDS) -> list[SpecProblem]:
    """Every problem of the spec at once, by line (problem_bank.diagnose: the library's
    rules, so the editor, the API and ``mixgrade problems check`` agree)."""
    return [
        SpecProblem(d.message, d.line, d.field, d.severity)
        for d in problem_bank.diagnose(text, generate=True, seconds=seconds)
    ]


def check_spec(text: str, found: Sequence[SpecProblem] | None = None) -> problem_bank.ProblemSpec:
    """The parsed spec, or :class:`Refused` listing every error (``found``: this text's
    :func:`diagnose`, when the caller has it already).

    Every limit (size, characters, YAML aliases and nesting, expressions, rows) is the
    library's, so the web editor, the API and ``mixgrade problems validate`` agree.
    """
    found = diagnose(text) if found is None else found
    if errors_in(found):
        raise Refused(found)
    try:
        return problem_bank.parse_spec(text)
    except problem_bank.SpecError as error:  # diagnose and parse_spec share their rules
        raise Refused(SpecProblem(error.reason, error.line, error.field)) from None


def check_new(session: Session, text: str) -> list[SpecProblem]:
    """:func:`diagnose`, and what saving it as a new problem needs: a free id, version 1."""
    found = diagnose(text)
    if not errors_in(found):
        spec = check_spec(text, found)
        if session.scalar(select(Problem).where(Problem.slug == spec.id)) is not None:
            found.append(
                SpecProblem(
                    f"a problem with id {spec.id!r} exists; edit it to make a new version, "
                    "or choose another id",
                    _line_of(text, "id"),
                    "id",
                )
            )
        if spec.version != 1:
            found.append(
                SpecProblem(
                    "a new problem starts at version 1", _line_of(text, "version"), "version"
                )
            )
    return _by_line(found)


def check_version(session: Session, base: Problem, text: str) -> list[SpecProblem]:
    """:func:`diagnose`, and what saving it as ``base``'s next version needs: the same
    id, the next version number."""
    found = diagnose(text)
    if not errors_in(found):
        spec = check_spec(text, found)
        if spec.id != base.slug:
            found.append(SpecProblem(f"the id must stay {base.slug!r}", _line_of(text, "id"), "id"))
        wanted = next_version(session, base.slug)
        if spec.version != wanted:
            found.append(
                SpecProblem(
                    f"must be {wanted}, the next version of this problem",
                    _line_of(text, "version"),
                    "version",
                )
            )
    return _by_line(found)


def _by_line(found: list[SpecProblem]) -> list[SpecProblem]:
    """By line; those without one (about the whole spec) first."""
    return sorted(found, key=lambda p: p.line or 0)


#: Statuses the bank can be filtered by (the API's schema and the web page offer these).
STATUSES = tuple(status.value for status in ProblemStatus)
#: The ``author`` filter value that means "the bank's own files".
BUILTIN_AUTHOR = "builtin"


@dataclass(frozen=True)
class BankFilter:
    """Which of the visible versions to list. Archived versions are listed only when
    asked for by status: the bank shows what can still be used."""

    status: ProblemStatus | None = None
    topic: str = ""
    #: A user id, BUILTIN_AUTHOR, or None for everyone.
    author: int | str | None = None
    #: With no status asked for, list archived versions too (a problem's version list).
    with_archived: bool = False
    slug: str = ""


def visible_query(user: User, wanted: BankFilter = BankFilter()) -> Select[Problem]:
    """Every version an instructor may see (built-in, published or archived, or their own
    drafts), narrowed by ``wanted``, by slug and version.

    An archived version stays visible to those who saw it published: assignments that
    use it still show it, and its preview must keep working for their instructors.
    """
    query = select(Problem).where(
        or_(
            Problem.builtin.is_(True),
            Problem.status != ProblemStatus.draft,
            Problem.created_by_id == user.id,
        )
    )
    if wanted.status is not None:
        query = query.where(Problem.status == wanted.status)
    elif not wanted.with_archived:
        query = query.where(Problem.status != ProblemStatus.archived)
    if wanted.slug:
        query = query.where(Problem.slug == wanted.slug)
    if wanted.topic:
        query = query.where(Problem.topic == wanted.topic)
    if wanted.author == BUILTIN_AUTHOR:
        query = query.where(Problem.builtin.is_(True))
    elif wanted.author is not None:
        query = query.where(Problem.created_by_id == wanted.author, Problem.builtin.is_(False))
    return query.order_by(Problem.slug, Problem.version)


def visible(session: Session, user: User, wanted: BankFilter = BankFilter()) -> list[Problem]:
    """:func:`visible_query`'s rows."""
    return list(session.scalars(visible_query(user, wanted)))


def bank_choices(session: Session, user: User) -> tuple[list[str], list[tuple[str, str]]]:
    """The topics and (author value, name) pairs the bank's filter offers: those of the
    versions this user may see, whatever their status."""
    rows = visible(session, user, BankFilter(with_archived=True))
    topics = sorted({p.topic for p in rows if p.topic})
    author_ids = {p.created_by_id for p in rows if not p.builtin and p.created_by_id}
    names = session.execute(
        select(User.id, User.name).where(User.id.in_(author_ids)).order_by(User.name)
    ).all()
    authors = [(str(uid), name) for uid, name in names]
    if any(p.builtin for p in rows):
        authors.insert(0, (BUILTIN_AUTHOR, "Built-in"))
    return topics, authors


def can_see(user: User, problem: Problem) -> bool:
    """:func:`visible_query`'s rule for one row."""
    return (
        problem.builtin or problem.status != ProblemStatus.draft or problem.created_by_id == user.id
    )


def can_edit(user: User, problem: Problem) -> bool:
    """Built-ins change only with the bank's files; others only by their author."""
    return not problem.builtin and problem.created_by_id == user.id


def next_version(session: Session, slug: str) -> int:
    return (session.scalar(select(func.max(Problem.version)).where(Problem.slug == slug)) or 0) + 1


def create(
    session: Session,
    user: User,
    text: str,
    found: Sequence[SpecProblem] | None = None,
    *,
    commit: bool = True,
) -> Problem:
    """Store a brand-new problem (version 1, draft) from an uploaded spec; :class:`Refused`
    lists every error. ``found``: this text's :func:`check_new`, when the caller has it.
    ``commit=False`` only flushes: an import stores all its files in one transaction."""
    found = check_new(session, text) if found is None else found
    return _store(session, user, check_spec(text, found), text, commit=commit)


def new_version(
    session: Session,
    user: User,
    base: Problem,
    text: str,
    found: Sequence[SpecProblem] | None = None,
    *,
    commit: bool = True,
) -> Problem:
    """Store an edit of ``base`` as the next version (draft); earlier rows stay as they were.
    ``found``: this text's :func:`check_version`, when the caller has it."""
    if not can_edit(user, base):
        raise Refused(SpecProblem("only the author of a problem may edit it"))
    found = check_version(session, base, text) if found is None else found
    return _store(session, user, check_spec(text, found), text, commit=commit)


def _store(
    session: Session, user: User, spec: problem_bank.ProblemSpec, text: str, *, commit: bool
) -> Problem:
    row = Problem(
        slug=spec.id,
        version=spec.version,
        title=spec.title,
        topic=spec.topic,
        spec_text=text,
        status=ProblemStatus.draft,
        builtin=False,
        created_by_id=user.id,
    )
    session.add(row)
    if commit:
        session.commit()
    else:
        session.flush()
    return row


def run_selftest(
    session: Session,
    problem: Problem,
    seeds: int = SELFTEST_SEEDS,
    budget: float = SELFTEST_SECONDS,
) -> dict[str, Any]:
    """Run problem_bank's self-test over ``seeds`` seeds now and keep the result on the row.

    It stops when ``budget`` seconds are spent, and the result says why, so a slow spec
    fails its self-test with a reason instead of holding the request.
    """
    result = problem_bank.selftest_summary(problem.spec_text, seeds, budget, problem.slug)
    problem.selftest = result
    problem.selftest_at = utcnow()
    session.commit()
    return result


def request_selftest(
    session: Session,
    problem: Problem,
    seeds: int = SELFTEST_SEEDS,
    budget: float = SELFTEST_SECONDS,
) -> bool:
    """Hand the self-test to a worker (it takes seconds); True when it was queued.

    While it runs the row says so, and publishing stays refused. If the broker cannot be
    reached the self-test runs here instead, so an instructor is never stuck.
    """
    problem.selftest = {"running": True, "seeds": seeds}
    problem.selftest_at = utcnow()
    session.commit()
    if queue.send_selftest(problem.id, seeds):
        return True
    run_selftest(session, problem, seeds, budget)
    return False


def publish(session: Session, user: User, problem: Problem) -> None:
    """Publish a draft, only after its self-test passed."""
    if not can_edit(user, problem):
        raise Refused(SpecProblem("only the author of a problem may publish it"))
    if not (problem.selftest and problem.selftest.get("ok")):
        raise Refused(SpecProblem("run the self-test and make it pass before publishing"))
    problem.status = ProblemStatus.published
    session.commit()


class Removed(enum.StrEnum):
    """What :func:`delete_or_archive` did."""

    deleted = "deleted"
    archived = "archived"


def is_referenced(session: Session, problem_id: int) -> bool:
    """True when an assignment or a stored variant uses this version (it must stay)."""
    return bool(session.scalar(select(_referenced(problem_id))))


def _referenced(problem_id: int) -> Any:
    return or_(
        exists().where(AssignmentProblem.problem_id == problem_id),
        exists().where(StoredVariant.problem_id == problem_id),
    )


def delete_or_archive(session: Session, user: User, problem: Problem) -> Removed:
    """Delete a draft nothing uses; archive anything else (only its author may).

    A draft that an assignment or a stored variant refers to is archived, never deleted,
    so no student's work loses its problem. A published version is never deleted, for
    the same reason and because other instructors may have chosen it: archiving it takes
    it off the problems offered for new assignments (``teaching.publishable``) and off
    the bank's default list, while the assignments that use it keep working (students'
    pages, grading, regrades and previews read the row as before). Built-in problems
    change only with the bank's files. Archiving an archived version does nothing.

    The delete is one conditional statement (a draft, and no reference), so two
    concurrent deletes, or a delete racing a new reference, never fail: the loser finds
    the row gone (deleted) or archives it.
    """
    if problem.builtin:
        raise Refused(
            SpecProblem("built-in problems come from the bank's files and cannot be removed")
        )
    if not can_edit(user, problem):
        raise Refused(SpecProblem("only the author of a problem may delete or archive it"))
    problem_id = problem.id
    if problem.status == ProblemStatus.draft:
        try:
            gone = rows_changed(
                session.execute(
                    delete(Problem)
                    .where(
                        Problem.id == problem_id,
                        Problem.status == ProblemStatus.draft,
                        ~_referenced(problem_id),
                    )
                    .execution_options(synchronize_session=False)
                )
            )
            session.commit()
        except IntegrityError:  # a reference was added between the check and the delete
            session.rollback()
            gone = 0
        if gone or session.get(Problem, problem_id, populate_existing=True) is None:
            return Removed.deleted
    problem.status = ProblemStatus.archived
    session.commit()
    return Removed.archived


def preview(problem: Problem, seed: int, budget: float = PREVIEW_SECONDS) -> problem_bank.Variant:
    """The variant any student with this seed would get (nothing is stored).

    :class:`problem_bank.OverBudget` (a GenerationError) once ``budget`` seconds are spent.
    """
    return problem_bank.generate(problem_bank.parse_spec(problem.spec_text), seed, budget=budget)


def preview_plot(problem: Problem, seed: int, budget: float = PREVIEW_SECONDS) -> bytes:
    """The plot of :func:`preview`'s variant as PNG (b"" when the problem draws none)."""
    return preview_text_plot(problem.spec_text, seed, budget)


def preview_plot_text(problem: Problem, variant: problem_bank.Variant) -> str:
    """What that plot shows, in words ("" when there is none)."""
    return problem_bank.plot_text(problem_bank.parse_spec(problem.spec_text), variant)


def preview_text(
    text: str, seed: int, budget: float = PREVIEW_SECONDS
) -> tuple[problem_bank.ProblemSpec, problem_bank.Variant]:
    """The variant of an unsaved spec at ``seed``, as :func:`preview` gives a saved one.

    A spec that does not parse is :class:`Refused` with every error, so the editor's
    Preview shows what a Check would; generation errors are the library's.
    """
    try:
        spec = problem_bank.parse_spec(text)
    except problem_bank.SpecError as error:
        raise Refused(
            errors_in(diagnose(text)) or [SpecProblem(error.reason, error.line, error.field)]
        ) from None
    return spec, problem_bank.generate(spec, seed, budget=budget)


def preview_text_plot(text: str, seed: int, budget: float = PREVIEW_SECONDS) -> bytes:
    """The plot of :func:`preview_text`'s variant as PNG (b"" when the spec draws none)."""
    spec, variant = preview_text(text, seed, budget)
    return problem_bank.plot_png(spec, variant)


@dataclass(frozen=True)
class StartingPoint:
    """A spec a new problem can start from: a skeleton of one model family, or a
    built-in problem. Known by its spec id (the editor's ``?template=``)."""

    key: str
    title: str
    builtin: bool
    text: str


@functools.cache
def starting_points() -> tuple[StartingPoint, ...]:
    """The skeletons (in file order), then the built-in problems (in file order)."""
    from service.services.problems import builtin_spec_texts

    found = []
    for builtin, texts in ((False, skeleton_texts()), (True, builtin_spec_texts())):
        for text in texts.values():
            spec = problem_bank.parse_spec(text)
            found.append(StartingPoint(spec.id, spec.title, builtin, text))
    return tuple(found)


def starting_text(session: Session, key: str) -> str | None:
    """The text of the starting point ``key``, ready to be saved as a new problem: a free
    id (a built-in's gets ``_copy``: its own id is taken) and version 1. None if unknown."""
    point = next((p for p in starting_points() if p.key == key), None)
    if point is None:
        return None
    stem = f"{point.key}_copy" if point.builtin else point.key
    return with_key(with_key(point.text, "version", "1"), "id", free_slug(session, stem))


def free_slug(session: Session, stem: str) -> str:
    """``stem``, or ``stem_2``, ``stem_3``…: the first id no stored problem has."""
    taken = set(session.scalars(select(Problem.slug).where(Problem.slug.startswith(stem))))
    if stem not in taken:
        return stem
    return next(f"{stem}_{n}" for n in range(2, len(taken) + 3) if f"{stem}_{n}" not in taken)


def with_key(text: str, key: str, value: str) -> str:
    """The spec text with its first top-level ``key:`` line set to ``value``."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith(f"{key}:"):
            ending = line[len(line.rstrip("\r\n")) :] or "\n"
            lines[i] = f"{key}: {value}{ending}"
            break
    return "".join(lines)


def _line_of(text: str, key: str) -> int | None:
    """Line of a top-level key, to point at it when the error is about its value."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return None
