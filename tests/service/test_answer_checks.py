"""Which inputs a page marks invalid after an unreadable submit (answer_checks.invalid_inputs)."""

from __future__ import annotations

from service.services.answer_checks import invalid_inputs

TABLE = {"id": "p", "kind": "table", "rows": ["a", "b"], "columns": ["x"]}
PERCENT_TABLE = {**TABLE, "id": "q", "acceptance": {"percent_allowed": True}}
CHOICE = {"id": "c", "kind": "choice"}
NUMBER = {"id": "n", "kind": "numeric"}


def test_a_table_marks_only_its_blank_and_unreadable_cells():
    typed = {"p": ["0.5", "two", "", "1e-3"]}
    assert invalid_inputs([TABLE], typed, {"p": "cell 2: …"}) == {"p": [1, 2]}


def test_a_percent_cell_is_readable_where_the_part_allows_percent():
    typed = {"p": ["40%", "1"], "q": ["40%", "1"]}
    errors = {"p": "…", "q": "…"}
    assert invalid_inputs([TABLE, PERCENT_TABLE], typed, errors) == {"p": [0], "q": []}


def test_a_part_without_an_error_is_never_marked_and_others_are_marked_whole():
    typed = {"p": ["two"], "c": "maybe", "n": "x"}
    assert invalid_inputs([TABLE, CHOICE, NUMBER], typed, {"c": "…", "n": "…"}) == {
        "c": [],
        "n": [],
    }
