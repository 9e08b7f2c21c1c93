"""The agent tasks a job has sent to the backends: what SHOW shows of them, their results, and cancelling them."""

from __future__ import annotations

import contextlib
import itertools
import threading
from concurrent.futures import CancelledError, Future
from typing import Any

from dorisbk import memory
from dorisbk.backend.tasks import AgentTask, TaskExecutor
from dorisbk.errors import DorisError

SHOWN = 100  # SHOW BACKUP / RESTORE list at most this many tasks


class TaskTracker:
    """Tasks keyed by signature (``job_id * 1000 + n``), as Doris's unfinishedSignatureToId."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.cancelled = threading.Event()  # tasks check it between files
        self._next = 0
        self._futures: dict[int, Future] = {}
        self._tasks: dict[int, AgentTask] = {}
        # signatures of the tasks not done yet, in sending order: each scheduler round and SHOW read these,
        # not every future of a job of 30,000 tasks
        self._unfinished: dict[int, None] = {}
        self._lock = threading.Lock()

    def submit(self, executor: TaskExecutor, task: AgentTask) -> None:
        """Run ``task`` on its backend's workers."""
        self._next += 1
        signature = self.job_id * 1000 + self._next
        self._tasks[signature] = task
        with self._lock:  # before the task can end, so that its end is never missed
            self._unfinished[signature] = None
        try:
            future = executor.submit(task)
        except BaseException:
            self._ended(signature)
            raise
        self._futures[signature] = future
        future.add_done_callback(lambda _future: self._ended(signature))

    def _ended(self, signature: int) -> None:
        with self._lock:
            self._unfinished.pop(signature, None)
        # the task's result (a batch of tablets' snapshots, files, rowsets) stays until the job's state ends:
        # frozen now, the cyclic GC's passes never walk more than one task's objects, where they walked all
        # the state's so far (passes of 0.1-0.5 s at 100,000 tablets in the workers, SHOW waiting behind them)
        memory.freeze()

    def collect(self, errors: dict[str, str]) -> list[Any] | None:
        """Results once every task is done (None before); a failed task's error goes to ``errors`` and is raised."""
        with self._lock:
            if self._unfinished:
                return None
        results = []
        for signature, future in self._futures.items():
            exc = future.exception()
            if exc is not None:
                message = exc.message if isinstance(exc, DorisError) else f"{type(exc).__name__}: {exc}"
                errors.clear()
                errors[str(signature)] = message
                raise exc if isinstance(exc, DorisError) else DorisError(message)
            results.append(future.result())
        return results

    def reset(self) -> None:
        futures, tasks = self._futures, self._tasks
        self._futures, self._tasks = {}, {}
        with self._lock:
            self._unfinished.clear()
        memory.drop(futures)
        memory.drop(tasks)

    def stop(self) -> None:
        """Cancel queued tasks and wait for running ones, which stop at their next file."""
        self.cancelled.set()
        for future in self._futures.values():
            future.cancel()
        for future in self._futures.values():
            with contextlib.suppress(CancelledError):
                future.exception()
        self.reset()

    def tasks(self) -> list[AgentTask]:
        """Every task sent since the last reset, done or not."""
        return list(self._tasks.values())

    def _running(self) -> list[int]:
        # finished tasks leave the lists, as in Doris
        with self._lock:
            return list(itertools.islice(self._unfinished, SHOWN))

    def counts(self) -> tuple[int, int]:
        """How many of the tasks sent in the job's current state have ended, and how many were sent."""
        with self._lock:
            unfinished = len(self._unfinished)
        total = len(self._tasks)
        return total - unfinished, total

    def unfinished_text(self) -> str:
        """SHOW's UnfinishedTasks: ``[signature=backendId], ...``."""
        return ", ".join(f"[{sig}={self._tasks[sig].backend_id}]" for sig in self._running())

    def progress_text(self) -> str:
        """SHOW's Progress: ``[signature: done/total], ...``."""
        return ", ".join(f"[{sig}: {self._tasks[sig].finished}/{self._tasks[sig].size}]" for sig in self._running())
