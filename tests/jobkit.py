"""Helpers shared by the backup and the restore test modules (no tests here).

Statements through pymysql, Doris-style errors, the frontend config knobs that steer jobs,
server restarts, and file checksums: what both job kinds' tests need the same way.
"""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pymysql

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import error as err
from tests.sqlhelp import rows as q
from tests.sqlhelp import wait_until

ERR_PREFIX = "errCode = 2, detailMessage = "
READY = "dorisbk ready on"


def described(conn: pymysql.connections.Connection, sql: str) -> tuple[list[str], list[tuple]]:
    """A statement's column names and rows."""
    with conn.cursor() as cur:
        cur.execute(sql)
        return [d[0] for d in cur.description or ()], list(cur.fetchall())


def doris_err(conn: pymysql.connections.Connection, sql: str, code: int = 1105) -> str:
    """A Doris-style failure (the code and the ``errCode = 2`` prefix); returns the detail message."""
    got_code, message = err(conn, sql)
    assert got_code == code, (got_code, message)
    assert message.startswith(ERR_PREFIX), message
    return message[len(ERR_PREFIX) :]


def wait_ended(conn: pymysql.connections.Connection, kind: str, db: str, timeout: float = 60.0) -> tuple:
    """The SHOW BACKUP / SHOW RESTORE row of the database's last job, once it is FINISHED or CANCELLED."""
    state_at = 3 if kind == "BACKUP" else 4
    last: list[tuple] = []

    def ended() -> bool:
        last[:] = described(conn, f"SHOW {kind} FROM {db}")[1][-1:]
        return bool(last) and last[0][state_at] in ("FINISHED", "CANCELLED")

    wait_until(ended, f"the last {kind} of {db} to end", timeout)
    return last[0]


def set_config(conn: pymysql.connections.Connection, key: str, value: str) -> None:
    q(conn, f'ADMIN SET FRONTEND CONFIG ("{key}" = "{value}")')


def pause(conn: pymysql.connections.Connection, *states: str, kind: str = "BACKUP") -> None:
    """Hold ``kind`` (BACKUP or RESTORE) jobs in ``states`` (none: release them)."""
    set_config(conn, "debug_pause_job_states", ",".join(f"{kind}:{s}" for s in states))


def insert(conn: pymysql.connections.Connection, table: str, keys: Any) -> None:
    """Rows ``(k, 'v<k>')`` into a ``k INT, v VARCHAR`` table."""
    values = ", ".join(f"({k}, 'v{k}')" for k in keys)
    q(conn, f"INSERT INTO {table} VALUES {values}")


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def snapshot_dir(location: Path, repo: str, label: str) -> Path:
    """Where a LOCAL repository at ``location`` keeps snapshot ``label``."""
    return location / f"__palo_repository_{repo}" / f"__ss_{label}"


def restart(srv: DorisbkServer, sig: int = signal.SIGTERM, between: Callable[[], None] | None = None) -> None:
    """Stop (or kill) and start again, waiting for the *new* process's ready line (the log is appended).

    ``between`` runs while no server is up.
    """
    seen = srv.log().count(READY)
    srv.stop(sig)
    if between is not None:
        between()
    srv.start()
    deadline = time.monotonic() + 60
    while srv.log().count(READY) <= seen:
        assert srv.proc is not None and srv.proc.poll() is None, srv.log()[-3000:]
        assert time.monotonic() < deadline, "server did not restart"
        time.sleep(0.02)


def edit_jobs(srv: DorisbkServer, job_ids: list[int], change: Callable[[dict], None]) -> None:
    """Rewrite persisted jobs in the stopped server's metadata store (SQLite), as an older or stranger
    server might have left them."""
    where = "WHERE kind = 'job' AND id = ?"
    meta = sqlite3.connect(srv.data_dir / "meta.db")
    try:
        for job_id in job_ids:
            (body,) = meta.execute(f"SELECT body FROM dorisbk_objects {where}", (job_id,)).fetchone()
            job = json.loads(body)
            change(job)
            meta.execute(f"UPDATE dorisbk_objects SET body = ? {where}", (json.dumps(job), job_id))
        meta.commit()
    finally:
        meta.close()
