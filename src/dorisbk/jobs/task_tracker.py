"""The agent tasks a job has sent to the backends: what SHOW shows of them, their results, and cancelling them."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import CancelledError, Future
from typing import Any

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

    def submit(self, executor: TaskExecutor, task: AgentTask) -> None:
        """Run ``task`` on its backend's workers."""
        self._next += 1
        signature = self.job_id * 1000 + self._next
        self._futures[signature] = executor.submit(task)
        self._tasks[signature] = task

    def collect(self, errors: dict[str, str]) -> list[Any] | None:
        """Results once every task is done (None before); a failed task's error goes to ``errors`` and is raised."""
        if any(not f.done() for f in self._futures.values()):
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
        self._futures, self._tasks = {}, {}

    def stop(self) -> None:
        """Cancel queued tasks and wait for running ones, which stop at their next file."""
        self.cancelled.set()
        for future in self._futures.values():
            future.cancel()
        for future in self._futures.values():
            with contextlib.suppress(CancelledError):
                future.exception()
        self.reset()

    def _running(self) -> list[int]:
        # finished tasks leave the lists, as in Doris
        return [sig for sig, f in list(self._futures.items()) if not f.done()][:SHOWN]

    def unfinished_text(self) -> str:
        """SHOW's UnfinishedTasks: ``[signature=backendId], ...``."""
        return ", ".join(f"[{sig}={self._tasks[sig].backend_id}]" for sig in self._running())

    def progress_text(self) -> str:
        """SHOW's Progress: ``[signature: done/total], ...``."""
        return ", ".join(f"[{sig}: {self._tasks[sig].finished}/{self._tasks[sig].size}]" for sig in self._running())
