"""Problems travel: export a course's problems as YAML files, import such files as drafts.

An export holds the exact stored text of every problem version the course's assignments
use (built-in and authored, archived items included: students' work refers to them), one
file per version, and a manifest (slug, version, title, status, sha256). Instructors'
drafts that no assignment uses stay out: a draft is its author's alone (see
``authoring.visible_query``) and the course's co-instructors may not read it.

An import is all-or-nothing: every file is checked first (every error ``problem_bank.diagnose``
finds, with file and line, those found by drawing variants included, as the editor's save
refuses them), then the whole plan (a slug that exists here with other text must be the importer's
to get a new version), and only then is anything stored, through ``authoring.create`` and
``authoring.new_version`` so the editor's rules apply unchanged. Imported versions are
drafts: the importer self-tests and publishes them as any other. A file whose text is
already stored (apart from its version number) is skipped, so a repeated import changes
nothing. Version numbers follow this installation's history (a problem new here starts at
version 1); the version does not enter the draw, so a seed gives the same data.
"""

from __future__ import annotations

import enum
import hashlib
import io
import json
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import problem_bank
from problem_bank import MAX_SPEC_BYTES
from problem_bank.cli import SPEC_SUFFIXES
from problem_bank.yaml_lines import YamlError, line_for, load_with_lines
from service.models import Assignment, AssignmentProblem, Course, Problem, User
from service.services import access, authoring

#: Most files one import takes (a course has a few dozen problems at most).
MAX_FILES = 200
#: Most bytes one import takes, all files together (each also ≤ problem_bank.MAX_SPEC_BYTES).
MAX_TOTAL_BYTES = 4 * 1024 * 1024
#: Seconds one file's checks that draw variants may take (problem_bank.diagnose's default).
DIAGNOSE_SECONDS = 5.0
#: Seconds all the files' checks that draw variants may take together (as in the editor, an
#: error found by drawing, such as a misconception equal to the answer, blocks the import).
DRAW_SECONDS = 30.0
#: The manifest's name inside an export (never read back as a spec).
MANIFEST = "manifest.json"
_VERSION_LINE = re.compile(r"^version:", re.MULTILINE)


# ------------------------------------------------------------------ export


@dataclass(frozen=True)
class ExportedFile:
    """One problem version as a file of an export."""

    filename: str
    slug: str
    version: int
    title: str
    status: str
    builtin: bool
    sha256: str
    spec: str

    def manifest_entry(self) -> dict[str, object]:
        return {
            "filename": self.filename,
            "slug": self.slug,
            "version": self.version,
            "title": self.title,
            "status": self.status,
            "builtin": self.builtin,
            "sha256": self.sha256,
        }


def course_problems(session: Session, course: Course) -> list[Problem]:
    """Every problem version an assignment of the course uses, by slug and version."""
    query = (
        select(Problem)
        .join(AssignmentProblem, AssignmentProblem.problem_id == Problem.id)
        .join(Assignment, Assignment.id == AssignmentProblem.assignment_id)
        .where(Assignment.course_id == course.id)
        .distinct()
        .order_by(Problem.slug, Problem.version)
    )
    return list(session.scalars(query))


def filename(slug: str, version: int) -> str:
    """``slug.vN.yaml``: a slug is ``[a-z][a-z0-9_]*``, so the name is safe anywhere."""
    return f"{slug}.v{version}.yaml"


def export(session: Session, course: Course) -> list[ExportedFile]:
    """The course's problems as files: the stored text byte for byte, and its sha256."""
    return [
        ExportedFile(
            filename=filename(p.slug, p.version),
            slug=p.slug,
            version=p.version,
            title=p.title,
            status=p.status.value,
            builtin=p.builtin,
            sha256=hashlib.sha256(p.spec_text.encode("utf-8")).hexdigest(),
            spec=p.spec_text,
        )
        for p in course_problems(session, course)
    ]


