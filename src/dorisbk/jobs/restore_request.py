"""What a RESTORE asks for, and Doris's synchronous checks that turn it into a RestoreJob (Doris's
``BackupHandler.restore``): the label and properties, the ON / EXCLUDE list, the repository and the
snapshot's info file, narrowed to the objects asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dorisbk.catalog.catalog import replication_from_properties
from dorisbk.errors import DorisError
from dorisbk.jobs.backup_job import KEEP_ON_LOCAL_REPO_NAME
from dorisbk.jobs.backup_request import check_label, timeout_ms
from dorisbk.jobs.global_objects import GLOBAL_DB, chosen, describe
from dorisbk.jobs.request import JobRequest
from dorisbk.jobs.restore_job import RestoreJob
from dorisbk.jobs.snapshot_list import backup_info

if TYPE_CHECKING:
    from dorisbk.jobs.handler import BackupHandler


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
    "dry_run",
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
# RESTORE GLOBAL: Doris's regression tests pass reserve_replica too; with no table restored it changes nothing
_GLOBAL_PROPERTIES = ("backup_timestamp", "timeout", "reserve_replica", "reserve_privilege", "reserve_catalog",
                      "reserve_workload_group")  # fmt: skip
# Doris's default replica count. Where fewer backends are alive, dorisbk asks for one replica
# per backend instead of failing: a one-machine server is what Doris's own test clusters
# emulate with force_olap_table_replication_allocation, and CREATE TABLE here defaults the same way.
DEFAULT_REPLICATION = 3


def build(handler: BackupHandler, req: JobRequest) -> RestoreJob:
    """The job a RESTORE statement starts, after every check Doris makes before it exists."""
    # what the statement alone decides comes first (Doris's analysis), then the repository,
    # the database and the snapshot's info file
    if req.repo == KEEP_ON_LOCAL_REPO_NAME:  # only CCR's RPC restores a local snapshot
        raise DorisError("restore from the local repo via SQL call is not supported")
    ctx = handler.ctx
    check_label(ctx.config, req.label)
    props = req.props
    if req.is_global:
        return _build_global(handler, req)
    timeout, replication = _check_properties(handler, props)
    _check_refs(req)
    record = ctx.repos.record(req.repo)
    db = handler.database(req.db)
    repo = ctx.repos.repository(record.name)
    _, info = backup_info(repo, req.label, props["backup_timestamp"])
    if describe(info) is not None:
        raise DorisError(f"Snapshot {req.label} is a global snapshot: restore it with RESTORE GLOBAL SNAPSHOT")
    filtered, aliases = _select(info, req)
    return RestoreJob(
        type="RESTORE",
        job_id=handler.store.next_id(),
        label=req.label,
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


def _build_global(handler: BackupHandler, req: JobRequest) -> RestoreJob:
    """RESTORE GLOBAL SNAPSHOT: a job of the pseudo database of global jobs, replaying the kinds of objects
    asked for (every kind of the snapshot by default)."""
    ctx = handler.ctx
    props = req.props
    if props.get("reserve_replica", "false").lower() not in ("true", "false"):
        raise DorisError(f"Invalid boolean property reserve_replica value: {props['reserve_replica']}")
    kinds = chosen(props, "reserve_")
    timeout = timeout_ms(ctx.config, props)
    if "backup_timestamp" not in props:
        raise DorisError("Missing backup_timestamp property")
    unknown = [k for k in props if k not in _GLOBAL_PROPERTIES]
    if unknown:
        raise DorisError(f"Unknown restore job properties: [{', '.join(unknown)}]")
    record = ctx.repos.record(req.repo)
    if handler.running_job(GLOBAL_DB.id) is not None:
        raise DorisError("Can only run one backup or restore job of a database at same time")
    _, info = backup_info(ctx.repos.repository(record.name), req.label, props["backup_timestamp"])
    objects = describe(info)
    if objects is None:
        raise DorisError(f"Snapshot {req.label} is not a global snapshot: restore it with RESTORE SNAPSHOT db.label")
    missing = [kind for kind in kinds if kind not in objects]
    if missing:
        raise DorisError(f"Snapshot {req.label} has no {missing[0]} to restore")
    return RestoreJob(
        type="RESTORE",
        job_id=handler.store.next_id(),
        label=req.label,
        db_id=GLOBAL_DB.id,
        db_name=GLOBAL_DB.name,
        repo_id=record.id,
        timeout_ms=timeout,
        repo_name=record.name,
        backup_timestamp=props["backup_timestamp"],
        properties=props,
        info=info,
        global_objects=[str(kind) for kind in kinds],
    )


def _check_properties(handler: BackupHandler, props: dict[str, str]) -> tuple[int, int]:
    """Doris's order: each known property's value, the timestamp, and unknown keys last.
    Returns the timeout (ms) and the replica count for new tables and partitions."""
    config = handler.ctx.config
    timeout = timeout_ms(config, props)
    # a forced allocation replaces the statement's and the snapshot's (reserve_replica is turned off)
    forced = config.forced_replication()
    default = min(DEFAULT_REPLICATION, len(handler.ctx.catalog.backend_list()))
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


def _check_refs(req: JobRequest) -> None:
    """The ON / EXCLUDE list on its own: temporary partitions, repeated tables and aliases."""
    seen: set[str] = set()
    names_out: set[str] = set()
    for ref in req.tables:
        if ref.temporary:
            raise DorisError("Do not support restoring temporary partitions")
        if ref.name in seen:
            raise DorisError(f"Duplicated table: {ref.name}")
        seen.add(ref.name)
        if req.exclude:
            if ref.alias is not None:
                raise DorisError("The table alias in exclude clause does not make sense")
            continue
        out = ref.alias or ref.name
        if out in names_out:
            raise DorisError(f"Duplicated alias name: {out}")
        names_out.add(out)


def _select(info: dict[str, Any], req: JobRequest) -> tuple[dict[str, Any], dict[str, str]]:
    """The job info narrowed to the ON / EXCLUDE list, and the aliases (snapshot name -> local name)."""
    objects: dict[str, Any] = info["backup_objects"]
    views = {v["name"]: v for v in info["new_backup_objects"].get("views", [])}
    seen = {ref.name for ref in req.tables}
    aliases: dict[str, str] = {}
    for ref in req.tables:
        if req.exclude:
            continue
        if ref.alias is not None:
            aliases[ref.name] = ref.alias
        if ref.name not in objects and ref.name not in views:
            raise DorisError(f"Table {ref.name} does not exist in snapshot {info['name']}")
        for part in ref.partitions:
            if ref.name not in objects or part not in objects[ref.name]["partitions"]:
                raise DorisError(f"Partition {part} of table {ref.name} does not exist in snapshot")
    if not req.tables:
        chosen_tables = dict(objects)
        chosen_views = list(views.values())
    elif req.exclude:
        chosen_tables = {n: o for n, o in objects.items() if n not in seen}
        chosen_views = [v for n, v in views.items() if n not in seen]
    else:
        chosen_tables = {}
        chosen_views = [views[r.name] for r in req.tables if r.name in views]
        for ref in req.tables:
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
