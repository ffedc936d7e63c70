"""The start-up heap is frozen for the collector, and what comes later is still collected."""

from __future__ import annotations

import gc
import weakref

from service.heap import freeze_startup_heap


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_freezing_moves_the_live_heap_out_and_later_cycles_are_still_collected():
    try:
        assert freeze_startup_heap() > 1000
        node = _Node()
        gone = weakref.ref(node)
        del node
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()  # leave the test process as it was
