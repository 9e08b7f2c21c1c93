"""Limits and hygiene: query_timeout and KILL stop running statements and give their worker threads
back, one user cannot take the threads an admin needs, batch partitions are capped, another session's
secrets stay out of PROCESSLIST and the log, DuckDB's syntax errors are 1064, and no error text names a
Python type. Against a real server, but for the batch arithmetic and the session's last-resort error,
which are checked in process.

Nothing here asserts how long something took: each test waits for a state (polling with a bounded
deadline) and checks errors and results. Long statements are bounded by KILL or query_timeout, and
every client has a read timeout so that a server that fails to stop one fails the test instead of
hanging it.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pymysql
import pytest
from mysql_mimic.errors import MysqlError
from mysql_mimic.variables import SYSTEM_VARIABLES, GlobalVariables

from dorisbk.catalog import dynamic_partition
from dorisbk.config import FrontendConfig
from dorisbk.metrics import FrontendMetrics
from dorisbk.server import session as session_module
from dorisbk.server.audit import AuditLog
from dorisbk.server.workers import Limits
from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import error, rows, wait_until

READ_TIMEOUT = 60  # s; a statement the server should have stopped long before fails the test here
DEADLINE_S = 30.0  # for a state the server must reach soon
HEAVY = 'SELECT sum(a.number + b.number) FROM numbers("number" = "100000000") a, numbers("number" = "100000000") b'
LONG_SLEEP = "SELECT sleep(300)"
PER_USER = Limits().per_user
PYTHON_NAMES = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]*)*(?:Error|Exception)\b|sqlglot|duckdb|Traceback|<class|\.py\b")


@pytest.fixture(scope="module")
def srv(server: DorisbkServer) -> DorisbkServer:
    """The module's server with a table, and two users without ADMIN that may read it."""
    for sql in (
        "CREATE DATABASE lim",
        "CREATE TABLE lim.t (k INT, v INT) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
        "INSERT INTO lim.t VALUES (1, 10), (2, 20)",
        "CREATE USER 'plain'@'%' IDENTIFIED BY 'pw'",
        "GRANT SELECT_PRIV ON internal.lim.* TO plain",
        "CREATE USER 'other'@'%' IDENTIFIED BY 'pw'",
        "GRANT SELECT_PRIV ON internal.lim.* TO other",
    ):
        server.query(sql)
    return server


def connect(srv: DorisbkServer, user: str = "root", timeout_s: int | None = None) -> pymysql.connections.Connection:
    """A client with a read timeout (and the session's query_timeout, if given)."""
    conn = srv.connect(user=user, password="" if user == "root" else "pw", read_timeout=READ_TIMEOUT)
    if timeout_s is not None:
        with conn.cursor() as cur:
            cur.execute(f"SET query_timeout = {timeout_s}")
    return conn


def processes(srv: DorisbkServer) -> list[dict[str, str]]:
    with closing(connect(srv)) as root, root.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute("SHOW FULL PROCESSLIST")
        return list(cur.fetchall())


def in_statement(srv: DorisbkServer, ids: set[int]) -> bool:
    """Whether each of these connections is in a statement (running or waiting for a worker)."""
    busy = {int(row["Id"]) for row in processes(srv) if row["Command"] == "Query"}
    return ids <= busy


@dataclass
class Background:
    """One statement running on its own connection in a client thread."""

    conn: pymysql.connections.Connection
    sql: str
    error: BaseException | None = None
    rows: list[tuple] | None = None
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.rows = rows(self.conn, self.sql)
        except BaseException as exc:  # noqa: BLE001 - the test reads it
            self.error = exc

    def join(self) -> None:
        self.thread.join(READ_TIMEOUT + 10)
        assert not self.thread.is_alive(), f"still running: {self.sql}"


@contextmanager
def statements_of(srv: DorisbkServer, user: str, sql: str, count: int) -> Iterator[list[Background]]:
    """``count`` connections of ``user`` each running ``sql``; whatever is left is killed on the way out."""
    started = [Background(connect(srv, user, timeout_s=600), sql) for _ in range(count)]
    try:
        yield started
    finally:
        with closing(connect(srv)) as root:
            for item in started:
                with suppress(pymysql.err.MySQLError):
                    rows(root, f"KILL {item.conn.thread_id()}")
        for item in started:
            item.join()
            item.conn.close()


