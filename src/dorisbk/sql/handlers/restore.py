"""RESTORE SNAPSHOT, SHOW [BRIEF] RESTORE and CANCEL RESTORE, with Doris's synchronous checks."""

from __future__ import annotations

from typing import Any

from dorisbk.catalog.catalog import replication_from_properties
from dorisbk.engine.result import Result, SessionContext
from dorisbk.env import Env
from dorisbk.errors import DorisError, StorageError
from dorisbk.jobs.backup_job import KEEP_ON_LOCAL_REPO_NAME
from dorisbk.jobs.concurrency import QUEUE_COLUMNS
from dorisbk.jobs.job_info import parse_info
from dorisbk.jobs.restore_job import RestoreJob, show_restore_columns
from dorisbk.sql import backup_stmts as b
from dorisbk.sql.handlers.backup import check_label, current_db, timeout_ms, with_queue_columns
from dorisbk.sql.result import text_result

BOOLEAN_PROPERTIES = (
    "reserve_replica",
    "reserve_dynamic_partition_enable",
    "allow_load",
    "clean_tables",
    "clean_partitions",
    "atomic_restore",
    "force_replace",
    "is_being_synced",
    "reserve_colocate",
)
RESTORE_PROPERTIES = (
    "backup_timestamp",
    "replication_num",
    "replication_allocation",
    "timeout",
    "meta_version",
    "storage_medium",
    "medium_allocation_mode",
    *BOOLEAN_PROPERTIES,
)
# Doris's default replica count. Where fewer backends are alive, dorisbk asks for one replica
# per backend instead of failing: a one-machine server is what Doris's own test clusters
# emulate with force_olap_table_replication_allocation, and CREATE TABLE here defaults the same way.
DEFAULT_REPLICATION = 3


def restore(env: Env, ctx: SessionContext, stmt: b.RestoreStmt) -> None:
    # what the statement alone decides comes first (Doris's analysis), then the repository,
    # the database and the snapshot's info file
    if stmt.repo == KEEP_ON_LOCAL_REPO_NAME:  # only CCR's RPC restores a local snapshot
        raise DorisError("restore from the local repo via SQL call is not supported")
    check_label(env, stmt.label)
    props = dict(stmt.properties)
    timeout, replication = _check_properties(env, props)
    _check_refs(stmt)
    record = env.repos.record(stmt.repo)
    db = current_db(env, ctx, stmt.db)
    repo = env.repos.repository(record.name)
    try:
        info = parse_info(repo.read_info(stmt.label, props["backup_timestamp"]))
    except (StorageError, ValueError) as exc:
        reason = exc.message if isinstance(exc, StorageError) else str(exc)
        raise DorisError(
            f"Failed to get info of snapshot '{stmt.label}' because: {reason}. Maybe specified wrong backup timestamp"
        ) from None
    filtered, aliases = _select(info, stmt)
    job = RestoreJob(
        type="RESTORE",
        job_id=env.store.next_id(),
        label=stmt.label,
        db_id=db.id,
        db_name=db.name,
        repo_id=record.id,
        timeout_ms=timeout,
        repo_name=record.name,
        backup_timestamp=props["backup_timestamp"],
        properties=props,
        info=filtered,
        aliases=aliases,
        replication_num=replication,
    )
    env.jobs.add_job(job)


def _check_properties(env: Env, props: dict[str, str]) -> tuple[int, int]:
    """Doris's order: each known property's value, the timestamp, and unknown keys last.
    Returns the timeout (ms) and the replica count for new tables and partitions."""
    timeout = timeout_ms(env, props)
    # a forced allocation replaces the statement's and the snapshot's (reserve_replica is turned off)
    forced = env.frontend_config.forced_replication()
    default = min(DEFAULT_REPLICATION, len(env.catalog.backend_list()))
    replication = forced or replication_from_properties(props) or default
    for name in BOOLEAN_PROPERTIES:
        if name in props and props[name].lower() not in ("true", "false"):
            raise DorisError(f"Invalid boolean property {name} value: {props[name]}")
    if "backup_timestamp" not in props:
        raise DorisError("Missing backup_timestamp property")
    if "meta_version" in props and not props["meta_version"].lstrip("-").isdigit():
        raise DorisError(f"Invalid meta version format: {props['meta_version']}")
    for medium, allowed in (
        ("storage_medium", ("hdd", "ssd", "same_with_upstream", "")),
        ("medium_allocation_mode", ("strict", "adaptive")),
    ):
        if medium in props and props[medium].lower() not in allowed:
            raise DorisError(f"Invalid {medium} value: {props[medium]}")
    unknown = [k for k in props if k not in RESTORE_PROPERTIES]
    if unknown:
        raise DorisError(f"Unknown restore job properties: [{', '.join(unknown)}]")
    if forced and "reserve_replica" in props:
        props["reserve_replica"] = "false"
    return timeout, replication


