"""Scheduled backups: Doris's job scheduler (``CREATE JOB ... ON SCHEDULE EVERY ... DO BACKUP ...``).

A ``BackupTimerJob`` runs its BACKUP at every time its ``TimerDefinition`` gives; each run is a task
whose label is the job's label plus the run time (``_yyyyMMdd_HHmmss``, server time zone). The
``JobManager`` (Doris's name) owns the jobs: CREATE / PAUSE / RESUME / DROP JOB, and a daemon that every
``job_scheduler_check_interval_ms`` follows the running tasks and starts the due runs of a bounded number
of jobs. A run that finds its database busy with another BACKUP or RESTORE is SKIPPED. Runs missed while
the server was down (or while a tick was late) become one run, at the latest missed time: the daemon's
first pass is at start. Every change of a job is one metadata transaction, and a run's BackupJob commits
in the same one as the task that records it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from dorisbk.background import start_periodic
from dorisbk.errors import DorisError
from dorisbk.jobs import backup_request
from dorisbk.jobs.abstract_job import now_ms
from dorisbk.jobs.request import JobRequest, TableRef
from dorisbk.jobs.timer import TimerDefinition
from dorisbk.meta.store import Change
from dorisbk.timeutil import long_to_time_string

if TYPE_CHECKING:
    from dorisbk.jobs.abstract_job import AbstractJob
    from dorisbk.jobs.handler import BackupHandler

log = logging.getLogger(__name__)

KIND = "timer_job"  # the metadata store's kind of a scheduled job's row
JOBS_PER_TICK = 100  # jobs one pass starts runs of: a burst of due jobs is spread over passes
MAX_SAVE_TASK_NUM = 100  # runs a job remembers (Doris keeps 100 tasks of a job)
INNER_PREFIX = "inner_"  # Doris keeps job names with it for its own jobs
LABEL_TIME = "%Y%m%d_%H%M%S"

JOBS_COLUMNS = ("Id", "Name", "Definer", "ExecuteType", "RecurringStrategy", "Status", "ExecuteSql", "CreateTime",
                "SucceedTaskCount", "FailedTaskCount", "CanceledTaskCount", "Comment")  # fmt: skip
TASKS_COLUMNS = ("TaskId", "JobId", "JobName", "Label", "Status", "ErrorMsg", "CreateTime", "StartTime",
                 "FinishTime", "User")  # fmt: skip


class JobStatus(StrEnum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    FINISHED = "FINISHED"  # its ENDS time has come


class TaskStatus(StrEnum):
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"  # the database was busy with another BACKUP or RESTORE: no backup this time


@dataclass
class BackupTask:
    """One run: the BackupJob it started (none when skipped or refused) and how it ended."""

    task_id: int
    label: str
    status: TaskStatus
    create_time: int  # the run time the timer gave
    start_time: int
    finish_time: int | None = None
    error: str = ""
    backup_job_id: int | None = None

    def end(self, status: TaskStatus, error: str = "") -> None:
        self.status, self.error, self.finish_time = status, error, now_ms()


@dataclass
class BackupTimerJob:
    """A scheduled backup: a recurring job of the job scheduler (Doris has InsertJob for INSERTs), with
    its last MAX_SAVE_TASK_NUM runs and the counts of all of them."""

    job_id: int
    name: str
    definer: str
    timer: TimerDefinition
    request: JobRequest  # the BACKUP of every run, with the label prefix
    execute_sql: str
    comment: str = ""
    status: JobStatus = JobStatus.RUNNING
    create_time: int = field(default_factory=now_ms)
    next_run_ms: int = 0
    succeed: int = 0
    failed: int = 0
    canceled: int = 0  # skipped runs
    tasks: list[BackupTask] = field(default_factory=list)

    def run_label(self, run_ms: int) -> str:
        return f"{self.request.label}_{dt.datetime.fromtimestamp(run_ms / 1000).strftime(LABEL_TIME)}"

    def count(self, status: TaskStatus) -> None:
        if status is TaskStatus.SUCCESS:
            self.succeed += 1
        elif status is TaskStatus.FAILED:
            self.failed += 1
        elif status is TaskStatus.SKIPPED:
            self.canceled += 1

    def jobs_row(self) -> tuple:
        return (str(self.job_id), self.name, self.definer, "RECURRING", self.timer.strategy(), str(self.status),
                self.execute_sql, long_to_time_string(self.create_time), str(self.succeed), str(self.failed),
                str(self.canceled), self.comment)  # fmt: skip

    def task_rows(self) -> list[tuple]:
        return [
            (
                str(t.task_id),
                str(self.job_id),
                self.name,
                t.label,
                str(t.status),
                t.error or None,
                long_to_time_string(t.create_time),
                long_to_time_string(t.start_time),
                long_to_time_string(t.finish_time),
                self.definer,
            )
            for t in self.tasks
        ]

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["timer"] = self.timer.to_dict()
        d["request"] = dataclasses.asdict(self.request)
        d["tasks"] = [dataclasses.asdict(t) for t in self.tasks]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BackupTimerJob:
        req = dict(d["request"])
        req["tables"] = tuple(TableRef(**{**t, "partitions": tuple(t["partitions"])}) for t in req["tables"])
        tasks = [BackupTask(**{**t, "status": TaskStatus(t["status"])}) for t in d["tasks"]]
        return cls(
            **{
                **d,
                "timer": TimerDefinition.from_dict(d["timer"]),
                "request": JobRequest(**req),
                "tasks": tasks,
                "status": JobStatus(d["status"]),
            }
        )


class JobManager:
    """The scheduled jobs by name, their statements and the daemon that runs them."""

    def __init__(self, handler: BackupHandler) -> None:
        self.handler = handler
        self.store = handler.store
        self.lock = threading.RLock()
        self.jobs: dict[str, BackupTimerJob] = {}

    # ---- persistence
    def replay(self, rows: Iterable[tuple[str, int, dict]]) -> list[tuple[str, int, dict]]:
        rest = []
        for kind, obj_id, body in rows:
            if kind != KIND:
                rest.append((kind, obj_id, body))
                continue
            job = BackupTimerJob.from_dict(body)
            self.jobs[job.name] = job
        return rest

    def apply(self, kind: str, obj_id: int, body: dict | None) -> bool:
        """Shared mode: a scheduled job's row another node committed (None: dropped); False for other kinds."""
        if kind != KIND:
            return False
        with self.lock:
            for name in [n for n, j in self.jobs.items() if j.job_id == obj_id]:
                del self.jobs[name]
            if body is not None:
                job = BackupTimerJob.from_dict(body)
                self.jobs[job.name] = job
        return True

    def _change(self, job: BackupTimerJob) -> Change:
        return Change().put(KIND, job.job_id, job.to_dict())

    # ---- statements
    def create(self, job: BackupTimerJob) -> None:
        """CREATE JOB: the checks Doris makes, then the job, its first run at its timer's start."""
        if job.name.startswith(INNER_PREFIX):
            raise DorisError(f"job name can not start with {INNER_PREFIX}")
        # every run's label must pass BACKUP's check; all are the label and 16 characters: one check is all
        backup_request.check_label(self.handler.ctx.config, job.run_label(job.timer.start_ms))
        self.handler.ctx.repos.record(job.request.repo)
        self.handler.database(job.request.db)
        job.next_run_ms = job.timer.start_ms
        with self.lock:
            if job.name in self.jobs:
                raise DorisError(f"job name exist, jobName:{job.name}")
            job.job_id = self.store.next_id()
            self.store.commit(self._change(job))
            self.jobs[job.name] = job

    def alter_status(self, name: str, status: JobStatus) -> None:
        """PAUSE JOB / RESUME JOB. A resumed job runs next at its first run time from now: what it missed
        while paused is not caught up."""
        with self.lock:
            job = self._existing(name)
            if job.status is status:
                raise DorisError(
                    f"Alter job status error, jobName is {name}, errorMsg is Can't change job status to the same status"
                )
            updated = dataclasses.replace(job, status=status)
            if status is JobStatus.RUNNING:
                updated.next_run_ms = job.timer.next_after(now_ms())
            self.store.commit(self._change(updated))
            self.jobs[name] = updated

    def drop(self, name: str, if_exists: bool) -> None:
        """DROP JOB: the schedule goes; a run still going on stays a BACKUP job of its database."""
        with self.lock:
            job = self.jobs.get(name)
            if job is None:
                if if_exists:
                    return
                raise DorisError(f"unregister job error, jobName:{name}")
            self.store.commit(Change().delete(KIND, job.job_id))
            del self.jobs[name]

    def _existing(self, name: str) -> BackupTimerJob:
        job = self.jobs.get(name)
        if job is None:
            raise DorisError(f"job not exist, jobName:{name}")
        return job

    def listed(self) -> list[BackupTimerJob]:
        with self.lock:
            return sorted(self.jobs.values(), key=lambda j: j.job_id)

    # ---- the daemon
    def start(self, stopping: threading.Event) -> threading.Thread:
        """Check every ``job_scheduler_check_interval_ms``, the first time now (the catch-up runs)."""
        config = self.handler.ctx.config
        return start_periodic(
            "JobScheduler",
            stopping,
            lambda: config.int("job_scheduler_check_interval_ms") / 1000.0,
            self.run_once,
            first_now=True,
        )

    def run_once(self) -> None:
        """One pass: follow the runs in progress, then start the due runs of up to JOBS_PER_TICK jobs,
        the longest overdue first."""
        now = now_ms()
        with self.lock:
            for job in list(self.jobs.values()):
                self._follow(job)
            due = sorted(
                (j for j in self.jobs.values() if j.status is JobStatus.RUNNING and j.next_run_ms <= now),
                key=lambda j: j.next_run_ms,
            )
            for job in due[:JOBS_PER_TICK]:
                self._run(job, now)

    def _follow(self, job: BackupTimerJob) -> None:
        """Runs whose BackupJob has ended take its outcome (FINISHED: SUCCESS; CANCELLED: FAILED)."""
        changed = False
        for task in job.tasks:
            if task.status is not TaskStatus.RUNNING or task.backup_job_id is None:
                continue
            backup = self._backup_job(job, task.backup_job_id)
            if backup is None:
                task.end(TaskStatus.FAILED, "the backup job is no longer known")
            elif backup.done:
                ok = backup.status.ok and backup.state == "FINISHED"
                task.end(TaskStatus.SUCCESS if ok else TaskStatus.FAILED, "" if ok else str(backup.status))
            else:
                continue
            job.count(task.status)
            changed = True
        if changed:
            self.store.commit(self._change(job))

    def _backup_job(self, job: BackupTimerJob, backup_job_id: int) -> AbstractJob | None:
        db = self.handler.ctx.catalog.find_db(job.request.db or "")
        return self.handler.find_job(db.id, backup_job_id) if db is not None else None

    def _run(self, job: BackupTimerJob, now: int) -> None:
        """The run due at the latest missed run time; then the next one after now (or FINISHED)."""
        run_ms = job.timer.latest_due(now)
        job.next_run_ms = job.timer.next_after(now)
        if job.timer.ended(job.next_run_ms):
            job.status = JobStatus.FINISHED
        if run_ms is None:  # the ENDS time came before this run
            self.store.commit(self._change(job))
            return
        task = BackupTask(self.store.next_id(), job.run_label(run_ms), TaskStatus.RUNNING, run_ms, now)
        job.tasks = [*job.tasks, task][-MAX_SAVE_TASK_NUM:]
        request = dataclasses.replace(job.request, label=task.label)
        handler = self.handler
        try:
            with handler.lock:  # the busy test and the submission at once: no BACKUP comes in between
                db = handler.database(request.db)
                if handler.unfinished_jobs(db.id):
                    task.end(TaskStatus.SKIPPED, f"database {db.name} has a backup or restore job running")
                else:
                    backup = backup_request.build(handler, request)
                    task.backup_job_id = backup.job_id
                    handler.add_job(backup, self._change(job))
                    log.info("scheduled job %s: backup %s started", job.name, task.label)
                    return
        except DorisError as exc:
            task.end(TaskStatus.FAILED, exc.message)
        job.count(task.status)
        log.info("scheduled job %s: run %s %s %s", job.name, task.label, task.status, task.error)
        self.store.commit(self._change(job))
