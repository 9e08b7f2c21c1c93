"""Backup statements: repositories, brokers, BACKUP / SHOW BACKUP / SHOW SNAPSHOT / CANCEL / DROP SNAPSHOT,
and the frontend config knobs, with Doris's synchronous checks and messages."""

from __future__ import annotations

import re
from typing import Any

from dorisbk.auth.users import require_admin
from dorisbk.catalog.model import Database
from dorisbk.engine.result import Result, SessionContext
from dorisbk.env import Env
from dorisbk.errors import DorisError, StorageError, UnknownDatabase
from dorisbk.jobs.backup_job import KEEP_ON_LOCAL_REPO_ID, KEEP_ON_LOCAL_REPO_NAME, SHOW_BACKUP_COLUMNS, BackupJob
from dorisbk.jobs.concurrency import QUEUE_COLUMNS
from dorisbk.jobs.job_info import brief, parse_info, pretty
from dorisbk.jobs.repositories import RepoRecord, masked
from dorisbk.sql import backup_stmts as b
from dorisbk.sql.result import text_result
from dorisbk.storage.repository import INVALID_INFO, NoInfoFileError, Repository
from dorisbk.timeutil import long_to_time_string

LABEL = re.compile(r"^[-_A-Za-z0-9:]+$")
MIN_TIMEOUT_S = 600


def current_db(env: Env, ctx: SessionContext, name: str | None) -> Database:
    db_name = ctx.current_db(name)
    db = env.catalog.find_db(db_name)
    if db is None:
        raise UnknownDatabase(f"Unknown database '{db_name}'")
    return db


def check_label(env: Env, label: str) -> None:
    limit = env.frontend_config.int("label_regex_length")
    if not LABEL.match(label) or len(label) > limit:
        raise DorisError(f"Label format error. regex: ^[-_A-Za-z0-9:]{{1,{limit}}}$, label: {label}")


def timeout_ms(env: Env, props: dict[str, str]) -> int:
    if "timeout" not in props:
        return env.frontend_config.int("backup_job_default_timeout_ms")
    value = props["timeout"]
    if not value.strip().lstrip("-").isdigit():
        raise DorisError(f"Invalid timeout format: {value}")
    seconds = int(value)
    if seconds < MIN_TIMEOUT_S:
        raise DorisError("timeout must be at least 10 min")
    return seconds * 1000


def execute(env: Env, ctx: SessionContext, stmt: Any) -> Result | None:
    """Every backup statement needs ADMIN in dorisbk."""
    require_admin(env.users.require(ctx.user))
    from dorisbk.sql.handlers import restore  # restore builds on this module's checks

    handler = _HANDLERS.get(type(stmt)) or restore.HANDLERS[type(stmt)]
    return handler(env, ctx, stmt)


# ---- repositories and brokers
def create_repository(env: Env, _ctx: SessionContext, stmt: b.CreateRepositoryStmt) -> None:
    env.repos.create(stmt.name, str(stmt.type), stmt.location, dict(stmt.properties), stmt.read_only, stmt.broker)


def _existing_repo(env: Env, name: str) -> RepoRecord:
    """ALTER and DROP REPOSITORY name no repository in their "does not exist" message (as Doris)."""
    if name not in env.repos.records:
        raise DorisError("Repository does not exist")
    return env.repos.record(name)


def alter_repository(env: Env, _ctx: SessionContext, stmt: b.AlterRepositoryStmt) -> None:
    _existing_repo(env, stmt.name)
    env.repos.alter(stmt.name, dict(stmt.properties))


def drop_repository(env: Env, _ctx: SessionContext, stmt: b.DropRepositoryStmt) -> None:
    record = _existing_repo(env, stmt.name)
    if env.jobs.jobs_using_repo(record.id):
        raise DorisError("Backup or restore job is running on this repository. Can not drop it")
    env.repos.drop(stmt.name)


def show_repositories(env: Env, _ctx: SessionContext, _stmt: b.ShowRepositoriesStmt) -> Result:
    rows = []
    for record in sorted(env.repos.records.values(), key=lambda r: r.id):
        rows.append(
            (
                record.id,
                record.name,
                long_to_time_string(record.create_time),
                str(record.read_only).lower(),
                record.location,
                record.broker or "-",
                record.type,
                record.err_msg,
            )
        )
    return text_result(("RepoId", "RepoName", "CreateTime", "IsReadOnly", "Location", "Broker", "Type", "ErrMsg"), rows)


