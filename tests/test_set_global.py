"""SET GLOBAL: ADMIN only; new sessions see the value; SET SESSION still wins in its own session."""

from __future__ import annotations

import signal

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer


def _value(conn: pymysql.connections.Connection, name: str) -> object:
    with conn.cursor() as cur:
        cur.execute(f"SELECT @@{name}")
        return cur.fetchone()[0]


def test_set_global_survives_restart(fresh_server: DorisbkServer) -> None:
    server = fresh_server.start()
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute("SET GLOBAL insert_timeout = 4321")
    server.restart(signal.SIGKILL)
    with server.connect() as conn:
        assert _value(conn, "insert_timeout") == 4321


def test_set_global(server: DorisbkServer) -> None:
    with server.connect() as admin, admin.cursor() as cur:
        cur.execute("SET GLOBAL query_timeout = 1234")
        cur.execute("CREATE USER IF NOT EXISTS 'plain_g' IDENTIFIED BY 'pw'")
    with server.connect() as fresh:
        assert _value(fresh, "query_timeout") == 1234
        with fresh.cursor() as cur:
            cur.execute("SET query_timeout = 77")
        assert _value(fresh, "query_timeout") == 77
    with server.connect() as again:
        assert _value(again, "query_timeout") == 1234
    with server.connect(user="plain_g", password="pw") as plain, plain.cursor() as cur:
        with pytest.raises(pymysql.err.OperationalError) as denied:
            cur.execute("SET GLOBAL query_timeout = 5")
        assert denied.value.args[0] == 1227
    with server.connect() as check:
        assert _value(check, "query_timeout") == 1234
