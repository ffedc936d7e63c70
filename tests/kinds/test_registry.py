"""Common checks over every registered answer kind, as the bank's checks run over every problem."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from problem_bank.kinds import KINDS, PartKind
from problem_bank.kinds.base import AnswerKind

TEMPLATES = Path(__file__).resolve().parents[2] / "service" / "templates"
OPERATIONS = [
    name
    for name in dir(AnswerKind)
    if not name.startswith("_") and callable(getattr(AnswerKind, name))
]


def test_part_kind_is_the_registry():
    assert set(get_args(PartKind)) == set(KINDS)
    assert {"build", "parse", "compare", "read_form", "shape_problem"} <= set(OPERATIONS)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_names_itself_its_partial_and_every_operation(name):
    kind = KINDS[name]
    assert kind.name == name
    assert (TEMPLATES / kind.partial).is_file(), kind.partial
    assert isinstance(kind.default_format_hint, str)
    missing = [op for op in OPERATIONS if not callable(getattr(kind, op, None))]
    assert not missing, f"{name} lacks {missing}"


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_reads_an_absent_form_field_as_no_answer(name):
    assert KINDS[name].read_form({}, "part-x") in (None, [])
