"""`mixgrade grade`: text and JSON output, exit 2 on bad input without a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from graders.cli import grade
from problem_bank.variant import Misconception
from tests.graders.builders import choice, numeric, variant

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    v = variant(
        numeric(0.236, misconceptions=(Misconception("log_odds", -1.174, "Log-odds!"),)),
        choice("a", weight=3),
    )
    (tmp_path / "variant.json").write_text(json.dumps(v.to_dict()))
    (tmp_path / "answers.json").write_text(json.dumps({"a": "-1.17", "c": "a"}))
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(grade, list(args))


def test_json_output(files: Path) -> None:
    result = run(str(files / "variant.json"), "--answers", str(files / "answers.json"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["score"] == pytest.approx(0.75)
    assert [set(p) for p in data["parts"]] == [
        {"id", "score", "verdict", "misconception", "message"}
    ] * 2
    first, second = data["parts"]
    assert (first["id"], first["verdict"], first["misconception"]) == ("a", "incorrect", "log_odds")
    assert (second["id"], second["score"], second["misconception"]) == ("c", 1.0, None)


def test_text_output(files: Path) -> None:
    result = run(str(files / "variant.json"), "--answers", str(files / "answers.json"))
    assert result.exit_code == 0, result.output
    assert "log_odds" in result.output and "Log-odds!" in result.output
    assert "Total: 0.750" in result.output


def test_directory_argument_finds_variant_json(files: Path) -> None:
    result = run(str(files), "--answers", str(files / "answers.json"), "--json")
    assert result.exit_code == 0


def test_unreadable_answer_is_graded_not_an_error(files: Path) -> None:
    (files / "answers.json").write_text(json.dumps({"a": "1/0"}))
    result = run(str(files / "variant.json"), "--answers", str(files / "answers.json"))
    assert result.exit_code == 0
    assert "unreadable" in result.output and "would not use an attempt" in result.output


@pytest.mark.parametrize(
    ("variant_text", "answers_text", "says"),
    [
        (None, '{"a": "1"}', "variant file not found"),
        ("{", '{"a": "1"}', "not valid JSON"),
        ('{"title": "x"}', '{"a": "1"}', "is not a variant"),
        ("[1, 2]", '{"a": "1"}', "is not a variant"),
        ('{"parts": [{"id": "a"}]}', '{"a": "1"}', "not a valid variant"),
        ("VALID", None, "answers file not found"),
        ("VALID", "not json", "not valid JSON"),
        ("VALID", '["0.3"]', "must hold a JSON object"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    files: Path, variant_text: str | None, answers_text: str | None, says: str
) -> None:
    variant_path, answers_path = files / "v.json", files / "ans.json"
    if variant_text == "VALID":
        variant_path = files / "variant.json"
    elif variant_text is not None:
        variant_path.write_text(variant_text)
    if answers_text is not None:
        answers_path.write_text(answers_text)
    result = run(str(variant_path), "--answers", str(answers_path))
    assert result.exit_code == 2
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_unknown_part_kind_exits_2(files: Path) -> None:
    data = json.loads((files / "variant.json").read_text())
    data["parts"][0]["kind"] = "essay"
    (files / "variant.json").write_text(json.dumps(data))
    result = run(str(files / "variant.json"), "--answers", str(files / "answers.json"))
    assert result.exit_code == 2
    assert "unknown answer kind" in result.stderr


def test_real_process(files: Path) -> None:
    command = [sys.executable, "-m", "graders.cli", str(files / "variant.json")]
    ok = subprocess.run(
        [*command, "--answers", str(files / "answers.json"), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["score"] == pytest.approx(0.75)
    bad = subprocess.run(
        [*command, "--answers", str(files / "missing.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr
