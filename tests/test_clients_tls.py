"""TLS: `dorisbk serve --tls-cert --tls-key` with a self-signed certificate. PyMySQL switches to
TLS by itself whenever the server offers it, and sends its ClientHello right behind the
SSLRequest; 50 connections in a row (and 20 at once) must all connect without a stall. The mysql
CLI with --ssl, mysqlclient and mysql-connector-python connect over TLS too, and clients that
do not ask for TLS still connect in plain text. (JDBC over TLS: test_clients_jdbc.py.)"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.clientkit import require_module, run_mysql, start_tls_server
from tests.dorisbk_server import DorisbkServer

CONNECT_TIMEOUT = 10


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DorisbkServer]:
    server = start_tls_server(tmp_path_factory.mktemp("tls"))
    yield server
    server.stop()


def tls_version(cursor: object) -> str:
    cursor.execute("SHOW STATUS LIKE 'Ssl_version'")  # type: ignore[attr-defined]
    return dict(cursor.fetchall())["Ssl_version"]  # type: ignore[attr-defined]


def pymysql_connect(srv: DorisbkServer, **kwargs: object) -> object:
    pymysql = require_module("pymysql")
    return pymysql.connect(
        host="127.0.0.1",
        port=srv.port,
        user="root",
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=CONNECT_TIMEOUT,
        write_timeout=CONNECT_TIMEOUT,
        **kwargs,
    )


def test_fifty_pymysql_connections_in_a_row(srv: DorisbkServer) -> None:
    for i in range(50):  # each connection's timeouts catch a stalled handshake
        conn = pymysql_connect(srv)  # TLS on by itself: the server offers it
        try:
            with conn.cursor() as cur:  # type: ignore[attr-defined]
                assert tls_version(cur) == "TLSv1.3", i
                cur.execute("SELECT %s", (i,))
                assert cur.fetchone() == (i,)
        finally:
            conn.close()  # type: ignore[attr-defined]
    assert "Traceback" not in srv.log()


def test_twenty_pymysql_connections_at_once(srv: DorisbkServer) -> None:
    def one(i: int) -> int:
        conn = pymysql_connect(srv)
        try:
            with conn.cursor() as cur:  # type: ignore[attr-defined]
                cur.execute("SELECT %s + 1", (i,))
                return cur.fetchone()[0]
        finally:
            conn.close()  # type: ignore[attr-defined]

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert sorted(pool.map(one, range(20))) == list(range(1, 21))


def test_pymysql_explicit_tls_and_plain(srv: DorisbkServer) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = pymysql_connect(srv, ssl=context)
    with conn.cursor() as cur:  # type: ignore[attr-defined]
        assert tls_version(cur) == "TLSv1.3"
    conn.close()  # type: ignore[attr-defined]
    conn = pymysql_connect(srv, ssl_disabled=True)
    with conn.cursor() as cur:  # type: ignore[attr-defined]
        assert tls_version(cur) == ""
        cur.execute("SELECT @@have_ssl")
        assert cur.fetchone() == ("YES",)
    conn.close()  # type: ignore[attr-defined]


def test_mysql_cli_with_ssl(srv: DorisbkServer) -> None:
    out = run_mysql(srv.port, "SHOW STATUS LIKE 'Ssl_version';\n", "--ssl", "--skip-column-names")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Ssl_version\tTLSv1.3\n"
    out = run_mysql(srv.port, "status\n", "--ssl")
    assert "Cipher in use is TLS_" in out.stdout, out.stdout
    out = run_mysql(srv.port, "SHOW STATUS LIKE 'Ssl_version';\n", "--skip-ssl", "--skip-column-names")
    assert out.stdout == "Ssl_version\t\n", out


def test_mysqlclient_and_connector_over_tls(srv: DorisbkServer) -> None:
    mysqldb = require_module("MySQLdb")
    conn = mysqldb.connect(host="127.0.0.1", port=srv.port, user="root", ssl_mode="REQUIRED")
    try:
        assert tls_version(conn.cursor()) == "TLSv1.3"
    finally:
        conn.close()
    connector = require_module("mysql.connector")
    conn = connector.connect(
        host="127.0.0.1", port=srv.port, user="root", use_pure=True, ssl_verify_cert=False, connection_timeout=10
    )
    try:
        assert tls_version(conn.cursor()) == "TLSv1.3"
    finally:
        conn.close()
