"""BackupJob: Doris's backup state machine, one method per state.

PENDING -> SNAPSHOTING -> UPLOAD_SNAPSHOT -> UPLOADING -> SAVE_META -> UPLOAD_INFO -> FINISHED,
or CANCELLED from any state before FINISHED. Snapshots fix each partition's visible
version at PENDING; the info file is written last, so a snapshot is listed as OK only
once everything else is in the repository.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from dorisbk.backend.scan import readable_replica
from dorisbk.backend.snapshot import (
    SnapshotFile,
    SnapshotInfo,
    SnapshotItem,
    SnapshotTask,
    release_snapshots,
    snapshot_root,
    sync_snapshots,
)
from dorisbk.errors import DorisError
from dorisbk.jobs import job_info
from dorisbk.jobs.abstract_job import AbstractJob, now_ms
from dorisbk.jobs.backup_tablets import (
    TabletTarget,
    decode_snapshots,
    decode_targets,
    encode_snapshots,
    encode_targets,
)
from dorisbk.jobs.context import JobContext
from dorisbk.jobs.global_objects import GlobalObject
from dorisbk.jobs.status import Status
from dorisbk.jobs.transfer import LINK_BATCH, UploadItem, UploadTask, batches
from dorisbk.storage.layout import with_checksum
from dorisbk.storage.vault import StorageVault
from dorisbk.timeutil import hyphen_time_string, long_to_time_string

log = logging.getLogger(__name__)

# BACKUP ... TO `__keep_on_local__`: no repository; the snapshot and its meta stay on this machine.
KEEP_ON_LOCAL_REPO_NAME = "__keep_on_local__"
KEEP_ON_LOCAL_REPO_ID = -1


class BackupJobState(StrEnum):
    """Doris's BackupJobState; the value is what SHOW BACKUP prints and the store keeps."""

    PENDING = "PENDING"
    SNAPSHOTING = "SNAPSHOTING"
    UPLOAD_SNAPSHOT = "UPLOAD_SNAPSHOT"
    UPLOADING = "UPLOADING"
    SAVE_META = "SAVE_META"
    UPLOAD_INFO = "UPLOAD_INFO"
    FINISHED = "FINISHED"
    CANCELLED = "CANCELLED"


# After a restart a job resumes from the last state whose work survives it.
RESUME_FROM = {
    BackupJobState.PENDING: BackupJobState.PENDING,
    BackupJobState.SNAPSHOTING: BackupJobState.PENDING,
    BackupJobState.UPLOAD_SNAPSHOT: BackupJobState.UPLOAD_SNAPSHOT,
    BackupJobState.UPLOADING: BackupJobState.UPLOAD_SNAPSHOT,
    BackupJobState.SAVE_META: BackupJobState.SAVE_META,
    BackupJobState.UPLOAD_INFO: BackupJobState.UPLOAD_INFO,
}


