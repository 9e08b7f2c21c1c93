"""RestoreJob: Doris's restore state machine, one method per state.

PENDING -> CREATING -> SNAPSHOTING -> DOWNLOAD -> DOWNLOADING -> COMMIT -> COMMITTING -> FINISHED,
or CANCELLED before FINISHED. PENDING checks the snapshot against the local catalog and
plans every new table, partition and tablet with fresh ids; CREATING registers new tables
in RESTORE state (listed, but refusing queries, loads and DDL); files are downloaded and
verified into per-job snapshot dirs, linked into the new tablets at COMMIT, and one
metadata transaction at COMMITTING makes everything visible, swaps atomic tables, applies
clean_tables / clean_partitions and finishes the job. Until that transaction nothing
restored is queryable; a cancel or restart before it leaves the local tables as they were.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from dorisbk.backend.snapshot import header_name, release_snapshots, snapshot_root
from dorisbk.catalog import partitions as bounds
from dorisbk.catalog import rollup
from dorisbk.catalog.catalog import ATOMIC_PREFIX, table_signature
from dorisbk.catalog.model import Database, Partition, Rowset, Table, Tablet, now_ms
from dorisbk.catalog.schema_change import check_column_name
from dorisbk.engine.dialect import DorisBK
from dorisbk.errors import DorisError
from dorisbk.jobs.abstract_job import AbstractJob
from dorisbk.jobs.context import JobContext
from dorisbk.jobs.dir_move import DirMoveItem, DirMoveTask, HeaderRowset
from dorisbk.jobs.global_objects import ForbiddenStatement, GlobalObject
from dorisbk.jobs.job_info import brief, outline, pretty
from dorisbk.jobs.restore_plan import (
    PartitionMode,
    PartitionPlan,
    RestorePlan,
    TableMode,
    TablePlan,
    TabletPlan,
    ViewPlan,
)
from dorisbk.jobs.status import Status
from dorisbk.jobs.transfer import LINK_BATCH, DownloadItem, DownloadTask, batches
from dorisbk.meta.store import Change
from dorisbk.storage.filesystem import NotFoundError
from dorisbk.storage.layout import InvalidNameError, RemoteTablet, check_name
from dorisbk.storage.repository import ChecksumMismatchError
from dorisbk.timeutil import long_to_time_string


class RestoreJobState(StrEnum):
    """Doris's RestoreJobState; the value is what SHOW RESTORE prints and the store keeps."""

    PENDING = "PENDING"
    CREATING = "CREATING"
    SNAPSHOTING = "SNAPSHOTING"
    DOWNLOAD = "DOWNLOAD"
    DOWNLOADING = "DOWNLOADING"
    COMMIT = "COMMIT"
    COMMITTING = "COMMITTING"
    FINISHED = "FINISHED"
    CANCELLED = "CANCELLED"


# the states a restart plans again from the snapshot's whole info
_PLANNING = (RestoreJobState.PENDING, RestoreJobState.CREATING)

# After a restart: planning is redone from scratch, transfers and links are redone (both idempotent).
RESUME_FROM = {
    RestoreJobState.PENDING: RestoreJobState.PENDING,
    RestoreJobState.CREATING: RestoreJobState.PENDING,
    RestoreJobState.SNAPSHOTING: RestoreJobState.SNAPSHOTING,
    RestoreJobState.DOWNLOAD: RestoreJobState.DOWNLOAD,
    RestoreJobState.DOWNLOADING: RestoreJobState.DOWNLOAD,
    RestoreJobState.COMMIT: RestoreJobState.COMMIT,
    RestoreJobState.COMMITTING: RestoreJobState.COMMIT,
}
SHOW_RESTORE_COLUMNS = (
    "JobId",
    "Label",
    "Timestamp",
    "DbName",
    "State",
    "AllowLoad",
    "ReplicationNum",
    "ReplicaAllocation",
    "ReserveReplica",
    "ReserveDynamicPartitionEnable",
    "RestoreObjs",
    "CreateTime",
    "MetaPreparedTime",
    "SnapshotFinishedTime",
    "DownloadFinishedTime",
    "FinishedTime",
    "UnfinishedTasks",
    "Progress",
    "TaskErrMsg",
    "Status",
    "Timeout",
)
BRIEF_HIDDEN = ("RestoreObjs", "Progress", "TaskErrMsg")


