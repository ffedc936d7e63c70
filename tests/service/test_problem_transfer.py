"""Export a course's problems and import them elsewhere: exact texts, all-or-nothing,
every error by file and line, idempotent, and the same variant at a seed afterwards."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from sqlalchemy import select

import problem_bank
from service import migrate
from service.db import make_engine, make_session_factory
from service.models import Course, Problem, ProblemStatus, Role, User
from service.services import authoring
from service.services import problem_transfer as transfer
from service.services.problems import sync_builtin
from tests.hostile_yaml import HOSTILE_YAML
from tests.service import transfer_world
from tests.service.transfer_world import (
    SLUG,
    authored_text,
    builtin_text,
    course_with_problems,
    instructor,
    problem_count,
)


def _files(exported: list[transfer.ExportedFile]) -> list[transfer.SpecFile]:
    return [transfer.SpecFile(f.filename, f.spec) for f in exported]


def _variant(text: str, seed: int = 7) -> problem_bank.Variant:
    return problem_bank.generate(problem_bank.parse_spec(text), seed)


@pytest.fixture
def fresh_postgres(postgres_url):
    """Another installation: a brand-new PostgreSQL database at the newest schema."""
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    with make_session_factory(engine)() as session:
        sync_builtin(session)
        session.commit()
        yield session
    engine.dispose()


def test_export_is_every_version_the_assignments_use_with_exact_text(db_session):
    course, _teacher = course_with_problems(db_session)
    exported = transfer.export(db_session, course)
    assert [(f.slug, f.version) for f in exported] == [
        (SLUG, 1),
        (SLUG, 2),
        ("simple_regression", 1),
    ]  # the unused draft v3 stays with its author
    assert [f.filename for f in exported][:2] == [f"{SLUG}.v1.yaml", f"{SLUG}.v2.yaml"]
    assert exported[1].spec == authored_text(2, "Lizards, again")
    assert exported[2].spec == builtin_text() and exported[2].builtin
    assert exported[0].sha256 == hashlib.sha256(exported[0].spec.encode()).hexdigest()
    manifest = json.loads(transfer.manifest(course, exported))
    assert manifest["problems"][1] == {
        "filename": f"{SLUG}.v2.yaml",
        "slug": SLUG,
        "version": 2,
        "title": "Lizards, again",
        "status": "draft",
        "builtin": False,
        "sha256": exported[1].sha256,
    }
    archive = zipfile.ZipFile(io.BytesIO(transfer.to_zip(course, exported)))
    assert sorted(archive.namelist()) == sorted([f.filename for f in exported] + ["manifest.json"])
    assert archive.read(f"{SLUG}.v2.yaml").decode() == exported[1].spec


def test_round_trip_into_a_fresh_installation_generates_the_same_variant(
    db_session, fresh_postgres
):
    course, _teacher = course_with_problems(db_session)
    exported = transfer.export(db_session, course)
    other = Course(code="TRAVEL-B", title="Elsewhere")
    fresh_postgres.add(other)
    importer = instructor(fresh_postgres, "new@b.test", other)

    done = transfer.import_problems(fresh_postgres, importer, other, _files(exported))
    assert [(d.slug, d.version, d.action) for d in done] == [
        (SLUG, 1, transfer.Action.created),
        (SLUG, 2, transfer.Action.new_version),
        ("simple_regression", 1, transfer.Action.unchanged),
    ]
    rows = fresh_postgres.scalars(select(Problem).where(Problem.slug == SLUG)).all()
    assert [(r.version, r.status, r.created_by_id) for r in rows] == [
        (1, ProblemStatus.draft, importer.id),
        (2, ProblemStatus.draft, importer.id),
    ]
    assert [r.spec_text for r in rows] == [f.spec for f in exported[:2]]
    for row, source in zip(rows, exported, strict=False):
        here, there = _variant(row.spec_text), _variant(source.spec)
        assert (here.data_csv, here.output) == (there.data_csv, there.output)

    count = problem_count(fresh_postgres)
    again = transfer.import_problems(fresh_postgres, importer, other, _files(exported))
    assert {d.action for d in again} == {transfer.Action.unchanged}
    assert [d.problem_id for d in again] == [d.problem_id for d in done]
    assert problem_count(fresh_postgres) == count


def test_a_version_new_here_is_renumbered_and_its_seed_still_draws_the_same(db_session):
    course = Course(code="TRAVEL-C", title="C")
    db_session.add(course)
    teacher = instructor(db_session, "c@c.test", course)
    text = authored_text(3)
    (done,) = transfer.import_problems(db_session, teacher, course, [transfer.SpecFile("x", text)])
    stored = db_session.get(Problem, done.problem_id)
    assert (done.version, stored.version) == (1, 1)
    assert stored.spec_text == text.replace("version: 3", "version: 1")
    assert _variant(stored.spec_text).data_csv == _variant(text).data_csv
    (again,) = transfer.import_problems(db_session, teacher, course, [transfer.SpecFile("x", text)])
    assert again.action == transfer.Action.unchanged and again.problem_id == stored.id


def test_one_broken_file_imports_nothing_and_every_error_has_file_and_line(db_session):
    course = Course(code="TRAVEL-D", title="D")
    db_session.add(course)
    teacher = instructor(db_session, "d@d.test", course)
    before = problem_count(db_session)
    files = [
        transfer.SpecFile("good.yaml", authored_text()),
        transfer.SpecFile(
            "bad.yaml",
            authored_text().replace("version: 1", "version: x").replace(f"id: {SLUG}", "id: yes"),
        ),
        transfer.SpecFile("worse.yaml", "id: x\nb: !!python/name:os.system\n"),
    ]
    with pytest.raises(transfer.ImportRefused) as refused:
        transfer.import_problems(db_session, teacher, course, files)
    lines = [str(p) for p in refused.value.problems]
    assert lines[0].startswith("bad.yaml:1: id: YAML reads yes as true (a YAML 1.1 boolean)")
    assert lines[1] == "bad.yaml:3: version: write a whole number, e.g. 3, not 'x'"
    assert lines[2].startswith("worse.yaml:2: ") and "!!python/name:os.system" in lines[2]
    assert len(lines) == 3, lines
    assert problem_count(db_session) == before


@pytest.mark.parametrize(("text", "line", "reason"), HOSTILE_YAML)
def test_hostile_yaml_is_refused_with_its_line(db_session, text, line, reason):
    course = Course(code="TRAVEL-H", title="H")
    db_session.add(course)
    teacher = instructor(db_session, "h@h.test", course)
    with pytest.raises(transfer.ImportRefused) as refused:
        transfer.import_problems(db_session, teacher, course, [transfer.SpecFile("h.yaml", text)])
    (problem,) = refused.value.problems
    assert problem.file == "h.yaml" and problem.line == line and reason in problem.message


def test_a_slug_of_another_author_with_other_text_is_refused(db_session):
    course, _teacher = course_with_problems(db_session)
    newcomer = instructor(db_session, "new@a.test", course)
    changed = authored_text(1, "Lizards, my way")
    before = problem_count(db_session)
    with pytest.raises(transfer.ImportRefused) as refused:
        transfer.import_problems(
            db_session,
            newcomer,
            course,
            [transfer.SpecFile("mine.yaml", changed), transfer.SpecFile("ok.yaml", builtin_text())],
        )
    (problem,) = refused.value.problems
    assert str(problem).startswith(f"mine.yaml:1: id: problem '{SLUG}' exists here with other")
    assert "belongs to another author" in problem.message and "change the id" in problem.message
    assert problem_count(db_session) == before
    built_in = builtin_text().replace("title: Simple linear regression", "title: Mine")
    with pytest.raises(transfer.ImportRefused, match="is a built-in problem"):
        transfer.import_problems(
            db_session, newcomer, course, [transfer.SpecFile("b.yaml", built_in)]
        )


def test_the_author_importing_changed_text_gets_the_next_version(db_session):
    course, teacher = course_with_problems(db_session)
    changed = authored_text(1, "Lizards, revised elsewhere")
    (done,) = transfer.import_problems(
        db_session, teacher, course, [transfer.SpecFile("r.yaml", changed)]
    )
    assert (done.action, done.version) == (transfer.Action.new_version, 4)
    row = db_session.get(Problem, done.problem_id)
    assert row.spec_text == changed.replace("version: 1", "version: 4")
    assert row.status == ProblemStatus.draft and row.created_by_id == teacher.id


def test_the_same_version_twice_in_one_import_is_refused(db_session):
    course = Course(code="TRAVEL-E", title="E")
    db_session.add(course)
    teacher = instructor(db_session, "e@e.test", course)
    files = [
        transfer.SpecFile("a.yaml", authored_text()),
        transfer.SpecFile("b.yaml", authored_text(1, "Other")),
    ]
    with pytest.raises(transfer.ImportRefused) as refused:
        transfer.import_problems(db_session, teacher, course, files)
    assert [str(p) for p in refused.value.problems] == [
        f"b.yaml:3: version: {SLUG} version 1 is also in a.yaml"
    ]


def test_only_an_instructor_of_the_course_may_import(db_session):
    course, _teacher = course_with_problems(db_session)
    elsewhere = Course(code="TRAVEL-F", title="F")
    db_session.add(elsewhere)
    stranger = instructor(db_session, "f@f.test", elsewhere)
    student = User(email="s@a.test", name="S", role=Role.student)
    db_session.add(student)
    db_session.commit()
    for who in (stranger, student):
        with pytest.raises(transfer.NotInstructor, match="is not an instructor of TRAVEL-A"):
            transfer.import_problems(
                db_session, who, course, [transfer.SpecFile("a.yaml", authored_text())]
            )


def test_the_import_limits(db_session, monkeypatch):
    course = Course(code="TRAVEL-G", title="G")
    db_session.add(course)
    teacher = instructor(db_session, "g@g.test", course)
    with pytest.raises(transfer.ImportRefused, match="no spec files"):
        transfer.import_problems(db_session, teacher, course, [])
    many = [transfer.SpecFile(f"{i}.yaml", "id: x\n") for i in range(transfer.MAX_FILES + 1)]
    with pytest.raises(transfer.ImportRefused, match=f"at most {transfer.MAX_FILES} go in"):
        transfer.import_problems(db_session, teacher, course, many)
    huge = authored_text() + "#" * problem_bank.MAX_SPEC_BYTES
    with pytest.raises(transfer.ImportRefused, match=r"^h: the spec is larger than 64 KB$"):
        transfer.import_problems(db_session, teacher, course, [transfer.SpecFile("h", huge)])
    monkeypatch.setattr(transfer, "MAX_TOTAL_BYTES", 1000)
    big = [transfer.SpecFile(f"{i}.yaml", "x" * 600) for i in range(2)]
    with pytest.raises(transfer.ImportRefused, match="1,200 bytes in all: at most 1,000"):
        transfer.import_problems(db_session, teacher, course, big)


def test_a_refusal_while_storing_undoes_what_this_import_stored(db_session, monkeypatch):
    """Another edit may land between the plan and the writes: the import then stores nothing."""
    course = Course(code="TRAVEL-R", title="R")
    db_session.add(course)
    teacher = instructor(db_session, "r@r.test", course)
    before = problem_count(db_session)

    def refuse(*_args, **_kwargs):
        raise authoring.Refused(authoring.SpecProblem("must be 3, the next version", 3, "version"))

    monkeypatch.setattr(authoring, "new_version", refuse)
    files = [
        transfer.SpecFile("one.yaml", authored_text()),
        transfer.SpecFile("two.yaml", authored_text(2, "Two")),
    ]
    with pytest.raises(transfer.ImportRefused) as refused:
        transfer.import_problems(db_session, teacher, course, files)
    assert str(refused.value.problems[0]).startswith("two.yaml:3: version: must be 3")
    assert "nothing was imported" in str(refused.value)
    assert problem_count(db_session) == before


def test_an_error_only_a_draw_shows_blocks_the_import(db_session):
    course = Course(code="TRAVEL-M", title="M")
    db_session.add(course)
    teacher = instructor(db_session, "m@m.test", course)
    spec = transfer_world.misconception_equal_to_answer()
    with pytest.raises(transfer.ImportRefused) as refused:
        transfer.import_problems(db_session, teacher, course, [transfer.SpecFile("m.yaml", spec)])
    (problem,) = refused.value.problems
    assert str(problem).startswith(
        "m.yaml:37: parts[0].misconceptions[0].expression: this misconception gives the answer"
    )
    assert db_session.scalar(select(Problem).where(Problem.slug == SLUG)) is None


def test_two_files_with_the_same_text_store_one_version(db_session):
    """v1 and v2 that differ only in their version line are one problem, stored once."""
    course = Course(code="TRAVEL-S", title="S")
    db_session.add(course)
    teacher = instructor(db_session, "s@s.test", course)
    files = [
        transfer.SpecFile("a.yaml", authored_text(1)),
        transfer.SpecFile("b.yaml", authored_text(2)),
    ]
    first, second = transfer.import_problems(db_session, teacher, course, files)
    assert (first.action, second.action) == (transfer.Action.created, transfer.Action.unchanged)
    assert first.problem_id == second.problem_id and second.version == 1
    assert str(second) == f"b.yaml: skipped, {SLUG} v1 has the same text"


def _zip(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _central_entry(data: bytearray, offset: int, value: int, size: int) -> bytes:
    """The zip with a field of its (first) central directory entry overwritten."""
    central = data.index(b"PK\x01\x02")
    data[central + offset : central + offset + size] = value.to_bytes(size, "little")
    return bytes(data)


def test_an_exported_zip_reads_back_as_its_spec_files(db_session):
    course, _teacher = course_with_problems(db_session)
    exported = transfer.export(db_session, course)
    files = transfer.read_zip(transfer.to_zip(course, exported))
    assert files == _files(exported)  # the manifest is skipped


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ({"../evil.yaml": "id: x\n"}, "../evil.yaml: a spec file must sit at the top of the zip"),
        ({"dir/x.yaml": "id: x\n"}, "dir/x.yaml: a spec file must sit at the top of the zip"),
        ({"/abs.yaml": "id: x\n"}, "/abs.yaml: a spec file must sit at the top of the zip"),
        ({"C:x.yaml": "id: x\n"}, "C:x.yaml: a spec file must sit at the top of the zip"),
        ({"notes.txt": "hello"}, "notes.txt: only .yaml and .yml files (and manifest.json)"),
        ({"bomb.yaml": b"\0" * 10_000_000}, "bomb.yaml: 10,000,000 bytes unpacked: a spec is at"),
        ({"latin.yaml": "title: caf\xe9\n".encode("latin-1")}, "latin.yaml: not UTF-8 text"),
    ],
)
def test_a_zip_member_that_is_not_a_plain_spec_file_is_refused(members, expected):
    with pytest.raises(transfer.ImportRefused) as refused:
        transfer.read_zip(_zip({"fine.yaml": authored_text(), **members}))
    (problem,) = refused.value.problems  # fine.yaml is read
    assert str(problem).startswith(expected)


def test_a_zip_that_lies_about_its_sizes_is_never_read_past_the_limit():
    """The central directory claims 100 bytes for a member that unpacks to 60 KB of data."""
    lying = _central_entry(bytearray(_zip({"liar.yaml": "#" * 60_000})), 24, 100, 4)
    with pytest.raises(transfer.ImportRefused, match=r"liar\.yaml: cannot be unpacked"):
        transfer.read_zip(lying)


def test_what_is_not_a_usable_zip_is_refused():
    with pytest.raises(transfer.ImportRefused, match=r"^upload: not a zip file$"):
        transfer.read_zip(b"PK\x03\x04 but not really")
    with pytest.raises(transfer.ImportRefused, match=r"secret\.yaml: encrypted files"):
        transfer.read_zip(_central_entry(bytearray(_zip({"secret.yaml": "id: x\n"})), 8, 1, 2))
    many = {f"{i}.yaml": "id: x\n" for i in range(transfer.MAX_FILES + 2)}
    with pytest.raises(transfer.ImportRefused, match=f"at most {transfer.MAX_FILES} go in"):
        transfer.read_zip(_zip(many))
