"""Writing problems: validate an uploaded spec, store versions, self-test, publish.

A spec is data and is only ever read with a safe YAML loader (inside
``problem_bank.parse_spec``); nothing in it is executed. Every stored row is one version
and never changes its text: an edit is a new row with version + 1, so variants already
issued keep the version they were made from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

import problem_bank
from service import queue
from service.models import Problem, ProblemStatus, User, utcnow

#: Largest spec accepted, in bytes (the app-wide request limit is larger); the library's.
MAX_SPEC_BYTES = problem_bank.MAX_SPEC_BYTES
#: Seeds the self-test runs before a problem may be published.
SELFTEST_SEEDS = 20
#: Seconds a preview may spend generating one variant in a web request.
PREVIEW_SECONDS = 10.0
#: Seconds a self-test may run (in a worker, or in the request when the broker is down).
SELFTEST_SECONDS = 20.0


@dataclass(frozen=True)
class SpecProblem:
    """Why a spec was refused: where (line, field) and what."""

    message: str
    line: int | None = None
    field: str = ""


class Refused(ValueError):
    """The spec or the action is refused; ``problem`` says where and why."""

    def __init__(self, problem: SpecProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def check_spec(text: str) -> problem_bank.ProblemSpec:
    """The parsed spec, or :class:`Refused` with the line and field of the first error.

    Every limit (size, characters, YAML aliases and nesting, expressions, rows) is the
    library's, so the web editor, the API and ``mixgrade problems validate`` agree.
    """
    try:
        return problem_bank.parse_spec(text)
    except problem_bank.SpecError as error:
        raise Refused(SpecProblem(error.reason, error.line, error.field)) from None


def visible(session: Session, user: User) -> list[Problem]:
    """Every version an instructor may see: built-in, published, or their own drafts."""
    return list(
        session.scalars(
            select(Problem)
            .where(
                or_(
                    Problem.builtin.is_(True),
                    Problem.status == ProblemStatus.published,
                    Problem.created_by_id == user.id,
                )
            )
            .order_by(Problem.slug, Problem.version)
        )
    )


def can_see(user: User, problem: Problem) -> bool:
    return (
        problem.builtin
        or problem.status == ProblemStatus.published
        or problem.created_by_id == user.id
    )


def can_edit(user: User, problem: Problem) -> bool:
    """Built-ins change only with the bank's files; others only by their author."""
    return not problem.builtin and problem.created_by_id == user.id


def next_version(session: Session, slug: str) -> int:
    return (session.scalar(select(func.max(Problem.version)).where(Problem.slug == slug)) or 0) + 1


def create(session: Session, user: User, text: str) -> Problem:
    """Store a brand-new problem (version 1, draft) from an uploaded spec."""
    spec = check_spec(text)
    if session.scalar(select(Problem).where(Problem.slug == spec.id)) is not None:
        raise Refused(
            SpecProblem(
                f"a problem with id {spec.id!r} exists; edit it to make a new version, "
                "or choose another id",
                _line_of(text, "id"),
                "id",
            )
        )
    if spec.version != 1:
        raise Refused(
            SpecProblem("a new problem starts at version 1", _line_of(text, "version"), "version")
        )
    return _store(session, user, spec, text)


def new_version(session: Session, user: User, base: Problem, text: str) -> Problem:
    """Store an edit of ``base`` as the next version (draft); earlier rows stay as they were."""
    if not can_edit(user, base):
        raise Refused(SpecProblem("only the author of a problem may edit it"))
    spec = check_spec(text)
    if spec.id != base.slug:
        raise Refused(SpecProblem(f"the id must stay {base.slug!r}", _line_of(text, "id"), "id"))
    wanted = next_version(session, base.slug)
    if spec.version != wanted:
        raise Refused(
            SpecProblem(
                f"must be {wanted}, the next version of this problem",
                _line_of(text, "version"),
                "version",
            )
        )
    return _store(session, user, spec, text)


def _store(session: Session, user: User, spec: problem_bank.ProblemSpec, text: str) -> Problem:
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
    session.commit()
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


def preview(problem: Problem, seed: int, budget: float = PREVIEW_SECONDS) -> problem_bank.Variant:
    """The variant any student with this seed would get (nothing is stored).

    :class:`problem_bank.OverBudget` (a GenerationError) once ``budget`` seconds are spent.
    """
    return problem_bank.generate(problem_bank.parse_spec(problem.spec_text), seed, budget=budget)


def preview_plot(problem: Problem, seed: int, budget: float = PREVIEW_SECONDS) -> bytes:
    """The plot of :func:`preview`'s variant as PNG (b"" when the problem draws none)."""
    spec = problem_bank.parse_spec(problem.spec_text)
    return problem_bank.plot_png(spec, problem_bank.generate(spec, seed, budget=budget))


def preview_plot_text(problem: Problem, variant: problem_bank.Variant) -> str:
    """What that plot shows, in words ("" when there is none)."""
    return problem_bank.plot_text(problem_bank.parse_spec(problem.spec_text), variant)


def _line_of(text: str, key: str) -> int | None:
    """Line of a top-level key, to point at it when the error is about its value."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return None