@dataclass
class RestoreJob(AbstractJob):
    TERMINAL = (RestoreJobState.FINISHED, RestoreJobState.CANCELLED)

    state: RestoreJobState = field(default=RestoreJobState.PENDING, kw_only=True)
    backup_timestamp: str = ""
    properties: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)  # the snapshot's job info, filtered to what is restored
    aliases: dict[str, str] = field(default_factory=dict)  # snapshot table name -> local name
    replication_num: int = 3
    meta_prepared_time: int = -1
    snapshot_finished_time: int = -1
    download_finished_time: int = -1
    plan: RestorePlan = field(default_factory=RestorePlan)
    # RESTORE GLOBAL: the kinds of objects it restores, and from PENDING on their statements (checked)
    global_objects: list[str] = field(default_factory=list)
    global_statements: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        # COMMIT's DirMoveTasks, whether sent and the rowsets they linked by (backend, tablet). Transient:
        # a job restarted in COMMIT or COMMITTING sends them again.
        self._moving = False
        self._linked: dict[tuple[int, int], list[HeaderRowset]] = {}

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "plan": self.encoded_once("plan", (self.plan,), self.plan.to_dict)}

    def row(self, state: str) -> dict[str, Any]:
        """Past the planning states the row keeps only the snapshot's outline (SHOW RESTORE's RestoreObjs), not
        every tablet's files, and an ended job not its plan either: at Doris's 300,000 tablets those are
        hundreds of MB in memory and tens in the row."""
        info, plan = self._shed(state)
        statements = {} if state in self.TERMINAL else self.global_statements
        return {
            **AbstractJob.to_dict(self),
            "info": info,
            "plan": self.encoded_once("plan", (plan,), plan.to_dict),
            "global_statements": statements,
        }

    def moved(self) -> None:
        self.info, self.plan = self._shed(self.state)
        if self.done:  # replayed: the statements (password hashes among them) are not kept
            self.global_statements = {}
            # nor its tasks and what they linked: every tablet's items, kept in the history until then
            self._tasks.reset()
            self._linked = {}

    def _shed(self, state: str) -> tuple[dict[str, Any], RestorePlan]:
        """What the job keeps of its info and plan in ``state``: a restart in PENDING or CREATING plans again
        from the whole info; later states carry the plan out; an ended job needs neither."""
        if state in _PLANNING:
            return self.info, self.plan
        return outline(self.info), (RestorePlan() if state in self.TERMINAL else self.plan)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> RestoreJob:
        state = RestoreJobState(d["state"])
        try:
            plan, readable = RestorePlan.from_dict(d["plan"]), True
        except (KeyError, TypeError, ValueError):  # written by a dorisbk before the typed plan
            plan, readable = _legacy_plan(d["plan"]), False
        job = RestoreJob(**{**AbstractJob.base_kwargs(d), "state": RESUME_FROM.get(state, state), "plan": plan})
        if not readable and not job.done:
            # the job's history stays listed; an unfinished one is cancelled, undoing what it registered
            job.pending_cancel = Status("COMMON_ERROR", "restore job of an older dorisbk can not resume, run it again")
        return job

    def flag(self, name: str) -> bool:
        return self.properties.get(name, "false").lower() == "true"

    # ---- scheduler entry points
    def steps(self) -> Mapping[StrEnum, Callable[[JobContext], None]]:
        if self.is_global:
            return {
                RestoreJobState.PENDING: self.check_global_objects,
                RestoreJobState.COMMIT: self.replay_global_objects,
            }
        return {
            RestoreJobState.PENDING: self.check_and_prepare_meta,
            RestoreJobState.CREATING: self.create_replicas,
            RestoreJobState.SNAPSHOTING: self.make_snapshots,
            RestoreJobState.DOWNLOAD: self.download_snapshots,
            RestoreJobState.DOWNLOADING: self.waiting_all_download_finished,
            RestoreJobState.COMMIT: self.commit,
            RestoreJobState.COMMITTING: self.waiting_all_tablets_committed,
        }

    def timeout_message(self) -> str:
        return f"restore job with label: {self.label}  timeout."

    def failure_status(self, exc: DorisError) -> Status:
        return Status(_status_code(exc), exc.message)

    def _check_if_need_cancel(self, ctx: JobContext) -> None:
        """The database or a table the job writes was dropped under it (DROP DATABASE does not wait)."""
        if self.state == RestoreJobState.PENDING or self.is_global:  # nothing registered (yet, or at all)
            return
        catalog = ctx.catalog
        with catalog.lock:
            if self.db_id not in catalog.dbs:
                raise DorisError(f"database {self.db_id} has been dropped")
            registered = self.state != RestoreJobState.CREATING  # new tables are in the catalog from SNAPSHOTING on
            for tplan in self.plan.tables:
                if (tplan.mode == TableMode.EXISTING or registered) and tplan.table_id not in catalog.tables:
                    raise DorisError(f"table {tplan.table_id} has been dropped")

    # ---- RESTORE GLOBAL: PENDING checks every statement, COMMIT replays them
    def check_global_objects(self, ctx: JobContext) -> None:
        """The statements of each kind asked for, read from ``__meta`` (its checksum verified) and checked by
        the kind's store: one that is not allowed ends the job before anything is replayed."""
        try:
            meta = json.loads(ctx.repos.repository(self.repo_name).read_meta(self.label))
        except ValueError:
            raise ForbiddenStatement(f"the meta of snapshot {self.label} is not JSON") from None
        stored = meta.get("global_objects") if isinstance(meta, dict) else None
        statements: dict[str, list[str]] = {}
        for kind in self.global_objects:
            listed = stored.get(kind) if isinstance(stored, dict) else None
            if not isinstance(listed, list) or not all(isinstance(s, str) for s in listed):
                raise ForbiddenStatement(f"the meta of snapshot {self.label} has no statements of {kind}")
            ctx.global_store(GlobalObject(kind)).check(listed)
            statements[kind] = listed
        self.global_statements = statements
        self.meta_prepared_time = now_ms()
        self.move_to(ctx, RestoreJobState.COMMIT)

    def replay_global_objects(self, ctx: JobContext) -> None:
        """Replay each kind's statements; after a restart in COMMIT they are replayed again, which the stores make
        change nothing more."""
        for kind, statements in self.global_statements.items():
            ctx.global_store(GlobalObject(kind)).replay(statements)
        self.status = Status()
        self.finished_time = now_ms()
        self.move_to(ctx, RestoreJobState.FINISHED)

    # ---- PENDING: check the snapshot against the catalog and plan every new object
    def check_and_prepare_meta(self, ctx: JobContext) -> None:
        self._clean_meta_objects(ctx)
        meta = self.read_snapshot_meta(ctx)
        with ctx.catalog.lock:
            self.plan, locked = self.prepare(ctx, meta, _fail)
            self.meta_prepared_time = now_ms()
            self._commit_state(ctx, RestoreJobState.CREATING, puts=locked)

    def read_snapshot_meta(self, ctx: JobContext) -> SnapshotMeta:
        """PENDING's first checks, on the snapshot alone: the tablet cap, then its ``__meta``."""
        # the same cap as a backup's, on the tablets the restore would create (FE memory)
        tablets = sum(
            len(index.get("tablets_order") or index.get("tablets", {}))
            for obj in self.info["backup_objects"].values()
            for part in obj["partitions"].values()
            for index in part["indexes"].values()
        )
        limit = ctx.config.int("max_backup_tablets_per_job")
        if tablets > limit:
            raise DorisError(
                f"the num involved tablets {tablets} exceeds the limit {limit}, which might cause the FE "
                "OOM, change config `max_backup_tablets_per_job` to change this limitation"
            )
        meta = json.loads(ctx.repos.repository(self.repo_name).read_meta(self.label))
        return SnapshotMeta(
            {t["name"]: t for t in meta.get("olap_tables", [])}, {v["name"]: v for v in meta.get("views", [])}
        )

    def prepare(self, ctx: JobContext, meta: SnapshotMeta, conflict: Conflict) -> tuple[RestorePlan, list[Table]]:
        """PENDING's checks of every table and view of the snapshot against the local catalog, and the plan that
        restores them, with the local tables it locks (in their RESTORE state). The caller holds the catalog's
        lock; nothing is changed. A table or view failing a check goes to ``conflict`` with its local name: the
        job raises the first, a dry run lists them all."""
        catalog = ctx.catalog
        db = catalog.dbs.get(self.db_id)
        if db is None:
            raise DorisError(f"database {self.db_id} has been dropped")
        plan = RestorePlan()
        load = catalog.replica_load()  # replicas per backend, the plan's new ones counted as they are placed
        for src_name, obj in self.info["backup_objects"].items():
            target = self.aliases.get(src_name, src_name)
            try:
                remote = meta.tables.get(src_name)
                if remote is None:
                    raise DorisError(f"Table {src_name} does not exist in the meta of snapshot {self.label}")
                plan.tables.append(self._plan_table(ctx, db.id, remote, obj, target, plan, load))
            except DorisError as exc:
                conflict(target, exc)
        for view in self.info["new_backup_objects"].get("views", []):
            target = self.aliases.get(view["name"], view["name"])
            try:
                remote = meta.views.get(view["name"])
                if remote is None:
                    raise DorisError(f"View {view['name']} does not exist in the meta of snapshot {self.label}")
                plan.views.append(self._plan_view(ctx, db, remote, target))
            except DorisError as exc:
                conflict(target, exc)
        locked = []
        # existing tables restored into; the tables an atomic restore replaces stay queryable, but no DDL or load
        # may change what the swap will replace
        for table_ids, state in ((plan.locked, "RESTORE"), (plan.atomic_locked, "ATOMIC_RESTORE")):
            for table_id in table_ids:
                table = catalog.tables[table_id]
                if table.state != "NORMAL":
                    conflict(table.name, DorisError(f"Table {table.name}'s state is not NORMAL: {table.state}"))
                    continue
                locked.append(dataclasses.replace(table, state=state))
        return plan, locked

    def _plan_table(
        self,
        ctx: JobContext,
        db_id: int,
        remote: dict[str, Any],
        obj: dict[str, Any],
        target: str,
        plan: RestorePlan,
        load: dict[int, int],
    ) -> TablePlan:
        catalog = ctx.catalog
        db = catalog.dbs[db_id]
        local = catalog.find_table(db, target)
        remote_parts = {p["name"]: p for p in remote["partitions"] if p["name"] in obj["partitions"]}
        if remote["partition_type"] == "UNPARTITIONED":
            # a single-partition table's partition carries the table's name: the local one's, or the alias
            local_single = catalog.table_partitions(local) if local is not None else []
            pname = local_single[0].name if len(local_single) == 1 else target
            remote_parts = dict((pname, {**p, "name": pname, "src_name": p["name"]}) for p in remote_parts.values())
        atomic = self.flag("atomic_restore")
        if local is not None and local.kind != "OLAP":
            raise DorisError(f"The local table {target} with the same name but a different type of backup meta.")
        remote_colocate = bool(remote.get("properties", {}).get("colocate_with"))
        if local is not None and (
            local.properties.get("colocate_with") or (self.flag("reserve_colocate") and remote_colocate)
        ):
            raise DorisError(f"Not support to restore to local table {target} with colocate group.")
        if local is None or atomic:
            if local is not None and not self.flag("force_replace"):
                self._check_compatible(ctx, local, remote, remote_parts, target)
            # an atomic restore builds every table aside, new ones too: the name is taken only at the swap
            name = f"{ATOMIC_PREFIX}{target}" if atomic else target
            if catalog.find_table(db, name) is not None:
                raise DorisError(f"Table {name} already exist in db: {db.name}")
            table = self._new_table(ctx, remote, name, db_id)
            catalog.check_colocate(db, table)
            planned = TablePlan(
                src_name=remote["name"],
                target=target,
                mode=TableMode.ATOMIC if atomic else TableMode.NEW,
                table_id=table.id,
                partitions=[
                    self._plan_partition(ctx, table, rpart, obj, None, load) for rpart in remote_parts.values()
                ],
                table=table,
                replaces=local.id if local is not None else None,
            )
            if local is not None:
                plan.atomic_locked.append(local.id)
            return planned
        self._check_compatible(ctx, local, remote, remote_parts, target)
        local_parts = {p.name: p for p in catalog.table_partitions(local)}
        planned = TablePlan(
            src_name=remote["name"],
            target=target,
            mode=TableMode.EXISTING,
            table_id=local.id,
            partitions=[
                self._plan_partition(ctx, local, rpart, obj, local_parts.get(pname), load)
                for pname, rpart in remote_parts.items()
            ],
            auto_increment_next=remote.get("auto_increment_next", 1),
            schema_version=remote.get("schema_version", 0),
        )
        plan.locked.append(local.id)
        return planned

    def _check_compatible(
        self,
        ctx: JobContext,
        local: Table,
        remote: dict[str, Any],
        remote_parts: dict[str, dict[str, Any]],
        target: str,
    ) -> None:
        catalog = ctx.catalog
        _check_auto_increment(local, remote, target)
        if table_signature(local) != table_signature(remote):
            raise DorisError(f"Table {target} already exist but with different schema")
        types = bounds.column_types(local) if local.partition_type != "UNPARTITIONED" else []
        local_parts = {p.name: p for p in catalog.table_partitions(local)}
        for pname, rpart in remote_parts.items():
            existing = local_parts.get(pname)
            if existing is None:
                if local.partition_type == "UNPARTITIONED":
                    raise DorisError(f"No partition exist in single partitioned table {target}")
                try:
                    others = [p for p in local_parts.values()]
                    if local.partition_type == "RANGE":
                        bounds.place_range(types, others, None, rpart["lower"] or [], rpart["upper"])
                    else:
                        bounds.check_list_values(types, others, rpart["values"] or [])
                except DorisError:
                    raise DorisError(
                        f"Partition {pname} in table {target} has conflict partition item with existing items"
                    ) from None
                continue
            if existing.buckets != len(rpart["tablets"]):
                raise DorisError(f"Table {target} already exist but with different schema")
            if not _same_item(types, local.partition_type, existing, rpart):
                raise DorisError(
                    f"Partition {pname} in table {target} has different partition item with partition in repository"
                )
            if existing.replication_num != self.replication_for(rpart) and not self.flag("atomic_restore"):
                raise DorisError(
                    f"Partition {pname} in table {target} has different replication num "
                    f"'{existing.replication_num}' with partition in repository, which is "
                    f"{self.replication_for(rpart)}"
                )

    def medium_properties(self) -> dict[str, str]:
        """What RESTORE's ``storage_medium`` / ``medium_allocation_mode`` leave on the restored tables."""
        if "storage_medium" not in self.properties and "medium_allocation_mode" not in self.properties:
            return {}
        out = {"medium_allocation_mode": self.properties.get("medium_allocation_mode", "strict").lower()}
        medium = self.properties.get("storage_medium", "").lower()
        if medium in ("hdd", "ssd"):
            out["storage_medium"] = medium
        return out

    def partition_medium(self, rpart: dict[str, Any]) -> str:
        """HDD / SSD of a restored partition: the statement's medium, else the snapshot's (same_with_upstream).
        Every backend here has both media, so ``adaptive`` never needs to fall back."""
        medium = self.properties.get("storage_medium", "").lower()
        if medium in ("hdd", "ssd"):
            return medium.upper()
        return str(rpart.get("storage_medium", "HDD"))

    def replication_for(self, rpart: dict[str, Any]) -> int:
        if self.flag("reserve_replica"):
            return int(rpart["replication_num"])
        return self.replication_num

    def _new_table(self, ctx: JobContext, remote: dict[str, Any], name: str, db_id: int) -> Table:
        base = {k: v for k, v in remote.items() if k != "partitions"}
        table = Table.from_dict(base)
        for column in table.columns:  # read from the repository: they reach generated SQL only once checked
            try:
                check_column_name(column.name)
                column.type.check()
            except DorisError as exc:
                raise InvalidNameError(
                    f"invalid column {column.name!r} of table {name} in the snapshot's meta: {exc.message}"
                ) from None
        props = dict(table.properties)
        if not self.flag("reserve_replica"):
            props["replication_num"] = str(self.replication_num)
        if not self.flag("reserve_dynamic_partition_enable") and "dynamic_partition.enable" in props:
            props["dynamic_partition.enable"] = "false"
        if not self.flag("reserve_colocate"):
            props.pop("colocate_with", None)
        props.update(self.medium_properties())
        indexes = table.indexes
        if ctx.config.get("restore_reset_index_id"):  # else a restored index keeps its id, as in Doris
            indexes = [{**i, "id": ctx.catalog.store.next_id()} for i in indexes]
        return dataclasses.replace(
            table,
            indexes=indexes,
            rollups=rollup.restored(table.rollups, ctx.catalog.store.next_id),
            schema_jobs=[],  # the jobs belonged to the server that ran them
            id=ctx.catalog.store.next_id(),
            db_id=db_id,
            name=name,
            base_index_id=ctx.catalog.store.next_id(),
            state="RESTORE",
            properties=props,
            create_time=now_ms(),
            update_time=now_ms(),
        )

    def _plan_partition(
        self,
        ctx: JobContext,
        table: Table,
        rpart: dict[str, Any],
        obj: dict[str, Any],
        existing: Partition | None,
        load: dict[int, int],
    ) -> PartitionPlan:
        """The partition ``rpart`` of the snapshot becomes: a new one, or ``existing`` overwritten. Its
        replicas are placed by the catalog, as a new partition's, balancing by ``load`` (replicas per backend,
        the tablets planned so far included; this partition's are added)."""
        catalog = ctx.catalog
        replication = self.replication_for(rpart)
        catalog.check_replicas(replication)
        part = Partition(
            id=existing.id if existing is not None else catalog.store.next_id(),
            table_id=table.id,
            name=rpart["name"],
            index_id=table.base_index_id,
            buckets=len(rpart["tablets"]),
            replication_num=replication,
            lower=rpart["lower"],
            upper=rpart["upper"],
            values=rpart["values"],
            visible_version=rpart["visible_version"],
            storage_medium=self.partition_medium(rpart) if existing is None else existing.storage_medium,
        )
        src_part = obj["partitions"][rpart.get("src_name", rpart["name"])]
        index_info = next(iter(src_part["indexes"].values()))
        sources = sorted(rpart["tablets"], key=lambda t: t.get("bucket", 0))
        if self.info.get("content", "ALL") == "ALL":
            for src in sources:
                if str(src["id"]) not in index_info["tablets"]:
                    raise DorisError(
                        f"Tablet {src['id']} of partition {rpart['name']} is missing in the info of snapshot "
                        f"{self.label}"
                    )
        new = catalog.new_tablets(table, part, len(sources), replication, load, rpart["visible_version"])
        tablets = [
            TabletPlan(
                tablet,
                RemoteTablet(self.info["id"], obj["id"], src_part["id"], index_info["id"], src["id"]),
                # names from the info file become local paths: a tampered one cancels the job here
                [check_name(n) for n in index_info["tablets"].get(str(src["id"]), [])],
            )
            for tablet, src in zip(new, sources, strict=True)
        ]
        part.tablet_ids = [t.id for t in new]
        if existing is None:
            return PartitionPlan(PartitionMode.NEW, part, tablets, [])
        return PartitionPlan(PartitionMode.OVERWRITE, part, tablets, list(existing.tablet_ids))

    def _plan_view(self, ctx: JobContext, db: Database, remote: dict[str, Any], target: str) -> ViewPlan:
        sql = _retarget_view(remote["view_sql"], self.info["database"], db.name)
        local = ctx.catalog.find_table(db, target)
        if local is not None:
            if local.kind != "VIEW":
                raise DorisError(f"The local table {target} with the same name but a different type of backup meta.")
            if local.view_sql != sql and not self.flag("force_replace"):
                raise DorisError(f"View {target} already exist but with different schema")
        return ViewPlan(target, sql, remote.get("comment", ""), local.id if local is not None else None)

    # ---- CREATING: register new tables (state RESTORE: listed, not queryable)
    def create_replicas(self, ctx: JobContext) -> None:
        catalog = ctx.catalog
        puts: list[object] = []
        with catalog.lock:
            db = catalog.dbs.get(self.db_id)
            if db is None:
                raise DorisError(f"database {self.db_id} has been dropped")
            for tplan in self.plan.tables:
                if tplan.table is None:  # EXISTING: nothing to register
                    continue
                if catalog.find_table(db, tplan.table.name) is not None:
                    raise DorisError(f"Table {tplan.table.name} already exist in db: {db.name}")
                puts.append(tplan.table)
                for pplan in tplan.partitions:
                    puts.append(pplan.partition)
                    puts.extend(t.tablet for t in pplan.tablets)
            self._commit_state(ctx, RestoreJobState.SNAPSHOTING, puts=puts)

    # ---- SNAPSHOTING: the job's snapshot dir on each backend of a target replica, to download into
    def make_snapshots(self, ctx: JobContext) -> None:
        for backend_id in {replica.backend_id for _tplan, replica in self.plan.replicas()}:
            self._snapshot_root(ctx, backend_id).mkdir(parents=True, exist_ok=True)
        self.snapshot_finished_time = now_ms()
        self.move_to(ctx, RestoreJobState.DOWNLOAD)

    # ---- DOWNLOAD / DOWNLOADING
    def download_snapshots(self, ctx: JobContext) -> None:
        self._tasks.reset()
        repo = ctx.repos.repository(self.repo_name)
        batch = max(1, ctx.config.int("restore_download_snapshot_batch_size"))
        kbps = ctx.config.int("max_download_speed_kbps")
        by_backend: dict[int, list[DownloadItem]] = {}
        remote_dbs: set[int] = set()
        for tplan, replica in self.plan.replicas():
            remote_dbs.add(tplan.remote.db_id)
            by_backend.setdefault(replica.backend_id, []).append(
                DownloadItem(
                    tplan.tablet.id,
                    tplan.remote,
                    list(tplan.files),
                    self._snapshot_root(ctx, replica.backend_id),
                )
            )
        vault = ctx.vault_copying(repo)  # shared mode on the repository's endpoint: rowsets copied on the server
        present: dict[str, dict[str, int]] = {}  # one listing of the snapshot's content, not one per tablet
        for db_id in remote_dbs:
            present.update(repo.snapshot_tablet_sizes(self.label, db_id))
        for backend_id, items in by_backend.items():
            root = self._snapshot_root(ctx, backend_id)
            if ctx.vault is not None:  # shared mode: the node's data dir may have been emptied since SNAPSHOTING
                root.mkdir(parents=True, exist_ok=True)
            # what a run before a restart left in the dir SNAPSHOTING made (empty unless the job resumes)
            held = {entry.name for entry in os.scandir(root)}
            for chunk in batches(items, batch, ctx.executor.workers(repo.fs.remote)):
                cancelled = self._tasks.cancelled
                task = DownloadTask(backend_id, repo, self.label, chunk, cancelled, kbps, present, held, vault)
                self._tasks.submit(ctx.executor, task)
        self.transfer_started()
        self.state = RestoreJobState.DOWNLOADING

    def waiting_all_download_finished(self, ctx: JobContext) -> None:
        if self._tasks.collect(self.task_err_msg) is None:
            return
        self.transfer_ended()
        self.download_finished_time = now_ms()
        self.move_to(ctx, RestoreJobState.COMMIT)

    # ---- COMMIT / COMMITTING
    def commit(self, ctx: JobContext) -> None:
        """Send DirMoveTasks that link each replica's downloaded files into its tablet dir, then wait for
        them: COMMITTING starts once every file is in place (after a restart they link again)."""
        # shared mode on the repository's endpoint: the download copied the rowsets into the vault
        in_vault = ctx.vault_copying(ctx.repos.repository(self.repo_name)) is not None
        if not self._moving:
            self._tasks.reset()
            by_backend: dict[int, list[DirMoveItem]] = {}
            for tplan, replica in self.plan.replicas():
                by_backend.setdefault(replica.backend_id, []).append(
                    DirMoveItem(
                        tplan.tablet.id,
                        self._snapshot_root(ctx, replica.backend_id),
                        ctx.tablets.tablet_dir(replica.backend_id, tplan.tablet.id),
                        tplan.files,
                        header_name(tplan.remote.tablet_id),
                        linked=not in_vault,
                    )
                )
            for backend_id, items in by_backend.items():
                for chunk in batches(items, LINK_BATCH, ctx.executor.workers(waits_on_network=False)):
                    self._tasks.submit(ctx.executor, DirMoveTask(backend_id, chunk, self._tasks.cancelled))
            self._moving = True
        results = self._tasks.collect(self.task_err_msg)
        if results is None:
            return
        self._linked = {key: rowsets for linked in results for key, rowsets in linked.items()}
        # the restored files are durable (in shared mode stored) before the metadata that lists them: one syncfs,
        # not an fsync each
        if not in_vault:
            dirs = {key: str(ctx.tablets.tablet_dir(*key)) for key in self._linked}
            files = [os.path.join(dirs[key], r.file) for key, rowsets in self._linked.items() for r in rowsets]
            ctx.tablets.persist(files, dirs.values())
        self.state = RestoreJobState.COMMITTING

    def waiting_all_tablets_committed(self, ctx: JobContext) -> None:
        """One metadata transaction: restored objects visible, versions set, swaps and cleaning done, FINISHED."""
        catalog = ctx.catalog
        puts: list[object] = []
        deletes: list[object] = []
        trash: list[Tablet] = []
        with catalog.lock:
            db = catalog.dbs.get(self.db_id)
            if db is None:
                raise DorisError(f"database {self.db_id} has been dropped")
            for tplan in self.plan.tables:
                self._commit_table(ctx, tplan, puts, deletes, trash)
                for part in self.dropped_partitions(ctx, tplan):
                    _drop(catalog.partition_objects(part), deletes, trash)
            for vplan in self.plan.views:
                taken = catalog.find_table(db, vplan.target)
                if taken is not None and taken.id != vplan.replaces:
                    raise DorisError(f"Table {vplan.target} already exist in db: {db.name}")
                view_id = vplan.replaces or catalog.store.next_id()
                puts.append(
                    Table(
                        id=view_id,
                        db_id=self.db_id,
                        name=vplan.target,
                        kind="VIEW",
                        view_sql=vplan.sql,
                        comment=vplan.comment,
                    )
                )
            for table in self.dropped_tables(ctx, self.plan.targets()):
                _drop(catalog.table_objects(table), deletes, trash)
            finished_time = now_ms()
            record = {**self.record(RestoreJobState.FINISHED), "finished_time": finished_time}
            catalog.commit(Change().put("job", self.job_id, record), puts=puts, deletes=deletes)
        try:
            ctx.tablets.trash(trash)
            release_snapshots(ctx.tablets, self.job_id)
        finally:
            # SHOW RESTORE says FINISHED only once everything restored is visible and the snapshot dirs are gone
            self.finished_time = finished_time
            self.state = RestoreJobState.FINISHED
            self.moved()

    def dropped_partitions(self, ctx: JobContext, plan: TablePlan) -> list[Partition]:
        """The local partitions COMMITTING drops for a restored table: all of the table an atomic restore
        swaps out, or with clean_partitions those of a table restored into that the snapshot does not have."""
        catalog = ctx.catalog
        if plan.mode == TableMode.ATOMIC:
            original = catalog.tables.get(plan.replaces) if plan.replaces is not None else None
            return catalog.table_partitions(original) if original is not None else []
        if plan.mode == TableMode.EXISTING and self.flag("clean_partitions") and plan.table_id in catalog.tables:
            keep = {p.partition.name for p in plan.partitions}
            return [p for p in catalog.table_partitions(catalog.tables[plan.table_id]) if p.name not in keep]
        return []

    def dropped_tables(self, ctx: JobContext, restored: Collection[str]) -> list[Table]:
        """With clean_tables, the tables and views of the database COMMITTING drops: those not ``restored``."""
        if not self.flag("clean_tables"):
            return []
        return [
            table
            for table in ctx.catalog.db_tables(self.db_id)
            if table.name not in restored and not table.name.startswith(ATOMIC_PREFIX)
        ]

    def _commit_table(
        self, ctx: JobContext, plan: TablePlan, puts: list[object], deletes: list[object], trash: list[Tablet]
    ) -> Table:
        catalog = ctx.catalog
        table = catalog.tables[plan.table_id]
        final_id = table.id
        if plan.mode == TableMode.ATOMIC:
            # the original may have been dropped or renamed meanwhile; another table may not have taken its name
            taken = catalog.find_table(catalog.dbs[self.db_id], plan.target)
            if taken is not None and taken.id != plan.replaces:
                raise DorisError(f"Table {plan.target} already exist in db: {self.db_name}")
            original = catalog.tables.get(plan.replaces) if plan.replaces is not None else None
            if original is not None:
                # The swap keeps the original's id: the built-aside partitions move under it and the original's
                # go (dropped_partitions). A reader that looked the table up just before reads either all old or
                # all new partitions.
                final_id = original.id
                deletes.append(table)
            table = dataclasses.replace(table, id=final_id, name=plan.target)
        for pplan in plan.partitions:
            part = pplan.partition
            version = part.visible_version
            for tplan in pplan.tablets:
                tablet = tplan.tablet
                replicas = []
                for replica in tablet.replicas:
                    rowsets = self._rowsets(ctx, tablet.id, replica.backend_id, version)
                    replicas.append(dataclasses.replace(replica, version=version, rowsets=rowsets))
                puts.append(dataclasses.replace(tablet, table_id=final_id, replicas=replicas))
            if pplan.mode == PartitionMode.OVERWRITE:
                old = [catalog.tablets[t] for t in pplan.replaces_tablets if t in catalog.tablets]
                deletes.extend(old)
                trash.extend(old)
            puts.append(dataclasses.replace(part, table_id=final_id, visible_version_time=now_ms()))
        props = {**table.properties, **self.medium_properties()}
        table = dataclasses.replace(table, state="NORMAL", properties=props, update_time=now_ms())
        if plan.mode == TableMode.EXISTING:  # restored rows carry the snapshot's ids: never give them again
            next_id = max(table.auto_increment_next, plan.auto_increment_next)
            # files written under the snapshot's older schemas are read by their own schema (backend/scan.py)
            version = max(table.schema_version, plan.schema_version)
            table = dataclasses.replace(table, auto_increment_next=next_id, schema_version=version)
        puts.append(table)
        return table

    def _rowsets(self, ctx: JobContext, tablet_id: int, backend_id: int, version: int) -> list[Rowset]:
        """The rowsets of a restored replica: those its DirMoveTask linked, as the tablet header lists them."""
        tablet_dir = ctx.tablets.tablet_dir(backend_id, tablet_id)
        return [
            Rowset(
                ctx.catalog.store.next_id(),
                version,
                ctx.tablets.relative(backend_id, tablet_dir / r.file),
                r.rows,
                r.size,
                r.md5,
            )
            for r in self._linked[(backend_id, tablet_id)]
        ]

    # ---- pieces
    def _commit_state(self, ctx: JobContext, state: RestoreJobState, puts: list[object]) -> None:
        """Persist the job in ``state`` with catalog changes in one transaction; the job shows the state after."""
        ctx.catalog.commit(Change().put("job", self.job_id, self.record(state)), puts=puts)
        self.state = state
        self.moved()

    def _snapshot_root(self, ctx: JobContext, backend_id: int) -> Path:
        return snapshot_root(ctx.tablets, backend_id, self.job_id)

    def _clean_meta_objects(self, ctx: JobContext) -> list[object]:
        """Undo what the job registered: new tables go, locked tables return to NORMAL. Returns the changes
        (not yet committed) and trashes the new tablets' files."""
        catalog = ctx.catalog
        puts: list[object] = []
        deletes: list[object] = []
        trash: list[Tablet] = []
        with catalog.lock:
            for table_id in [*self.plan.locked, *self.plan.atomic_locked]:
                table = catalog.tables.get(table_id)
                if table is not None and table.state in ("RESTORE", "ATOMIC_RESTORE"):
                    puts.append(dataclasses.replace(table, state="NORMAL"))
            for tplan in self.plan.tables:
                if tplan.mode == TableMode.EXISTING:
                    continue
                table = catalog.tables.get(tplan.table_id)
                if table is None or table.state != "RESTORE":
                    continue
                _drop(catalog.table_objects(table), deletes, trash)
            if puts or deletes:
                catalog.commit(Change(), puts=puts, deletes=deletes)
        ctx.tablets.trash(trash)
        for tplan, replica in self.plan.replicas():
            shutil.rmtree(ctx.tablets.tablet_dir(replica.backend_id, tplan.tablet.id), ignore_errors=True)
        return puts + deletes

    def _cancel_internal(self, ctx: JobContext, status: Status) -> None:
        self.transfer_ended()
        self._tasks.stop()
        self._clean_meta_objects(ctx)
        release_snapshots(ctx.tablets, self.job_id)
        self.status = status
        self.finished_time = now_ms()
        self.move_to(ctx, RestoreJobState.CANCELLED)

    # ---- SHOW RESTORE
    def show_row(self, brief_form: bool) -> tuple[str | None, ...]:
        unfinished = self._tasks.unfinished_text()
        progress = self._tasks.progress_text()
        errors = self.task_err_text()
        row = {
            "JobId": str(self.job_id),
            "Label": self.label,
            "Timestamp": self.backup_timestamp,
            "DbName": self.db_name,
            "State": self.state,
            "AllowLoad": str(self.flag("allow_load")).lower(),
            "ReplicationNum": str(self.replication_num),
            "ReplicaAllocation": f"tag.location.default: {self.replication_num}",
            "ReserveReplica": str(self.flag("reserve_replica")).lower(),
            "ReserveDynamicPartitionEnable": str(self.flag("reserve_dynamic_partition_enable")).lower(),
            "RestoreObjs": pretty(brief(self.info)) if self.info else "",
            "CreateTime": long_to_time_string(self.create_time),
            "MetaPreparedTime": long_to_time_string(self.meta_prepared_time),
            "SnapshotFinishedTime": long_to_time_string(self.snapshot_finished_time),
            "DownloadFinishedTime": long_to_time_string(self.download_finished_time),
            "FinishedTime": long_to_time_string(self.finished_time),
            "UnfinishedTasks": unfinished,
            "Progress": progress,
            "TaskErrMsg": errors,
            "Status": str(self.status),
            "Timeout": str(self.timeout_ms // 1000),
        }
        names = show_restore_columns(brief_form)
        return tuple(row[n] for n in names)


@dataclass(frozen=True)
class SnapshotMeta:
    """The snapshot's ``__meta``: its tables' and views' definitions, by name."""

    tables: dict[str, dict[str, Any]]
    views: dict[str, dict[str, Any]]


Conflict = Callable[[str, DorisError], None]
"""Where PENDING sends a table or view (by its local name) that fails a check."""


def _fail(_target: str, exc: DorisError) -> None:
    """A job's PENDING: the first check that fails cancels the job."""
    raise exc


def _legacy_plan(d: Any) -> RestorePlan:
    """An older plan, as far as a cancel needs it; nothing when even that can not be read."""
    try:
        return RestorePlan.cleanup_only(d)
    except (KeyError, TypeError, ValueError, AttributeError):
        return RestorePlan()


def _check_auto_increment(local: Table, remote: dict[str, Any], target: str) -> None:
    """An AUTO_INCREMENT column must be on both sides or on neither (its values come with the data)."""
    remote_auto = any(c.get("auto_increment") is not None for c in remote["columns"])
    local_auto = local.auto_increment_column is not None
    if remote_auto and not local_auto:
        raise DorisError(
            f"Table {target} already exists but with different schema, "
            "local table doesn't have auto-increment column but remote table has"
        )
    if local_auto and not remote_auto:
        raise DorisError(
            f"Table {target} already exists but with different schema, "
            "local table has auto-increment column but remote table doesn't"
        )


def _status_code(exc: DorisError) -> str:
    """The Status code a failure cancels the job with: a file whose content does not match its checksum, or
    that names what it may not (a path for a file name), or holds a statement a global restore does not replay,
    is BAD_FILE, a file missing from the repository
    NOT_FOUND, anything else COMMON_ERROR."""
    if isinstance(exc, ChecksumMismatchError | InvalidNameError | ForbiddenStatement):
        return "BAD_FILE"
    if isinstance(exc, NotFoundError):
        return "NOT_FOUND"
    return "COMMON_ERROR"


def show_restore_columns(brief_form: bool) -> tuple[str, ...]:
    return tuple(c for c in SHOW_RESTORE_COLUMNS if not (brief_form and c in BRIEF_HIDDEN))


def _drop(objs: list[object], deletes: list[object], trash: list[Tablet]) -> None:
    """Catalog objects to delete; their tablets' files go to the trash."""
    deletes.extend(objs)
    trash.extend(o for o in objs if isinstance(o, Tablet))


def _same_item(types: list, kind: str, local: Partition, remote: dict[str, Any]) -> bool:
    if kind == "RANGE":
        return bounds.range_key(types, local.lower, False) == bounds.range_key(
            types, remote["lower"], False
        ) and bounds.range_key(types, local.upper, True) == bounds.range_key(types, remote["upper"], True)
    if kind == "LIST":

        def norm(values: list[list[str]] | None) -> set[tuple]:
            return {tuple(t.coerce(v) for t, v in zip(types, row, strict=False)) for row in values or []}

        return norm(local.values) == norm(remote["values"])
    return True


def _retarget_view(sql: str, source_db: str, target_db: str) -> str:
    """A view's SQL with references to the snapshot's database pointed at the target database."""
    if source_db == target_db:
        return sql
    tree = sqlglot.parse_one(sql, read=DorisBK)
    for table in tree.find_all(exp.Table):
        if table.db == source_db:
            table.set("db", exp.to_identifier(target_db))
    return tree.sql(dialect=DorisBK)
