"""Agent tasks run per backend in worker threads (Doris's BE task workers).

Each backend has its own pool, so one slow backend does not hold up the others and the
work of a job spreads over all of them.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AgentTask(ABC):
    """One piece of a job's work on one backend (Doris's AgentTask): what to do is in its fields,
    so a job hands over an object, not a function and its arguments."""

    backend_id: int
    finished: int = field(default=0, init=False)  # items done so far, for SHOW's Progress

    @property
    def size(self) -> int:
        """The items (tablets) it works on."""
        return 1

    @abstractmethod
    def run(self) -> Any:
        """Do the work on a worker thread of the backend; the result goes to the job."""


class TaskExecutor:
    """One thread pool per backend id; ``on_done`` is called as each task ends (the scheduler's wake-up)."""

    def __init__(self, workers_per_backend: int = 8) -> None:
        self.workers = workers_per_backend
        self._pools: dict[int, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()
        self.on_done: Callable[[], None] = lambda: None

    def submit(self, task: AgentTask) -> Future:
        with self._lock:
            pool = self._pools.get(task.backend_id)
            if pool is None:
                pool = ThreadPoolExecutor(self.workers, thread_name_prefix=f"be{task.backend_id}-task")
                self._pools[task.backend_id] = pool
        future = pool.submit(task.run)
        future.add_done_callback(lambda _f: self.on_done())
        return future

    def shutdown(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