class JobFailure(DorisError):
    """A failure that ends the job with a Status code other than COMMON_ERROR."""

    def __init__(self, status_code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass
class BackupJob(AbstractJob):
    TERMINAL = (BackupJobState.FINISHED, BackupJobState.CANCELLED)

    state: BackupJobState = field(default=BackupJobState.PENDING, kw_only=True)
    table_refs: list[dict[str, Any]] = field(default_factory=list)
    content: str = "ALL"
    snapshot_finished_time: int = -1
    upload_finished_time: int = -1
    targets: dict[int, TabletTarget] = field(default_factory=dict)
    snapshots: dict[int, list[SnapshotFile]] = field(default_factory=dict)  # each tablet's files, header last
    meta: dict[str, Any] = field(default_factory=dict)
    previous_labels: list[str] = field(default_factory=list)
    ttl_seconds: int = 0  # the ``ttl`` property; 0: the snapshot never expires
    global_objects: list[str] = field(default_factory=list)  # BACKUP GLOBAL: the kinds it backs up

    def __post_init__(self) -> None:
        super().__post_init__()
        self._leased: list[str] = []

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            # the per-tablet state, unchanged from UPLOAD_SNAPSHOT to UPLOAD_INFO: encoded once
            "targets": self.encoded_once("targets", (self.targets,), lambda: encode_targets(self.targets)),
            "snapshots": self.encoded_once("snapshots", (self.snapshots,), lambda: encode_snapshots(self.snapshots)),
            "meta": self.encoded_once("meta", (self.meta,), lambda: self.meta),
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> BackupJob:
        state = BackupJobState(d["state"])
        try:
            tablets, readable = (
                {"targets": decode_targets(d["targets"]), "snapshots": decode_snapshots(d["snapshots"])},
                True,
            )
        except (KeyError, ValueError):  # written by a dorisbk before the compact record
            tablets, readable = {"targets": {}, "snapshots": {}}, False
        job = BackupJob(**{**AbstractJob.base_kwargs(d), **tablets, "state": RESUME_FROM.get(state, state)})
        if not readable and not job.done:
            job.pending_cancel = Status("COMMON_ERROR", "backup job of an older dorisbk can not resume, run it again")
        return job

    @property
    def timestamp(self) -> str:
        return hyphen_time_string(self.create_time)

    # ---- scheduler entry points
    def steps(self) -> Mapping[StrEnum, Callable[[JobContext], None]]:
        pending = self.prepare_global_objects if self.is_global else self.prepare_and_send_snapshot_task
        return {
            BackupJobState.PENDING: pending,
            BackupJobState.SNAPSHOTING: self.waiting_all_snapshots_finished,
            BackupJobState.UPLOAD_SNAPSHOT: self.upload_snapshot,
            BackupJobState.UPLOADING: self.waiting_all_uploading_finished,
            BackupJobState.SAVE_META: self.save_meta_info,
            BackupJobState.UPLOAD_INFO: self.upload_meta_and_job_info_file,
        }

    def timeout_message(self) -> str:
        return ""

    def step_failed(self, ctx: JobContext, exc: DorisError) -> None:
        """The last step is retried until the timeout, never cancelled; Status says why it waits."""
        if self.state == BackupJobState.UPLOAD_INFO:
            self.status = Status("COMMON_ERROR", exc.message)
        else:
            super().step_failed(ctx, exc)

    def failure_status(self, exc: DorisError) -> Status:
        return Status(exc.status_code if isinstance(exc, JobFailure) else "COMMON_ERROR", exc.message)

    # ---- states
    def prepare_and_send_snapshot_task(self, ctx: JobContext) -> None:
        catalog = ctx.catalog
        release_snapshots(ctx.tablets, self.job_id)
        self._tasks.reset()
        with catalog.lock:
            db = catalog.dbs.get(self.db_id)
            if db is None:
                raise JobFailure("NOT_FOUND", f"database {self.db_id} does not exist")
            olap_tables: list[dict[str, Any]] = []
            views: list[dict[str, Any]] = []
            targets: dict[int, TabletTarget] = {}
            files: list[str] = []
            valid = False
            for ref in self.table_refs:
                table = catalog.find_table(db, ref["name"])
                if table is None:
                    # Dropped since the statement: skipped, as Doris does.
                    log.info("table %s was dropped before backup %s started, skipped", ref["name"], self.label)
                    continue
                valid = True
                if table.kind == "VIEW":
                    views.append(table.to_dict())
                    continue
                parts = catalog.table_partitions(table)
                if ref["partitions"]:
                    by_name = {p.name: p for p in parts}
                    missing = [name for name in ref["partitions"] if name not in by_name]
                    if missing:
                        raise JobFailure("NOT_FOUND", f"partition {missing[0]} does not exist  in table{table.name}")
                    parts = [by_name[name] for name in ref["partitions"]]
                tablets = {p.id: catalog.partition_tablets(p) for p in parts}
                olap_tables.append(job_info.table_meta(table, parts, tablets))
                schema = job_info.schema_hash(table)
                for part in parts:
                    for tablet in tablets[part.id]:
                        try:
                            index = readable_replica(tablet, part.visible_version)
                        except DorisError:
                            raise DorisError(
                                f"failed to choose replica to make snapshot for tablet {tablet.id}. "
                                f"visible version: {part.visible_version}"
                            ) from None
                        replica = tablet.replicas[index]
                        targets[tablet.id] = TabletTarget(
                            tablet.id,
                            table.id,
                            part.id,
                            part.index_id,
                            index,
                            replica.backend_id,
                            part.visible_version,
                            schema,
                        )
                        files.extend(
                            ctx.tablets.absolute(replica.backend_id, r.path)
                            for r in replica.visible_rowsets(part.visible_version)
                        )
            if not valid:
                raise JobFailure("NOT_FOUND", "no valid tables found for backup")
            limit = ctx.config.int("max_backup_tablets_per_job")
            tasks = len(targets) if self.content == "ALL" else 0
            if tasks > limit:
                raise DorisError(
                    f"the num involved tablets {tasks} exceeds the limit {limit}, which might cause the FE "
                    "OOM, change config `max_backup_tablets_per_job` to change this limitation"
                )
            total = ctx.config.int("max_concurrent_snapshot_tasks_total")
            if ctx.config.get("enable_table_level_backup_concurrency") and tasks > total:
                raise DorisError(
                    f"the num of snapshot tasks {tasks} of this job would exceed the limit {total}, change config "
                    "`max_concurrent_snapshot_tasks_total` to change this limitation"
                )
            ctx.tablets.acquire(files)
            self._leased = files
        self.meta = {"olap_tables": olap_tables, "views": views}
        self.targets = targets
        self.snapshots = {}
        if self.content == "ALL":
            for backend_id in {target.backend_id for target in targets.values()}:
                snapshot_root(ctx.tablets, backend_id, self.job_id).mkdir(parents=True, exist_ok=True)
            by_backend: dict[int, list[SnapshotItem]] = {}
            for tablet_id, target in targets.items():
                tablet = catalog.tablets.get(tablet_id)
                if tablet is None:
                    raise DorisError(f"tablet {tablet_id} does not exist")
                by_backend.setdefault(target.backend_id, []).append(
                    SnapshotItem(tablet, target.replica_index, target.version, target.schema_hash)
                )
            link = self._vault(ctx) is None  # else the snapshot is the list of the vault's immutable objects
            for backend_id, items in by_backend.items():
                for chunk in batches(items, LINK_BATCH, ctx.executor.workers(False)):
                    task = SnapshotTask(backend_id, ctx.tablets, chunk, self.job_id, self._tasks.cancelled, link)
                    self._tasks.submit(ctx.executor, task)
        self.state = BackupJobState.SNAPSHOTING

    def prepare_global_objects(self, ctx: JobContext) -> None:
        """BACKUP GLOBAL's PENDING: the statements that recreate each kind of object, kept in ``__meta``; there
        are no tablets, so the job goes on to write its meta and info files."""
        statements: dict[str, list[str]] = {}
        names: dict[str, dict[str, list[str]]] = {}
        for kind in self.global_objects:
            dump = ctx.global_store(GlobalObject(kind)).dump()
            statements[kind], names[kind] = dump.statements, dump.names
        self.meta = {"olap_tables": [], "views": [], "global_objects": statements, "global_names": names}
        self.snapshot_finished_time = self.upload_finished_time = now_ms()
        self.move_to(ctx, BackupJobState.SAVE_META)

    def waiting_all_snapshots_finished(self, ctx: JobContext) -> None:
        results = self._tasks.collect(self.task_err_msg)
        if results is None:
            return
        # a new dict, not this one filled in: the record encodes each object once (encoded_once)
        self.snapshots = {info.tablet_id: info.files for infos in results for info in infos}
        sync_snapshots(ctx.tablets, self.job_id)
        self._release_leases(ctx)
        self.snapshot_finished_time = now_ms()
        self.move_to(ctx, BackupJobState.SAVE_META if self.keep_on_local else BackupJobState.UPLOAD_SNAPSHOT)

    def _vault(self, ctx: JobContext) -> StorageVault | None:
        """Shared mode with the repository on the vault's endpoint: the rowsets go by server-side copies."""
        if self.keep_on_local:
            return None
        return ctx.vault_copying(ctx.repos.repository(self.repo_name))

    def upload_snapshot(self, ctx: JobContext) -> None:
        self._tasks.reset()
        repo = ctx.repos.repository(self.repo_name)
        batch = max(1, ctx.config.int("backup_upload_snapshot_batch_size"))
        kbps = ctx.config.int("max_upload_speed_kbps")
        # what a run of this job before a restart already sent: one listing
        present = repo.snapshot_tablet_files(self.label, self.db_id)
        by_backend: dict[int, list[UploadItem]] = {}
        for tablet_id, files in sorted(self.snapshots.items()):
            target = self.targets[tablet_id]
            path = snapshot_root(ctx.tablets, target.backend_id, self.job_id)
            info = SnapshotInfo(tablet_id, target.backend_id, str(path), target.version, files, target.schema_hash)
            by_backend.setdefault(target.backend_id, []).append(UploadItem(tablet_id, target.remote(self.db_id), info))
        for backend_id, items in by_backend.items():
            for chunk in batches(items, batch, ctx.executor.workers(repo.fs.remote)):
                task = UploadTask(
                    backend_id,
                    repo,
                    self.label,
                    chunk,
                    self._tasks.cancelled,
                    kbps,
                    present,
                    self.previous_labels,
                    ctx.vault,
                )
                self._tasks.submit(ctx.executor, task)
        self.transfer_started()
        self.state = BackupJobState.UPLOADING

    def waiting_all_uploading_finished(self, ctx: JobContext) -> None:
        results = self._tasks.collect(self.task_err_msg)
        if results is None:
            return
        self.transfer_ended()
        repo = ctx.repos.repository(self.repo_name)
        uploaded: dict[int, list[str]] = {}
        for outcome in results:
            uploaded.update(outcome.files)
        log.info(
            "upload of snapshot %s: %d tasks, %d tablets, %d files uploaded (%d bytes), %d copied in the repository, "
            "%d already present, %d copied from the storage vault",
            self.label,
            len(results),
            len(uploaded),
            sum(o.sent for o in results),
            sum(o.sent_bytes for o in results),
            sum(o.copied for o in results),
            sum(o.present for o in results),
            sum(o.from_vault for o in results),
        )
        for tablet_id, files in self.snapshots.items():
            expected = sorted(with_checksum(f.name, f.md5) for f in files)
            if sorted(uploaded.get(tablet_id, [])) != expected:
                raise DorisError(f"upload snapshot files failed because file is different, tablet: {tablet_id}")
        repo.fs.sync()  # the uploaded files are durable before the meta and info files refer to them
        self.upload_finished_time = now_ms()
        self.move_to(ctx, BackupJobState.SAVE_META)

    def save_meta_info(self, ctx: JobContext) -> None:
        job_dir = self.local_dir(ctx)
        job_dir.mkdir(parents=True, exist_ok=True)
        meta = {k: v for k, v in self.meta.items() if k != "global_names"}  # the names go to the info file
        (job_dir / "__meta").write_bytes(job_info.encode(meta))
        (job_dir / f"__info_{self.timestamp}").write_bytes(job_info.encode(self.job_info()))
        release_snapshots(ctx.tablets, self.job_id)
        if self.keep_on_local:  # the local job dir is the kept snapshot: nothing to upload
            self._finish(ctx)
            return
        self.move_to(ctx, BackupJobState.UPLOAD_INFO)

    def upload_meta_and_job_info_file(self, ctx: JobContext) -> None:
        repo = ctx.repos.repository(self.repo_name)
        job_dir = self.local_dir(ctx)
        if not job_dir.is_dir():
            self.save_meta_info(ctx)
        repo.write_meta(self.label, (job_dir / "__meta").read_bytes())
        repo.write_info(self.label, self.timestamp, (job_dir / f"__info_{self.timestamp}").read_bytes())
        shutil.rmtree(job_dir, ignore_errors=True)
        self._finish(ctx)

    def _finish(self, ctx: JobContext) -> None:
        self.status = Status()
        self.finished_time = now_ms()
        self._forget_tablets()
        self.move_to(ctx, BackupJobState.FINISHED)

    def _forget_tablets(self) -> None:
        """An ended job stays in the history without its per-tablet state: at Doris's sizes that is most of
        the job's memory, and of its record in the metadata store. Its tasks go too: their items hold every
        tablet's snapshot."""
        self.targets, self.snapshots, self.meta = {}, {}, {}
        self._tasks.reset()

    # ---- pieces
    def job_info(self) -> dict[str, Any]:
        """The ``__info`` JSON (Doris's BackupJobInfo keys)."""
        objects: dict[str, Any] = {}
        tablet_be: dict[str, int] = {}
        for table in self.meta["olap_tables"]:
            partitions = {}
            schema = 0
            for part in table["partitions"]:
                order = [t["id"] for t in part["tablets"]]
                files = {}
                for tid in order:
                    files[str(tid)] = [with_checksum(f.name, f.md5) for f in self.snapshots.get(tid, [])]
                    target = self.targets[tid]
                    tablet_be[str(tid)] = target.backend_id
                    schema = target.schema_hash
                partitions[part["name"]] = {
                    "id": part["id"],
                    "version": part["visible_version"],
                    "indexes": {
                        table["name"]: {
                            "id": part["index_id"],
                            "schema_hash": schema,
                            "tablets": files,
                            "tablets_order": order,
                        }
                    },
                }
            objects[table["name"]] = {"id": table["id"], "partitions": partitions}
        return {
            "name": self.label,
            "database": self.db_name,
            "id": self.db_id,
            "backup_time": self.create_time,
            "content": self.content,
            "backup_objects": objects,
            "backup_tables_error_ignore": [],
            "new_backup_objects": {
                "views": [{"id": v["id"], "name": v["name"]} for v in self.meta["views"]],
                "odbc_tables": [],
                "odbc_resources": [],
            },
            "backup_result": "succeed",
            "meta_version": job_info.META_VERSION,
            "major_version": job_info.MAJOR,
            "minor_version": job_info.MINOR,
            "patch_version": job_info.PATCH,
            "tablet_be_map": tablet_be,
            "tablet_snapshot_path_map": {},
            "table_commit_seq_map": {},
            **job_info.expire_fields(self.create_time, self.ttl_seconds),
            **({"global_objects": self.meta["global_names"]} if self.is_global else {}),
        }

    @property
    def keep_on_local(self) -> bool:
        return self.repo_id == KEEP_ON_LOCAL_REPO_ID

    def local_dir(self, ctx: JobContext) -> Path:
        return ctx.tmp_dir / "backup" / f"repo__{self.repo_id}" / f"{self.label}__{self.timestamp}"

    def forget(self, ctx: JobContext) -> None:
        """A ``__keep_on_local__`` snapshot's meta and info files live in the job dir until then."""
        shutil.rmtree(self.local_dir(ctx), ignore_errors=True)

    def _release_leases(self, ctx: JobContext) -> None:
        if self._leased:
            ctx.tablets.release(self._leased)
            self._leased = []

    def _cancel_internal(self, ctx: JobContext, status: Status) -> None:
        self.transfer_ended()
        self._tasks.stop()
        self._release_leases(ctx)
        release_snapshots(ctx.tablets, self.job_id)
        shutil.rmtree(self.local_dir(ctx), ignore_errors=True)
        self.status = status
        self.finished_time = now_ms()
        self._forget_tablets()
        self.move_to(ctx, BackupJobState.CANCELLED)

    # ---- SHOW BACKUP
    def show_row(self) -> tuple[str, ...]:
        # Finished tasks leave both lists, as in Doris; each shows at most 100 entries.
        unfinished = self._tasks.unfinished_text()
        progress = self._tasks.progress_text()
        errors = self.task_err_text()
        refs = self.global_objects if self.is_global else [_ref_text(self.db_name, r) for r in self.table_refs]
        objs = ", ".join(f"[{ref}]" for ref in refs)
        return (
            str(self.job_id),
            self.label,
            self.db_name,
            self.state,
            objs,
            long_to_time_string(self.create_time),
            long_to_time_string(self.snapshot_finished_time),
            long_to_time_string(self.upload_finished_time),
            long_to_time_string(self.finished_time),
            unfinished,
            progress,
            errors,
            str(self.status),
            str(self.timeout_ms // 1000),
        )


def _ref_text(db: str, ref: dict[str, Any]) -> str:
    text = f"`{db}`.`{ref['name']}`"
    if ref["partitions"]:
        text += " PARTITIONS (" + ", ".join(ref["partitions"]) + ")"
    return text


SHOW_BACKUP_COLUMNS = (
    "JobId",
    "SnapshotName",
    "DbName",
    "State",
    "BackupObjs",
    "CreateTime",
    "SnapshotFinishedTime",
    "UploadFinishedTime",
    "FinishedTime",
    "UnfinishedTasks",
    "Progress",
    "TaskErrMsg",
    "Status",
    "Timeout",
)