def create_repository_sql(record: RepoRecord) -> str:
    kind = f"BROKER {record.broker}" if record.type == "BROKER" else record.type
    props = ",\n".join(f'"{k}" = "{v}"' for k, v in masked(record.properties).items())
    read_only = "READ ONLY " if record.read_only else ""
    text = f'CREATE {read_only}REPOSITORY `{record.name}`\nWITH {kind}\nON LOCATION "{record.location}"'
    # Without properties (LOCAL) the clause is left out: "PROPERTIES ()" would not parse again.
    return f"{text}\nPROPERTIES\n(\n{props}\n)" if props else text


def show_create_repository(env: Env, _ctx: SessionContext, stmt: b.ShowCreateRepositoryStmt) -> Result:
    record = env.repos.records.get(stmt.name)
    if record is None:
        raise DorisError("repository not exist.")  # Doris's wording for this statement alone
    return text_result(("RepoName", "CreateStmt"), [(record.name, create_repository_sql(record))])


def add_broker(env: Env, _ctx: SessionContext, stmt: b.AddBrokerStmt) -> None:
    env.repos.add_broker(stmt.name, stmt.addresses)


def drop_broker(env: Env, _ctx: SessionContext, stmt: b.DropBrokerStmt) -> None:
    env.repos.drop_broker(stmt.name, stmt.addresses, stmt.drop_all)


def show_broker(env: Env, _ctx: SessionContext, _stmt: b.ShowBrokerStmt) -> Result:
    rows = [
        (br.name, br.host, br.port, "true", long_to_time_string(br.added), long_to_time_string(br.added), "")
        for br in sorted(env.repos.brokers.values(), key=lambda x: (x.name, x.host, x.port))
    ]
    return text_result(("Name", "Host", "Port", "Alive", "LastStartTime", "LastUpdateTime", "ErrMsg"), rows)


def admin_set_config(env: Env, _ctx: SessionContext, stmt: b.AdminSetConfigStmt) -> None:
    if len(stmt.configs) != 1:
        raise DorisError("config parameter size is not equal to 1")
    for key, value in stmt.configs.items():
        env.frontend_config.set(key, value)


def admin_show_config(env: Env, _ctx: SessionContext, stmt: b.AdminShowConfigStmt) -> Result:
    rows = [r for r in env.frontend_config.rows() if stmt.matches(r[0])]
    return text_result(("Key", "Value", "Type", "IsMutable", "MasterOnly", "Comment"), rows)


# ---- BACKUP
_BACKUP_PROPERTIES = ("type", "timeout", "content")


def backup(env: Env, ctx: SessionContext, stmt: b.BackupStmt) -> None:
    check_label(env, stmt.label)
    local = stmt.repo == KEEP_ON_LOCAL_REPO_NAME
    record = None if local else env.repos.record(stmt.repo)
    db = current_db(env, ctx, stmt.db)
    if not env.jobs.concurrent and env.jobs.running_job(db.id) is not None:
        raise DorisError("Can only run one backup or restore job of a database at same time")
    if record is None:
        # the snapshot stays on the backends (CCR's local snapshot): no repository, no upload
        _check_backup_properties(env, dict(stmt.properties))
        env.jobs.add_job(
            BackupJob(
                type="BACKUP",
                job_id=env.store.next_id(),
                label=stmt.label,
                db_id=db.id,
                db_name=db.name,
                repo_id=KEEP_ON_LOCAL_REPO_ID,
                timeout_ms=timeout_ms(env, dict(stmt.properties)),
                repo_name=KEEP_ON_LOCAL_REPO_NAME,
                table_refs=_backup_refs(env, db, stmt),
                content=dict(stmt.properties).get("content", "all").upper(),
            )
        )
        return
    if record.read_only:
        raise DorisError(f"Repository {record.name} is read only")
    props = dict(stmt.properties)
    kind, content = _check_backup_properties(env, props)
    timeout = timeout_ms(env, props)
    refs = _backup_refs(env, db, stmt)
    repo = env.repos.repository(record.name)
    try:
        existing = repo.list_snapshots()
    except StorageError as exc:
        raise DorisError(f"Failed to list snapshot in repo: {record.name}, err: {exc.message}") from None
    if stmt.label in existing:
        if kind == "INCREMENTAL":
            raise DorisError("Currently does not support incremental backup")
        raise DorisError(f"Snapshot with name '{stmt.label}' already exist in repository")
    previous = [j.label for j in reversed(env.jobs.finished_backups(record.id)) if j.label in existing][:3]
    job = BackupJob(
        type="BACKUP",
        job_id=env.store.next_id(),
        label=stmt.label,
        db_id=db.id,
        db_name=db.name,
        repo_id=record.id,
        timeout_ms=timeout,
        repo_name=record.name,
        table_refs=refs,
        content=content,
        previous_labels=previous,
    )
    env.jobs.add_job(job)


