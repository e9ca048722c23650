"""Python's cycle collector, paused while a command builds many objects that all stay alive until it ends."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """The collector paused, and restored as it was whatever happens. For a short command (a declaration), it would
    otherwise run some two hundred times while the store's modules load, over objects that all stay alive; for
    `verify`, over every attestation read so far, again and again as they accumulate (half its time over a large
    store). What the work itself leaves in cycles is little, and collected once it is back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
