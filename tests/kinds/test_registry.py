"""Common checks over every registered answer kind, as the bank's checks run over every problem."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

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


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_kind_says_whether_it_answers_one_number(name):
    assert isinstance(KINDS[name].answers_one_number, bool)


def test_answers_one_number_is_what_the_built_parts_hold():
    from problem_bank import builtin_problems, generate, parse_spec
    from tests.kinds.interval_spec import INTERVAL_SPEC

    specs = [*builtin_problems().values(), parse_spec(INTERVAL_SPEC)]
    for spec in specs:
        for part in generate(spec, 0).parts:
            one_number = isinstance(part.answer, int | float) and not isinstance(part.answer, bool)
            assert KINDS[part.kind].answers_one_number == one_number, (spec.id, part.id)


@pytest.mark.parametrize(
    "name", sorted(n for n, k in KINDS.items() if k.partial == "parts/options.html")
)
def test_every_options_kind_says_how_its_options_are_ticked(name):
    kind: Any = KINDS[name]
    assert (kind.input_type, kind.group_role) in {("radio", "radiogroup"), ("checkbox", "group")}
    assert kind.multiple == (kind.input_type == "checkbox")
    assert isinstance(kind.instruction, str)


def test_no_template_branches_on_a_kind_name():
    """A kind's name in a template's code ({{ }} or {% %}) is a branch the kind should own."""
    names = "|".join(KINDS)
    code = re.compile(r"\{[{%](.*?)[%}]\}", re.S)
    literal = re.compile(rf"['\"]({names})['\"]")
    found = [
        f"{path.relative_to(TEMPLATES)}: {block.strip()}"
        for path in TEMPLATES.rglob("*.html")
        for block in code.findall(path.read_text(encoding="utf-8"))
        if literal.search(block)
    ]
    assert not found, "ask the kind object (the `kind` filter) instead:\n" + "\n".join(found)
