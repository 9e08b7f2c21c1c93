"""Agent tasks run per backend in worker threads (Doris's BE task workers).

Each backend has its own pool, so one slow backend does not hold up the others and the
work of a job spreads over all of them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class TaskExecutor:
    """One thread pool per backend id; ``on_done`` is called as each task ends (the scheduler's wake-up)."""

    def __init__(self, workers_per_backend: int = 8) -> None:
        self.workers = workers_per_backend
        self._pools: dict[int, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()
        self.on_done: Callable[[], None] = lambda: None

    def submit(self, backend_id: int, fn: Callable[..., Any], *args: Any) -> Future:
        with self._lock:
            pool = self._pools.get(backend_id)
            if pool is None:
                pool = ThreadPoolExecutor(self.workers, thread_name_prefix=f"be{backend_id}-task")
                self._pools[backend_id] = pool
        future = pool.submit(fn, *args)
        future.add_done_callback(lambda _f: self.on_done())
        return future

    def shutdown(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
