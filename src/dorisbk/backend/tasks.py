"""Agent tasks run per backend in worker threads (Doris's BE task workers).

Each backend has its own pool, so one slow backend does not hold up the others and the
work of a job spreads over all of them.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dorisbk.errors import DorisError


class TaskCancelled(DorisError):
    """The job was cancelled while the task ran."""

    @staticmethod
    def check(cancelled: threading.Event, what: str = "job") -> None:
        """Stop here if ``cancelled`` is set: a task calls it between its pieces of work (tablets, files)."""
        if cancelled.is_set():
            raise TaskCancelled(f"{what} cancelled")


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

    @property
    def waits_on_network(self) -> bool:
        """Whether the task mostly waits on a remote service (an S3 or HDFS transfer), so that more of them
        than there are cores keep it busy; disk work (links, local copies) runs one per core."""
        return False

    @abstractmethod
    def run(self) -> Any:
        """Do the work on a worker thread of the backend; the result goes to the job."""


# Threads per backend for network-bound tasks; disk-bound ones get one per core (at most this many): more
# threads than cores doing disk work in Python only contend for the GIL, and with each other for the disk.
NETWORK_WORKERS = 8


def disk_workers() -> int:
    return max(1, min(NETWORK_WORKERS, os.cpu_count() or 1))


class TaskExecutor:
    """Thread pools per backend id, one for disk-bound and one for network-bound tasks; ``on_done`` is called
    as each task ends (the scheduler's wake-up)."""

    def __init__(self) -> None:
        self._pools: dict[tuple[int, bool], ThreadPoolExecutor] = {}
        self._lock = threading.Lock()
        self.on_done: Callable[[], None] = lambda: None

    @staticmethod
    def workers(waits_on_network: bool) -> int:
        """How many tasks of a kind run at once on a backend: a job splits its work in a multiple of it."""
        return NETWORK_WORKERS if waits_on_network else disk_workers()

    def submit(self, task: AgentTask) -> Future:
        key = (task.backend_id, task.waits_on_network)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                kind = "net" if task.waits_on_network else "disk"
                pool = ThreadPoolExecutor(self.workers(key[1]), thread_name_prefix=f"be{task.backend_id}-{kind}")
                self._pools[key] = pool
        future = pool.submit(task.run)
        future.add_done_callback(lambda _f: self.on_done())
        return future

    def shutdown(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
