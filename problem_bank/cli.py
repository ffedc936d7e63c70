"""`mixgrade problems …`: list, generate, self-test and validate problems.

A PROBLEM argument is a built-in id, a spec file (a path ending in .yaml or .yml, or one
with a folder in it), or, where a front end with a database registers a lookup
(:func:`use_authored`, as `mixgrade` does), an authored problem: its row id, or its
``slug`` (the newest version) or ``slug@version``. The library itself knows no database.

Bad input (unknown id, bad seed, unwritable folder, invalid spec) prints one line on stderr
and exits with code 2: instructors see what to fix, never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NoReturn, Protocol

import click

from problem_bank import (
    GenerationError,
    SpecError,
    UnknownProblem,
    builtin_problem,
    builtin_problems,
    diagnose,
    generate,
    parse_spec,
    plot_png,
)
from problem_bank.generate import check_seed
from problem_bank.self_test import DEFAULT_SEEDS, run_selftest
from problem_bank.spec import ProblemSpec

BAD_INPUT = 2


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(BAD_INPUT)


#: The ``click.Context.meta`` key under which a front end puts its :class:`AuthoredLookup`.
AUTHORED = "problem_bank.authored"
SPEC_SUFFIXES = (".yaml", ".yml")
PROBLEM_HELP = (
    "PROBLEM is a built-in id, a spec file (ending in .yaml/.yml or with a / in it), or, "
    "with a database, an authored problem's id number, slug (newest version) or slug@version."
)


class AuthoredLookup(Protocol):
    """How a front end with a database finds an authored problem."""

    def __call__(self, ref: str) -> tuple[str, str]:
        """(name to print, spec text) of the problem ``ref`` names (an id number, ``slug``
        or ``slug@version``); :class:`UnknownProblem` with a one-line reason if none."""
        ...


def use_authored(ctx: click.Context, lookup: AuthoredLookup) -> None:
    """Let every `problems` command under ``ctx`` resolve authored problems with ``lookup``."""
    ctx.meta[AUTHORED] = lookup


def _is_path(ref: str) -> bool:
    return ref.endswith(SPEC_SUFFIXES) or "/" in ref or "\\" in ref


def _problem(ref: str) -> ProblemSpec:
    """The spec PROBLEM names: a file, a built-in, or (with a lookup) an authored problem."""
    found = _text(ref)
    return builtin_problems()[ref] if found is None else _parsed(*found)


def _text(ref: str) -> tuple[str, str] | None:
    """(name, spec text) of the file or stored problem ``ref`` names; None for a built-in.

    A name that is not path-like is a file only if no built-in has it, so a stray file in
    the working folder never hides a built-in."""
    if _is_path(ref):
        return ref, _read(ref)
    if ref in builtin_problems():
        return None
    if Path(ref).is_file():
        return ref, _read(ref)
    lookup: AuthoredLookup | None = click.get_current_context().meta.get(AUTHORED)
    try:
        if lookup is not None:
            return lookup(ref)
        builtin_problem(ref)  # not a built-in: UnknownProblem names the ids that exist
    except UnknownProblem as exc:
        _fail(str(exc))
    _fail(f"unknown problem {ref!r}")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}")


def _parsed(name: str, text: str) -> ProblemSpec:
    try:
        return parse_spec(text)
    except SpecError as exc:
        _fail(f"{name}: {exc}")


def _seed(text: str) -> int:
    try:
        return check_seed(int(text.strip()))
    except ValueError:
        _fail(f"seed must be a non-negative integer, not {text!r}")


def _count(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        _fail(f"{what} must be a positive integer, not {text!r}")
    return value


@click.group("problems")
def problems() -> None:
    """Browse, generate and self-test the problem bank."""


@problems.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects.")
def list_problems(as_json: bool) -> None:
    """List the built-in problems."""
    rows = [
        {"id": s.id, "title": s.title, "version": s.version, "topic": s.topic}
        for s in builtin_problems().values()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(f"{r['id']:<20} v{r['version']}  {r['topic']:<26} {r['title']}")


@problems.command("generate", epilog=PROBLEM_HELP)
@click.argument("slug", metavar="PROBLEM")
@click.option("--seed", "seed_text", required=True, help="Non-negative integer seed.")
@click.option("--out", "out_dir", required=True, type=click.Path(), help="Output folder.")
def generate_command(slug: str, seed_text: str, out_dir: str) -> None:
    """Write one variant: data.csv, output.txt, fit.R, fit.py, variant.json, plot.png."""
    spec = _problem(slug)
    seed = _seed(seed_text)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        _fail(f"cannot write to {out_dir}: {exc.strerror or exc}")
    try:
        variant = generate(spec, seed)
    except GenerationError as exc:
        _fail(str(exc))
    files = {
        "data.csv": variant.data_csv,
        "output.txt": variant.output,
        "fit.R": variant.r_script,
        "fit.py": variant.python_script,
        "variant.json": json.dumps(variant.to_dict(), indent=2) + "\n",
    }
    try:
        for name, text in files.items():
            if text or name == "variant.json":
                (out / name).write_text(text, encoding="utf-8", newline="\n")
        png = plot_png(spec, variant)
        if png:
            (out / "plot.png").write_bytes(png)
    except OSError as exc:
        _fail(f"cannot write to {out_dir}: {exc.strerror or exc}")
    click.echo(f"wrote {spec.id} v{spec.version} seed {seed} to {out}")


@problems.command("check", epilog=PROBLEM_HELP)
@click.argument("slug", metavar="[PROBLEM]", required=False)
@click.option("--seeds", "seeds_text", default=str(DEFAULT_SEEDS), show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
def check_command(slug: str | None, seeds_text: str, as_json: bool) -> None:
    """Self-test one problem (or every built-in) over N seeds; exit 1 if any seed fails."""
    seeds = _count(seeds_text, "--seeds")
    specs = [_problem(slug)] if slug else list(builtin_problems().values())
    reports = [run_selftest(spec, seeds) for spec in specs]
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        for report in reports:
            click.echo(report.summary())
    if not all(r.ok for r in reports):
        sys.exit(1)


@problems.command("validate", epilog=PROBLEM_HELP)
@click.argument("ref", metavar="PROBLEM")
@click.option("--seeds", "seeds_text", default="0", help="Also self-test this many seeds.")
def validate_command(ref: str, seeds_text: str) -> None:
    """Validate a spec: every error and warning, by line (and optionally self-test it)."""
    found = _text(ref)
    if found is not None:
        name, text = found
        diagnostics = diagnose(text)
        for diagnostic in diagnostics:
            click.echo(f"{diagnostic.severity}: {name}: {diagnostic}", err=True)
        if any(d.severity == "error" for d in diagnostics):
            sys.exit(BAD_INPUT)
    spec = _problem(ref)
    click.echo(f"ok: {spec.id} v{spec.version} ({len(spec.parts)} parts)")
    seeds = int(seeds_text) if seeds_text.isdigit() else _count(seeds_text, "--seeds")
    if seeds:
        report = run_selftest(spec, seeds)
        click.echo(report.summary())
        if not report.ok:
            sys.exit(1)


def main() -> None:
    """Run the group on its own: ``python -m problem_bank.cli``."""
    problems(prog_name="problems")


if __name__ == "__main__":
    main()
