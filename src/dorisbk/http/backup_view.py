"""What the backup pages and the ``/api/dorisbk`` endpoints show of jobs and snapshots.

``job_progress`` is the one place a job's progress is read: the bytes and files a transfer has put in
place, else the tasks of its current state that have ended out of those sent.
Job lists are read from memory (quick, on the event loop); snapshot listings touch a repository and
must run in a worker thread."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass
from typing import Any

from dorisbk.engine.result import SessionContext
from dorisbk.env import Env
from dorisbk.errors import DorisError, StorageError
from dorisbk.jobs.abstract_job import AbstractJob
from dorisbk.sql.backup_stmts import ShowSnapshotStmt
from dorisbk.sql.handlers import backup as backup_handlers
from dorisbk.timeutil import long_to_time_string

log = logging.getLogger(__name__)
TIMESTAMP_FORMAT = "%Y-%m-%d-%H-%M-%S"  # a snapshot's backup timestamp, as SHOW SNAPSHOT prints it


@dataclass(frozen=True)
class Progress:
    """Where a job is: its state's place among the job type's states, that state's tasks, and while it
    moves files (UPLOADING / DOWNLOADING) the files and bytes in place, the rate and the time left."""

    state: str
    step: int  # 1-based place of the state among the job type's states up to FINISHED
    steps: int
    finished_tasks: int
    total_tasks: int
    fraction: float  # 0..1: bytes in place during a transfer, else the state's tasks ended (1 once FINISHED)
    detail: str  # the text beside the bar


def human_bytes(size: float | None) -> str:
    if size is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1024
    return ""  # pragma: no cover - the loop returns at TB


def job_progress(job: AbstractJob) -> Progress:
    """A job's progress: during a transfer its bytes in place (information_schema.backup_restore_jobs's
    counts), else the finished tasks / tasks sent in its current state."""
    states = [s for s in type(job.state) if s not in job.TERMINAL] + [job.TERMINAL[0]]
    finished, total = job.task_counts()
    done = job.state == job.TERMINAL[0]  # FINISHED
    step = states.index(job.state) + 1 if job.state in states else len(states)
    report = job.progress()
    counts = report.counts
    if job.transfer.running and counts.files_total:
        fraction = (
            counts.bytes_done / counts.bytes_total if counts.bytes_total else counts.files_done / counts.files_total
        )
        eta = f", {report.eta_s} s left" if report.eta_s is not None else ""
        detail = (
            f"{round(fraction * 100)}% ({human_bytes(counts.bytes_done)} of {human_bytes(counts.bytes_total)}, "
            f"{counts.files_done}/{counts.files_total} files, {human_bytes(report.rate)}/s{eta})"
        )
    else:
        fraction = 1.0 if done else (finished / total if total else 0.0)
        detail = f"{round(fraction * 100)}% ({finished}/{total} tasks, step {step}/{len(states)})"
    return Progress(str(job.state), step, len(states), finished, total, fraction, detail)


@dataclass(frozen=True)
class JobView:
    job_id: int
    type: str
    label: str
    db: str
    repo: str
    state: str
    status: str
    create_time: str
    finished_time: str | None
    duration_s: float  # from creation to the end, or to now while it runs
    running: bool
    progress: Progress

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def job_views(env: Env, now_ms: int) -> list[JobView]:
    """Every job the server remembers (each database's last jobs and the global ones), newest first."""
    views = []
    for job in sorted(env.jobs.all_jobs(), key=lambda j: (j.create_time, j.job_id), reverse=True):
        end = job.finished_time if job.done and job.finished_time > 0 else now_ms
        views.append(
            JobView(
                job_id=job.job_id,
                type=job.type,
                label=job.label,
                db=job.db_name,
                repo=job.repo_name,  # type: ignore[attr-defined]  # BackupJob and RestoreJob both have it
                state=str(job.state),
                status=str(job.status),
                create_time=long_to_time_string(job.create_time),
                finished_time=long_to_time_string(job.finished_time) if job.done else None,
                duration_s=max(0, end - job.create_time) / 1000,
                running=not job.done,
                progress=job_progress(job),
            )
        )
    return views


@dataclass(frozen=True)
class SnapshotView:
    """One snapshot (label) of a repository: SHOW SNAPSHOT's row, its size and its newest backup's time."""

    repo: str
    label: str
    timestamps: list[str]
    status: str
    size_bytes: int | None  # None when the repository can not be listed

    @property
    def taken(self) -> dt.datetime | None:
        for stamp in reversed(self.timestamps):
            try:
                return dt.datetime.strptime(stamp, TIMESTAMP_FORMAT)
            except ValueError:  # "Invalid: <name>" of an info file without a checksum
                continue
        return None


def repository_names(env: Env) -> list[str]:
    with env.repos.lock:
        return sorted(env.repos.records)


def snapshot_listing(
    env: Env, ctx: SessionContext, repo_name: str
) -> tuple[tuple[str, ...], list[tuple], dict[str, int | None]]:
    """SHOW SNAPSHOT ON repo's columns and rows, and each label's size in bytes. Touches the repository."""
    result = backup_handlers.show_snapshot(env, ctx, ShowSnapshotStmt(repo_name))
    repo = env.repos.repository(repo_name)
    sizes: dict[str, int | None] = {}
    for row in result.rows:
        try:
            sizes[str(row[0])] = repo.snapshot_size(str(row[0]))
        except StorageError as exc:
            log.warning("can not size snapshot %s of repository %s: %s", row[0], repo_name, exc.message)
            sizes[str(row[0])] = None
    return tuple(name for name, _kind in result.columns), [tuple(r) for r in result.rows], sizes


def snapshot_views(env: Env, ctx: SessionContext) -> dict[str, list[SnapshotView]]:
    """Every repository's snapshots with their sizes (a repository that can not be listed has none).
    Touches the repositories."""
    found: dict[str, list[SnapshotView]] = {}
    for name in repository_names(env):
        try:
            _columns, rows, sizes = snapshot_listing(env, ctx, name)
        except DorisError as exc:
            log.warning("can not list the snapshots of repository %s: %s", name, exc.message)
            found[name] = []
            continue
        found[name] = [
            SnapshotView(name, str(label), str(stamps or "").split("\n") if stamps else [], str(status), sizes[label])
            for label, stamps, status in rows
        ]
    return found
