"""Small helpers for tests that talk to a dorisbk server through pymysql and the mysql CLI."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pymysql
import pytest

MYSQL_CLI = shutil.which("mysql") or "/usr/bin/mysql"


def rows(conn: pymysql.connections.Connection, sql: str) -> list[tuple]:
    """All rows of one statement."""
    with conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def one(conn: pymysql.connections.Connection, sql: str) -> Any:
    """The single value of a one-row, one-column result."""
    result = rows(conn, sql)
    assert len(result) == 1 and len(result[0]) == 1, result
    return result[0][0]


def columns(conn: pymysql.connections.Connection, sql: str) -> list[str]:
    """The column names of a statement's result, in order."""
    with conn.cursor() as cur:
        cur.execute(sql)
        cur.fetchall()
        return [d[0] for d in cur.description or ()]


def dicts(conn: pymysql.connections.Connection, sql: str) -> list[dict[str, Any]]:
    """Rows as dicts keyed by column name (as a DictCursor user would read them)."""
    with conn.cursor() as cur:
        cur.execute(sql)
        names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def error(conn: pymysql.connections.Connection, sql: str) -> tuple[int, str]:
    """The (code, message) a statement fails with; fails the test if it succeeds."""
    with conn.cursor() as cur:
        try:
            cur.execute(sql)
            cur.fetchall()
        except pymysql.err.MySQLError as exc:
            return exc.args[0], str(exc.args[1]) if len(exc.args) > 1 else ""
    pytest.fail(f"statement did not fail: {sql[:200]}")


def expect_error(conn: pymysql.connections.Connection, sql: str, code: int, *fragments: str) -> str:
    got_code, message = error(conn, sql)
    assert got_code == code, (sql, got_code, message)
    for fragment in fragments:
        assert fragment in message, (sql, message)
    return message


def mysql_cli(
    port: int, sql: str, user: str = "root", password: str = "", database: str | None = None, batch: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the mysql CLI with ``sql`` on stdin (batch mode: tab-separated, with a header line)."""
    cmd = [MYSQL_CLI, "-h127.0.0.1", f"-P{port}", f"-u{user}"]
    if password:
        cmd.append(f"-p{password}")
    if batch:
        cmd.append("--batch")
    if database:
        cmd.append(database)
    return subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=60)


def partitions(conn: pymysql.connections.Connection, table: str) -> dict[str, dict[str, Any]]:
    """SHOW PARTITIONS as {PartitionName: row dict}."""
    return {r["PartitionName"]: r for r in dicts(conn, f"SHOW PARTITIONS FROM {table}")}


def tablets(conn: pymysql.connections.Connection, table: str) -> list[dict[str, Any]]:
    return dicts(conn, f"SHOW TABLETS FROM {table}")


_VOLATILE_BACKEND = ("LastStartTime", "LastHeartbeat", "AvailCapacity", "TotalCapacity", "UsedPct", "MaxDiskUsedPct",
                     "Status")  # fmt: skip


def snapshot(srv: Any) -> dict[str, Any]:
    """Everything a user can see about the catalog, the data and the accounts."""
    out: dict[str, Any] = {}
    with srv.connect() as c:
        dbs = [r[0] for r in rows(c, "SHOW DATABASES")]
        out["dbs"] = dbs
        for db in dbs:
            if db in ("information_schema", "mysql"):
                continue
            tables = rows(c, f"SHOW FULL TABLES FROM {db}")
            out[f"{db}.tables"] = tables
            for name, kind in tables:
                out[f"{db}.{name}.create"] = rows(c, f"SHOW CREATE TABLE {db}.{name}")
                out[f"{db}.{name}.data"] = sorted(rows(c, f"SELECT * FROM {db}.{name}"), key=repr)
                if kind == "BASE TABLE":
                    out[f"{db}.{name}.partitions"] = rows(c, f"SHOW PARTITIONS FROM {db}.{name}")
                    out[f"{db}.{name}.tablets"] = rows(c, f"SHOW TABLETS FROM {db}.{name}")
        out["grants"] = rows(c, "SHOW ALL GRANTS")
        out["backends"] = [
            {k: v for k, v in be.items() if k not in _VOLATILE_BACKEND} for be in dicts(c, "SHOW BACKENDS")
        ]
    return out


def wait_until(check: Callable[[], bool], what: str = "the condition", timeout: float = 10.0) -> None:
    """Poll ``check`` until it holds; fail the test if it does not within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not reached in {timeout}s: {what}"
        time.sleep(0.05)
