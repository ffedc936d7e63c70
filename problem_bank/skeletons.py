"""Minimal specs to start a new problem from, one per model family (``skeletons/*.yaml``).

They are data files like the built-in specs, so what an author starts from is exactly what
they will edit; tests/problem_bank/test_skeletons.py checks each one validates and
generates, so a skeleton never starts an author off with an error.
"""

from __future__ import annotations

import functools
from importlib import resources


@functools.cache
def skeleton_texts() -> dict[str, str]:
    """File name → YAML text of every skeleton, in file-name order (the order offered)."""
    folder = resources.files("problem_bank") / "skeletons"
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    }
