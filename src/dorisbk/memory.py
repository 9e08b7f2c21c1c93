"""Give the heap's free memory back to the system once a job has moved on.

A job at Doris's sizes builds and drops hundreds of MB at a time (an info file of 300,000 tablets, the
encodings of its record); glibc keeps what was freed in its arenas, so the server's RSS stayed at the job's
high-water mark for good. ``malloc_trim`` hands the free pages back; elsewhere (another C library) it is
a no-op."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


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
    trim = _trim()
    if trim is not None:
        trim(0)
