"""AbstractJob: what BACKUP and RESTORE jobs share (Doris's AbstractJob).

A job is polled by the scheduler: ``run()`` does the work of its current state and moves
it on; ``cancel()`` ends it. Both hold the job's lock. A job is persisted at the
transitions Doris writes to its edit log, and on restart resumes from the last persisted
state (work of unpersisted states is redone, which every state makes safe to repeat).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dorisbk.jobs.status import OK, Status
from dorisbk.jobs.task_tracker import TaskTracker

if TYPE_CHECKING:
    from dorisbk.jobs.context import JobContext


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class AbstractJob:
    type: str
    job_id: int
    label: str
    db_id: int
    db_name: str
    repo_id: int
    timeout_ms: int
    state: str = "PENDING"
    create_time: int = field(default_factory=now_ms)
    finished_time: int = -1
    status: Status = OK
    task_err_msg: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._tasks = TaskTracker(self.job_id)  # transient: tasks do not survive a restart, the state does
        # A cancel whose cleanup or persisting failed (e.g. the metadata store's disk is full): the
        # scheduler retries it, with the same Status, instead of running the job's state again.
        self.pending_cancel: Status | None = None

    TERMINAL = ("FINISHED", "CANCELLED")

    @property
    def done(self) -> bool:
        return self.state in self.TERMINAL

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if not f.name.startswith("_")}
        d["status"] = self.status.to_dict()
        return d

    @classmethod
    def base_kwargs(cls, d: dict[str, Any]) -> dict[str, Any]:
        return {**d, "status": Status.from_dict(d["status"])}

    def run(self, ctx: JobContext) -> None:  # pragma: no cover - every job type implements it
        raise NotImplementedError

    def forget(self, ctx: JobContext) -> None:
        """The job has ended and leaves the database's history: drop what it kept on this server."""

    def cancel(self, ctx: JobContext, status: Status) -> Status:
        """End the job CANCELLED with ``status``; a finished job can not be cancelled."""
        with self._lock:
            if self.done:
                return Status("COMMON_ERROR", f"Job with label {self.label} can not be cancelled. state: {self.state}")
            self.end_cancelled(ctx, status)
            return Status()

    def end_cancelled(self, ctx: JobContext, status: Status) -> None:
        """Cancel with ``status``; if that fails, SHOW already says why and the scheduler tries again."""
        self.pending_cancel = status
        try:
            self._cancel_internal(ctx, status)
        except BaseException:
            self.status = status
            raise
        self.pending_cancel = None

    def _cancel_internal(self, ctx: JobContext, status: Status) -> None:  # pragma: no cover - per job type
        raise NotImplementedError

    def interrupt(self) -> None:
        """The server is stopping: running tasks end at their next file, the job's state stays for the restart."""
        self._tasks.cancelled.set()

    def task_err_text(self) -> str:
        """SHOW's TaskErrMsg: ``[signature: message], ...``."""
        return ", ".join(f"[{k}: {v}]" for k, v in list(self.task_err_msg.items())[:100])

    def timed_out(self) -> bool:
        return now_ms() - self.create_time > self.timeout_ms

    def persist(self, ctx: JobContext) -> None:
        ctx.persist(self, None)

    def move_to(self, ctx: JobContext, state: str) -> None:
        """Persist the job in ``state``, then show it: SHOW never reports a state a restart could lose."""
        ctx.persist(self, state)
        self.state = state