def _check_backup_properties(env: Env, props: dict[str, str]) -> tuple[str, str]:
    """The backup type and content the properties ask for, after Doris's checks of them."""
    unknown = [k for k in props if k not in _BACKUP_PROPERTIES]
    if unknown:
        raise DorisError(f"Unknown backup job properties: [{', '.join(unknown)}]")
    kind = props.get("type", "full").upper()
    if kind not in ("FULL", "INCREMENTAL"):
        raise DorisError(f"Invalid backup job type: {props['type']}")
    content = props.get("content", "all").upper()
    if content not in ("ALL", "METADATA_ONLY"):
        raise DorisError(f"Invalid backup job content:{props['content']}")
    timeout_ms(env, props)
    return kind, content


def _backup_refs(env: Env, db: Database, stmt: b.BackupStmt) -> list[dict[str, Any]]:
    catalog = env.catalog
    seen: set[str] = set()
    for ref in stmt.tables:
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
    if stmt.exclude or not stmt.tables:
        excluded = {r.name for r in stmt.tables}
        names = [t.name for t in catalog.db_tables(db.id) if t.name not in excluded]
        return _without_temp_partitions(env, db, [{"name": n, "partitions": []} for n in names])
    refs = []
    for ref in stmt.tables:
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
    return _without_temp_partitions(env, db, refs)


