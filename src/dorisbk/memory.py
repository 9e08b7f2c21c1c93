"""The server's heap at Doris's sizes: free memory given back, the catalog kept out of the cyclic GC.

A job at Doris's sizes builds and drops hundreds of MB at a time (an info file of 300,000 tablets, the
encodings of its record); glibc keeps what was freed in its arenas, so the server's RSS stayed at the job's
high-water mark for good. ``malloc_trim`` hands the free pages back; elsewhere (another C library) it is
a no-op.

A full pass of the cyclic GC walks every object and stops every thread while it does: over the millions
of objects of 600,000 tablets, a pass took 0.41 s (2 us once they were frozen), and SHOW BACKUP waited
behind such passes. What is kept for good is frozen out of those passes (the catalog replayed at start, a commit of many
objects, what a job's state built), and a long pass is logged. A frozen object is still freed by reference
counting; only a cycle alive at the freeze outlives it."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger(__name__)
LONG_GC_SECONDS = 1.0  # a pass that stops every thread this long is logged
FREEZE_AT = 1000  # a catalog commit of this many objects freezes them


@functools.cache
def _trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc
        return None


def release() -> None:
    """A job moved on: what it keeps is frozen, what it dropped goes back to the system."""
    freeze()
    trim = _trim()
    if trim is not None:
        trim(0)


class _GcHolders:
    """The blocks that want the cyclic GC off, in any thread (a job's step, a large load, a CREATE TABLE of
    many tablets): the first turns it off, the last turns it back on, so that one block's end never turns it
    on under another still building."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._was_enabled = False

    def enter(self) -> None:
        with self._lock:
            if self._count == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._count += 1

    def leave(self) -> None:
        with self._lock:
            self._count -= 1
            if self._count:
                return
            # what the blocks built and kept sits in the youngest generation: enabled as it is, the next pass
            # of that generation (a few allocations later, in any thread) walks all of it, then the older
            # ones again (0.1-0.5 s at 100,000 tablets, SHOW waiting behind each), so it is frozen first
            if gc.get_count()[0] >= FREEZE_AT:
                freeze()
            if self._was_enabled:
                gc.enable()


_HOLDERS = _GcHolders()


@contextlib.contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """The cyclic GC off while a thread builds many objects that stay (the catalog at start, a job state's
    work, a load's new tablet versions): a full pass inside the build walks everything built so far and stops
    every thread each time (a 100,000-tablet BACKUP's steps: passes of 0.1-0.3 s, SHOW waiting behind them).
    Reference counting goes on; cycles other threads drop meanwhile are collected at the next pass after it
    (unless frozen with what the block built)."""
    _HOLDERS.enter()
    try:
        yield
    finally:
        _HOLDERS.leave()


def drop(items: dict[Any, Any]) -> None:
    """Empty ``items`` an entry at a time: freed whole, a dict of a state's tasks and their results (every
    tablet's objects) is one deallocation that holds the GIL throughout (66 ms at 30,000 tablets, SHOW
    waiting behind it); entry by entry, other threads run in between."""
    while items:
        items.popitem()


def freeze() -> None:
    """Everything alive now (the catalog just replayed) leaves the cyclic GC's passes: its objects are kept
    for good or freed by reference counting, never as cycles."""
    gc.freeze()


class _GcTimer:
    """Logs a pass of the oldest generation that held every thread for LONG_GC_SECONDS or more."""

    def __init__(self) -> None:
        self.started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self.started = time.monotonic()
        elif (took := time.monotonic() - self.started) >= LONG_GC_SECONDS:
            log.warning("a full cyclic GC pass held every thread for %.1f s (%s collected)", took, info["collected"])


_TIMER = _GcTimer()


def watch_gc() -> None:
    if _TIMER not in gc.callbacks:
        gc.callbacks.append(_TIMER)
