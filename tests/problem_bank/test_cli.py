"""`problems …` commands: outputs, and one-line errors with exit code 2 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from problem_bank.cli import problems

SPECS = Path(__file__).resolve().parents[2] / "problem_bank" / "specs"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_list_json(runner: CliRunner) -> None:
    result = runner.invoke(problems, ["list", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert {"id", "title", "version", "topic"} <= set(rows[0])
    assert "simple_regression" in [r["id"] for r in rows]


def test_generate_writes_every_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        problems, ["generate", "logistic_cod", "--seed", "3", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    for name in ("data.csv", "output.txt", "fit.R", "fit.py", "variant.json", "plot.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    data = json.loads((tmp_path / "variant.json").read_text())
    assert (data["problem"], data["version"], data["seed"]) == ("logistic_cod", 3, 3)
    part = data["parts"][0]
    assert {"id", "kind", "prompt", "answer", "acceptance", "misconceptions"} <= set(part)
    assert {"id", "answer", "message"} <= set(part["misconceptions"][0])


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "nope", "--seed", "1", "--out", "{tmp}"],
        ["generate", "simple_regression", "--seed", "-1", "--out", "{tmp}"],
        ["generate", "simple_regression", "--seed", "1.5", "--out", "{tmp}"],
        ["generate", "simple_regression", "--seed", "x", "--out", "{tmp}"],
        ["generate", "simple_regression", "--seed", "1", "--out", "{file}/sub"],
        ["check", "nope"],
        ["check", "simple_regression", "--seeds", "0"],
        ["validate", "{bad_spec}"],
        ["validate", "{tmp}/missing.yaml"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    runner: CliRunner, tmp_path: Path, args: list[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (SPECS / "01_simple_regression.yaml").read_text().replace("version: 1", "version: x")
    )
    args = [a.format(tmp=tmp_path, file=afile, bad_spec=bad) for a in args]
    result = runner.invoke(problems, args)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_validate_good_spec_and_selftest(runner: CliRunner) -> None:
    path = SPECS / "01_simple_regression.yaml"
    result = runner.invoke(problems, ["validate", str(path), "--seeds", "3"])
    assert result.exit_code == 0, result.output
    assert "ok: simple_regression" in result.output


def test_validate_reports_line(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (SPECS / "01_simple_regression.yaml").read_text().replace("version: 1", "version: x")
    )
    result = runner.invoke(problems, ["validate", str(bad)])
    assert "line 3: version" in result.stderr


def test_check_one_problem(runner: CliRunner) -> None:
    result = runner.invoke(problems, ["check", "simple_regression", "--seeds", "3"])
    assert result.exit_code == 0
    assert result.output.startswith("ok")


def test_real_subprocess(tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "problem_bank.cli",
        "generate",
        "simple_regression",
        "--seed",
        "9",
        "--out",
        str(tmp_path),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data.csv").read_text().startswith("ReproductiveEffort")
    bad = subprocess.run(
        [*cmd[:5], "--seed", "-3", "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_validate_lists_every_error_with_its_line(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "two.yaml"
    text = (SPECS / "01_simple_regression.yaml").read_text()
    bad.write_text(
        text.replace("version: 1", "version: x").replace("id: simple_regression", "id: yes")
    )
    result = runner.invoke(problems, ["validate", str(bad)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        f"error: {bad}: line 1: id: YAML reads yes as true (a YAML 1.1 boolean), not as text; "
        'quote it: id: "yes"',
        f"error: {bad}: line 3: version: write a whole number, e.g. 3, not 'x'",
    ]
