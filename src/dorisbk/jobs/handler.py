"""BackupHandler: per-database job lists, submission rules and the scheduler that runs jobs.

It owns what Doris's BackupHandler owns: a statement's SQL handler parses and shapes rows; the checks
before a job exists (``backup_request``, ``restore_request``), the one-job rule, cancel, and the rows of
SHOW BACKUP / SHOW RESTORE / SHOW SNAPSHOT are here.

At most one unfinished BACKUP or RESTORE per database; each database remembers its last
``max_backup_restore_job_num_per_db`` jobs. A daemon thread polls the last job of every
database, as Doris's BackupHandler does, every ``backup_handler_update_interval_millis``.
With ``enable_table_level_backup_concurrency`` a database may hold several unfinished jobs,
run as ``jobs.concurrency`` admits them.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dorisbk.backend.snapshot import snapshots_dir
from dorisbk.catalog.model import Database
from dorisbk.errors import DorisError, NoDatabaseSelected, StaleMetadata, StorageError, UnknownDatabase
from dorisbk.jobs import backup_request, restore_dry_run, restore_request, snapshot_check, snapshot_list
from dorisbk.jobs.abstract_job import AbstractJob
from dorisbk.jobs.backup_job import SHOW_BACKUP_COLUMNS, BackupJob
from dorisbk.jobs.concurrency import QUEUE_COLUMNS, Slot, plan
from dorisbk.jobs.context import JobContext
from dorisbk.jobs.global_objects import GLOBAL_DB
from dorisbk.jobs.repositories import RepoRecord
from dorisbk.jobs.request import JobRequest
from dorisbk.jobs.restore_job import RestoreJob, show_restore_columns
from dorisbk.jobs.snapshot_check import CheckRequest, SnapshotCheck
from dorisbk.jobs.status import Status
from dorisbk.meta.store import Change, MetaStore
from dorisbk.storage.repository import NoInfoFileError

log = logging.getLogger(__name__)

ONE_JOB = "Can only run one backup or restore job of a database at same time"
# shared mode: a CANCEL through a node that does not run the job is a row of this kind (the job's id), carried
# out by the node holding the job's lease, which deletes it once the job has ended
CANCEL_KIND = "job_cancel"
CANCEL_WAIT_S = 30.0  # how long such a CANCEL waits to see the job end before it answers

JobLoader = Callable[[dict[str, Any]], AbstractJob]
JobListener = Callable[[AbstractJob], None]
LabelTest = Callable[[str], bool]


def _passes(label: LabelTest | None, job: AbstractJob) -> bool:
    return label is None or label(job.label)


class BackupHandler:
    def __init__(self, store: MetaStore, ctx: JobContext) -> None:
        self.store = store
        self.ctx = ctx
        self.lock = threading.RLock()
        self.jobs: dict[int, list[AbstractJob]] = {}
        self.loaders: dict[str, JobLoader] = {"BACKUP": BackupJob.from_dict, "RESTORE": RestoreJob.from_dict}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # told once of each job that ends (FINISHED or CANCELLED) on this server: the frontend's counters
        self.on_end: JobListener = lambda job: None
        self._ended: set[int] = set()
        # shared mode (jobs/job_lease.py): whether this node runs a job (holds its lease), and the job it ran
        # that another node runs now
        self.runs_here: Callable[[AbstractJob], bool] = lambda job: True
        self.lost: JobListener = lambda job: None
        self._cancel_asked: set[int] = set()  # shared mode: jobs a CANCEL through another node asked to end
        self._changed = threading.Condition(self.lock)  # shared mode: another node's job row was applied
        ctx.persist = self.persist
        ctx.executor.on_done = self.wake

    # ---- persistence
    def replay(self, rows: Iterable[tuple[str, int, dict]]) -> list[tuple[str, int, dict]]:
        rest = []
        for kind, _obj_id, body in rows:
            if kind == CANCEL_KIND:
                self._cancel_asked.add(_obj_id)
                continue
            if kind != "job":
                rest.append((kind, _obj_id, body))
                continue
            job = self.loaders[body["type"]](body)
            self.jobs.setdefault(job.db_id, []).append(job)
        for jobs in self.jobs.values():
            jobs.sort(key=lambda j: j.create_time)
        return rest

    def apply(self, kind: str, obj_id: int, body: dict | None) -> bool:
        """Shared mode: a job row another node committed (None: forgotten), shown as SHOW BACKUP / RESTORE
        show a replayed job. Only a job's lease holder writes its row, so a row of a job this node was running
        means another node took the job (this one stalled past its lease): this node stops it. False for other
        kinds."""
        if kind == CANCEL_KIND:
            with self.lock:
                if body is not None:
                    self._cancel_asked.add(obj_id)
                else:
                    self._cancel_asked.discard(obj_id)
            self.wake()
            return True
        if kind != "job":
            return False
        with self.lock:
            for jobs in self.jobs.values():
                held = next((j for j in jobs if j.job_id == obj_id), None)
                if held is not None and self.runs_here(held):
                    self.lost(held)
                if held is not None:
                    jobs.remove(held)
            if body is not None:
                job = self.loaders[body["type"]](body)
                jobs = self.jobs.setdefault(job.db_id, [])
                jobs.append(job)
                jobs.sort(key=lambda j: j.create_time)
            self._changed.notify_all()
        return True

    def collect_snapshot_dirs(self) -> None:
        """At start: drop backend snapshot dirs of jobs that are done or forgotten (killed mid-release)."""
        with self.lock:
            live = {str(j.job_id) for jobs in self.jobs.values() for j in jobs if not j.done}
        for backend_id in list(self.ctx.catalog.backends):
            root = snapshots_dir(self.ctx.tablets, backend_id)
            if not root.is_dir():
                continue
            for job_dir in root.iterdir():
                if job_dir.name not in live:
                    shutil.rmtree(job_dir, ignore_errors=True)

    def persist(self, job: AbstractJob, state: str | None = None) -> None:
        """Write the job, in ``state`` when it is about to move there."""
        self.store.commit(Change(blind=True).put("job", job.job_id, job.record(state)))

    # ---- statements
    def database(self, name: str | None) -> Database:
        """The database a statement names (or the session's): Doris checks it after the repository."""
        if not name:
            raise NoDatabaseSelected("No database selected")
        db = self.ctx.catalog.find_db(name)
        if db is None:
            raise UnknownDatabase(f"Unknown database '{name}'")
        return db

    def jobs_database(self, name: str | None) -> Database:
        """The database whose jobs SHOW / CANCEL BACKUP and RESTORE name: ``__internal_schema`` is that of the
        global jobs (Doris lists them there), any other a database of the catalog."""
        return GLOBAL_DB if name == GLOBAL_DB.name else self.database(name)

    def backup(self, req: JobRequest) -> None:
        self.add_job(backup_request.build(self, req))

    def restore(self, req: JobRequest) -> tuple[tuple[str, ...], list[tuple]] | None:
        """A restore job; with ``dry_run`` no job, but the rows of what it would do."""
        job = restore_request.build(self, req)
        if job.flag("dry_run"):
            return restore_dry_run.COLUMNS, restore_dry_run.dry_run(job, self.ctx)
        self.add_job(job)
        return None

    def show_jobs(
        self, db: Database, job_type: str, label: LabelTest | None, brief: bool = False
    ) -> tuple[tuple[str, ...], list[tuple]]:
        """SHOW BACKUP / SHOW [BRIEF] RESTORE: columns and one row per job of the type whose label passes;
        in concurrency mode each unfinished job also shows its QueuePos and BlockReason."""
        if job_type == "BACKUP":
            columns = SHOW_BACKUP_COLUMNS
            rows = [j.show_row() for j in self.db_jobs(db.id) if isinstance(j, BackupJob) and _passes(label, j)]
        else:
            columns = show_restore_columns(brief)
            rows = [j.show_row(brief) for j in self.db_jobs(db.id) if isinstance(j, RestoreJob) and _passes(label, j)]
        if not self.concurrent:
            return columns, rows
        slots = {str(k): v for k, v in self.slots(db.id).items()}
        queued = []
        for row in rows:
            slot = slots.get(str(row[0]))
            queued.append((*row, slot.queue_pos if slot else "", slot.reason if slot else ""))
        return (*columns, *QUEUE_COLUMNS), queued

    def drop_repository(self, name: str) -> None:
        record = self.existing_repository(name)
        if self.jobs_using_repo(record.id):
            raise DorisError("Backup or restore job is running on this repository. Can not drop it")
        self.ctx.repos.drop(name)

    def existing_repository(self, name: str) -> RepoRecord:
        """ALTER and DROP REPOSITORY name no repository in their "does not exist" message (as Doris)."""
        if name not in self.ctx.repos.records:
            raise DorisError("Repository does not exist")
        return self.ctx.repos.record(name)

    def drop_snapshot(self, repo_name: str, label: str) -> None:
        record = self.ctx.repos.record(repo_name)
        if record.read_only:
            raise DorisError(f"Repository {record.name} is read only")
        if any(job.label == label for job in self.jobs_using_repo(record.id)):
            raise DorisError(f"Snapshot {label} is used by a running job")
        try:
            self.ctx.repos.repository(record.name).drop_snapshot(label)
        except StorageError as exc:
            raise DorisError(f"Failed to drop snapshot {label}: {exc.message}") from None

    def check_snapshot(
        self, repo_name: str, label: str, props: Mapping[str, str]
    ) -> tuple[tuple[str, ...], list[tuple]]:
        """ADMIN CHECK SNAPSHOT: one row per partition of the backup and a last one with the verdict."""
        request = CheckRequest.from_properties(props)
        record = self.ctx.repos.record(repo_name)
        repo = self.ctx.repos.repository(record.name)
        timestamp, info = snapshot_list.backup_info(repo, label, request.timestamp)
        return snapshot_check.COLUMNS, SnapshotCheck(self.ctx, repo, label, timestamp, request.level).run(info)

    def show_snapshots(
        self, repo_name: str, one: tuple[str, str] | None, label: LabelTest | None, stamp: LabelTest | None
    ) -> tuple[tuple[str, ...], list[tuple]]:
        """SHOW SNAPSHOT: ``one`` (label, timestamp) describes that backup; a timestamp test describes
        each backup it selects; otherwise one row per snapshot."""
        record = self.ctx.repos.record(repo_name)
        repo = self.ctx.repos.repository(record.name)
        if one is not None:
            return snapshot_list.DETAIL_COLUMNS, [snapshot_list.detail(repo, *one)]
        if stamp is not None:
            return snapshot_list.DETAIL_COLUMNS, snapshot_list.described(repo, record.name, label, stamp)
        return snapshot_list.LIST_COLUMNS, snapshot_list.listed(repo, record.name, label)

    def snapshot_backups(self, repo_name: str) -> list[snapshot_list.Backup]:
        """Every readable backup in a repository (information_schema.repository_snapshots); what can not be
        listed or read is logged and left out."""
        try:
            repo = self.ctx.repos.repository(repo_name)
            names = sorted(repo.list_snapshots())
        except DorisError as exc:
            log.warning("can not list the snapshots of repository %s: %s", repo_name, exc.message)
            return []
        found = []
        for label in names:
            try:
                found += [b for b in snapshot_list.backups(repo, label) if b.info is not None]
            except NoInfoFileError:
                continue
            except StorageError as exc:
                log.warning("can not list the backups of %s in repository %s: %s", label, repo_name, exc.message)
        return found

    # ---- submission
    def add_job(self, job: AbstractJob, also: Change | None = None) -> None:
        """Register a new job for its database, refusing a second unfinished one (unless in concurrency mode);
        the puts and deletes of ``also`` go in the same metadata transaction (a scheduled run's record,
        ``jobs.job_scheduler``)."""
        with self.lock:
            jobs = self.jobs.setdefault(job.db_id, [])
            if not self.concurrent and jobs and not jobs[-1].done:
                raise DorisError(ONE_JOB)
            keep = max(1, self.ctx.config.int("max_backup_restore_job_num_per_db"))
            # only ended jobs are forgotten (in classic mode every job but the last has ended)
            ended = [j for j in jobs if j.done]
            evicted = ended[: max(0, len(jobs) + 1 - keep)]
            change = Change().put("job", job.job_id, job.to_dict())
            if also is not None:
                change.puts += also.puts
                change.deletes += also.deletes
            for old in evicted:
                change.delete("job", old.job_id)
            self.store.commit(change)
            gone = {j.job_id for j in evicted}
            jobs[:] = [j for j in jobs if j.job_id not in gone]
            jobs.append(job)
        for old in evicted:
            old.forget(self.ctx)
        self.wake()

    def listed(self) -> list[AbstractJob]:
        """Every job remembered, of every database, oldest first."""
        return sorted(self.all_jobs(), key=lambda j: (j.create_time, j.job_id))

    def db_jobs(self, db_id: int) -> list[AbstractJob]:
        with self.lock:
            return list(self.jobs.get(db_id, []))

    def all_jobs(self) -> list[AbstractJob]:
        """Every job remembered, of every database (dropped ones too) and the global ones."""
        with self.lock:
            return [j for jobs in self.jobs.values() for j in jobs]

    def find_job(self, db_id: int, job_id: int) -> AbstractJob | None:
        """A job the database still remembers."""
        return next((j for j in self.db_jobs(db_id) if j.job_id == job_id), None)

    def running_job(self, db_id: int) -> AbstractJob | None:
        jobs = self.db_jobs(db_id)
        return jobs[-1] if jobs and not jobs[-1].done else None

    def unfinished_jobs(self, db_id: int) -> list[AbstractJob]:
        return [j for j in self.db_jobs(db_id) if not j.done]

    @property
    def concurrent(self) -> bool:
        """Doris's table-level concurrency mode: several unfinished jobs per database."""
        return bool(self.ctx.config.get("enable_table_level_backup_concurrency"))

    def slots(self, db_id: int) -> dict[int, Slot]:
        """Running or waiting, for every unfinished job of the database (by job id)."""
        limit = self.ctx.config.int("max_backup_restore_concurrent_num_per_db")
        return plan(self.db_jobs(db_id), limit if self.concurrent else 1)

    def jobs_using_repo(self, repo_id: int) -> list[AbstractJob]:
        with self.lock:
            return [j for jobs in self.jobs.values() for j in jobs if not j.done and j.repo_id == repo_id]

    def finished_backups(self, repo_id: int) -> list[AbstractJob]:
        """Finished backups into a repository, oldest first: where unchanged files can be copied from."""
        with self.lock:
            done = [
                j
                for jobs in self.jobs.values()
                for j in jobs
                if j.type == "BACKUP" and j.state == "FINISHED" and j.repo_id == repo_id
            ]
        return sorted(done, key=lambda j: j.create_time)

    def cancel(self, db_name: str | None, job_type: str, label: LabelTest | None = None) -> None:
        """Classic mode: the database's current job, if it is of ``job_type`` (and matches ``label``);
        for a backup that is the last one even when it has ended (it then says why it can not be
        cancelled), for a restore only an unfinished one. Concurrency mode: every unfinished job of
        that type matching ``label`` (all of them without one)."""
        db_id = self.jobs_database(db_name).id
        if self.concurrent:
            mine = [j for j in self.unfinished_jobs(db_id) if j.type == job_type]
            chosen = [j for j in mine if _passes(label, j)]
        else:
            jobs = self.db_jobs(db_id)
            job = jobs[-1] if jobs and (job_type == "BACKUP" or not jobs[-1].done) else None
            chosen = [job] if job is not None and job.type == job_type and _passes(label, job) else []
        if not chosen:
            kind = "backup job" if job_type == "BACKUP" else "restore"
            raise DorisError(f"No {kind} is currently running")
        for job in chosen:
            if not job.done and not self.runs_here(job):
                self._cancel_elsewhere(job)
                continue
            status = job.cancel(self.ctx, self.cancel_status(job))
            if not status.ok:
                raise DorisError(f"Failed to cancel job: {status.msg}")
            self._tell_end(job)

    def _cancel_elsewhere(self, job: AbstractJob) -> None:
        """Shared mode: ask the node that runs ``job`` to cancel it (a row in the store, carried out by whichever
        node holds the job's lease, now or after a takeover), then wait a bounded time to see it end, as a
        CANCEL on that node would. A job that has not ended by then still will: the request is stored."""
        self.store.commit(Change(blind=True).put(CANCEL_KIND, job.job_id, {"label": job.label, "type": job.type}))
        with self._changed:
            ended = self._changed.wait_for(lambda: self._ended_here(job), CANCEL_WAIT_S)
        if not ended:
            log.warning("job %s (%s): cancel requested, not ended after %.0f s", job.label, job.type, CANCEL_WAIT_S)

    def _ended_here(self, job: AbstractJob) -> bool:
        """Whether this node's copy of ``job`` (the last row applied replaces the object) has ended."""
        found = self.find_job(job.db_id, job.job_id)
        return found is not None and found.done

    def _tell_end(self, job: AbstractJob) -> None:
        """``on_end`` once per job: a CANCEL and the scheduler's round may both see the same job end."""
        with self.lock:
            if job.job_id in self._ended:
                return
            self._ended.add(job.job_id)
        self.on_end(job)

    @staticmethod
    def cancel_status(job: AbstractJob) -> Status:
        if job.type == "RESTORE":
            return Status("COMMON_ERROR", f"user cancelled, current state: {job.state}")
        return Status("COMMON_ERROR", "user cancelled")

    # ---- scheduler
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="backupHandler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop scheduling and tell running tasks to stop at their next file; jobs resume after a restart."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self.lock:
            running = [j for jobs in self.jobs.values() for j in jobs if not j.done]
        for job in running:
            job.interrupt()

    def wake(self) -> None:
        """Run jobs now rather than at the next tick (a task ended or a job was submitted)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                if self.run_once():
                    continue  # a job moved on: its next state may have work right away
            except Exception:  # e.g. the metadata store failing: log, and keep scheduling
                log.exception("backup handler round failed")
            interval = self.ctx.config.int("backup_handler_update_interval_millis") / 1000.0
            self._wake.wait(max(0.01, interval))

    def _cancel_failed(self, job: AbstractJob) -> None:
        """Cancel a job whose step raised; if even that fails it stays pending, retried at the next round."""
        status = job.pending_cancel or Status("COMMON_ERROR", "internal error, see the server log")
        try:
            job.cancel(self.ctx, status)
        except Exception:
            job.pending_cancel = status
            log.exception("cancelling job %s (%s) failed, retried at the next round", job.label, job.type)

    def run_once(self) -> bool:
        """Run the running jobs of every database once (in classic mode its last job); True when any
        job changed state."""
        with self.lock:
            dbs = [db_id for db_id, jobs in self.jobs.items() if any(not j.done for j in jobs)]
        current = []
        for db_id in dbs:
            slots = self.slots(db_id)
            current += [
                j for j in self.db_jobs(db_id) if j.job_id in slots and slots[j.job_id].running and self.runs_here(j)
            ]
        moved = False
        for job in current:
            before = job.state
            if job.job_id in self._cancel_asked and job.pending_cancel is None and not job.done:
                job.pending_cancel = self.cancel_status(job)  # asked through another node
            try:
                if job.pending_cancel is not None:
                    job.cancel(self.ctx, job.pending_cancel)
                else:
                    job.run(self.ctx)
            except StaleMetadata:  # shared mode: another node changed what the step read; it runs again
                self.store.catch_up()
            except Exception:  # a bug in a job, or a full disk under the metadata, must not stop the scheduler
                log.exception("job %s (%s) failed", job.label, job.type)
                self._cancel_failed(job)
            moved = moved or job.state != before
            if job.done and job.state != before:
                self._tell_end(job)
            if job.done and job.job_id in self._cancel_asked:
                self.store.commit(Change(blind=True).delete(CANCEL_KIND, job.job_id))
                self._cancel_asked.discard(job.job_id)
        return moved