def _check_refs(stmt: b.RestoreStmt) -> None:
    """The ON / EXCLUDE list on its own: temporary partitions, repeated tables and aliases."""
    seen: set[str] = set()
    names_out: set[str] = set()
    for ref in stmt.tables:
        if ref.temporary:
            raise DorisError("Do not support restoring temporary partitions")
        if ref.name in seen:
            raise DorisError(f"Duplicated table: {ref.name}")
        seen.add(ref.name)
        if stmt.exclude:
            if ref.alias is not None:
                raise DorisError("The table alias in exclude clause does not make sense")
            continue
        out = ref.alias or ref.name
        if out in names_out:
            raise DorisError(f"Duplicated alias name: {out}")
        names_out.add(out)


def _select(info: dict[str, Any], stmt: b.RestoreStmt) -> tuple[dict[str, Any], dict[str, str]]:
    """The job info narrowed to the ON / EXCLUDE list, and the aliases (snapshot name -> local name)."""
    objects: dict[str, Any] = info["backup_objects"]
    views = {v["name"]: v for v in info["new_backup_objects"].get("views", [])}
    seen = {ref.name for ref in stmt.tables}
    aliases: dict[str, str] = {}
    for ref in stmt.tables:
        if stmt.exclude:
            continue
        if ref.alias is not None:
            aliases[ref.name] = ref.alias
        if ref.name not in objects and ref.name not in views:
            raise DorisError(f"Table {ref.name} does not exist in snapshot {info['name']}")
        for part in ref.partitions:
            if ref.name not in objects or part not in objects[ref.name]["partitions"]:
                raise DorisError(f"Partition {part} of table {ref.name} does not exist in snapshot")
    if not stmt.tables:
        chosen_tables = dict(objects)
        chosen_views = list(views.values())
    elif stmt.exclude:
        chosen_tables = {n: o for n, o in objects.items() if n not in seen}
        chosen_views = [v for n, v in views.items() if n not in seen]
    else:
        chosen_tables = {}
        chosen_views = [views[r.name] for r in stmt.tables if r.name in views]
        for ref in stmt.tables:
            if ref.name not in objects:
                continue
            obj = objects[ref.name]
            if ref.partitions:
                obj = {**obj, "partitions": {p: obj["partitions"][p] for p in ref.partitions}}
            chosen_tables[ref.name] = obj
    filtered = {
        **info,
        "backup_objects": chosen_tables,
        "new_backup_objects": {**info["new_backup_objects"], "views": chosen_views},
    }
    return filtered, aliases


def show_restore(env: Env, ctx: SessionContext, stmt: b.ShowRestoreStmt) -> Result:
    db = current_db(env, ctx, stmt.db)
    if not stmt.where_is_valid:
        raise DorisError('Where clause should like: LABEL = "your_label_name",  or LABEL LIKE "matcher"')
    rows = [
        job.show_row(stmt.brief)
        for job in env.jobs.db_jobs(db.id)
        if isinstance(job, RestoreJob) and (stmt.where is None or stmt.where.matches(job.label))
    ]
    if env.jobs.concurrent:
        columns = (*show_restore_columns(stmt.brief), *QUEUE_COLUMNS)
        return text_result(columns, with_queue_columns(env, db.id, rows))
    return text_result(show_restore_columns(stmt.brief), rows)


def cancel_restore(env: Env, ctx: SessionContext, stmt: b.CancelRestoreStmt) -> None:
    if not stmt.where_is_valid:
        raise DorisError('Where clause should like: LABEL = "your_label_name",  or LABEL LIKE "matcher"')
    env.jobs.cancel(current_db(env, ctx, stmt.db).id, "RESTORE", stmt.where.matches if stmt.where else None)


HANDLERS: dict[type, Any] = {
    b.RestoreStmt: restore,
    b.ShowRestoreStmt: show_restore,
    b.CancelRestoreStmt: cancel_restore,
}
