"""The gradebook: students × problems, the points that count, last submission time, late flags.

The CSV export is meant to open cleanly in a spreadsheet: UTF-8 with a byte-order mark
(so Excel reads accents), CRLF line ends, one header row, plain numbers, ISO times in
UTC, and text cells that begin with = + - @ prefixed with ' so a name is never run as a
formula.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from service.models import AssignmentProblem, Course, User
from service.services import standings, teaching


@dataclass
class Cell:
    points: float | None = None
    possible: float | None = None
    attempts: int = 0
    last_at: datetime | None = None
    late: bool = False
    pending: bool = False


@dataclass
class Row:
    student: User
    cells: dict[int, Cell] = field(default_factory=dict)

    def total(self) -> float:
        return sum(c.points or 0.0 for c in self.cells.values())


@dataclass
class Gradebook:
    course: Course
    assignment_problems: list[AssignmentProblem]
    rows: list[Row]

    def possible(self) -> float:
        return sum(assignment_problem.points for assignment_problem in self.assignment_problems)


def build(session: Session, course: Course) -> Gradebook:
    """Every student × every problem, each cell the points that count (services/standings)."""
    assignment_problems = [
        assignment_problem
        for a in course.assignments
        for assignment_problem in a.assignment_problems
    ]
    people = teaching.students(session, course)
    rows = {u.id: Row(u) for u in people}
    found = standings.standings(session, assignment_problems, list(rows))
    for (user_id, assignment_problem_id), standing in found.items():
        if not standing.versions:
            continue
        rows[user_id].cells[assignment_problem_id] = Cell(
            points=standing.points,
            possible=standing.possible,
            attempts=len(standing.attempts),
            last_at=standing.last_at,
            late=standing.late,
            pending=standing.pending,
        )
    return Gradebook(course, assignment_problems, list(rows.values()))


def column_name(assignment_problem: AssignmentProblem) -> str:
    placed = assignment_problem
    return f"{placed.assignment.title} / {placed.position}. {placed.problem.title}"


def _text(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(book: Gradebook) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = ["student", "email"]
    for assignment_problem in book.assignment_problems:
        name = column_name(assignment_problem)
        header += [
            f"{name}: points",
            f"{name}: out of",
            f"{name}: attempts",
            f"{name}: last submitted (UTC)",
            f"{name}: late",
        ]
    header += ["total points", "total possible"]
    writer.writerow([_text(h) for h in header])
    for row in book.rows:
        line: list[object] = [_text(row.student.name), _text(row.student.email)]
        for assignment_problem in book.assignment_problems:
            cell = row.cells.get(assignment_problem.id, Cell())
            line += [
                "" if cell.points is None else round(cell.points, 4),
                round(cell.possible if cell.possible is not None else assignment_problem.points, 4),
                cell.attempts,
                cell.last_at.strftime("%Y-%m-%d %H:%M:%S") if cell.last_at else "",
                "yes" if cell.late else "no",
            ]
        line += [round(row.total(), 4), round(book.possible(), 4)]
        writer.writerow(line)
    return "\ufeff" + out.getvalue()
