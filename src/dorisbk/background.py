"""Periodic background work (compaction, dynamic partitions, label cleaning, repository pings, the
recycle bin): one thread per job, one shape of loop."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def start_periodic(
    name: str,
    stopping: threading.Event,
    period_s: Callable[[], float],
    work: Callable[[], object],
    tick_s: float = 0.1,
    first_now: bool = False,
) -> threading.Thread:
    """Run ``work`` every ``period_s()`` seconds until ``stopping`` is set. The period is read at every
    tick, so ADMIN SET FRONTEND CONFIG takes effect at once; a failing pass is logged and the next one
    runs anyway. ``first_now`` runs the first pass at the first tick instead of one period later."""

    def loop() -> None:
        last = 0.0 if first_now else time.monotonic()
        while not stopping.wait(tick_s):
            if time.monotonic() - last < period_s():
                continue
            last = time.monotonic()
            try:
                work()
            except Exception:  # noqa: BLE001 - the thread must outlive one bad pass
                log.exception("%s: pass failed", name)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread
