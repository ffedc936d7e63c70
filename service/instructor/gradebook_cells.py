"""The gradebook page's cells as HTML, written here rather than in the template.

A course of 300 students × 25 problems is 7,500 cells, each a link, a hover title and up to
four markers. As Jinja expressions (a filter call, attribute look-ups and an escape per
value) they were most of the page's time, about 12 µs a cell; one format string per cell
is a fifth of that. Each problem cell holds only numbers, ids and times formatted here,
never text a user typed; the totals' titles name the assignment and the student, and those
are escaped once per page and once per row. The rest of the page (headers, names, the
controls) stays in ``teach/gradebook.html``.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from markupsafe import Markup, escape

from problem_bank.render import plural
from service.services import formats
from service.services.gradebook import Cell, Column, Group, Row

#: The markers a cell can carry, in the order they are shown, with the legend's words.
_MARKS = (
    ("late", Markup('<abbr class="mark late" title="late">L</abbr>')),
    ("exception", Markup('<abbr class="mark exception" title="exception">E</abbr>')),
    ("overridden", Markup('<abbr class="mark overridden" title="overridden">O</abbr>')),
    ("pending", Markup('<abbr class="mark pending" title="pending">P</abbr>')),
)


def _marks(cell: Cell) -> str:
    if not (cell.late or cell.exception or cell.overridden or cell.pending):
        return ""  # most cells: no marker
    return "".join(html for name, html in _MARKS if getattr(cell, name))


def problem_cell(href: str, cell: Cell | None) -> str:
    """One student's problem: their points (… while pending), linked to their work."""
    if cell is not None and cell.attempts:
        shown = formats.points(cell.points) if cell.points is not None else "…"
        title = f"{plural(cell.attempts, 'attempt')} · last {formats.table_time(cell.last_at)}"
    else:
        shown = formats.NOTHING
        title = "opened, no attempt" if cell is not None and cell.opened else "not opened"
    marks = _marks(cell) if cell is not None else ""
    return f'<td class="num"><a href="{href}" title="{title}">{shown}</a>{marks}</td>'


class CellWriter:
    """The cells of one gradebook page: built once per page, called once per row."""

    def __init__(
        self,
        columns: Sequence[Column],
        groups: Sequence[Group],
        items_url: str,
        page_url: str,
    ) -> None:
        self._columns = [(c.id, f"{escape(items_url)}{c.id}/students/") for c in columns]
        self._groups = [
            (
                g.columns,
                f"{escape(page_url)}?assignment_id={g.assignment.id}&amp;q=",
                escape(g.title),
            )
            for g in groups
        ]

    def problems(self, row: Row) -> Markup:
        """Every problem column of ``row``."""
        uid = row.student.id
        get = row.cells.get
        return Markup(
            "".join(problem_cell(f"{prefix}{uid}", get(item)) for item, prefix in self._columns)
        )

    def totals(self, row: Row) -> Markup:
        """Each assignment's total of ``row``, linked to that assignment's view of them."""
        who = escape(quote(row.student.email, safe=""))
        name = escape(row.student.name)
        return Markup(
            "".join(
                f'<td class="num"><a href="{prefix}{who}" title="{title}: each problem of '
                f'{name}">{formats.points(row.points(columns))}</a></td>'
                for columns, prefix, title in self._groups
            )
        )
