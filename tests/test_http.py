"""The HTTP side of a real server (``--http-port``): logins, the JSON endpoints against the SHOW statements
they mirror, /metrics and its counters, and the limits that keep a slow or greedy client cheap."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
import requests

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import described, wait_ended

ROOT = ("root", "")
Sample = tuple[str, frozenset[tuple[str, str]]]
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DorisbkServer]:
    server = DorisbkServer(tmp_path_factory.mktemp("http") / "data", http=True).start()
    yield server
    server.stop()


def get(srv: DorisbkServer, path: str, auth: tuple[str, str] | None = ROOT) -> requests.Response:
    return requests.get(srv.http_url(path), auth=auth, timeout=30)


def api(srv: DorisbkServer, path: str) -> Any:
    """The data of a successful JSON answer in Doris's envelope."""
    response = get(srv, path)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["code"], body["msg"], body["count"]) == (0, "success", 0), body
    return body["data"]


def as_text(rows: list[tuple]) -> list[list[str | None]]:
    return [[None if v is None else str(v) for v in row] for row in rows]


def metrics(srv: DorisbkServer) -> dict[Sample, float]:
    """The samples of /metrics, parsed as Prometheus's text format says (HELP and TYPE before each family)."""
    response = requests.get(srv.http_url("/metrics"), timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: dict[Sample, float] = {}
    typed: set[str] = set()
    for line in response.text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or family in typed, f"{name} has no TYPE line"
        samples[(name, frozenset(_LABEL.findall(labels or "")))] = float(value)
    return samples


def sample(samples: dict[Sample, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def backed_up(srv: DorisbkServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Database ``hb`` with a table, repository ``hrepo`` holding two snapshots of it, and a restore of one."""
    location = tmp_path_factory.mktemp("hrepo")
    with srv.connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE hb")
        cur.execute(
            "CREATE TABLE hb.t (k INT, v VARCHAR(20)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2 "
            "PROPERTIES ('replication_num' = '1')"
        )
        cur.execute(f'CREATE REPOSITORY hrepo WITH LOCAL ON LOCATION "file://{location}"')
        for label, rows in (("s1", "(1, 'a')"), ("s2", "(2, 'b'), (3, 'c')")):
            cur.execute(f"INSERT INTO hb.t VALUES {rows}")
            cur.execute(f"BACKUP SNAPSHOT hb.{label} TO hrepo ON (t)")
            assert wait_ended(conn, "BACKUP", "hb")[3] == "FINISHED"
        cur.execute("SHOW SNAPSHOT ON hrepo WHERE SNAPSHOT = 's1'")
        stamp = cur.fetchall()[0][1]
        cur.execute(f'RESTORE SNAPSHOT hb.s1 FROM hrepo ON (t AS t1) PROPERTIES ("backup_timestamp" = "{stamp}")')
        assert wait_ended(conn, "RESTORE", "hb")[4] == "FINISHED"
    return location


def test_logins_need_the_mysql_password_and_admin_for_backup_pages(srv: DorisbkServer) -> None:
    srv.query("CREATE USER viewer IDENTIFIED BY 'v-pass'")
    srv.query("CREATE USER boss IDENTIFIED BY 'b-pass'")
    srv.query("GRANT ADMIN_PRIV ON *.*.* TO boss")
    with srv.connect(user="boss", password="b-pass") as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")  # the same account logs in over MySQL
    paths = ("/", "/snapshots", "/repositories", "/api/dorisbk/jobs", "/api/show_proc?path=/dbs", "/rest/v1/system")
    for path in paths:
        anonymous = get(srv, path, auth=None)
        assert anonymous.status_code == 401, path
        assert anonymous.headers["WWW-Authenticate"].startswith("Basic ")
        assert get(srv, path, auth=("boss", "wrong")).status_code == 401
        assert get(srv, path, auth=("nobody", "")).status_code == 401
        assert get(srv, path, auth=("viewer", "v-pass")).status_code == 403
        assert get(srv, path, auth=("boss", "b-pass")).status_code == 200
        assert get(srv, path).status_code == 200  # root, empty password
    refused = get(srv, "/api/dorisbk/jobs", auth=("viewer", "v-pass")).json()
    assert refused["code"] == 401 and "ADMIN" in refused["data"]
    srv.query("SET PASSWORD FOR boss = PASSWORD('new-pass')")
    assert get(srv, "/", auth=("boss", "b-pass")).status_code == 401
    assert get(srv, "/", auth=("boss", "new-pass")).status_code == 200


def test_show_proc_answers_what_show_proc_shows(srv: DorisbkServer, backed_up: Path) -> None:
    with srv.connect() as conn:
        _cols, dbs = described(conn, "SHOW PROC '/dbs'")
        assert api(srv, "/api/show_proc?path=/dbs") == as_text(dbs)
        db_id = next(r[0] for r in dbs if r[1] == "hb")
        _cols, tables = described(conn, f"SHOW PROC '/dbs/{db_id}'")
        assert api(srv, f"/api/show_proc?path=/dbs/{db_id}") == as_text(tables)
        assert {r[1] for r in tables} >= {"t", "t1"}
    failed = get(srv, "/api/show_proc?path=/nowhere").json()
    assert (failed["code"], failed["msg"]) == (1, "Error")
    assert "/nowhere" in failed["data"]


def test_rest_system_browses_show_proc(srv: DorisbkServer, backed_up: Path) -> None:
    """Doris's web UI endpoint: SHOW PROC's columns, each row a map with links to the children."""
    with srv.connect() as conn:
        columns, dbs = described(conn, "SHOW PROC '/dbs'")
    body = get(srv, "/rest/v1/system?path=/dbs").json()
    assert (body["code"], body["count"]) == (0, len(dbs))
    data = body["data"]
    assert data["column_names"] == columns and data["href_columns"] == ["DbId"]
    assert data["parent_url"] == "/rest/v1/system?path=/"
    expected = [dict(zip(columns, row, strict=True)) for row in as_text(dbs)]
    assert [{k: v for k, v in r.items() if k != "__hrefPaths"} for r in data["rows"]] == expected
    child = next(r for r in data["rows"] if r["DbName"] == "hb")["__hrefPaths"][0]
    assert child == f"/rest/v1/system?path=/dbs/{next(r[0] for r in dbs if r[1] == 'hb')}"
    tables = get(srv, child).json()["data"]
    assert {r["TableName"] for r in tables["rows"]} >= {"t", "t1"}
    missing = get(srv, "/rest/v1/system?path=/nowhere").json()
    assert (missing["code"], missing["msg"], missing["data"]) == (404, "Not Found", "No such proc path[/nowhere]")


def test_backup_endpoints_answer_what_show_shows(srv: DorisbkServer, backed_up: Path) -> None:
    with srv.connect() as conn:
        for kind, path in (("BACKUP", "/api/dorisbk/backup?db=hb"), ("RESTORE", "/api/dorisbk/restore?db=hb")):
            columns, rows = described(conn, f"SHOW {kind} FROM hb")
            assert api(srv, path) == {"columns": columns, "rows": as_text(rows)}
        columns, rows = described(conn, "SHOW REPOSITORIES")
        assert api(srv, "/api/dorisbk/repositories") == {"columns": columns, "rows": as_text(rows)}
        columns, rows = described(conn, "SHOW SNAPSHOT ON hrepo")
    snapshots = api(srv, "/api/dorisbk/snapshots?repo=hrepo")
    assert (snapshots["columns"], snapshots["rows"]) == (columns, as_text(rows))
    for label in ("s1", "s2"):  # each snapshot's size is that of its files in the repository
        on_disk = backed_up / "__palo_repository_hrepo" / f"__ss_{label}"
        assert snapshots["size_bytes"][label] == sum(f.stat().st_size for f in on_disk.rglob("*") if f.is_file())
    jobs = api(srv, "/api/dorisbk/jobs")
    mine = [j for j in jobs if j["db"] == "hb"]
    assert [(j["type"], j["label"], j["state"]) for j in mine] == [
        ("RESTORE", "s1", "FINISHED"),
        ("BACKUP", "s2", "FINISHED"),
        ("BACKUP", "s1", "FINISHED"),
    ]
    assert all(j["progress"]["fraction"] == 1.0 and j["duration_s"] >= 0 for j in mine)
    unknown = get(srv, "/api/dorisbk/backup?db=nope").json()
    assert (unknown["code"], unknown["data"]) == (1, "Unknown database 'nope'")


def test_metrics_are_prometheus_text_and_count_what_happens(srv: DorisbkServer, backed_up: Path) -> None:
    assert requests.get(srv.http_url("/metrics"), timeout=30).status_code == 200  # no login, as Doris's FE
    before = metrics(srv)
    assert sample(before, "dorisbk_backup_jobs_total", state="FINISHED") >= 2
    assert sample(before, "dorisbk_restore_jobs_total", state="FINISHED") >= 1
    assert sample(before, "doris_fe_job", job="backup", type="BACKUP", state="FINISHED") >= 2
    with srv.connect() as conn, conn.cursor() as cur, srv.connect():
        assert sample(metrics(srv), "doris_fe_connection_total") >= 2
        for _ in range(3):
            cur.execute("SELECT 1")
        with pytest.raises(pymysql.err.MySQLError):
            cur.execute("SELECT * FROM hb.no_such_table")
        cur.execute("CREATE DATABASE hm")
        cur.execute("CREATE TABLE hm.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 "
                    "PROPERTIES ('replication_num' = '1')")  # fmt: skip
        cur.execute('ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "BACKUP:PENDING")')
        cur.execute("BACKUP SNAPSHOT hm.held TO hrepo ON (t)")
        cur.execute("CANCEL BACKUP FROM hm")
        cur.execute('ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "")')
    after = metrics(srv)
    assert sample(after, "doris_fe_query_total") >= sample(before, "doris_fe_query_total") + 9
    assert sample(after, "doris_fe_query_err") == sample(before, "doris_fe_query_err") + 1
    assert sample(after, "dorisbk_backup_jobs_total", state="CANCELLED") == (
        sample(before, "dorisbk_backup_jobs_total", state="CANCELLED") + 1
    )
    assert sample(after, "dorisbk_job_failures_total", type="BACKUP", code="COMMON_ERROR") == (
        sample(before, "dorisbk_job_failures_total", type="BACKUP", code="COMMON_ERROR") + 1
    )
    finished = {"type": "BACKUP", "state": "FINISHED"}
    count = sample(after, "dorisbk_job_duration_seconds_count", **finished)
    assert count == sample(after, "dorisbk_backup_jobs_total", state="FINISHED")
    assert sample(after, "dorisbk_job_duration_seconds_bucket", **finished, le="+Inf") == count
    assert sample(after, "doris_fe_internal_database_num") >= 2


def _raw(srv: DorisbkServer, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", srv.http_port), timeout=30) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def test_oversized_requests_are_refused(srv: DorisbkServer) -> None:
    huge_header = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 100_000 + b"\r\n\r\n"
    assert _raw(srv, huge_header).startswith(b"HTTP/1.1 431 ")
    big_body = b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"
    assert _raw(srv, big_body).startswith(b"HTTP/1.1 413 ")
    assert _raw(srv, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert requests.post(srv.http_url("/api/dorisbk/jobs"), auth=ROOT, timeout=30).status_code == 405
    assert get(srv, "/metrics").status_code == 200  # the server still answers


def test_a_slow_client_is_cut_off(srv: DorisbkServer) -> None:
    """A client that never finishes its request head (slowloris) loses its connection after the head
    timeout (10 s), while others are served meanwhile."""
    with socket.create_connection(("127.0.0.1", srv.http_port), timeout=30) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        assert get(srv, "/metrics").status_code == 200
        answer = b""
        while chunk := sock.recv(65536):  # returns b"" once the server closes the connection
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408 ")  # closed by the server with its answer, not by our timeout
