"""RESTORE SNAPSHOT, SHOW [BRIEF] RESTORE and CANCEL RESTORE: the checks and the job are BackupHandler's."""

from __future__ import annotations

from typing import Any

from dorisbk.engine.result import Result, SessionContext
from dorisbk.env import Env
from dorisbk.errors import DorisError
from dorisbk.jobs.request import JobRequest
from dorisbk.sql import backup_stmts as b
from dorisbk.sql.result import text_result

# the WHERE of SHOW RESTORE, CANCEL RESTORE and CANCEL BACKUP takes Label only
WHERE_LABEL = 'Where clause should like: LABEL = "your_label_name",  or LABEL LIKE "matcher"'


def restore(env: Env, ctx: SessionContext, stmt: b.RestoreStmt) -> Result | None:
    """OK once the job is accepted; a dry run's rows instead."""
    request = JobRequest(
        stmt.label, stmt.repo, stmt.db or ctx.db, stmt.tables, stmt.exclude, dict(stmt.properties), stmt.is_global
    )
    dry_run = env.jobs.restore(request)
    return text_result(*dry_run) if dry_run is not None else None


def show_restore(env: Env, ctx: SessionContext, stmt: b.ShowRestoreStmt) -> Result:
    db = env.jobs.jobs_database(ctx.current_db(stmt.db))
    if not stmt.where_is_valid:
        raise DorisError(WHERE_LABEL)
    label = stmt.where.matches if stmt.where else None
    return text_result(*env.jobs.show_jobs(db, "RESTORE", label, brief=stmt.brief))


def cancel_restore(env: Env, ctx: SessionContext, stmt: b.CancelRestoreStmt) -> None:
    if not stmt.where_is_valid:
        raise DorisError(WHERE_LABEL)
    env.jobs.cancel(ctx.current_db(stmt.db), "RESTORE", stmt.where.matches if stmt.where else None)


HANDLERS: dict[type, Any] = {
    b.RestoreStmt: restore,
    b.ShowRestoreStmt: show_restore,
    b.CancelRestoreStmt: cancel_restore,
}
