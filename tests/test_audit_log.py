"""fe.audit.log: one line per statement in Doris's audit form, read back as a user would read the file:
who ran what in which database, how it ended (State, ErrorCode), no secret in clear, rolled by size."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import set_config
from tests.sqlhelp import error
from tests.sqlhelp import rows as q

LINE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} \[query\] (\|.*)$")
FIELDS = ["Client", "User", "Ctl", "Db", "State", "ErrorCode", "ErrorMessage", "Time(ms)", "ScanBytes", "ScanRows",
          "ReturnRows", "StmtId", "QueryId", "IsQuery", "Stmt"]  # fmt: skip
WAIT_S = 15.0
REPOSITORY_SQL = (
    'CREATE REPOSITORY s3r WITH S3 ON LOCATION "s3://bucket/p" PROPERTIES ("s3.endpoint" = "http://127.0.0.1:1", '
    '"s3.region" = "us-east-1", "s3.access_key" = "AK", "s3.secret_key" = "{secret}")'
)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DorisbkServer]:
    base = tmp_path_factory.mktemp("audit")
    server = DorisbkServer(base / "data", extra_args=["--log-dir", str(base / "logs")]).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def log_dir(srv: DorisbkServer) -> Path:
    return srv.data_dir.parent / "logs"


def parse(line: str) -> dict[str, str]:
    """An audit line's fields; Stmt is the last and may hold any character."""
    match = LINE.match(line)
    assert match, line
    head, _, stmt = match.group(1).partition("|Stmt=")
    fields = dict(item.split("=", 1) for item in head[1:].split("|"))
    return {**fields, "Stmt": stmt}


def audit_lines(log_dir: Path) -> list[dict[str, str]]:
    return [parse(line) for line in (log_dir / "fe.audit.log").read_text().splitlines()]


def audited(log_dir: Path, stmt: str) -> dict[str, str]:
    """The line of the statement whose (masked) text is ``stmt``, once the writer thread has written it."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = [f for f in audit_lines(log_dir) if f["Stmt"] == stmt]
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError(f"no audit line for {stmt!r}:\n{(log_dir / 'fe.audit.log').read_text()[-3000:]}")


def test_statements_with_user_db_state_and_error(srv: DorisbkServer, log_dir: Path) -> None:
    with srv.connect() as conn:
        q(conn, "CREATE DATABASE aud")
        q(conn, "CREATE TABLE aud.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 "
                "PROPERTIES ('replication_num' = '1')")  # fmt: skip
        q(conn, "INSERT INTO aud.t VALUES (1), (2), (3)")
        q(conn, "CREATE USER auditor IDENTIFIED BY 'pw1'")
        q(conn, "GRANT SELECT_PRIV ON aud.* TO auditor")
    with srv.connect(user="auditor", password="pw1", database="aud") as conn:
        assert q(conn, "SELECT k FROM t ORDER BY k") == [(1,), (2,), (3,)]
        code, _ = error(conn, "SELECT * FROM missing_table")
    ok = audited(log_dir, "SELECT k FROM t ORDER BY k")
    assert list(ok) == FIELDS
    assert (ok["User"], ok["Db"], ok["State"], ok["ErrorCode"], ok["ErrorMessage"]) == (
        "auditor",
        "aud",
        "EOF",
        "0",
        "",
    )
    assert (ok["ReturnRows"], ok["IsQuery"], ok["Ctl"]) == ("3", "true", "internal")
    assert re.fullmatch(r"127\.0\.0\.1:\d+", ok["Client"]) and int(ok["Time(ms)"]) >= 0, ok
    assert re.fullmatch(r"[0-9a-f]{32}", ok["QueryId"])
    failed = audited(log_dir, "SELECT * FROM missing_table")
    assert (failed["User"], failed["Db"], failed["State"], failed["ErrorCode"]) == ("auditor", "aud", "ERR", str(code))
    assert code == 1146 and "missing_table" in failed["ErrorMessage"]
    ddl = audited(log_dir, "CREATE DATABASE aud")
    assert (ddl["User"], ddl["Db"], ddl["State"], ddl["ReturnRows"], ddl["IsQuery"]) == ("root", "", "OK", "0", "false")
    # a result past one fetch batch is streamed: its line is written once the last row is sent
    with srv.connect() as conn:
        q(conn, 'INSERT INTO aud.t SELECT number FROM numbers("number" = "25000")')
        assert len(q(conn, "SELECT k FROM aud.t")) == 25003
    streamed = audited(log_dir, "SELECT k FROM aud.t")
    assert (streamed["State"], streamed["ReturnRows"]) == ("EOF", "25003")
    # one sequence of statement ids for the whole frontend
    ids = [int(f["StmtId"]) for f in audit_lines(log_dir)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_secrets_never_reach_the_file(srv: DorisbkServer, log_dir: Path) -> None:
    secrets = ["TOPSECRETKEY", "hunter2pw", "n3wpassw0rd", "*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9"]
    with srv.connect() as conn:
        # a repository whose endpoint is closed: it fails, and its keys still stay out of the log
        code, _ = error(conn, REPOSITORY_SQL.format(secret="TOPSECRETKEY"))
        q(conn, "CREATE USER IF NOT EXISTS secretive IDENTIFIED BY 'hunter2pw'")
        q(conn, "SET PASSWORD FOR 'secretive'@'%' = PASSWORD('n3wpassw0rd')")
        q(conn, "SET PASSWORD FOR 'secretive'@'%' = '*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9'")
    repo = audited(log_dir, REPOSITORY_SQL.format(secret="*XXX"))
    assert (repo["State"], repo["ErrorCode"]) == ("ERR", str(code))
    assert audited(log_dir, "CREATE USER IF NOT EXISTS secretive IDENTIFIED BY '*XXX'")["State"] == "OK"
    assert audited(log_dir, "SET PASSWORD FOR 'secretive'@'%' = PASSWORD('*XXX')")["State"] == "OK"
    assert audited(log_dir, "SET PASSWORD FOR 'secretive'@'%' = '*XXX'")["State"] == "OK"
    text = (log_dir / "fe.audit.log").read_text()
    assert [s for s in secrets if s in text] == []


def test_rolls_by_size(srv: DorisbkServer, log_dir: Path) -> None:
    """Past audit_log_roll_size_mb the file moves to fe.audit.log.1 and a new one starts; whole lines only."""
    with srv.connect() as conn:
        set_config(conn, "audit_log_max_stmt_length", "400000")
        set_config(conn, "audit_log_roll_size_mb", "1")
        try:
            for n in range(6):  # 6 x 200 KB of statement text: past 1 MB once
                q(conn, f"SELECT '{n}{'x' * 200_000}' AS big")
            q(conn, "SELECT 'after the roll'")
        finally:
            set_config(conn, "audit_log_max_stmt_length", "4096")
            set_config(conn, "audit_log_roll_size_mb", "1024")
    rolled = log_dir / "fe.audit.log.1"
    audited(log_dir, "SELECT 'after the roll'")
    assert rolled.is_file()
    assert rolled.stat().st_size <= 1024 * 1024
    lines = [parse(line) for line in rolled.read_text().splitlines()] + audit_lines(log_dir)
    big = [f["Stmt"] for f in lines if f["Stmt"].endswith("AS big")]
    assert [s[8] for s in big] == [str(n) for n in range(6)] and all(len(s) > 200_000 for s in big)
