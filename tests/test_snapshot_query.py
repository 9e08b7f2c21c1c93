"""``FROM snapshot(...)`` against a real server: a backed-up table answered in place, as it was at backup time,
after the live table changed or was dropped; key-model merge, partitions, joins with live tables; S3 through
the bounded snapshot cache; a tampered file refused; ADMIN only."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import doris_err, insert, q, set_config, snapshot_dir
from tests.s3server import S3Server, s3_server
from tests.sqlhelp import error
from tests.test_backup_support import run_script, sql_statements
from tests.test_restore_support import (
    backup,
    content_files,
    create_local_repo,
    fast,
    flip_bytes,
    make_range_table,
    make_unique_table,
)
from tests.test_snapshot_check import _rename_checksummed

BACKED_UP = [(k, f"v{k}") for k in range(30)]
UNIQUE_BACKED_UP = [(1, "a2", "1.75", "2024-02-01"), (2, "b", "2.50", "2024-01-02"), (3, "c", "3.00", "2024-01-03")]


def snap(repo: str, table: str, label: str = "snap", **more: str) -> str:
    params = {"repository": repo, "label": label, "table": table, **more}
    return "snapshot(" + ", ".join(f'"{k}" = "{v}"' for k, v in params.items()) + ")"


def typed(rows: list[tuple]) -> list[tuple]:
    """Rows of (k, v) as the test built them (the wire gives text)."""
    return [(int(k), v) for k, v in rows]


@pytest.fixture(scope="module")
def env(server: DorisbkServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Database sq backed up to LOCAL repository ``lr`` as ``snap``, then changed in every way a table can."""
    conn = server.connect()
    fast(conn)
    q(conn, "CREATE DATABASE sq")
    make_range_table(conn, "sq.t")
    insert(conn, "sq.t", range(30))  # ten rows a partition
    make_unique_table(conn, "sq.u")
    q(conn, "INSERT INTO sq.u VALUES (1, 'a', 1.50, '2024-01-01'), (2, 'b', 2.50, '2024-01-02')")
    q(conn, "INSERT INTO sq.u VALUES (1, 'a2', 1.75, '2024-02-01'), (3, 'c', 3.00, '2024-01-03')")
    q(conn, "CREATE TABLE sq.agg (k INT, total BIGINT SUM, peak INT MAX, last VARCHAR(8) REPLACE) AGGREGATE KEY(k) "
            "DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ('replication_num' = '1')")  # fmt: skip
    q(conn, "INSERT INTO sq.agg VALUES (1, 10, 3, 'x'), (2, 5, 7, 'y')")
    q(conn, "INSERT INTO sq.agg VALUES (1, 32, 1, 'z'), (3, 1, 1, 'w')")
    location = tmp_path_factory.mktemp("repos")
    create_local_repo(conn, "lr", location / "lr")
    timestamp = backup(conn, "sq", "snap", "lr")
    # after the backup: new rows, deleted rows, a dropped partition, an upsert, a dropped table
    insert(conn, "sq.t", range(10, 15))
    q(conn, "DELETE FROM sq.t WHERE k < 5")
    q(conn, "ALTER TABLE sq.t DROP PARTITION p3")
    q(conn, "INSERT INTO sq.u VALUES (2, 'changed', 9.00, '2025-01-01')")
    q(conn, "DROP TABLE sq.u")
    q(conn, "INSERT INTO sq.agg VALUES (1, 100, 100, 'later')")
    q(conn, 'ALTER TABLE sq.agg ADD COLUMN added INT SUM DEFAULT "0"')
    yield {"conn": conn, "srv": server, "location": location, "timestamp": timestamp}
    conn.close()


def test_answers_the_table_as_it_was_backed_up(env: dict) -> None:
    conn = env["conn"]
    assert len(q(conn, "SELECT * FROM sq.t")) == 20  # the live table changed
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {snap('lr', 't')} ORDER BY k")
        assert [d[0] for d in cur.description] == ["k", "v"]
        assert typed(list(cur.fetchall())) == BACKED_UP


def test_unique_table_merged_after_drop_table(env: dict) -> None:
    conn = env["conn"]
    doris_err(conn, "SELECT * FROM sq.u", code=1146)
    found = q(conn, f"SELECT id, name, score, d FROM {snap('lr', 'u')} ORDER BY id")
    assert [(int(i), n, str(s), str(d)) for i, n, s, d in found] == UNIQUE_BACKED_UP
    # Doris's functions typed by the backed-up columns, as on the live table: date_add of a DATE is a DATE
    assert q(conn, f"SELECT date_add(d, 1) FROM {snap('lr', 'u')} WHERE id = 3") == [(dt.date(2024, 1, 4),)]


