"""A course whose students typed wrong answers no misconception names, graded and stored.

The problem is the instructor's own copy of simple_regression (so they may edit it),
uploaded, self-tested and published through the authoring use case; the variants are
stored by the variants service, and the graded submissions carry the grader's own
feedback. The story:
alice and bob report the slope as a percent (100 × the estimate, a slip no misconception
of the part lists), alice once types a number nothing explains, and bob gets the
intercept right.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

import problem_bank
from graders import grade
from problem_bank import expressions as ex
from problem_bank.generate import generate_with_context
from service.models import (
    AssignmentProblem,
    Problem,
    StoredVariant,
    Submission,
    SubmissionStatus,
    User,
)
from service.services import authoring, variants
from service.services.problems import builtin_spec_texts
from tests.service.web_world import World, build_world

PERCENT = '100 * coef("Foodavailability")'
SEEDS = ("alice", "bob")


@dataclass
class UnrecognisedWorld:
    world: World
    problem: Problem
    variants: dict[str, StoredVariant]


def own_copy_text() -> str:
    text = builtin_spec_texts()["01_simple_regression.yaml"]
    text = text.replace("id: simple_regression", "id: my_regression", 1)
    return text.replace("title: Simple linear regression", "title: My regression", 1)


def build(session: Session, *, same_seed: bool = False) -> UnrecognisedWorld:
    world = build_world(session)
    students = {who: world.users[who] for who in SEEDS}
    teacher = world.users["teacher"]
    problem, stored = stage(session, world.item, teacher, students, same_seed=same_seed)
    return UnrecognisedWorld(world, problem, stored)


def stage(
    session: Session,
    item: AssignmentProblem,
    teacher: User,
    students: dict[str, User],
    *,
    same_seed: bool = False,
) -> tuple[Problem, dict[str, StoredVariant]]:
    """Point ``item`` at the teacher's own copy and store the students' graded slips;
    the first student also types a number nothing explains. With ``same_seed`` every
    student has the same dataset (so the same key)."""
    text = own_copy_text()
    # As an instructor would: upload, self-test, publish (two seeds keep it quick).
    problem = authoring.create(session, teacher, text)
    authoring.run_selftest(session, problem, seeds=2)
    authoring.publish(session, teacher, problem)
    item.problem_id = problem.id
    session.flush()
    spec = problem_bank.parse_spec(text)
    stored: dict[str, StoredVariant] = {}
    for index, (who, user) in enumerate(students.items()):
        seed = 11 if same_seed else 11 + index
        data, ctx = generate_with_context(spec, seed)
        row = variants.store(session, user.id, item.id, seed, data.to_dict())
        stored[who] = row
        slip = float(f"{float(ex.parse(PERCENT).evaluate(ctx)):.4g}")
        tries = [{"slope": slip, "intercept": data.part("intercept").answer}]
        if index == 0:
            tries.append({"slope": 98765.0})
        for attempt, answers in enumerate(tries, start=1):
            session.add(
                Submission(
                    variant_id=row.id,
                    user_id=user.id,
                    attempt_number=attempt,
                    answers=answers,
                    status=SubmissionStatus.graded,
                    feedback=grade(data, answers).to_dict(),
                )
            )
    session.commit()
    session.refresh(item)
    return problem, stored
