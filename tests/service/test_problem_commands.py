"""`mixgrade problems …` on a real database: stored problems by id, slug and slug@version,
spec files, export and import, and one clear line (never a traceback) for bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from service import migrate
from service.cli import main
from service.db import make_engine, make_session_factory
from service.models import Course, Problem
from service.services.problems import sync_builtin
from tests.service.transfer_world import (
    SLUG,
    authored_text,
    course_with_problems,
    instructor,
    problem_count,
)


@pytest.fixture
def env(settings, db_session) -> dict[str, str]:
    return {
        "MIXGRADE_INSTANCE": str(settings.instance_dir),
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": settings.database_url,
    }


def _run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["problems", *args], env=env)


def _one_clear_line(result: Result, *needles: str) -> None:
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_generate_check_and_validate_find_stored_problems(db_session, env, tmp_path):
    course_with_problems(db_session)
    v2 = db_session.scalar(select(Problem).where(Problem.slug == SLUG, Problem.version == 2))
    by_id = _run(env, "generate", str(v2.id), "--seed", "5", "--out", str(tmp_path / "id"))
    assert by_id.exit_code == 0, by_id.output + by_id.stderr
    assert by_id.output.strip() == f"wrote {SLUG} v2 seed 5 to {tmp_path / 'id'}"
    variant = json.loads((tmp_path / "id" / "variant.json").read_text())
    assert (variant["problem"], variant["version"], variant["title"]) == (SLUG, 2, "Lizards, again")

    newest = _run(env, "validate", SLUG)
    assert newest.exit_code == 0 and newest.output.startswith(f"ok: {SLUG} v3 ")
    pinned = _run(env, "check", f"{SLUG}@1", "--seeds", "2")
    assert pinned.exit_code == 0, pinned.output + pinned.stderr
    assert pinned.output.startswith("ok")
    assert _run(env, "validate", "simple_regression@1").exit_code == 0

    spec_file = tmp_path / "mine.yaml"
    spec_file.write_text(authored_text(7))
    from_file = _run(env, "validate", str(spec_file))
    assert from_file.exit_code == 0 and from_file.output.startswith(f"ok: {SLUG} v7 ")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["generate", "999999", "--seed", "1", "--out", "{tmp}"], ["unknown problem '999999'"]),
        (["check", f"{SLUG}@9"], [f"unknown problem '{SLUG}@9'"]),
        (["validate", "9" * 30], [f"unknown problem '{'9' * 30}'"]),
        (["validate", f"{SLUG}@{'9' * 30}"], ["write slug@version"]),
        (["validate", "\u00b2"], ["unknown problem '\u00b2'"]),
        (["validate", f"{SLUG}@x"], ["write slug@version"]),
        (["validate", "nobody_wrote_this"], ["unknown problem 'nobody_wrote_this'"]),
        (["validate", "{tmp}/missing.yaml"], ["cannot read", "missing.yaml"]),
        (["validate", "{tmp}/bad.yaml"], ["bad.yaml: line 3: version"]),
    ],
)
def test_bad_problem_references_are_one_line(db_session, env, tmp_path, args, needles):
    course_with_problems(db_session)
    (tmp_path / "bad.yaml").write_text(authored_text().replace("version: 1", "version: x"))
    _one_clear_line(_run(env, *[a.format(tmp=tmp_path) for a in args]), *needles)


def test_a_stored_problem_needs_a_reachable_database(tmp_path):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/nowhere"
    result = _run({"DATABASE_URL": url, "MIXGRADE_INSTANCE": str(tmp_path)}, "validate", "17")
    _one_clear_line(result, "DATABASE_URL")
    built_in = _run({"DATABASE_URL": url}, "validate", "simple_regression")
    assert built_in.exit_code == 0, built_in.stderr


def test_export_then_import_into_a_fresh_installation(db_session, env, tmp_path, postgres_url):
    course, _teacher = course_with_problems(db_session)
    out = tmp_path / "export"
    exported = _run(env, "export", "--course", str(course.id), "--out", str(out))
    assert exported.exit_code == 0, exported.output + exported.stderr
    assert exported.output.strip() == f"wrote 3 problems of TRAVEL-A and a manifest to {out}"
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        f"{SLUG}.v1.yaml",
        f"{SLUG}.v2.yaml",
        "manifest.json",
        "simple_regression.v1.yaml",
    ]
    stored = db_session.scalar(select(Problem).where(Problem.slug == SLUG, Problem.version == 2))
    assert (out / f"{SLUG}.v2.yaml").read_bytes() == stored.spec_text.encode()
    manifest = json.loads((out / "manifest.json").read_text())
    assert next((p["slug"], p["version"]) for p in manifest["problems"]) == (SLUG, 1)

    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    with make_session_factory(engine)() as fresh:
        sync_builtin(fresh)
        other = Course(code="TRAVEL-B", title="Elsewhere")
        fresh.add(other)
        fresh.commit()
        instructor(fresh, "new@b.test", other)
    there = {**env, "DATABASE_URL": postgres_url}
    imported = _run(there, "import", str(out), "--course", "TRAVEL-B", "--as", "new@b.test")
    assert imported.exit_code == 0, imported.output + imported.stderr
    lines = imported.output.splitlines()
    assert lines[0].startswith(f"{out / SLUG}.v1.yaml: created {SLUG} v1 (draft, id ")
    assert lines[1].startswith(f"{out / SLUG}.v2.yaml: new version {SLUG} v2 (draft, id ")
    assert lines[2] == (
        f"{out}/simple_regression.v1.yaml: skipped, simple_regression v1 has the same text"
    )
    again = _run(there, "import", str(out), "--course", "TRAVEL-B", "--as", "new@b.test")
    assert again.exit_code == 0 and again.output.count("skipped") == 3

    for where, folder in ((env, "a"), (there, "b")):
        done = _run(where, "generate", f"{SLUG}@2", "--seed", "11", "--out", str(tmp_path / folder))
        assert done.exit_code == 0, done.stderr
    for name in ("data.csv", "output.txt"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    engine.dispose()


def test_import_of_a_broken_folder_lists_every_error_and_stores_nothing(db_session, env, tmp_path):
    _course, teacher = course_with_problems(db_session)
    (tmp_path / "good.yaml").write_text(authored_text(1, "Fine"))
    (tmp_path / "bad.yaml").write_text(authored_text().replace("version: 1", "version: x"))
    (tmp_path / "ugly.yml").write_text("id: x\nb: !!python/name:os.system\n")
    (tmp_path / "notes.txt").write_text("not a spec, not read")
    before = problem_count(db_session)
    result = _run(env, "import", str(tmp_path), "--course", "TRAVEL-A", "--as", teacher.email)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"error: {tmp_path / 'bad.yaml'}:3: version: ")
    assert errors[1].startswith(f"error: {tmp_path / 'ugly.yml'}:2: ")
    assert errors[-1] == "Error: nothing was imported" and len(errors) == 3
    assert problem_count(db_session) == before


@pytest.mark.parametrize(
    ("paths", "course", "email", "needle"),
    [
        (["{tmp}/none"], "TRAVEL-A", "teacher@travel-a.test", "{tmp}/none: no such file or folder"),
        (["{tmp}/empty"], "TRAVEL-A", "teacher@travel-a.test", "has no .yaml or .yml files"),
        (["{tmp}/ok.yaml"], "NOPE", "teacher@travel-a.test", "no course with id or code 'NOPE'"),
        (["{tmp}/ok.yaml"], "9" * 30, "teacher@travel-a.test", "no course with id or code"),
        (["{tmp}/ok.yaml"], "TRAVEL-A", "who@x.test", "no user with email 'who@x.test'"),
        (["{tmp}/ok.yaml"], "TRAVEL-A", "stranger@x.test", "is not an instructor of TRAVEL-A"),
        (["{tmp}/big.yaml"], "TRAVEL-A", "teacher@travel-a.test", "bytes: a spec is at most"),
        (["{tmp}/latin1.yaml"], "TRAVEL-A", "teacher@travel-a.test", "not UTF-8 text"),
    ],
)
def test_import_refusals_say_why(db_session, env, tmp_path, paths, course, email, needle):
    course_with_problems(db_session)
    instructor(db_session, "stranger@x.test", Course(code="ELSE", title="Else"))
    (tmp_path / "empty").mkdir()
    (tmp_path / "ok.yaml").write_text(authored_text(1, "Fine"))
    (tmp_path / "big.yaml").write_text("#" * 70_000)
    (tmp_path / "latin1.yaml").write_bytes("title: caf\xe9\n".encode("latin-1"))
    before = problem_count(db_session)
    args = [p.format(tmp=tmp_path) for p in paths]
    result = _run(env, "import", *args, "--course", course, "--as", email)
    assert result.exit_code != 0 and "Traceback" not in result.stderr
    assert needle.format(tmp=tmp_path) in result.stderr, result.stderr
    assert problem_count(db_session) == before


def test_export_of_an_unknown_course_or_to_an_unwritable_folder(db_session, env, tmp_path):
    course, _ = course_with_problems(db_session)
    _one_clear_line(
        _run(env, "export", "--course", "404", "--out", str(tmp_path)), "no course with id"
    )
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _one_clear_line(
        _run(env, "export", "--course", str(course.id), "--out", str(blocker / "sub")),
        "cannot write to",
    )


def test_the_command_help_names_every_kind_of_reference():
    result = CliRunner().invoke(main, ["problems", "generate", "--help"])
    assert "slug@version" in result.output and "spec file" in result.output


def test_import_takes_the_zip_the_api_exports(db_session, env, tmp_path):
    from service.services import problem_transfer

    course, teacher = course_with_problems(db_session)
    archive = tmp_path / "course.zip"
    archive.write_bytes(
        problem_transfer.to_zip(course, problem_transfer.export(db_session, course))
    )
    result = _run(env, "import", str(archive), "--course", "TRAVEL-A", "--as", teacher.email)
    assert result.exit_code == 0, result.stderr
    assert result.output.splitlines()[0] == f"{SLUG}.v1.yaml: skipped, {SLUG} v1 has the same text"
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    refused = _run(
        env, "import", str(tmp_path / "bad.zip"), "--course", "TRAVEL-A", "--as", teacher.email
    )
    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        f"error: {tmp_path / 'bad.zip'}: not a zip file",
        "Error: nothing was imported",
    ]
