"""Common checks over the printer registry (``problem_bank.output``'s printer table), as the
bank's checks run over every problem: every printer is a spec output name, is documented,
and prints on a built-in problem's variant what its block in the variant's output shows,
ending with a newline, and recording only numbers it printed."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from problem_bank import builtin_problems, generate, output, printers
from problem_bank.spec import PRINTERS

#: (printer name, what it printed, what it recorded as printed) for one output block.
Printout = tuple[str, str, dict[str, tuple[str, ...]]]


def registered() -> set[str]:
    return set(output._printers())


@cache
def printouts() -> dict[str, tuple[str, list[Printout]]]:
    """Each built-in problem's seed-0 output, and the printouts it was put together from."""
    calls: list[Printout] = []
    original = output._printers

    def recording() -> dict[str, Any]:
        def wrap(name: str, call: Any) -> Any:
            def run(fit: Any, block: Any, data: str, shown: Any, fits: Any) -> str:
                text = call(fit, block, data, shown, fits)
                calls.append((name, text, dict(shown)))
                return text

            return run

        return {name: wrap(name, call) for name, call in original().items()}

    out = {}
    output._printers = recording  # type: ignore[assignment]
    try:
        for problem, spec in builtin_problems().items():
            calls.clear()
            variant = generate(spec, 0)
            # A draw that is redrawn has printed too: the kept draw printed last.
            kept = calls[len(calls) - len(spec.output) :]
            out[problem] = (variant.output, kept)
    finally:
        output._printers = original  # type: ignore[assignment]
    return out


def test_the_spec_names_exactly_the_registered_printers():
    assert set(PRINTERS) == registered()


def test_every_printer_is_an_exported_function_with_a_docstring():
    assert set(printers.__all__) == registered()
    undocumented = [n for n in printers.__all__ if not (getattr(printers, n).__doc__ or "").strip()]
    assert not undocumented


def test_every_printer_is_used_by_a_built_in_problem():
    used = {block.printer for spec in builtin_problems().values() for block in spec.output}
    assert sorted(registered() - used) == []


@pytest.mark.parametrize("name", sorted(PRINTERS))
def test_every_printer_prints_lines_and_records_only_what_it_printed(name):
    runs = [
        (shown_output, text, recorded)
        for shown_output, kept in printouts().values()
        for printer, text, recorded in kept
        if printer == name
    ]
    assert runs, f"{name} printed nothing for the built-in problems"
    for shown_output, text, recorded in runs:
        assert text.endswith("\n"), "R ends every printed line with a newline"
        assert text.rstrip("\n") in shown_output, "the block is what the variant shows"
        assert recorded, "a printout records what it printed (acceptance follows it)"
        for key, numbers in recorded.items():
            for number in numbers:
                # A reversed contrast is recorded with its sign flipped (emmeans prints a - b).
                assert number.lstrip("-") in text, f"{key}: {number!r} is not in the printout"