# ---- query_timeout


@pytest.mark.parametrize("sql", ["SELECT sleep(30)", HEAVY], ids=["sleep", "duckdb"])
def test_query_timeout_stops_the_statement(srv: DorisbkServer, sql: str) -> None:
    with closing(connect(srv, "plain", timeout_s=1)) as conn:
        code, message = error(conn, sql)
        assert (code, message) == (1105, "errCode = 2, detailMessage = query is timeout, killed by timeout checker")
        assert rows(conn, "SELECT 1") == [(1,)]  # the connection goes on


def test_timed_out_statements_give_their_workers_back(srv: DorisbkServer) -> None:
    """A user's whole share times out; its next statements find their workers free again (had the
    DuckDB queries gone on, these would wait for them until their own query_timeout)."""
    conns = [connect(srv, "plain", timeout_s=1) for _ in range(PER_USER)]
    try:
        heavy = [Background(conn, HEAVY) for conn in conns]
        for item in heavy:
            item.join()
            assert isinstance(item.error, pymysql.err.OperationalError), item.error
            assert "query is timeout" in item.error.args[1]
        for conn in conns:
            rows(conn, "SET query_timeout = 20")
        after = [Background(conn, "SELECT 1") for conn in conns]
        for item in after:
            item.join()
            assert item.error is None and item.rows == [(1,)], item.error
    finally:
        for conn in conns:
            conn.close()


# ---- KILL


@pytest.mark.parametrize(
    ("sql", "kill"),
    [(LONG_SLEEP, "KILL QUERY"), (HEAVY, "KILL QUERY"), (HEAVY, "KILL CONNECTION")],
    ids=["sleep-query", "duckdb-query", "duckdb-connection"],
)
def test_kill_stops_statements_and_frees_their_workers(srv: DorisbkServer, sql: str, kill: str) -> None:
    """More statements than the old default pool had threads (6), some running, some waiting for a
    worker: KILL ends each of them, and the user's share is free again right after."""
    count = max(PER_USER * 2, 8)
    with statements_of(srv, "plain", sql, count) as running, closing(connect(srv)) as root:
        ids = {item.conn.thread_id() for item in running}
        wait_until(lambda: in_statement(srv, ids), "every statement started", DEADLINE_S)
        for item in running:
            rows(root, f"{kill} {item.conn.thread_id()}")
        for item in running:
            item.join()
            assert isinstance(item.error, pymysql.err.OperationalError), item.error
        after = [Background(connect(srv, "plain", timeout_s=20), "SELECT 1") for _ in range(PER_USER)]
        for item in after:
            item.join()
            item.conn.close()
            assert item.error is None and item.rows == [(1,)], item.error
        if kill == "KILL QUERY":  # the killed connections themselves go on
            assert rows(running[0].conn, "SELECT 1") == [(1,)]


# ---- a fair share of the workers


def test_a_user_holding_its_share_locks_nobody_else_out(srv: DorisbkServer) -> None:
    """A user without ADMIN keeps twice its share of statements busy: root still logs in and
    queries, another user still runs statements, and the user's own extra statements wait (up to
    their query_timeout) instead of taking more threads."""
    with statements_of(srv, "plain", LONG_SLEEP, PER_USER * 2) as sleeping:
        wait_until(
            lambda: in_statement(srv, {item.conn.thread_id() for item in sleeping}), "every sleep started", DEADLINE_S
        )
        with closing(connect(srv)) as root:
            assert rows(root, "SELECT 1") == [(1,)]
            assert rows(root, "SELECT count(*) FROM lim.t") == [(2,)]
        with closing(connect(srv, "other")) as other:
            assert rows(other, "SELECT sum(v) FROM lim.t") == [(30,)]
        with closing(connect(srv, "plain", timeout_s=1)) as extra:
            assert error(extra, "SELECT 1")[1].endswith("query is timeout, killed by timeout checker")


# ---- batch partitions


