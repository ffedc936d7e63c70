"""Keep the garbage collector off what a web process holds for its whole life.

After start-up the process holds the app, its templates and every imported library for as
long as it runs, yet each full cyclic collection walks all of it again. A request that
makes many short-lived objects (the gradebook of a whole course reads 15,000 attempts into
7,500 cells) sets off full collections, and measured, spent about as long in them as in
its own work: the 300 × 25 course page went from 918 to 512 ms (benchmarks/README.md).
``gc.freeze`` (CPython ≥ 3.7) is the interpreter's own tool for this; objects made later
are collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once, then move every object now alive out of the collector's view.

    Call it once the app is built, before serving; returns how many objects it froze.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
