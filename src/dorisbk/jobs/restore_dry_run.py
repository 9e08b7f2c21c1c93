"""RESTORE ... PROPERTIES ("dry_run" = "true"): what a restore would do, without doing it.

The statement makes RESTORE's own checks with RESTORE's own code. Those made before a job exists
(``restore_request``) fail it as they fail a RESTORE. Those of the job's PENDING state
(``RestoreJob.read_snapshot_meta`` and ``RestoreJob.prepare``) become rows instead: every table or
view that fails one is listed with the message the job would be cancelled with, and the statement
succeeds. What COMMITTING would drop comes from the job's own ``dropped_partitions`` and
``dropped_tables``. No job is created and nothing is locked, registered or written; the only reads
are the snapshot's info and meta files and one listing of its content, for the sizes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dorisbk.errors import DorisError
from dorisbk.jobs.context import JobContext
from dorisbk.jobs.restore_job import RestoreJob
from dorisbk.jobs.restore_plan import RestorePlan, TableMode, TablePlan, TabletPlan

COLUMNS = ("TableName", "PartitionName", "Action", "Files", "Bytes", "Conflict")


class RestoreAction(StrEnum):
    CREATE = "CREATE"  # a table, partition or view the restore adds
    REPLACE = "REPLACE"  # a local one the snapshot's replaces
    DROP = "DROP"  # a local one dropped when the restore commits (clean_tables, clean_partitions, atomic swap)
    KEEP = "KEEP"  # a local partition of a restored table that stays as it is


@dataclass
class DryRunRow:
    """One table, view or partition, and what the restore does to it."""

    table: str
    partition: str | None
    action: RestoreAction
    tablets: list[TabletPlan] = field(default_factory=list)  # what is downloaded for it
    conflict: str | None = None  # a failed check: the job would be cancelled with this message

    def values(self, sizes: Mapping[str, Mapping[str, int]]) -> tuple[Any, ...]:
        """The row: files and bytes count once per replica, as each replica downloads them."""
        if self.conflict is not None:
            return (self.table, self.partition, self.action, None, None, self.conflict)
        files = sum(len(t.files) * len(t.tablet.replicas) for t in self.tablets)
        size = sum(
            sum(sizes.get(t.remote.path, {}).get(name, 0) for name in t.files) * len(t.tablet.replicas)
            for t in self.tablets
        )
        return (self.table, self.partition, self.action, files, size, None)


def dry_run(job: RestoreJob, ctx: JobContext) -> list[tuple[Any, ...]]:
    """The rows of a dry run of ``job``, a RESTORE that passed the checks made before a job exists."""
    try:
        meta = job.read_snapshot_meta(ctx)
    except DorisError as exc:  # the snapshot as a whole fails: nothing can be planned
        return [(None, None, None, None, None, exc.message)]
    conflicts: dict[str, list[str]] = {}

    def conflict(target: str, exc: DorisError) -> None:
        conflicts.setdefault(target, []).append(exc.message)

    with ctx.catalog.lock:
        plan, _locked = job.prepare(ctx, meta, conflict)
        rows = _describe(job, ctx, plan, conflicts)
    sizes = _sizes(job, ctx, plan)  # listed once the catalog's lock is let go
    return [row.values(sizes) for row in rows]


def _describe(job: RestoreJob, ctx: JobContext, plan: RestorePlan, conflicts: dict[str, list[str]]) -> list[DryRunRow]:
    """The rows, in the snapshot's order of tables and views, then the tables clean_tables drops."""
    catalog = ctx.catalog
    db = catalog.dbs[job.db_id]
    tables = {t.target: t for t in plan.tables}
    views = {v.target: v for v in plan.views}
    names = [job.aliases.get(name, name) for name in job.info["backup_objects"]]
    names += [job.aliases.get(v["name"], v["name"]) for v in job.info["new_backup_objects"].get("views", [])]
    rows: list[DryRunRow] = []
    for target in names:
        if target in tables:
            rows += _table_rows(job, ctx, tables[target])
        elif target in views:
            action = RestoreAction.REPLACE if views[target].replaces is not None else RestoreAction.CREATE
            rows.append(DryRunRow(target, None, action))
        exists = catalog.find_table(db, target) is not None
        for message in conflicts.get(target, []):
            action = RestoreAction.REPLACE if exists else RestoreAction.CREATE
            rows.append(DryRunRow(target, None, action, conflict=message))
    rows += [DryRunRow(t.name, None, RestoreAction.DROP) for t in job.dropped_tables(ctx, set(names))]
    return rows


def _table_rows(job: RestoreJob, ctx: JobContext, plan: TablePlan) -> list[DryRunRow]:
    """A restored table's partitions: the snapshot's, then the local ones it does not have."""
    catalog = ctx.catalog
    local_id = plan.replaces if plan.mode == TableMode.ATOMIC else plan.table_id
    local = catalog.tables.get(local_id) if local_id is not None else None
    local_parts = catalog.table_partitions(local) if local is not None else []
    held = {p.name for p in local_parts}
    rows = []
    for pplan in plan.partitions:
        name = pplan.partition.name
        action = RestoreAction.REPLACE if name in held else RestoreAction.CREATE
        rows.append(DryRunRow(plan.target, name, action, pplan.tablets))
    restored = {p.partition.name for p in plan.partitions}
    dropped = {p.name for p in job.dropped_partitions(ctx, plan)}
    for part in local_parts:
        if part.name not in restored:
            action = RestoreAction.DROP if part.name in dropped else RestoreAction.KEEP
            rows.append(DryRunRow(plan.target, part.name, action))
    return rows


def _sizes(job: RestoreJob, ctx: JobContext, plan: RestorePlan) -> dict[str, dict[str, int]]:
    """The sizes of the snapshot's files the plan downloads, by tablet path and name (a listing per source
    database, as the download makes); a file missing from the repository counts 0 here and fails the download."""
    repo = ctx.repos.repository(job.repo_name)
    sizes: dict[str, dict[str, int]] = {}
    for db_id in {tplan.remote.db_id for tplan, _replica in plan.replicas()}:
        sizes.update(repo.snapshot_tablet_sizes(job.label, db_id))
    return sizes