def test_batch_partitions_are_capped_before_they_are_made(srv: DorisbkServer) -> None:
    with closing(connect(srv)) as root:
        for column, step in (
            ("d DATE", 'FROM ("1990-01-01") TO ("2020-01-01") INTERVAL 1 DAY'),
            ("d DATETIME", 'FROM ("1000-01-01 00:00:00") TO ("9000-01-01 00:00:00") INTERVAL 1 HOUR'),
            ("d INT", "FROM (0) TO (4097) INTERVAL 1"),
        ):
            code, message = error(
                root,
                f"CREATE TABLE lim.batch ({column}, v INT) PARTITION BY RANGE(d) ({step}) "
                "DISTRIBUTED BY HASH(v) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
            )
            assert (code, message) == (
                1105,
                "errCode = 2, detailMessage = The number of Multi partitions too much, should not exceed:4096",
            )
        assert rows(root, "SHOW TABLES FROM lim LIKE 'batch'") == []
        # the cap is Doris's FE config, which an admin may change
        rows(root, "ADMIN SET FRONTEND CONFIG ('max_multi_partition_num' = '10')")
        try:
            create = (
                "CREATE TABLE lim.batch (d INT, v INT) PARTITION BY RANGE(d) (FROM (0) TO ({n}) INTERVAL 1) "
                "DISTRIBUTED BY HASH(v) BUCKETS 1 PROPERTIES ('replication_num' = '1')"
            )
            code, message = error(root, create.format(n=11))
            assert message.endswith("should not exceed:10"), message
            rows(root, create.format(n=10))
            assert len(rows(root, "SHOW PARTITIONS FROM lim.batch")) == 10
        finally:
            rows(root, "ADMIN SET FRONTEND CONFIG ('max_multi_partition_num' = '4096')")


@pytest.mark.parametrize(
    ("lower", "upper", "interval", "unit"),
    [
        ("0", "4096", 1, None),
        ("0", "40960", 10, None),
        ("2000-01-01", "2011-03-20", 1, "DAY"),  # 4096 days
        ("2000-01-01 00:00:00", "2000-06-19 16:00:00", 1, "HOUR"),  # 4096 hours
        ("1700-01-01", "2041-04-02", 1, "MONTH"),  # 4095 months and a day
    ],
)
def test_the_cap_allows_exactly_4096(lower: str, upper: str, interval: int, unit: str | None) -> None:
    kind = "INT" if unit is None else "DATETIME" if unit == "HOUR" else "DATE"
    assert len(dynamic_partition.expand_step(lower, upper, interval, unit, kind)) == 4096
    with pytest.raises(dynamic_partition.DorisError, match="should not exceed:4095"):
        dynamic_partition.expand_step(lower, upper, interval, unit, kind, limit=4095)


# ---- secrets


