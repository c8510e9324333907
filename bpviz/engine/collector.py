"""Pausing Python's cycle collector while a big graph is loaded or run.

Loading and whole passes make millions of small objects and no reference cycles; the cycle
collector would rescan everything alive again and again as they pile up (half the time of a
100,000-node load, a third of a 300,000-node backward pass), so it waits until the work is
over. Whatever happens inside, the collector is left as it was found.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

BIG = 10_000
"""Passes over plans of at least this many nodes pause the collector (below, the objects a
pass makes are too few to trigger a costly collection, and training steps pay nothing)."""


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
