"""What a BACKUP asks for, and Doris's synchronous checks that turn it into a BackupJob (Doris's
``BackupHandler.backup``): the label, the properties, the objects named, the repository and the
snapshots already in it."""

from __future__ import annotations

import re
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from dorisbk.catalog.model import Database
from dorisbk.config import FrontendConfig
from dorisbk.errors import DorisError, StorageError
from dorisbk.jobs.backup_job import KEEP_ON_LOCAL_REPO_ID, KEEP_ON_LOCAL_REPO_NAME, BackupJob
from dorisbk.jobs.global_objects import GLOBAL_DB, chosen
from dorisbk.jobs.request import JobRequest

if TYPE_CHECKING:
    from dorisbk.jobs.handler import BackupHandler

LABEL = re.compile(r"^[-_A-Za-z0-9:]+$")
MIN_TIMEOUT_S = 600
_PROPERTIES = ("type", "timeout", "content", "ttl")
_GLOBAL_PROPERTIES = ("timeout", "backup_privilege", "backup_catalog", "backup_workload_group")


class TtlUnit(IntEnum):
    """The units of the ``ttl`` property (StarRocks's form, ``"7 DAY"``), in seconds."""

    SECOND = 1
    MINUTE = 60
    HOUR = 3600
    DAY = 86_400
    WEEK = 7 * 86_400


_TTL = re.compile(r"\s*([0-9]{1,18})\s*([A-Za-z]+?)S?\s*", re.IGNORECASE)
# a century: past it a snapshot is kept for good, and the expire time still fits any date type
MAX_TTL_DAYS = 36_500


def check_label(config: FrontendConfig, label: str) -> None:
    limit = config.int("label_regex_length")
    if not LABEL.match(label) or len(label) > limit:
        raise DorisError(f"Label format error. regex: ^[-_A-Za-z0-9:]{{1,{limit}}}$, label: {label}")


def timeout_ms(config: FrontendConfig, props: dict[str, str]) -> int:
    """The job's timeout: the ``timeout`` property in seconds (at least 10 minutes), else the default."""
    if "timeout" not in props:
        return config.int("backup_job_default_timeout_ms")
    value = props["timeout"]
    if not value.strip().lstrip("-").isdigit():
        raise DorisError(f"Invalid timeout format: {value}")
    seconds = int(value)
    if seconds < MIN_TIMEOUT_S:
        raise DorisError("timeout must be at least 10 min")
    return seconds * 1000


def ttl_seconds(props: dict[str, str]) -> int:
    """The snapshot's time to live: ``ttl`` as a positive integer and a unit (SECOND, MINUTE, HOUR, DAY
    or WEEK, singular or plural, any case); 0 without the property (the snapshot never expires)."""
    if "ttl" not in props:
        return 0
    value = props["ttl"]
    match = _TTL.fullmatch(value)
    unit = match.group(2).upper() if match else ""
    if match is None or unit not in TtlUnit.__members__ or int(match.group(1)) <= 0:
        raise DorisError(
            f"Invalid backup job ttl: {value}. It should be a positive integer and a unit "
            '(SECOND, MINUTE, HOUR, DAY or WEEK), e.g. "7 DAY"'
        )
    seconds = int(match.group(1)) * TtlUnit[unit]
    if seconds > MAX_TTL_DAYS * TtlUnit.DAY:
        raise DorisError(f"Invalid backup job ttl: {value}. It should be at most {MAX_TTL_DAYS} DAY")
    return seconds


def build(handler: BackupHandler, req: JobRequest) -> BackupJob:
    """The job a BACKUP statement starts, after every check Doris makes before it exists."""
    ctx = handler.ctx
    check_label(ctx.config, req.label)
    props = req.props
    if req.is_global:
        return _build_global(handler, req)
    local = req.repo == KEEP_ON_LOCAL_REPO_NAME
    record = None if local else ctx.repos.record(req.repo)
    db = handler.database(req.db)
    if not handler.concurrent and handler.running_job(db.id) is not None:
        raise DorisError("Can only run one backup or restore job of a database at same time")
    common: dict[str, Any] = {"type": "BACKUP", "label": req.label, "db_id": db.id, "db_name": db.name}
    if record is None:
        # the snapshot stays on the backends (CCR's local snapshot): no repository, no upload
        _, content = _check_properties(ctx.config, props)
        if "ttl" in props:
            raise DorisError(
                f"Property ttl needs a repository: a {KEEP_ON_LOCAL_REPO_NAME} snapshot lives as long as its job"
            )
        return BackupJob(
            **common,
            job_id=handler.store.next_id(),
            repo_id=KEEP_ON_LOCAL_REPO_ID,
            timeout_ms=timeout_ms(ctx.config, props),
            repo_name=KEEP_ON_LOCAL_REPO_NAME,
            table_refs=_refs(handler, db, req),
            content=content,
        )
    if record.read_only:
        raise DorisError(f"Repository {record.name} is read only")
    kind, content = _check_properties(ctx.config, props)
    timeout = timeout_ms(ctx.config, props)
    ttl = ttl_seconds(props)
    refs = _refs(handler, db, req)
    existing = _new_label(handler, record.name, req.label, kind)
    previous = [j.label for j in reversed(handler.finished_backups(record.id)) if j.label in existing][:3]
    return BackupJob(
        **common,
        job_id=handler.store.next_id(),
        repo_id=record.id,
        timeout_ms=timeout,
        repo_name=record.name,
        table_refs=refs,
        content=content,
        previous_labels=previous,
        ttl_seconds=ttl,
    )


