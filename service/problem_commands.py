"""`mixgrade problems …` with the database: authored problems, and export / import.

The library's commands (problem_bank.cli) know built-in problems and spec files only; this
group gives the same commands a lookup of authored problems (by row id, ``slug`` for the
newest version, or ``slug@version``) and the two commands that move a course's problems
between courses and installations (service.services.problem_transfer does the work).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy import select

from problem_bank import MAX_SPEC_BYTES, UnknownProblem
from problem_bank.cli import SPEC_SUFFIXES, use_authored
from problem_bank.cli import problems as library_problems
from service.cli_support import database_session
from service.routing import MAX_ROW_ID

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from service.models import Course
    from service.services.problem_transfer import FileProblem, SpecFile


def authored_text(ref: str) -> tuple[str, str]:
    """(name, spec text) of the stored problem ``ref`` names: an id, slug or slug@version."""
    from service.models import Problem

    slug, at, version = ref.partition("@")
    if _number(ref) is not None:
        where = [Problem.id == _number(ref)]
    elif at and _number(version) is not None:
        where = [Problem.slug == slug, Problem.version == _number(version)]
    elif not at:
        where = [Problem.slug == slug]
    else:
        raise UnknownProblem(f"cannot read {ref!r}: write slug@version, e.g. {slug}@1")
    with database_session() as session:
        row = session.scalar(select(Problem).where(*where).order_by(Problem.version.desc()))
        if row is None:
            raise UnknownProblem(
                f"unknown problem {ref!r}: no built-in, spec file or stored problem has it "
                "(`mixgrade problems list` lists the built-ins)"
            )
        return f"{row.slug} v{row.version} (id {row.id})", row.spec_text


def _number(text: str) -> int | None:
    """A row id or version as written (ASCII digits, within a row id's range), else None."""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ROW_ID else None


@click.group(
    "problems",
    commands=dict(library_problems.commands),
    help="Browse, generate, self-test, validate, export and import problems. PROBLEM is a "
    "built-in id, a spec file, or a stored problem's id, slug (newest version) or slug@version.",
)
@click.pass_context
def problems(ctx: click.Context) -> None:
    use_authored(ctx, authored_text)


def _course(session: Session, ref: str) -> Course:
    from service.models import Course

    number = _number(ref)
    query = select(Course).where(Course.id == number if number else Course.code == ref)
    course = session.scalar(query)
    if course is None:
        raise click.ClickException(f"no course with id or code {ref!r}")
    return course


@problems.command("export")
@click.option("--course", "course_ref", required=True, help="Course id (or code).")
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Folder to write.")
def export_command(course_ref: str, out_dir: str) -> None:
    """Write every problem version the course's assignments use as SLUG.vN.yaml (the stored
    text, byte for byte) and manifest.json (slug, version, title, status, sha256)."""
    from service.services import problem_transfer

    with database_session() as session:
        course = _course(session, course_ref)
        files = problem_transfer.export(session, course)
        manifest = problem_transfer.manifest(course, files)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for f in files:
            (out / f.filename).write_bytes(f.spec.encode("utf-8"))
        (out / problem_transfer.MANIFEST).write_text(manifest, encoding="utf-8", newline="\n")
    except OSError as error:
        raise click.ClickException(
            f"cannot write to {out_dir}: {error.strerror or error}"
        ) from None
    click.echo(f"wrote {len(files)} problems of {course.code} and a manifest to {out}")


@problems.command("import")
@click.argument("paths", nargs=-1, required=True, metavar="DIR_OR_FILES...")
@click.option("--course", "course_ref", required=True, help="Course id (or code).")
@click.option("--as", "email", required=True, help="Email of an instructor of the course.")
def import_command(paths: tuple[str, ...], course_ref: str, email: str) -> None:
    """Validate every spec file (a folder: its *.yaml and *.yml; a zip such as the API's
    export), then store them all as drafts of that instructor, or nothing. A file whose
    text is already stored is skipped; a changed problem becomes its next version if it is
    that instructor's."""
    from service.models import User
    from service.services import problem_transfer as transfer

    files, unreadable = _spec_files(paths)
    with database_session() as session:
        course = _course(session, course_ref)
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"no user with email {email!r}")
        try:
            if unreadable:
                raise transfer.ImportRefused(unreadable)
            done = transfer.import_problems(session, user, course, files)
        except transfer.NotInstructor as refused:
            raise click.ClickException(f"{refused}: nothing was imported") from None
        except transfer.ImportRefused as refused:
            for problem in refused.problems:
                click.echo(f"error: {problem}", err=True)
            raise click.ClickException("nothing was imported") from None
    for imported in done:
        click.echo(str(imported))


def _spec_files(paths: tuple[str, ...]) -> tuple[list[SpecFile], list[FileProblem]]:
    """The files to import, read; and why any could not be (never read past the limit)."""
    from service.services.problem_transfer import FileProblem, ImportRefused, SpecFile, read_zip

    files: list[SpecFile] = []
    unreadable: list[FileProblem] = []
    for name in paths:
        path = Path(name)
        if path.suffix == ".zip" and path.is_file():
            try:
                files += read_zip(path.read_bytes(), name)
            except ImportRefused as refused:
                unreadable += refused.problems
            except OSError as error:
                unreadable.append(FileProblem(name, f"cannot read: {error.strerror}"))
            continue
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file())
            if not found:
                unreadable.append(FileProblem(name, "the folder has no .yaml or .yml files"))
        elif path.is_file():
            found = [path]
        else:
            unreadable.append(FileProblem(name, "no such file or folder"))
            continue
        for file in found:
            try:
                size = file.stat().st_size
                if size > MAX_SPEC_BYTES:
                    unreadable.append(
                        FileProblem(
                            str(file), f"{size:,} bytes: a spec is at most {MAX_SPEC_BYTES:,}"
                        )
                    )
                    continue
                files.append(SpecFile(str(file), file.read_bytes().decode("utf-8")))
            except UnicodeDecodeError:
                unreadable.append(FileProblem(str(file), "not UTF-8 text"))
            except OSError as error:
                unreadable.append(FileProblem(str(file), f"cannot read: {error.strerror}"))
    return files, unreadable