def test_aggregate_table_merged_with_its_columns_at_backup_time(env: dict) -> None:
    conn = env["conn"]
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {snap('lr', 'agg')} ORDER BY k")
        assert [d[0] for d in cur.description] == ["k", "total", "peak", "last"]  # not the column added later
        found = [tuple(str(x) for x in r) for r in cur.fetchall()]
    assert found == [("1", "42", "3", "z"), ("2", "5", "7", "y"), ("3", "1", "1", "w")]


def test_partitions_parameter_reads_only_those(env: dict) -> None:
    conn = env["conn"]
    found = q(conn, f"SELECT k, v FROM {snap('lr', 't', partitions='p1, p3')} ORDER BY k")
    assert typed(found) == [r for r in BACKED_UP if r[0] < 10 or r[0] >= 20]


def test_in_any_query_and_joined_with_a_live_table(env: dict) -> None:
    conn = env["conn"]
    where = q(conn, f"SELECT k FROM {snap('lr', 't')} AS s WHERE s.k BETWEEN 3 AND 6 ORDER BY k DESC")
    assert [int(r[0]) for r in where] == [6, 5, 4, 3]
    totals = q(conn, f"SELECT count(*), sum(k), max(v) FROM {snap('lr', 't')}")
    assert [tuple(str(x) for x in r) for r in totals] == [("30", "435", "v9")]
    # rows the live table lost since the backup: deleted ones and those of the dropped partition
    lost = q(
        conn,
        f"SELECT s.k FROM {snap('lr', 't')} s LEFT JOIN sq.t l ON s.k = l.k WHERE l.k IS NULL ORDER BY s.k",
    )
    assert [int(r[0]) for r in lost] == [*range(5), *range(20, 30)]
    joined = q(
        conn,
        f"SELECT s.k, s.v, count(*) FROM {snap('lr', 't')} s JOIN sq.t l ON s.k = l.k "
        "WHERE s.k BETWEEN 9 AND 11 GROUP BY s.k, s.v ORDER BY s.k",
    )
    assert [(int(k), v, int(n)) for k, v, n in joined] == [(9, "v9", 1), (10, "v10", 2), (11, "v11", 2)]


def test_backup_timestamp_and_rows_back_into_a_table(env: dict) -> None:
    conn = env["conn"]
    ts = env["timestamp"]
    assert typed(q(conn, f"SELECT * FROM {snap('lr', 't', backup_timestamp=ts)} ORDER BY k")) == BACKED_UP
    q(conn, "CREATE TABLE sq.back (k INT, v VARCHAR(32)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 "
            "PROPERTIES ('replication_num' = '1')")  # fmt: skip
    q(conn, f"INSERT INTO sq.back SELECT * FROM {snap('lr', 't', partitions='p3')}")
    assert typed(q(conn, "SELECT * FROM sq.back ORDER BY k")) == BACKED_UP[20:]


def test_errors_name_what_is_missing(env: dict) -> None:
    conn = env["conn"]
    assert doris_err(conn, f"SELECT * FROM {snap('nope', 't')}") == "Repository nope does not exist"
    missing = doris_err(conn, f"SELECT * FROM {snap('lr', 't', label='other')}")
    assert missing.startswith("Failed to get info of snapshot 'other' because: "), missing
    wrong_ts = doris_err(conn, f"SELECT * FROM {snap('lr', 't', backup_timestamp='2020-01-01-00-00-00')}")
    assert wrong_ts.endswith("Maybe specified wrong backup timestamp"), wrong_ts
    assert doris_err(conn, f"SELECT * FROM {snap('lr', 'x')}") == "Table x does not exist in snapshot snap"
    assert (
        doris_err(conn, f"SELECT * FROM {snap('lr', 't', partitions='p1,p9')}")
        == "Partition p9 of table t does not exist in snapshot"
    )
    unknown = doris_err(conn, f"SELECT * FROM {snap('lr', 't', colour='red')}")
    assert unknown == "Unknown snapshot parameters: [colour]"
    assert doris_err(conn, 'SELECT * FROM snapshot("repository" = "lr", "label" = "snap")') == (
        'snapshot() needs the "table" parameter'
    )
    assert doris_err(conn, f"INSERT INTO {snap('lr', 't')} VALUES (1, 'x')", code=1064)
    for statement in (f"DELETE FROM {snap('lr', 't')} WHERE k = 1", f"UPDATE {snap('lr', 'u')} SET name = 'x'"):
        assert "not the table function snapshot()" in doris_err(conn, statement, code=1064)
    assert q(conn, "SELECT 1") == [(1,)]  # the connection stays usable


