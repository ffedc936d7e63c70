"""The gradebook: students × problems, the points that count, and what the instructor sorts by.

Every cell's points come from services/standings (the assignment's score policy with overrides,
the number the student page and the LMS show), so the gradebook never has a scoring rule
of its own. A ``View`` is what the query string asks for (one assignment or the whole
course, problems or assignment totals, the sort and the name/email filter); the web page,
the CSV and the API read it with the same ``View.from_args``, so a bookmarked URL means
the same in all three.

The CSV export is meant to open cleanly in a spreadsheet: UTF-8 with a byte-order mark
(so Excel reads accents), CRLF line ends, one header row, every number with two decimals
(so a total reads the same for every student), ISO times in UTC, and text cells that
begin with = + - @ prefixed with ' so a name is never run as a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service.models import Assignment, AssignmentProblem, Course, User
from service.services import standings, teaching

#: Longest name/email filter read; anything longer is cut, never an error.
MAX_QUERY_CHARS = 200
_SORT = re.compile(r"^(name|email|total|[ai][0-9]{1,12})$")
_ID = re.compile(r"^[0-9]{1,12}$")


class BadView(ValueError):
    """A query parameter the gradebook cannot read (the caller answers 400)."""


#: One cell: the counted points and the markers (late, exception, overridden, pending).
Cell = standings.Summary


@dataclass(frozen=True)
class Column:
    """One problem of one assignment: a short label for the header, the full title for
    hover and screen readers."""

    assignment_problem: AssignmentProblem
    label: str
    title: str
    #: The assignment problem's id, read once: the page looks it up for every cell.
    id: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", self.assignment_problem.id)


@dataclass(frozen=True)
class Group:
    """An assignment and its (active) problem columns."""

    assignment: Assignment
    label: str
    columns: tuple[Column, ...]

    @property
    def title(self) -> str:
        return self.assignment.title

    def possible(self) -> float:
        return sum(c.assignment_problem.points for c in self.columns)


@dataclass(frozen=True)
class View:
    """What one gradebook request shows; read from (and written back to) its query string."""

    assignment_id: int | None = None
    problems: bool = False
    sort: str = "name"
    descending: bool = False
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> View:
        """Read the query string. A malformed ``assignment_id`` is refused (BadView); an
        unknown sort or direction is ignored, and the filter is cut to MAX_QUERY_CHARS."""
        raw_id = (args.get("assignment_id") or "").strip()
        if raw_id and not _ID.match(raw_id):
            raise BadView("assignment_id must be the id of an assignment of this course.")
        sort = (args.get("sort") or "name").strip()
        return cls(
            assignment_id=int(raw_id) if raw_id else None,
            problems=args.get("show") == "problems",
            sort=sort if _SORT.match(sort) else "name",
            descending=args.get("dir") == "desc",
            q=(args.get("q") or "").strip()[:MAX_QUERY_CHARS],
        )

    def args(self, **changes: object) -> dict[str, str]:
        """The query parameters of this view with ``changes`` applied (for links), leaving
        out the defaults so URLs stay short."""
        view = replace(self, **changes)  # type: ignore[arg-type]
        out: dict[str, str] = {}
        if view.assignment_id is not None:
            out["assignment_id"] = str(view.assignment_id)
        if view.problems and view.assignment_id is None:
            out["show"] = "problems"
        if view.sort != "name":
            out["sort"] = view.sort
        if view.descending:
            out["dir"] = "desc"
        if view.q:
            out["q"] = view.q
        return out

    def sorted_by(self, key: str) -> dict[str, str]:
        """The link of a column header: sort by it, or flip the direction if already."""
        return self.args(sort=key, descending=(self.sort == key and not self.descending))


@dataclass
class Row:
    student: User
    cells: dict[int, Cell] = field(default_factory=dict)

    def points(self, columns: Sequence[Column]) -> float:
        """Points over ``columns`` (a missing or ungraded cell counts 0)."""
        return sum((c.points or 0.0) for col in columns if (c := self.cells.get(col.id)))


@dataclass
class Gradebook:
    course: Course
    view: View
    groups: list[Group]
    rows: list[Row]
    #: Students enrolled, before the name/email filter.
    enrolled: int = 0
    #: Every assignment of the course (for the view selector), shown or not.
    every_group: list[Group] = field(default_factory=list)

    @property
    def columns(self) -> list[Column]:
        return [c for g in self.groups for c in g.columns]

    @property
    def assignment_problems(self) -> list[AssignmentProblem]:
        return [c.assignment_problem for c in self.columns]

    @property
    def shows_problems(self) -> bool:
        """Per-problem columns: always for one assignment, on request for the course."""
        return self.view.assignment_id is not None or self.view.problems

    def possible(self) -> float:
        return sum(g.possible() for g in self.groups)

    def group(self, assignment_id: int) -> Group | None:
        return next((g for g in self.groups if g.assignment.id == assignment_id), None)


def groups_of(course: Course) -> list[Group]:
    """Every assignment of the course, labelled A1, A2, … in course order, and its problems
    labelled A2·1, A2·2, … by their position (the # the course page shows)."""
    groups = []
    for n, assignment in enumerate(course.assignments, start=1):
        label = f"A{n}"
        columns = tuple(
            Column(ap, f"{label}·{ap.position}", column_name(ap))
            for ap in assignment.assignment_problems
        )
        groups.append(Group(assignment, label, columns))
    return groups


def build(session: Session, course: Course, view: View | None = None) -> Gradebook:
    """The gradebook of ``course`` as ``view`` asks: its columns, and one row per enrolled
    student matching the filter, sorted. Raises BadView for an assignment not in the course."""
    view = view or View()
    # The columns' assignments, items and problems in three queries, not one per column
    # (loaded onto ``course``, which holds them: the session keeps no object on its own).
    session.scalars(
        select(Course)
        .where(Course.id == course.id)
        .options(
            selectinload(Course.assignments)
            .selectinload(Assignment.assignment_problems)
            .selectinload(AssignmentProblem.problem)
        )
    ).one()
    every_group = groups_of(course)
    groups = every_group
    if view.assignment_id is not None:
        groups = [g for g in every_group if g.assignment.id == view.assignment_id]
        if not groups:
            raise BadView(f"The course has no assignment {view.assignment_id}.")
    people = teaching.students(session, course)
    enrolled = len(people)
    if view.q:
        needle = view.q.casefold()
        people = [u for u in people if needle in u.name.casefold() or needle in u.email.casefold()]
    columns = [c for g in groups for c in g.columns]
    cells = _cells(session, [c.assignment_problem for c in columns], [u.id for u in people])
    rows = []
    for user in people:
        row = Row(user)
        for column in columns:
            cell = cells.get((user.id, column.id))
            if cell is not None:
                row.cells[column.id] = cell
        rows.append(row)
    book = Gradebook(course, view, groups, rows, enrolled, every_group)
    _sort(book)
    return book


def _cells(
    session: Session, assignment_problems: Sequence[AssignmentProblem], user_ids: Sequence[int]
) -> dict[tuple[int, int], Cell]:
    """One Cell per (student, problem): the points that count, as services/standings
    decides them for the student page and the LMS too (score policy, overrides)."""
    return standings.summaries(session, assignment_problems, user_ids)


def _sort(book: Gradebook) -> None:
    """Sort the rows by the view's key; students without a value go last either way."""
    view = book.view
    book.rows.sort(key=lambda r: (r.student.name.casefold(), r.student.email.casefold()))
    if view.sort == "name":
        if view.descending:
            book.rows.reverse()
        return
    if view.sort == "email":
        book.rows.sort(key=lambda r: r.student.email.casefold(), reverse=view.descending)
        return
    value = _sort_value(book, view.sort)
    if value is None:  # a column this view does not show: keep the name order
        return
    present = [r for r in book.rows if value(r) is not None]
    missing = [r for r in book.rows if value(r) is None]
    present.sort(key=lambda r: value(r) or 0.0, reverse=view.descending)
    book.rows[:] = present + missing


def _sort_value(book: Gradebook, key: str) -> Callable[[Row], float | None] | None:
    """How to read the sort key from a row; None for a column this view does not show."""
    if key == "total":
        columns = book.columns
        return lambda r: r.points(columns)
    if key.startswith("a"):
        group = book.group(int(key[1:]))
        if group is None:
            return None
        return lambda r: r.points(group.columns)
    item_id = int(key[1:])
    if not any(c.id == item_id for c in book.columns):
        return None
    return lambda r: c.points if (c := r.cells.get(item_id)) else None


def column_name(assignment_problem: AssignmentProblem) -> str:
    placed = assignment_problem
    return f"{placed.assignment.title} / {placed.position}. {placed.problem.title}"


def number(value: float | None) -> str:
    """Points as the CSV writes them: always two decimals, blank for "no attempt"."""
    return "" if value is None else f"{value + 0.0:.2f}"


def _text(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def to_csv(book: Gradebook) -> str:
    """One row per student: each problem's cell, each assignment's total, the total."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = ["student", "email"]
    for column in book.columns:
        name = column.title
        header += [
            f"{name}: points",
            f"{name}: out of",
            f"{name}: attempts",
            f"{name}: last submitted (UTC)",
            f"{name}: late",
            f"{name}: exception",
            f"{name}: overridden",
            f"{name}: pending",
        ]
    for group in book.groups:
        header += [f"{group.title}: total points", f"{group.title}: total possible"]
    header += ["total points", "total possible"]
    writer.writerow([_text(h) for h in header])
    # Read once, not once per student: the columns' points and the totals possible.
    columns = [(c.id, c.assignment_problem.points) for c in book.columns]
    groups = [(g.columns, number(g.possible())) for g in book.groups]
    every_column, possible = book.columns, number(book.possible())
    blank = Cell()
    for row in book.rows:
        line: list[object] = [_text(row.student.name), _text(row.student.email)]
        for item, points in columns:
            cell = row.cells.get(item) or blank
            last_at = cell.last_at
            line += [
                number(cell.points),
                number(points if cell.possible is None else cell.possible),
                cell.attempts,
                # isoformat is strftime's "%Y-%m-%d %H:%M:%S" at a fraction of the cost.
                last_at.replace(tzinfo=None).isoformat(" ", "seconds") if last_at else "",
                _yes(cell.late),
                _yes(cell.exception),
                _yes(cell.overridden),
                _yes(cell.pending),
            ]
        for group_columns, group_possible in groups:
            line += [number(row.points(group_columns)), group_possible]
        line += [number(row.points(every_column)), possible]
        writer.writerow(line)
    return "\ufeff" + out.getvalue()
