"""Keeping the problems table in step with the built-in bank."""

from __future__ import annotations

from importlib.resources import files

from sqlalchemy import select
from sqlalchemy.orm import Session

import problem_bank
from service.models import Problem, ProblemStatus


def builtin_spec_texts() -> dict[str, str]:
    """File name → YAML text of every built-in spec shipped in problem_bank/specs."""
    folder = files("problem_bank").joinpath("specs")
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    }


def sync_builtin(session: Session) -> list[Problem]:
    """Add each built-in (id, version) not yet stored, published; return all built-ins.

    Existing rows are never touched: a version, once stored, is what its variants used.
    """
    result = []
    for text in builtin_spec_texts().values():
        spec = problem_bank.parse_spec(text)
        row = session.scalar(
            select(Problem).where(Problem.slug == spec.id, Problem.version == spec.version)
        )
        if row is None:
            row = Problem(
                slug=spec.id,
                version=spec.version,
                title=spec.title,
                topic=getattr(spec, "topic", "") or "",
                spec_text=text,
                status=ProblemStatus.published,
                builtin=True,
            )
            session.add(row)
        result.append(row)
    session.flush()
    return result
