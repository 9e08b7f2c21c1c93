"""Table-level job concurrency (Doris's ``enable_table_level_backup_concurrency``).

With the knob on, a database may hold several unfinished BACKUP / RESTORE jobs. Jobs are
admitted in submission order: a job runs when no earlier unfinished job of the database
conflicts with it and fewer than ``max_backup_restore_concurrent_num_per_db`` jobs run.
Two backups never conflict (both only read); a restore conflicts with any job touching one
of its tables, and a restore that may drop tables (``clean_tables``) with every job.
A waiting job shows its place in the queue (``QueuePos``) and why it waits (``BlockReason``)
in SHOW BACKUP / SHOW RESTORE; a running one shows ``Running``.
"""

from __future__ import annotations

from dataclasses import dataclass

from dorisbk.jobs.abstract_job import AbstractJob

RUNNING = "Running"
QUEUE_COLUMNS = ("QueuePos", "BlockReason")


@dataclass(frozen=True)
class Slot:
    """Where one unfinished job stands: running, or waiting at ``pos`` for ``reason``."""

    running: bool
    pos: int = 0
    reason: str = ""

    @property
    def queue_pos(self) -> str:
        return RUNNING if self.running else str(self.pos)


def job_tables(job: AbstractJob) -> set[str] | None:
    """Lower-cased names of the tables a job reads or writes; None when it may touch the whole database."""
    refs = getattr(job, "table_refs", None)
    if refs is not None:
        return {r["name"].lower() for r in refs}
    props = getattr(job, "properties", {})
    if str(props.get("clean_tables", "false")).lower() == "true":
        return None
    info = getattr(job, "info", {}) or {}
    aliases = getattr(job, "aliases", {})
    names = list(info.get("backup_objects", {}))
    names += [v["name"] for v in info.get("new_backup_objects", {}).get("views", [])]
    return {aliases.get(n, n).lower() for n in names}


def _conflict(job: AbstractJob, earlier: AbstractJob) -> str:
    """Why ``job`` must wait for ``earlier``, or "" when both may run together."""
    if job.type == "BACKUP" and earlier.type == "BACKUP":
        return ""
    mine, theirs = job_tables(job), job_tables(earlier)
    if mine is None or theirs is None:
        return f"waiting for {earlier.type.lower()} job {earlier.label} on the whole database"
    shared = sorted(mine & theirs)
    if shared:
        return f"table {shared[0]} is used by {earlier.type.lower()} job {earlier.label}"
    return ""


def plan(jobs: list[AbstractJob], limit: int) -> dict[int, Slot]:
    """The slot of every unfinished job of one database (``jobs`` oldest first), by job id.

    A job that already left PENDING keeps running (it was admitted before); a PENDING one is
    admitted when nothing earlier conflicts with it and the running count is under ``limit``.
    """
    slots: dict[int, Slot] = {}
    earlier: list[AbstractJob] = []
    running = 0
    waiting = 0
    for job in jobs:
        if job.done:
            continue
        reason = ""
        if job.state == "PENDING":
            reason = next((r for r in (_conflict(job, e) for e in earlier) if r), "")
            if not reason and running >= max(1, limit):
                reason = f"running jobs of the database reached max_backup_restore_concurrent_num_per_db ({limit})"
        if reason:
            waiting += 1
            slots[job.job_id] = Slot(False, waiting, reason)
        else:
            running += 1
            slots[job.job_id] = Slot(True)
        earlier.append(job)
    return slots
