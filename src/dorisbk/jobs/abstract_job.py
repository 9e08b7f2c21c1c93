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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from dorisbk import memory
from dorisbk.errors import DorisError, StaleMetadata
from dorisbk.jobs.global_objects import GLOBAL_DB_ID
from dorisbk.jobs.status import OK, Status
from dorisbk.jobs.task_tracker import TaskTracker
from dorisbk.jobs.transfer import TransferTask
from dorisbk.jobs.transfer_progress import ProgressReport, RateMeter, TransferProgress, Transferred, report
from dorisbk.meta.store import JsonText, encode

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
    repo_name: str = ""
    # each job type's own StrEnum (its values are what SHOW prints and the store keeps)
    state: StrEnum = field(kw_only=True)
    create_time: int = field(default_factory=now_ms)
    finished_time: int = -1
    status: Status = OK
    task_err_msg: dict[str, str] = field(default_factory=dict)
    transfer: TransferProgress = field(default_factory=TransferProgress)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._tasks = TaskTracker(self.job_id)  # transient: tasks do not survive a restart, the state does
        self._rate = RateMeter()
        self._json: dict[str, tuple[tuple[object, ...], JsonText]] = {}  # encoded_once's texts
        # A cancel whose cleanup or persisting failed (e.g. the metadata store's disk is full): the
        # scheduler retries it, with the same Status, instead of running the job's state again.
        self.pending_cancel: Status | None = None

    TERMINAL: ClassVar[tuple[StrEnum, ...]]  # FINISHED and CANCELLED of the job type's states

    @property
    def done(self) -> bool:
        return self.state in self.TERMINAL

    @property
    def is_global(self) -> bool:
        """BACKUP / RESTORE GLOBAL: a job of no database, listed under the pseudo database of global jobs."""
        return self.db_id == GLOBAL_DB_ID

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if not f.name.startswith("_")}
        d["status"] = self.status.to_dict()
        d["transfer"] = self.transfer.to_dict()
        return d

    @classmethod
    def base_kwargs(cls, d: dict[str, Any]) -> dict[str, Any]:
        return {**d, "status": Status.from_dict(d["status"]), "transfer": TransferProgress.from_dict(d.get("transfer"))}

    def run(self, ctx: JobContext) -> None:
        """One poll of the scheduler: the step of the current state, as Doris's ``run()`` switches on it.

        A job past its timeout is cancelled with TIMEOUT instead; a DorisError from a step ends the job
        as ``step_failed`` says."""
        with self._lock:
            if self.done:
                return
            if self.timed_out():
                self.end_cancelled(ctx, Status("TIMEOUT", self.timeout_message()))
                return
            if ctx.config.paused(self.type, self.state):
                return
            step, before = self.steps()[self.state], self.state
            try:
                self._check_if_need_cancel(ctx)
                with memory.no_cyclic_gc():
                    step(ctx)
            except StaleMetadata:  # shared mode: nothing was written; the scheduler catches up, the step reruns
                raise
            except DorisError as exc:
                self.step_failed(ctx, exc)
            if self.state != before:  # what the state before built and dropped goes back to the system
                memory.release()

    def steps(self) -> Mapping[StrEnum, Callable[[JobContext], None]]:  # pragma: no cover - per job type
        """The method that does the work of each unfinished state."""
        raise NotImplementedError

    def timeout_message(self) -> str:  # pragma: no cover - per job type
        raise NotImplementedError

    def _check_if_need_cancel(self, ctx: JobContext) -> None:
        """Before each step: raise DorisError when what the job works on is gone."""

    def step_failed(self, ctx: JobContext, exc: DorisError) -> None:
        """A step raised: the job ends CANCELLED with the failure's Status."""
        self.end_cancelled(ctx, self.failure_status(exc))

    def failure_status(self, exc: DorisError) -> Status:
        return Status("COMMON_ERROR", exc.message)

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
        memory.release()

    def _cancel_internal(self, ctx: JobContext, status: Status) -> None:  # pragma: no cover - per job type
        raise NotImplementedError

    def interrupt(self) -> None:
        """The server is stopping: running tasks end at their next file, the job's state stays for the restart."""
        self._tasks.cancelled.set()

    def task_counts(self) -> tuple[int, int]:
        """Tasks of the current state that have ended, and all sent in it (0, 0 in a state that sends none)."""
        return self._tasks.counts()

    # ---- the transfer (UPLOADING / DOWNLOADING): counted by its tasks, kept in the record once ended
    def _live_transfer(self) -> Transferred:
        tasks = [t for t in self._tasks.tasks() if isinstance(t, TransferTask)]
        return sum((t.transferred() for t in tasks), Transferred())

    def transfer_started(self) -> None:
        """The transfer's tasks are sent: from now on its counts are theirs."""
        self.transfer = TransferProgress(start_ms=now_ms())
        self._rate.start()

    def transfer_ended(self) -> None:
        """The transfer's tasks are done (or about to be stopped): keep their counts with the job."""
        if self.transfer.running:
            self.transfer = TransferProgress(self._live_transfer(), self.transfer.start_ms, now_ms())

    def progress(self) -> ProgressReport:
        """The transfer as it is now (information_schema.backup_restore_jobs)."""
        transfer = self.transfer
        return report(transfer, self._live_transfer() if transfer.running else None, self._rate)

    def task_err_text(self) -> str:
        """SHOW's TaskErrMsg: ``[signature: message], ...``."""
        return ", ".join(f"[{k}: {v}]" for k, v in list(self.task_err_msg.items())[:100])

    def timed_out(self) -> bool:
        return now_ms() - self.create_time > self.timeout_ms

    def record(self, state: str | None = None) -> dict[str, Any]:
        """The job's row in the metadata store, in ``state`` when it is about to move there."""
        d = self.row(state or self.state)
        if state is not None:
            d["state"] = state
        return d

    def row(self, state: str) -> dict[str, Any]:
        """What the job's row holds in ``state`` (per job type: what the states from there on need)."""
        return self.to_dict()

    def encoded_once(self, name: str, parts: tuple[object, ...], build: Callable[[], Any]) -> JsonText:
        """The JSON of ``build()``, a large part of the job's record built from ``parts``, encoded again only once
        one of ``parts`` is another object: a job writes its per-tablet state unchanged at each of several
        states, and at 100,000 tablets each encoding took seconds of the scheduler's thread (bench/scale.py).
        ``parts`` are never changed in place once encoded; a job replaces them."""
        cached = self._json.get(name)
        if cached is None or any(a is not b for a, b in zip(cached[0], parts, strict=True)):
            cached = (parts, JsonText(encode(build())))
            self._json[name] = cached
        return cached[1]

    def move_to(self, ctx: JobContext, state: StrEnum) -> None:
        """Persist the job in ``state``, then show it: SHOW never reports a state a restart could lose."""
        ctx.persist(self, state)
        self.state = state
        self.moved()

    def moved(self) -> None:
        """The job's new state is stored: drop what the states ahead no longer need (per job type)."""