def manifest(course: Course, files: Sequence[ExportedFile]) -> str:
    """The export's manifest.json: what each file is, and a checksum of its text."""
    body = {
        "course": {"code": course.code, "title": course.title},
        "problems": [f.manifest_entry() for f in files],
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def to_zip(course: Course, files: Sequence[ExportedFile]) -> bytes:
    """The export as one zip: every spec file and the manifest, at the top level."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for f in files:
            archive.writestr(f.filename, f.spec)
        archive.writestr(MANIFEST, manifest(course, files))
    return buffer.getvalue()


# ------------------------------------------------------------------ import


@dataclass(frozen=True)
class SpecFile:
    """A spec to import: its name (for messages only) and its text."""

    name: str
    text: str


@dataclass(frozen=True)
class FileProblem:
    """What is wrong with one file of an import, and where."""

    file: str
    message: str
    line: int | None = None
    field: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ImportRefused(ValueError):
    """Nothing was imported; ``problems`` lists every reason, by file and line."""

    def __init__(self, problems: Sequence[FileProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = list(problems)


class NotInstructor(PermissionError):
    """The importer does not teach the course (or may not write problems at all)."""


class Action(enum.StrEnum):
    created = "created"
    new_version = "new version"
    unchanged = "unchanged"


@dataclass(frozen=True)
class Imported:
    """What happened to one file: stored as ``slug`` version ``version`` (or already was)."""

    file: str
    slug: str
    version: int
    action: Action
    problem_id: int

    def __str__(self) -> str:
        if self.action == Action.unchanged:
            return f"{self.file}: skipped, {self.slug} v{self.version} has the same text"
        return (
            f"{self.file}: {self.action} {self.slug} v{self.version} (draft, id {self.problem_id})"
        )


@dataclass(frozen=True)
class _Step:
    file: SpecFile
    slug: str
    version: int
    action: Action
    problem_id: int = 0


def import_problems(
    session: Session, user: User, course: Course, files: Sequence[SpecFile]
) -> list[Imported]:
    """Store every file as a draft owned by ``user``, or nothing (:class:`ImportRefused`;
    :class:`NotInstructor` when ``user`` may not).

    ``user`` must teach ``course`` (the problem bank is shared by every course; the course
    says on whose behalf the problems come in, as the web pages and API require).
    """
    if not access.teaches(session, user, course.id):
        raise NotInstructor(f"{user.email} is not an instructor of {course.code}")
    if not access.is_author(user):
        raise NotInstructor(
            f"{user.email} may not write problems: that needs the instructor site role, "
            "which an admin gives"
        )
    specs = _checked(files)
    steps = _plan(session, user, specs)
    return _apply(session, user, steps)


def check_limits(files: Sequence[SpecFile]) -> list[FileProblem]:
    """The import's size limits: at most MAX_FILES files and MAX_TOTAL_BYTES in all."""
    problems = []
    if not files:
        problems.append(FileProblem("import", "no spec files to import"))
    if len(files) > MAX_FILES:
        problems.append(
            FileProblem("import", f"{len(files)} files: at most {MAX_FILES} go in one import")
        )
    total = sum(len(f.text.encode("utf-8", "surrogatepass")) for f in files)
    if total > MAX_TOTAL_BYTES:
        problems.append(
            FileProblem(
                "import",
                f"{total:,} bytes in all: at most {MAX_TOTAL_BYTES:,} go in one import",
            )
        )
    return problems


def read_zip(data: bytes, name: str = "upload") -> list[SpecFile]:
    """The spec files of an uploaded zip (an export, or any flat zip of .yaml/.yml files).

    Nothing is written to disk: names only label the files. A member in a folder, with
    ``..`` or a drive in its name, an encrypted one, or one that unpacks past
    MAX_SPEC_BYTES is refused, and no member is read past that limit whatever its header
    claims, so a zip bomb costs at most MAX_TOTAL_BYTES. The manifest is skipped.
    ``name`` labels what concerns the zip as a whole.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise ImportRefused([FileProblem(name, "not a zip file")]) from None
    if len(members) > MAX_FILES + 1:
        raise ImportRefused(
            [FileProblem(name, f"{len(members)} files: at most {MAX_FILES} go in one import")]
        )
    files: list[SpecFile] = []
    problems: list[FileProblem] = []
    total = 0
    for member in members:
        refusal = _member_refusal(member)
        if member.filename == MANIFEST and refusal is None:
            continue
        if refusal is not None:
            problems.append(FileProblem(member.filename, refusal))
            continue
        try:
            with archive.open(member) as stream:
                raw = stream.read(MAX_SPEC_BYTES + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as error:
            problems.append(FileProblem(member.filename, f"cannot be unpacked: {error}"))
            continue
        except zlib.error:
            problems.append(FileProblem(member.filename, "cannot be unpacked: damaged data"))
            continue
        if len(raw) > MAX_SPEC_BYTES:
            problems.append(FileProblem(member.filename, f"unpacks past {MAX_SPEC_BYTES:,} bytes"))
            continue
        total += len(raw)
        if total > MAX_TOTAL_BYTES:
            problems.append(FileProblem(name, f"unpacks past {MAX_TOTAL_BYTES:,} bytes"))
            break
        try:
            files.append(SpecFile(member.filename, raw.decode("utf-8")))
        except UnicodeDecodeError:
            problems.append(FileProblem(member.filename, "not UTF-8 text"))
    if problems:
        raise ImportRefused(problems)
    return files


def _member_refusal(member: zipfile.ZipInfo) -> str | None:
    """Why a zip member is not taken as a spec file (None: it is)."""
    name = member.filename
    if "/" in name or "\\" in name or ".." in name or ":" in name or not name.strip():
        return "a spec file must sit at the top of the zip, its name without folders or '..'"
    if member.flag_bits & 0x1:
        return "encrypted files are not taken"
    if name != MANIFEST and not name.endswith(SPEC_SUFFIXES):
        return "only .yaml and .yml files (and manifest.json) are taken"
    if member.file_size > MAX_SPEC_BYTES:
        return f"{member.file_size:,} bytes unpacked: a spec is at most {MAX_SPEC_BYTES:,}"
    return None


def _checked(files: Sequence[SpecFile]) -> list[tuple[SpecFile, problem_bank.ProblemSpec]]:
    """Each file with its parsed spec; every diagnostic of every file if any is an error."""
    problems = check_limits(files)
    if problems:
        raise ImportRefused(problems)
    seconds = min(DIAGNOSE_SECONDS, DRAW_SECONDS / len(files))
    specs: list[tuple[SpecFile, problem_bank.ProblemSpec]] = []
    where: dict[tuple[str, int], str] = {}
    for f in files:
        found = problem_bank.diagnose(f.text, seconds=seconds)
        errors = [d for d in found if d.severity == "error"]
        problems += [FileProblem(f.name, d.message, d.line, d.field) for d in errors]
        if errors:
            continue
        try:
            spec = problem_bank.parse_spec(f.text)
        except problem_bank.SpecError as error:  # diagnose and parse_spec disagree: trust both
            problems.append(FileProblem(f.name, error.reason, error.line, error.field))
            continue
        key = (spec.id, spec.version)
        if key in where:
            problems.append(
                FileProblem(
                    f.name,
                    f"{spec.id} version {spec.version} is also in {where[key]}",
                    _line(f.text, "version"),
                    "version",
                )
            )
            continue
        where[key] = f.name
        specs.append((f, spec))
    if problems:
        raise ImportRefused(problems)
    return specs


def _plan(
    session: Session, user: User, specs: list[tuple[SpecFile, problem_bank.ProblemSpec]]
) -> list[_Step]:
    """What each file becomes here, checked against what is stored, before any write."""
    steps: list[_Step] = []
    problems: list[FileProblem] = []
    by_slug: dict[str, list[tuple[SpecFile, problem_bank.ProblemSpec]]] = {}
    for f, spec in sorted(specs, key=lambda pair: (pair[1].id, pair[1].version)):
        by_slug.setdefault(spec.id, []).append((f, spec))
    for slug, group in by_slug.items():
        rows = list(
            session.scalars(select(Problem).where(Problem.slug == slug).order_by(Problem.version))
        )
        known = {_body(r.spec_text): (r.version, r.id) for r in rows}
        next_version = rows[-1].version + 1 if rows else 1
        for f, spec in group:
            body = _body(f.text)
            if body in known:
                version, problem_id = known[body]
                steps.append(_Step(f, slug, version, Action.unchanged, problem_id))
                continue
            if rows and not authoring.can_edit(user, rows[-1]):
                problems.append(
                    FileProblem(
                        f.name,
                        f"problem {slug!r} exists here with other text and "
                        f"{_owner(rows[-1])}, so {user.email} cannot add a version: "
                        "change the id to import it as a new problem",
                        _line(f.text, "id"),
                        "id",
                    )
                )
                continue
            if _VERSION_LINE.search(f.text) is None and spec.version != next_version:
                problems.append(
                    FileProblem(
                        f.name,
                        f"it becomes version {next_version} here: write 'version:' at the "
                        "start of a line of its own so it can be renumbered",
                        None,
                        "version",
                    )
                )
                continue
            action = Action.created if next_version == 1 else Action.new_version
            steps.append(_Step(f, slug, next_version, action))
            known[body] = (next_version, 0)
            next_version += 1
    if problems:
        raise ImportRefused(problems)
    return steps


def _apply(session: Session, user: User, steps: list[_Step]) -> list[Imported]:
    """Store the plan with authoring's own calls, in one transaction: if one is refused
    (something changed here since the plan: another import or an edit of the same slug),
    nothing of this import is stored."""
    done: list[Imported] = []
    ids: dict[tuple[str, int], int] = {}  # of the rows made here, for a file repeating one
    for step in steps:
        if step.action == Action.unchanged:
            problem_id = step.problem_id or ids[(step.slug, step.version)]
            done.append(Imported(step.file.name, step.slug, step.version, step.action, problem_id))
            continue
        text = with_version(step.file.text, step.version)
        try:
            if step.action == Action.created:
                row = authoring.create(session, user, text, commit=False)
            else:
                base = session.scalar(
                    select(Problem)
                    .where(Problem.slug == step.slug)
                    .order_by(Problem.version.desc())
                    .limit(1)
                )
                assert base is not None  # the plan saw a row, or made one just before
                row = authoring.new_version(session, user, base, text, commit=False)
        except (authoring.Refused, IntegrityError) as error:
            session.rollback()
            where = error.problem if isinstance(error, authoring.Refused) else None
            raise ImportRefused(
                [
                    FileProblem(
                        step.file.name,
                        f"{where.message if where else 'the problem changed here meanwhile'}; "
                        "nothing was imported, try again",
                        where.line if where else None,
                        where.field if where else "",
                    )
                ]
            ) from None
        ids[(row.slug, row.version)] = row.id
        done.append(Imported(step.file.name, row.slug, row.version, step.action, row.id))
    session.commit()
    return done


def with_version(text: str, version: int) -> str:
    """The spec text with its top-level ``version:`` line set to ``version`` (unchanged
    when it already says so), every other byte as it was."""
    if problem_bank.parse_spec(text).version == version:
        return text
    return authoring.with_key(text, "version", str(version))


def _body(text: str) -> str:
    """The text without its top-level version line: what "the same problem" compares."""
    return "".join(line for line in text.splitlines(keepends=True) if not _VERSION_LINE.match(line))


def _owner(row: Problem) -> str:
    if row.builtin:
        return "is a built-in problem"
    return "belongs to another author"


def _line(text: str, key: str) -> int | None:
    """The line of a top-level key, to point an error at it."""
    try:
        _data, lines = load_with_lines(text)
    except YamlError:
        return None
    return line_for(lines, [key])
