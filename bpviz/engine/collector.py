"""Pausing Python's cycle collector while a big graph is loaded or run.

Loading and whole passes make millions of small objects and no reference cycles; the cycle
collector would rescan everything alive again and again as they pile up (half the time of a
100,000-node load, a third of a 300,000-node backward pass), so it waits until the work is
over. Whatever happens inside, the collector is left as it was found.

What a loaded document brings lives until the next one replaces it, so after loading it goes
straight to the oldest generation (`long_lived_load`) instead of being scanned on its way
there: at 5,000 nodes those two scans were 35 ms of the first frame.
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


@contextlib.contextmanager
def long_lived_load() -> Iterator[None]:
    """Pause the collector while something long-lived is built (a document and its canvas),
    then move every object into the oldest generation without scanning it (gc.freeze, then
    gc.unfreeze): the young generations' collections that would follow the pause skip what
    was just made, and the oldest generation's collections still free whatever becomes
    garbage. Objects someone else froze stay frozen (then nothing is moved)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():  # before enabling: the next allocation would scan
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()