def _new_label(handler: BackupHandler, repo_name: str, label: str, kind: str = "FULL") -> list[str]:
    """The snapshots of the repository, which must not hold ``label`` yet."""
    try:
        existing = handler.ctx.repos.repository(repo_name).list_snapshots()
    except StorageError as exc:
        raise DorisError(f"Failed to list snapshot in repo: {repo_name}, err: {exc.message}") from None
    if label in existing:
        if kind == "INCREMENTAL":
            raise DorisError("Currently does not support incremental backup")
        raise DorisError(f"Snapshot with name '{label}' already exist in repository")
    return existing


def _build_global(handler: BackupHandler, req: JobRequest) -> BackupJob:
    """BACKUP GLOBAL SNAPSHOT: a job of the pseudo database of global jobs, one at a time, into a repository."""
    ctx = handler.ctx
    if req.repo == KEEP_ON_LOCAL_REPO_NAME:
        raise DorisError(f"BACKUP GLOBAL needs a repository, not {KEEP_ON_LOCAL_REPO_NAME}")
    record = ctx.repos.record(req.repo)
    if handler.running_job(GLOBAL_DB.id) is not None:
        raise DorisError("Can only run one backup or restore job of a database at same time")
    if record.read_only:
        raise DorisError(f"Repository {record.name} is read only")
    props = req.props
    unknown = [k for k in props if k not in _GLOBAL_PROPERTIES]
    if unknown:
        raise DorisError(f"Unknown backup job properties: [{', '.join(unknown)}]")
    kinds = chosen(props, "backup_")
    timeout = timeout_ms(ctx.config, props)
    _new_label(handler, record.name, req.label)
    return BackupJob(
        type="BACKUP",
        label=req.label,
        db_id=GLOBAL_DB.id,
        db_name=GLOBAL_DB.name,
        job_id=handler.store.next_id(),
        repo_id=record.id,
        timeout_ms=timeout,
        repo_name=record.name,
        content="METADATA_ONLY",
        global_objects=[str(kind) for kind in kinds],
    )


def _check_properties(config: FrontendConfig, props: dict[str, str]) -> tuple[str, str]:
    """The backup type and content the properties ask for, after Doris's checks of them."""
    unknown = [k for k in props if k not in _PROPERTIES]
    if unknown:
        raise DorisError(f"Unknown backup job properties: [{', '.join(unknown)}]")
    kind = props.get("type", "full").upper()
    if kind not in ("FULL", "INCREMENTAL"):
        raise DorisError(f"Invalid backup job type: {props['type']}")
    content = props.get("content", "all").upper()
    if content not in ("ALL", "METADATA_ONLY"):
        raise DorisError(f"Invalid backup job content:{props['content']}")
    timeout_ms(config, props)
    ttl_seconds(props)
    return kind, content


def _refs(handler: BackupHandler, db: Database, req: JobRequest) -> list[dict[str, Any]]:
    """The tables (and partitions) the job backs up, from the ON / EXCLUDE list."""
    catalog = handler.ctx.catalog
    seen: set[str] = set()
    for ref in req.tables:
        if ref.db is not None:
            raise DorisError(
                f"Cannot specify database name on backup objects: {ref.name}. Specify database name before label"
            )
        if ref.alias is not None:
            raise DorisError(f"Can not set alias for table in Backup Command: {ref.name} AS {ref.alias}")
        if ref.name in seen:
            raise DorisError(f"Duplicated table: {ref.name}")
        seen.add(ref.name)
        if ref.temporary:
            raise DorisError("Do not support backup temp partitions")
    if req.exclude or not req.tables:
        excluded = {r.name for r in req.tables}
        names = [t.name for t in catalog.db_tables(db.id) if t.name not in excluded]
        return _without_temp_partitions(handler, db, [{"name": n, "partitions": []} for n in names])
    refs = []
    for ref in req.tables:
        table = catalog.find_table(db, ref.name)
        if table is None:
            raise DorisError(f"Unknown table '{ref.name}'", code=1051)
        if ref.partitions and table.kind != "OLAP":
            raise DorisError(f"Table {ref.name} is not a OLAP table, can not backup partitions")
        names = {p.name for p in catalog.table_partitions(table)} if table.kind == "OLAP" else set()
        for part in ref.partitions:
            if part not in names:
                raise DorisError(f"Unknown partition {part} in table{ref.name}")
        refs.append({"name": table.name, "partitions": list(ref.partitions)})
    return _without_temp_partitions(handler, db, refs)


def _without_temp_partitions(handler: BackupHandler, db: Database, refs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A table with temporary partitions is refused (their data would be lost on restore), unless
    ``ignore_backup_tmp_partitions`` says to back up its formal partitions only."""
    catalog = handler.ctx.catalog
    if handler.ctx.config.get("ignore_backup_tmp_partitions"):
        return refs
    for ref in refs:
        table = catalog.find_table(db, ref["name"])
        if table is not None and table.kind == "OLAP" and catalog.temp_partitions(table):
            raise DorisError("Do not support backup table with temp partitions")
    return refs
