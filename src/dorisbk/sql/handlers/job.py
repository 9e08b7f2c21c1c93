"""CREATE / PAUSE / RESUME / DROP JOB for scheduled backups (Doris's job scheduler); the schedule and its
runs are ``jobs.job_scheduler``'s. ADMIN only, as every backup statement (``handlers.backup.execute``)."""

from __future__ import annotations

from typing import Any

from dorisbk.engine.result import SessionContext
from dorisbk.env import Env
from dorisbk.jobs.abstract_job import now_ms
from dorisbk.jobs.job_scheduler import BackupTimerJob, JobStatus
from dorisbk.jobs.request import JobRequest
from dorisbk.jobs.timer import IntervalUnit, TimerDefinition
from dorisbk.sql import backup_stmts as b


def create_job(env: Env, ctx: SessionContext, stmt: b.CreateJobStmt) -> None:
    """The BACKUP's database is the one it names, else the session's (Doris creates a job in the latter)."""
    body = stmt.backup
    db = ctx.current_db(body.db)
    unit = IntervalUnit.parse(stmt.unit, env.frontend_config)
    timer = TimerDefinition.build(stmt.interval, unit, stmt.starts, stmt.ends, now_ms())
    request = JobRequest(body.label, body.repo, db, body.tables, body.exclude, dict(body.properties))
    job = BackupTimerJob(
        job_id=0,
        name=stmt.name,
        definer=ctx.user,
        timer=timer,
        request=request,
        execute_sql=b.backup_sql(body),
        comment=stmt.comment,
    )
    env.job_manager.create(job)


def pause_job(env: Env, _ctx: SessionContext, stmt: b.PauseJobStmt) -> None:
    env.job_manager.alter_status(stmt.where.job_name, JobStatus.PAUSED)


def resume_job(env: Env, _ctx: SessionContext, stmt: b.ResumeJobStmt) -> None:
    env.job_manager.alter_status(stmt.where.job_name, JobStatus.RUNNING)


def drop_job(env: Env, _ctx: SessionContext, stmt: b.DropJobStmt) -> None:
    env.job_manager.drop(stmt.where.job_name, stmt.if_exists)


HANDLERS: dict[type, Any] = {
    b.CreateJobStmt: create_job,
    b.PauseJobStmt: pause_job,
    b.ResumeJobStmt: resume_job,
    b.DropJobStmt: drop_job,
}