@contextmanager
def silent_endpoint() -> Iterator[int]:
    """A loopback port that accepts connections and never answers, until the block ends."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        with suppress(OSError):
            while True:
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(10)
        for conn in held:
            conn.close()


def test_processlist_and_log_hide_another_sessions_secret(srv: DorisbkServer) -> None:
    secret = f"TOPSECRET{uuid.uuid4().hex}"
    with silent_endpoint() as port:
        create = (
            'CREATE REPOSITORY hanging WITH S3 ON LOCATION "s3://bucket/prefix" PROPERTIES ('
            f'"s3.endpoint" = "http://127.0.0.1:{port}", "s3.region" = "us-east-1", '
            f'"s3.access_key" = "AKID", "s3.secret_key" = "{secret}", "s3.connection.request.timeout" = "60000")'
        )
        creating = Background(connect(srv, timeout_s=600), create)

        def rows_of_create() -> list[dict[str, str]]:
            return [row for row in processes(srv) if row["Info"].startswith("CREATE REPOSITORY hanging")]

        wait_until(lambda: bool(rows_of_create()), "the CREATE REPOSITORY is in the process list", DEADLINE_S)
        assert '"s3.secret_key" = "*XXX"' in rows_of_create()[0]["Info"]
        with closing(connect(srv)) as root:
            for sql in ("SHOW FULL PROCESSLIST", "SHOW PROCESSLIST", "SELECT * FROM information_schema.processlist"):
                assert secret not in repr(rows(root, sql)), sql
    creating.join()  # the endpoint went away: the CREATE fails
    creating.conn.close()
    assert isinstance(creating.error, pymysql.err.OperationalError)
    assert secret not in creating.error.args[1]
    with closing(connect(srv)) as root:
        for sql in ("SHOW REPOSITORIES", "SHOW BACKUP FROM lim", "SHOW RESTORE FROM lim"):
            assert secret not in repr(rows(root, sql)), sql
    assert secret not in srv.log()


def test_repository_shows_mask_secrets(srv: DorisbkServer, tmp_path: Path) -> None:
    secret = f"TOPSECRET{uuid.uuid4().hex}"
    with closing(connect(srv)) as root:
        rows(
            root,
            f'CREATE REPOSITORY kept WITH LOCAL ON LOCATION "file://{tmp_path}/repo" '
            f'PROPERTIES ("password" = "{secret}", "s3.secret_key" = "{secret}")',
        )
        created = rows(root, "SHOW CREATE REPOSITORY FOR kept")[0][1]
        assert '"password" = "*XXX"' in created and '"s3.secret_key" = "*XXX"' in created
        for sql in ("SHOW REPOSITORIES", "SHOW FULL PROCESSLIST", "SHOW SNAPSHOT ON kept"):
            assert secret not in repr(rows(root, sql)), sql
        rows(root, "DROP REPOSITORY kept")
    assert secret not in srv.log()


# ---- error texts


@pytest.mark.parametrize("sql", ["SELECT 1e", "SELECT 1 AS ``"])
def test_duckdb_syntax_errors_are_1064(srv: DorisbkServer, sql: str) -> None:
    with closing(connect(srv)) as root:
        code, message = error(root, sql)
        assert code == 1064
        assert message.startswith("errCode = 2, detailMessage = Syntax error"), message


@pytest.mark.parametrize(
    "sql",
    [
        "SET query_timeout = 'abc'",
        "CREATE TABLE lim.ints (k INT, v INT) PARTITION BY RANGE(k) (FROM ('a') TO ('b') INTERVAL 1) "
        "DISTRIBUTED BY HASH(v) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    ],
    ids=["variable-type", "batch-integers"],
)
def test_error_texts_name_no_python_type(srv: DorisbkServer, sql: str) -> None:
    with closing(connect(srv)) as root:
        code, message = error(root, sql)
        assert message.startswith("errCode = 2, detailMessage = "), message
        assert not PYTHON_NAMES.search(message), message
        assert rows(root, "SELECT 1") == [(1,)]


def test_month_steps_start_on_the_first_as_in_doris() -> None:
    """A batch from the 31st no longer fails on February: the steps after the first start on the 1st."""
    parts = dynamic_partition.expand_step("2020-01-31", "2020-05-01", 1, "MONTH", "DATE")
    assert [(p.name, p.lower[0], p.upper[0]) for p in parts] == [
        ("p_202001", "2020-01-31", "2020-02-01"),
        ("p_202002", "2020-02-01", "2020-03-01"),
        ("p_202003", "2020-03-01", "2020-04-01"),
        ("p_202004", "2020-04-01", "2020-05-01"),
    ]
    last = dynamic_partition.expand_step("9999-01-31", "9999-12-31", 1, "MONTH", "DATE")[-1]
    assert (last.lower[0], last.upper[0]) == ("9999-12-01", "9999-12-31")


def test_a_failure_of_ours_reaches_the_client_as_a_plain_message(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """The session's last resort, driven in process by a statement handler that fails unexpectedly: the
    client reads a Doris-style 1105 naming the query, the log keeps the traceback."""

    class FailingRouter:
        def handles(self, sql: str) -> bool:
            return True

        def route(self, ctx: object, sql: str) -> None:
            raise KeyError("<class 'sqlglot.expressions.Select'>")

    env = SimpleNamespace(
        config=SimpleNamespace(port=9030, tls_cert=None),
        users=SimpleNamespace(get=lambda _: None),
        metrics=FrontendMetrics(),
    )
    variables = GlobalVariables({**SYSTEM_VARIABLES, **session_module._EXTRA_VARIABLES})
    audit = AuditLog(tmp_path, FrontendConfig())
    session = session_module.DorisSession(env, FailingRouter(), variables, audit)  # type: ignore[arg-type]
    session.username = "someone"  # logged in: a session without a user is refused before anything runs
    try:
        with pytest.raises(MysqlError) as info:
            asyncio.run(session.handle_query("SHOW DATABASES", {}))
    finally:
        audit.close()
    assert info.value.code == 1105
    assert info.value.msg == (
        f"errCode = 2, detailMessage = Unexpected exception: internal error of query {session.query_id}, "
        "see the server log"
    )
    failed = [r for r in caplog.records if r.getMessage().startswith(f"statement {session.query_id} failed")]
    assert failed and failed[0].exc_info is not None