def test_metadata_only_snapshot_holds_no_rows(env: dict) -> None:
    conn = env["conn"]
    backup(conn, "sq", "meta_only", "lr", on='ON (t) PROPERTIES ("content" = "metadata_only")')
    message = doris_err(conn, f"SELECT * FROM {snap('lr', 't', label='meta_only')}")
    assert message == "Snapshot meta_only holds no data: its content is METADATA_ONLY", message


def test_non_admin_is_refused(env: dict) -> None:
    conn = env["conn"]
    q(conn, "CREATE USER 'reader'@'%' IDENTIFIED BY 'pw'")
    q(conn, "GRANT SELECT_PRIV, LOAD_PRIV ON *.* TO 'reader'@'%'")
    with env["srv"].connect(user="reader", password="pw") as user_conn:
        refused = error(user_conn, f"SELECT * FROM {snap('lr', 't')}")
        assert refused == error(user_conn, "BACKUP SNAPSHOT sq.other TO lr")
        assert refused[0] == 1227 and "ADMIN" in refused[1], refused
        assert q(user_conn, "SELECT count(*) FROM sq.t") == [(20,)]


_repos = itertools.count()


def cache_files(env: dict) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (env["srv"].data_dir / "snapshot_cache").iterdir()}


def test_tampered_file_is_refused_and_not_read(env: dict) -> None:
    conn = env["conn"]
    repo, victim = tampered_repo(env)
    flip_bytes(victim)
    damaged = victim.read_bytes()
    before = cache_files(env)
    message = doris_err(conn, f"SELECT * FROM {snap(repo, 't')}")
    assert message.startswith("invalid md5 of downloaded file: ") and victim.name in message, message
    after = cache_files(env)
    assert set(after) <= set(before) and damaged not in after.values()  # nothing of it was kept to be read
    assert q(conn, "SELECT 1") == [(1,)]


def tampered_repo(env: dict) -> tuple[str, Path]:
    """A LOCAL repository of its own holding a backup ``snap`` of sq.t; (its name, t's largest rowset file)."""
    conn = env["conn"]
    repo = f"tamper{next(_repos)}"
    create_local_repo(conn, repo, env["location"] / repo)
    backup(conn, "sq", "snap", repo, on="ON (t)")
    rowsets = [p for p in content_files(env["location"] / repo, repo, "snap") if ".hdr." not in p.name]
    return repo, max(rowsets, key=lambda p: p.stat().st_size)


def test_symlinked_file_is_not_followed(env: dict, tmp_path: Path) -> None:
    """A rowset file replaced by a link to the same bytes elsewhere: refused, not read through."""
    repo, victim = tampered_repo(env)
    moved = tmp_path / "elsewhere"
    victim.rename(moved)
    victim.symlink_to(moved)
    message = doris_err(env["conn"], f"SELECT * FROM {snap(repo, 't')}")
    assert message.startswith("symbolic link in repository refused: ") and victim.name in message, message


def test_names_read_from_the_repository_are_not_paths(env: dict) -> None:
    """An info file naming a path instead of a rowset file: refused before anything is read."""
    repo, victim = tampered_repo(env)
    planted = f"../../../../../../etc/passwd.{'0' * 32}"
    (info_file,) = snapshot_dir(env["location"] / repo, repo, "snap").glob("__info_*")
    _rename_checksummed(info_file, info_file.read_text().replace(victim.name, planted).encode())
    message = doris_err(env["conn"], f"SELECT * FROM {snap(repo, 't')}")
    assert message.startswith("invalid file name in repository: ") and planted in message, message


def test_types_read_from_the_meta_are_checked(env: dict) -> None:
    """A column type in the snapshot's meta carrying SQL instead of a precision: refused, never written into a query."""
    repo, _victim = tampered_repo(env)
    (meta_file,) = snapshot_dir(env["location"] / repo, repo, "snap").glob("__meta.*")
    meta = json.loads(meta_file.read_text())
    (table,) = meta["olap_tables"]
    injected = "1, 0)) AS v FROM read_text('/etc/passwd') --"
    table["columns"][1]["type"] = {"name": "DECIMAL", "precision": injected, "scale": 0}
    _rename_checksummed(meta_file, json.dumps(meta).encode())
    message = doris_err(env["conn"], f"SELECT * FROM {snap(repo, 't')}")
    assert message == "Failed to read meta of snapshot snap: invalid column type: 'DECIMAL'", message


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