def _without_temp_partitions(env: Env, db: Database, refs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A table with temporary partitions is refused (their data would be lost on restore), unless
    ``ignore_backup_tmp_partitions`` says to back up its formal partitions only."""
    if env.frontend_config.get("ignore_backup_tmp_partitions"):
        return refs
    for ref in refs:
        table = env.catalog.find_table(db, ref["name"])
        if table is not None and table.kind == "OLAP" and env.catalog.temp_partitions(table):
            raise DorisError("Do not support backup table with temp partitions")
    return refs


def show_backup(env: Env, ctx: SessionContext, stmt: b.ShowBackupStmt) -> Result:
    db = current_db(env, ctx, stmt.db)
    if not stmt.where_is_valid:
        raise DorisError(
            'Where clause should like: SnapshotName = "your_snapshot_name",  or SnapshotName LIKE "matcher"'
        )
    rows = [
        job.show_row()
        for job in env.jobs.db_jobs(db.id)
        if isinstance(job, BackupJob) and (stmt.where is None or stmt.where.matches(job.label))
    ]
    if env.jobs.concurrent:
        return text_result((*SHOW_BACKUP_COLUMNS, *QUEUE_COLUMNS), with_queue_columns(env, db.id, rows))
    return text_result(SHOW_BACKUP_COLUMNS, rows)


def with_queue_columns(env: Env, db_id: int, rows: list[tuple]) -> list[tuple]:
    """Rows (JobId first) with concurrency mode's QueuePos and BlockReason; ended jobs show neither."""
    slots = {str(k): v for k, v in env.jobs.slots(db_id).items()}
    out = []
    for row in rows:
        slot = slots.get(str(row[0]))
        out.append((*row, slot.queue_pos if slot else "", slot.reason if slot else ""))
    return out


def cancel_backup(env: Env, ctx: SessionContext, stmt: b.CancelBackupStmt) -> None:
    """Cancel the database's current (last) job if it is a backup (in concurrency mode every unfinished
    backup matching the label); a finished one says why it can't be."""
    if not stmt.where_is_valid:
        raise DorisError('Where clause should like: LABEL = "your_label_name",  or LABEL LIKE "matcher"')
    db = current_db(env, ctx, stmt.db)
    if env.jobs.concurrent:
        env.jobs.cancel(db.id, "BACKUP", stmt.where.matches if stmt.where else None)
        return
    jobs = env.jobs.db_jobs(db.id)
    job = jobs[-1] if jobs else None
    if job is None or job.type != "BACKUP" or (stmt.where is not None and not stmt.where.matches(job.label)):
        raise DorisError("No backup job is currently running")
    status = job.cancel(env.jobs.ctx, env.jobs.cancel_status(job))
    if not status.ok:
        raise DorisError(f"Failed to cancel job: {status.msg}")


# ---- snapshots
def show_snapshot(env: Env, _ctx: SessionContext, stmt: b.ShowSnapshotStmt) -> Result:
    record = env.repos.record(stmt.repo)
    if not stmt.where_is_valid:
        raise DorisError(
            "Where clause should looks like: SNAPSHOT = 'your_snapshot_name' [AND TIMESTAMP = "
            "'2018-04-18-19-19-10'] [AND SNAPSHOTTYPE = 'remote' | 'local']"
        )
    repo = env.repos.repository(record.name)
    if stmt.one_backup:
        return text_result(_SNAPSHOT_DETAIL, [_snapshot_detail(repo, stmt.snapshot or "", stmt.timestamp or "")])
    try:
        labels = repo.list_snapshots()
    except StorageError as exc:
        raise DorisError(f"Failed to list snapshot in repo: {record.name}, err: {exc.message}") from None
    snapshot, timestamp = stmt.condition("SNAPSHOT"), stmt.condition("TIMESTAMP")
    if snapshot is not None:
        labels = [label for label in labels if snapshot.matches(label)]
    if timestamp is not None:  # TIMESTAMP > '...' and the like: each backup of the labels it selects
        details = []
        for label in sorted(labels):
            try:
                stamps = repo.list_snapshot_timestamps(label)
            except NoInfoFileError:
                continue
            except StorageError as exc:
                details.append((label, None, None, None, f"Failed to get info: {exc.message}"))
                continue
            for stamp in stamps:
                if not stamp.startswith(INVALID_INFO) and timestamp.matches(stamp):
                    details.append(_snapshot_detail(repo, label, stamp))
        return text_result(_SNAPSHOT_DETAIL, details)
    rows = []
    for label in sorted(labels):
        try:
            stamps = repo.list_snapshot_timestamps(label)
            rows.append((label, "\n".join(stamps), "OK"))
        except NoInfoFileError:
            rows.append((label, None, "ERROR: No info file found"))
        except StorageError as exc:
            rows.append((label, None, f"ERROR: Failed to get info: {exc.message}"))
    return text_result(("Snapshot", "Timestamp", "Status"), rows)


_SNAPSHOT_DETAIL = ("Snapshot", "Timestamp", "Database", "Details", "Status")


def _snapshot_detail(repo: Repository, label: str, timestamp: str) -> tuple[str | None, ...]:
    """One backup as SHOW SNAPSHOT describes it; an unreadable one says why in Status."""
    try:
        info = repo_info_json(repo, label, timestamp)
    except (StorageError, ValueError) as exc:
        message = exc.message if isinstance(exc, StorageError) else str(exc)
        return (label, timestamp, None, None, f"Failed to get info: {message}")
    return (label, timestamp, info["database"], pretty(brief(info)), "OK")


def repo_info_json(repo: Repository, label: str, timestamp: str) -> dict[str, Any]:
    return parse_info(repo.read_info(label, timestamp))


def drop_snapshot(env: Env, _ctx: SessionContext, stmt: b.DropSnapshotStmt) -> None:
    record = env.repos.record(stmt.repo)
    if record.read_only:
        raise DorisError(f"Repository {record.name} is read only")
    for job in env.jobs.jobs_using_repo(record.id):
        if job.label == stmt.label:
            raise DorisError(f"Snapshot {stmt.label} is used by a running job")
    try:
        env.repos.repository(record.name).drop_snapshot(stmt.label)
    except StorageError as exc:
        raise DorisError(f"Failed to drop snapshot {stmt.label}: {exc.message}") from None


_HANDLERS: dict[type, Any] = {
    b.CreateRepositoryStmt: create_repository,
    b.AlterRepositoryStmt: alter_repository,
    b.DropRepositoryStmt: drop_repository,
    b.ShowRepositoriesStmt: show_repositories,
    b.ShowCreateRepositoryStmt: show_create_repository,
    b.AddBrokerStmt: add_broker,
    b.DropBrokerStmt: drop_broker,
    b.ShowBrokerStmt: show_broker,
    b.AdminSetConfigStmt: admin_set_config,
    b.AdminShowConfigStmt: admin_show_config,
    b.BackupStmt: backup,
    b.ShowBackupStmt: show_backup,
    b.CancelBackupStmt: cancel_backup,
    b.ShowSnapshotStmt: show_snapshot,
    b.DropSnapshotStmt: drop_snapshot,
}
