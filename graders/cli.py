"""`mixgrade grade DIR/variant.json --answers ANSWERS.json [--json]`.

Grades a stored variant against answers as a student would type them, with the same
:func:`graders.grade` the service uses. Exit 0 when it graded, 2 on bad input, always with
a one-line message on stderr and never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn

import click

from graders.engine import grade as grade_answers
from graders.feedback import Feedback
from problem_bank.variant import Variant

BAD_INPUT = 2


def _fail(message: str) -> NoReturn:
    click.echo(f"mixgrade grade: {message}", err=True)
    raise SystemExit(BAD_INPUT)


def _read_json(path: Path, what: str) -> Any:
    """Load a JSON file, turning every way it can fail into one line for the user."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail(f"{what} file not found: {path}")
    except IsADirectoryError:
        _fail(f"{what} path is a directory, not a file: {path}")
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"cannot read {what} file {path}: {error}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        _fail(f"{what} file {path} is not valid JSON: {error.msg} (line {error.lineno})")


def load_variant(path: Path) -> Variant:
    """A Variant from ``variant.json`` (or from a directory holding one)."""
    if path.is_dir():
        path = path / "variant.json"
    data = _read_json(path, "variant")
    if not isinstance(data, dict) or not isinstance(data.get("parts"), list):
        _fail(f"{path} is not a variant (expected an object with a list of parts)")
    try:
        return Variant.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        _fail(f"{path} is not a valid variant: {type(error).__name__}: {error}")


def load_answers(path: Path) -> dict[str, Any]:
    """Answers from a JSON object mapping part ids to what the student typed."""
    data = _read_json(path, "answers")
    if not isinstance(data, dict):
        _fail(f"answers file {path} must hold a JSON object mapping part ids to answers")
    return data


def render_text(variant: Variant, feedback: Feedback) -> str:
    """Human-readable feedback: one block per part, then the total."""
    lines = [f"{variant.title or variant.problem} (problem {variant.problem}, seed {variant.seed})"]
    width = max((len(p.id) for p in feedback.parts), default=0)
    for verdict in feedback.parts:
        tag = f" [{verdict.misconception}]" if verdict.misconception else ""
        lines.append(
            f"  {verdict.id:<{width}}  {verdict.verdict:<10} {verdict.score:.2f}{tag}  "
            f"{verdict.message}"
        )
        if verdict.hint:
            lines.append(f"  {'':<{width}}  hint: {verdict.hint}")
    lines.append(f"Total: {feedback.score:.3f}")
    if feedback.has_unreadable:
        lines.append("Some answers could not be read: this submission would not use an attempt.")
    return "\n".join(lines)


def render_json(feedback: Feedback) -> str:
    """The ``--json`` document: score and, per part, id/score/verdict/misconception/message."""
    return json.dumps(
        {
            "score": feedback.score,
            "parts": [
                {
                    "id": p.id,
                    "score": p.score,
                    "verdict": p.verdict,
                    "misconception": p.misconception,
                    "message": p.message,
                }
                for p in feedback.parts
            ],
        },
        indent=2,
    )


@click.command("grade")
@click.argument("variant_path", metavar="VARIANT_JSON", type=click.Path(path_type=Path))
@click.option(
    "--answers",
    "answers_path",
    required=True,
    type=click.Path(path_type=Path),
    help="JSON object mapping part ids to answers as a student types them.",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def grade(variant_path: Path, answers_path: Path, as_json: bool) -> None:
    """Grade ANSWERS against a stored variant (DIR/variant.json) and print the feedback."""
    variant = load_variant(variant_path)
    answers = load_answers(answers_path)
    try:
        feedback = grade_answers(variant, answers)
    except (ValueError, TypeError) as error:
        _fail(f"{variant_path} cannot be graded: {error}")
    click.echo(render_json(feedback) if as_json else render_text(variant, feedback))


if __name__ == "__main__":  # `python -m graders.cli`, for use without the service installed
    grade(prog_name="mixgrade grade")
