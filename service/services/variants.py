"""Issuing variants: each student's own, stored once and never changed.

A student's seed is a keyed hash (HMAC-SHA256) of their user id and the item id under
``Settings.seed_key``, a key derived from the server's SECRET_KEY. Without the key nobody can
compute a seed from the ids a student sees, so the public generator (``mixgrade problems
generate``, the instructor preview) cannot rebuild another student's data and answers.
The seed is stored with the variant: changing SECRET_KEY later changes only variants
issued after the change, never one already issued.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import problem_bank
from service.models import AssignmentProblem, StoredVariant, User, utcnow

#: Seeds are below 2**SEED_BITS (``variant.seed`` is a BIGINT column). With 31 bits a
#: student who holds their data.csv could search every seed with the public generator
#: (about 70 CPU hours for a search that only seeds numpy's generator and draws the first
#: value); at 63 bits that search is 2**32 times longer. problem_bank takes seeds below 2**63.
SEED_BITS = 63


def seed_for(seed_key: bytes, user_id: int, item_id: int, version: int = 1) -> int:
    """A stable seed per (student, assignment item, version), secret without the key.

    Stable, so that a variant issued twice (a race, a worker retry) is the same variant.
    The first version's message is the one used before versions existed, so no variant
    issued earlier would be issued differently now.
    """
    message = f"{user_id}:{item_id}" if version == 1 else f"{user_id}:{item_id}:v{version}"
    digest = hmac.new(seed_key, message.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest, "big") % 2**SEED_BITS


def find(session: Session, user_id: int, item_id: int) -> StoredVariant | None:
    """The student's current variant of the item (not one replaced by a newer version)."""
    return session.scalar(
        select(StoredVariant).where(
            StoredVariant.user_id == user_id,
            StoredVariant.assignment_problem_id == item_id,
            StoredVariant.is_practice.is_(False),
            StoredVariant.replaced_at.is_(None),
        )
    )


def of_item(session: Session, user_id: int, item_id: int, *, practice: bool) -> list[StoredVariant]:
    """The student's variants of the item, oldest first: practice ones, or the versions
    they were given to be graded on."""
    return list(
        session.scalars(
            select(StoredVariant)
            .where(
                StoredVariant.user_id == user_id,
                StoredVariant.assignment_problem_id == item_id,
                StoredVariant.is_practice.is_(practice),
            )
            .order_by(StoredVariant.id)
        )
    )


def versions(session: Session, user_id: int, item_id: int) -> list[StoredVariant]:
    """Every version the student was given of the item, oldest first (practice excluded)."""
    return of_item(session, user_id, item_id, practice=False)


def replace(
    session: Session, seed_key: bytes, user: User, assignment_problem: AssignmentProblem
) -> StoredVariant:
    """Give the student the next version of the item: a new dataset from a new seed.

    The current variant is marked replaced (it and its submissions stay as they were);
    flushed, not committed, so the caller commits it with its audit event. Two racing
    calls compute the same next seed, and the unique (user, problem, seed) constraint
    fails the second one's flush.
    """
    current = find(session, user.id, assignment_problem.id)
    number = len(versions(session, user.id, assignment_problem.id)) + 1
    seed = seed_for(seed_key, user.id, assignment_problem.id, number)
    content = generate_content(assignment_problem.problem.spec_text, seed)
    if current is not None:
        current.replaced_at = utcnow()
    variant = store(session, user.id, assignment_problem.id, seed, content)
    return variant


def pending(
    session: Session, seed_key: bytes, user_id: int, item_id: int
) -> tuple[str, int] | None:
    """(spec text, seed) when the student's variant of this item is not issued yet."""
    if find(session, user_id, item_id) is not None:
        return None
    assignment_problem = session.get(AssignmentProblem, item_id)
    if assignment_problem is None:
        return None
    return assignment_problem.problem.spec_text, seed_for(seed_key, user_id, item_id)


def store(
    session: Session, user_id: int, item_id: int, seed: int, content: dict[str, Any]
) -> StoredVariant:
    assignment_problem = session.get(AssignmentProblem, item_id)
    if assignment_problem is None:
        raise LookupError(f"assignment item {item_id} does not exist")
    variant = StoredVariant(
        user_id=user_id,
        problem_id=assignment_problem.problem_id,
        assignment_problem_id=item_id,
        seed=seed,
        content=content,
    )
    session.add(variant)
    session.flush()
    return variant


def generate_content(spec_text: str, seed: int) -> dict[str, Any]:
    """The pure library call for a variant to STORE: (spec, seed) → the variant as data.

    Cross-checked (:func:`problem_bank.issue`) here too, not only on the variants queue:
    every stored variant is a key students are graded against, and the page that issues
    inline is the one a student opens before any worker ran, so skipping the check here
    would store exactly the unchecked keys the check exists to refuse. The web process
    pays the statsmodels import once, on its first inline issue (lazily: a web process
    that never issues inline never loads it). The instructor preview stores nothing and
    does not check.
    """
    return problem_bank.issue(problem_bank.parse_spec(spec_text), seed).to_dict()


def ensure(
    session: Session, seed_key: bytes, user: User, assignment_problem: AssignmentProblem
) -> StoredVariant:
    """The student's variant of an item, issued now if it does not exist yet.

    Issuing inline keeps the problem page usable even before a worker ran issue_variant;
    two racing requests are settled by the unique constraint, and the loser reads the
    winner's row, so a student never sees two datasets.
    """
    existing = find(session, user.id, assignment_problem.id)
    if existing is not None:
        return existing
    seed = seed_for(seed_key, user.id, assignment_problem.id)
    content = generate_content(assignment_problem.problem.spec_text, seed)
    try:
        with session.begin_nested():
            variant = store(session, user.id, assignment_problem.id, seed, content)
        session.commit()
        return variant
    except IntegrityError:
        session.rollback()
        winner = find(session, user.id, assignment_problem.id)
        if winner is None:
            raise
        return winner
