"""Backup statements: repositories, brokers, BACKUP / SHOW BACKUP / SHOW SNAPSHOT / CANCEL / DROP SNAPSHOT,
and the frontend config knobs, with Doris's synchronous checks and messages (RESTORE's in ``restore``,
the scheduled backups' CREATE / PAUSE / RESUME / DROP JOB in ``job``)."""

from __future__ import annotations

from typing import Any

from dorisbk.auth.users import require_admin
from dorisbk.engine.result import Result, SessionContext
from dorisbk.env import Env
from dorisbk.errors import DorisError
from dorisbk.jobs.repositories import RepoRecord, masked
from dorisbk.jobs.request import JobRequest
from dorisbk.sql import backup_stmts as b
from dorisbk.sql.handlers import job, restore
from dorisbk.sql.result import text_result
from dorisbk.timeutil import long_to_time_string


def execute(env: Env, ctx: SessionContext, stmt: Any) -> Result | None:
    """Every backup statement needs ADMIN in dorisbk."""
    require_admin(env.users.require(ctx.user))
    handler = _HANDLERS.get(type(stmt)) or restore.HANDLERS.get(type(stmt)) or job.HANDLERS[type(stmt)]
    return handler(env, ctx, stmt)


# ---- repositories and brokers
def create_repository(env: Env, _ctx: SessionContext, stmt: b.CreateRepositoryStmt) -> None:
    env.repos.create(stmt.name, str(stmt.type), stmt.location, dict(stmt.properties), stmt.read_only, stmt.broker)


def alter_repository(env: Env, _ctx: SessionContext, stmt: b.AlterRepositoryStmt) -> None:
    env.jobs.existing_repository(stmt.name)
    env.repos.alter(stmt.name, dict(stmt.properties))


def drop_repository(env: Env, _ctx: SessionContext, stmt: b.DropRepositoryStmt) -> None:
    env.jobs.drop_repository(stmt.name)


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


# ---- BACKUP, SHOW BACKUP, CANCEL BACKUP, snapshots
def backup(env: Env, ctx: SessionContext, stmt: b.BackupStmt) -> None:
    request = JobRequest(
        stmt.label, stmt.repo, stmt.db or ctx.db, stmt.tables, stmt.exclude, dict(stmt.properties), stmt.is_global
    )
    env.jobs.backup(request)


def show_backup(env: Env, ctx: SessionContext, stmt: b.ShowBackupStmt) -> Result:
    db = env.jobs.jobs_database(ctx.current_db(stmt.db))
    if not stmt.where_is_valid:
        raise DorisError(
            'Where clause should like: SnapshotName = "your_snapshot_name",  or SnapshotName LIKE "matcher"'
        )
    return text_result(*env.jobs.show_jobs(db, "BACKUP", stmt.where.matches if stmt.where else None))


def cancel_backup(env: Env, ctx: SessionContext, stmt: b.CancelBackupStmt) -> None:
    if not stmt.where_is_valid:
        raise DorisError(restore.WHERE_LABEL)
    env.jobs.cancel(ctx.current_db(stmt.db), "BACKUP", stmt.where.matches if stmt.where else None)


def show_snapshot(env: Env, _ctx: SessionContext, stmt: b.ShowSnapshotStmt) -> Result:
    env.repos.record(stmt.repo)
    if not stmt.where_is_valid:
        raise DorisError(
            "Where clause should looks like: SNAPSHOT = 'your_snapshot_name' [AND TIMESTAMP = "
            "'2018-04-18-19-19-10'] [AND SNAPSHOTTYPE = 'remote' | 'local']"
        )
    one = (stmt.snapshot or "", stmt.timestamp or "") if stmt.one_backup else None
    snapshot, timestamp = stmt.condition("SNAPSHOT"), stmt.condition("TIMESTAMP")
    return text_result(
        *env.jobs.show_snapshots(
            stmt.repo, one, snapshot.matches if snapshot else None, timestamp.matches if timestamp else None
        )
    )


def drop_snapshot(env: Env, _ctx: SessionContext, stmt: b.DropSnapshotStmt) -> None:
    env.jobs.drop_snapshot(stmt.repo, stmt.label)


def admin_check_snapshot(env: Env, _ctx: SessionContext, stmt: b.AdminCheckSnapshotStmt) -> Result:
    return text_result(*env.jobs.check_snapshot(stmt.repo, stmt.label, stmt.properties))


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
    b.AdminCheckSnapshotStmt: admin_check_snapshot,
}