def test_s3_repository_through_the_bounded_cache(env: dict, s3: S3Server) -> None:
    conn = env["conn"]
    props = ", ".join(f'"{k}" = "{v}"' for k, v in s3.repository_properties().items())
    q(conn, f'CREATE REPOSITORY s3q WITH S3 ON LOCATION "s3://{s3.bucket}/query" PROPERTIES ({props})')
    q(conn, "CREATE TABLE sq.w (k INT, v VARCHAR(32)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 "
            "PROPERTIES ('replication_num' = '1')")  # fmt: skip
    insert(conn, "sq.w", range(100))
    backup(conn, "sq", "s3snap", "s3q", on="ON (t, w)")
    q(conn, "DROP TABLE sq.w")
    cache = env["srv"].data_dir / "snapshot_cache"

    def cached() -> dict[str, int]:
        return {p.name: p.stat().st_size for p in cache.iterdir()}

    def read(table: str) -> list[tuple]:
        return q(conn, f"SELECT * FROM {snap('s3q', table, label='s3snap')} ORDER BY k")

    live_t = q(conn, "SELECT * FROM sq.t ORDER BY k")
    before = cached()  # what earlier tests left
    assert read("t") == live_t
    t_files = {n: size for n, size in cached().items() if n not in before}
    assert read("t") == live_t  # again, from the cache: nothing more fetched
    assert set(cached()) == set(before) | set(t_files)
    assert typed(read("w")) == [(k, f"v{k}") for k in range(100)]
    w_files = {n: size for n, size in cached().items() if n not in before and n not in t_files}
    t_bytes, w_bytes = sum(t_files.values()), sum(w_files.values())
    assert t_bytes and w_bytes
    # a bound that holds one table's files but not both: reading one evicts the other
    bound = max(t_bytes, w_bytes) + min(t_bytes, w_bytes) // 2
    set_config(conn, "snapshot_cache_capacity_bytes", str(bound))
    try:
        assert read("t") == live_t
        assert sum(cached().values()) <= bound and set(t_files) <= set(cached())
        assert typed(read("w")) == [(k, f"v{k}") for k in range(100)]
        assert sum(cached().values()) <= bound and set(w_files) <= set(cached())
        assert set(t_files) - set(cached())  # some of t's went, least recently used first
        # one query that needs both at once does not fit: refused, the bound kept
        set_config(conn, "snapshot_cache_capacity_bytes", str(max(t_bytes, w_bytes)))
        message = doris_err(
            conn, f"SELECT count(*) FROM {snap('s3q', 't', label='s3snap')} a, {snap('s3q', 'w', label='s3snap')} b"
        )
        assert "do not fit in the snapshot cache" in message and "snapshot_cache_capacity_bytes" in message, message
        assert sum(cached().values()) <= max(t_bytes, w_bytes)
        assert typed(read("w")) == [(k, f"v{k}") for k in range(100)]  # each alone still does
    finally:
        set_config(conn, "snapshot_cache_capacity_bytes", str(1 << 30))


def test_query_snapshot_example(env: dict, tmp_path: Path) -> None:
    """examples/query_snapshot.sql runs as its comments say, against a repository in a temp dir."""
    conn = env["conn"]
    text = (Path(__file__).resolve().parents[1] / "examples" / "query_snapshot.sql").read_text()
    assert "file:///tmp/dorisbk-query-example-repo" in text
    statements = sql_statements(text.replace("file:///tmp/dorisbk-query-example-repo", f"file://{tmp_path}"))
    first_query = next(i for i, s in enumerate(statements) if "snapshot(" in s)
    run_script(conn, statements[:first_query])
    backed_up = [("1", "ada", "100.00"), ("2", "grace", "300.00"), ("3", "alan", "75.50")]
    assert [tuple(str(x) for x in r) for r in q(conn, statements[first_query])] == backed_up
    changed = q(conn, statements[first_query + 1])
    assert [tuple(str(x) for x in r) for r in changed] == [("1", "100.00", "0.00"), ("3", "75.50", "None")]
    run_script(conn, statements[first_query + 2 : first_query + 3])  # the rows taken back
    assert [tuple(str(x) for x in r) for r in q(conn, statements[first_query + 3])] == backed_up
    run_script(conn, statements[first_query + 4 :])
    assert "example_bank" not in [r[0] for r in q(conn, "SHOW DATABASES")]
