"""Shared mode's data side: rowsets in an S3 storage vault (real SeaweedFS), metadata in a real PostgreSQL, real
``dorisbk serve`` nodes with data dirs of their own. Nothing on a node's disk is needed: a wiped node, or a
second node that never saw the load, answers the same; the local copies stay within their bound; BACKUP and
RESTORE to a repository on the vault's endpoint copy objects on the server; a tampered object is refused."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
import requests

from dorisbk.backend.tablet_store import vault_key
from dorisbk.errors import DorisError, StorageError
from dorisbk.storage.vault import vault_location
from tests.dorisbk_server import DorisbkServer
from tests.jobkit import doris_err, pause, q, set_config, wait_ended
from tests.s3server import S3Server, s3_server
from tests.sqlhelp import wait_until
from tests.test_backup_support import upload_totals, wait_backup

QUERY = "SELECT k, v, d FROM sdb.t ORDER BY k"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture(scope="module")
def client(s3: S3Server) -> Any:
    return s3.client()


@pytest.fixture
def prefix() -> str:
    """The vault's prefix of this test (one bucket for the module, a prefix per test)."""
    return f"vault-{uuid.uuid4().hex[:8]}"


def node(
    tmp: Path,
    name: str,
    postgres_url: str,
    s3: S3Server,
    prefix: str,
    http: bool = False,
    keys_in_env: bool = False,
) -> DorisbkServer:
    """A shared-mode node on the vault ``prefix``; with ``keys_in_env`` the vault's keys are not on its command
    line but in its environment."""
    properties = s3.repository_properties()
    env = {}
    if keys_in_env:
        env["AWS_ACCESS_KEY_ID"] = properties.pop("s3.access_key")
        env["AWS_SECRET_ACCESS_KEY"] = properties.pop("s3.secret_key")
    return DorisbkServer(
        tmp / name,
        meta_url=postgres_url,
        storage=f"s3://{s3.bucket}/{prefix}",
        storage_properties=properties,
        node_name=name,
        http=http,
        env=env,
    )


def cache_metrics(srv: DorisbkServer) -> tuple[int, int]:
    """(bytes kept, files fetched) of the node's copies of vault files, from /metrics."""
    text = requests.get(srv.http_url("/metrics"), timeout=30).text
    found = dict(re.findall(r"^(dorisbk_file_cache_\w+) (\d+)$", text, re.MULTILINE))
    return int(found["dorisbk_file_cache_bytes"]), int(found["dorisbk_file_cache_fetched_total"])


def objects(client: Any, bucket: str, prefix: str) -> dict[str, dict[str, Any]]:
    """The bucket's objects under ``prefix``, by key below it."""
    found: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"][len(prefix) :]] = obj
    return found


def local_rowsets(data_dir: Path) -> dict[str, int]:
    """The rowset files in a node's tablet dirs, by path below its roots, with their sizes."""
    return {
        str(p.relative_to(data_dir / "be")): p.stat().st_size
        for p in (data_dir / "be").glob("*/data/*/*")
        if p.is_file()
    }


def load(conn: pymysql.connections.Connection) -> list[tuple]:
    """A table of two partitions of three buckets, loaded by three INSERTs; returns its rows."""
    q(conn, "CREATE DATABASE sdb")
    q(
        conn,
        "CREATE TABLE sdb.t (k INT, v VARCHAR(32), d DATE) DUPLICATE KEY(k) "
        "PARTITION BY RANGE(d) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), "
        "PARTITION p2 VALUES LESS THAN ('2024-03-01')) "
        "DISTRIBUTED BY HASH(k) BUCKETS 3 PROPERTIES ('replication_num' = '1')",
    )
    for n in range(3):
        values = ", ".join(f"({i}, 'v{i}', '2024-0{1 + i % 2}-1{n}')" for i in range(n * 100, n * 100 + 100))
        q(conn, f"INSERT INTO sdb.t VALUES {values}")
    return q(conn, QUERY)


def restore_as_t2(conn: pymysql.connections.Connection) -> None:
    """Start the RESTORE of snapshot ``sdb.snap`` in repository ``r`` (its only backup) as table ``sdb.t2``."""
    stamp = q(conn, "SHOW SNAPSHOT ON r")[0][1]
    q(conn, f'RESTORE SNAPSHOT sdb.snap FROM r ON (t AS t2) PROPERTIES ("backup_timestamp" = "{stamp}")')


def test_load_stores_objects_and_a_wiped_node_answers_the_same(
    tmp_path: Path, postgres_url: str, s3: S3Server, client: Any, prefix: str
) -> None:
    srv = node(tmp_path, "n1", postgres_url, s3, prefix).start()
    try:
        with srv.connect() as conn:
            expected = load(conn)
            assert len(expected) == 300
        local = local_rowsets(srv.data_dir)
        stored = objects(client, s3.bucket, f"{prefix}/")
        # every file the loads wrote is in the vault under data/<tablet id>/<file>, the same bytes
        assert local and {re.sub(r"^\d+/", "", path) for path in local} == set(stored)
        for key, obj in stored.items():
            assert re.fullmatch(r"data/\d+/\d+_\d+\.parquet", key), key
            body = client.get_object(Bucket=s3.bucket, Key=f"{prefix}/{key}")["Body"].read()
            assert len(body) == obj["Size"]
            path = next(p for p in local if p.endswith("/" + key))
            assert hashlib.md5(body).hexdigest() == hashlib.md5((srv.data_dir / "be" / path).read_bytes()).hexdigest()

        srv.restart_wiped()  # PostgreSQL and the bucket stay
        assert local_rowsets(srv.data_dir) == {}
        with srv.connect() as conn:
            assert q(conn, QUERY) == expected
            assert q(conn, "SELECT count(*), sum(k) FROM sdb.t PARTITION (p2)") == [(150, sum(range(1, 300, 2)))]
        assert set(local_rowsets(srv.data_dir)) == set(local)  # fetched back, under this node's roots
        assert s3.secret_key not in srv.log()
    finally:
        srv.stop()


def test_vault_keys_from_the_environment(tmp_path: Path, postgres_url: str, s3: S3Server, prefix: str) -> None:
    """The vault's keys may stay off the command line (which every local user reads in the process list): left
    out of --storage-property, they come from the node's environment as boto3 reads it."""
    srv = node(tmp_path, "env", postgres_url, s3, prefix, keys_in_env=True).start()
    try:
        with srv.connect() as conn:
            q(conn, "CREATE DATABASE envdb")
            q(conn, "CREATE TABLE envdb.t (k INT) DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ('replication_num'='1')")
            q(conn, "INSERT INTO envdb.t VALUES (1), (2), (3)")
        assert srv.proc is not None
        assert s3.secret_key.encode() not in Path(f"/proc/{srv.proc.pid}/cmdline").read_bytes()
        srv.restart_wiped()  # the rows can only come back from the vault
        with srv.connect() as conn:
            assert q(conn, "SELECT k FROM envdb.t ORDER BY k") == [(1,), (2,), (3,)]
    finally:
        srv.stop()


def test_delete_and_compaction_store_their_files_before_they_commit(
    tmp_path: Path, postgres_url: str, s3: S3Server, client: Any, prefix: str
) -> None:
    srv = node(tmp_path, "n1", postgres_url, s3, prefix).start()
    try:
        with srv.connect() as conn:
            load(conn)
            set_config(conn, "cumulative_compaction_min_deltas", "2")

            def compacted() -> bool:
                return any(k.endswith("_compaction.parquet") for k in objects(client, s3.bucket, f"{prefix}/data/"))

            wait_until(compacted, "a compaction's file in the vault", timeout=30)
            before = objects(client, s3.bucket, f"{prefix}/data/")
            q(conn, "DELETE FROM sdb.t WHERE k < 50")
            expected = q(conn, QUERY)
            assert len(expected) == 250 and expected[0][0] == 50
        written = set(objects(client, s3.bucket, f"{prefix}/data/")) - set(before)
        # the DELETE's rewrites (<rowset id>_<txn id>), beside any compaction that ran meanwhile
        assert [k for k in written if re.fullmatch(r"\d+/\d+_\d+\.parquet", k)], written
        srv.restart_wiped()
        with srv.connect() as conn:
            assert q(conn, QUERY) == expected
    finally:
        srv.stop()


def test_a_second_node_reads_the_first_nodes_data_with_no_shared_disk(
    tmp_path: Path, postgres_url: str, s3: S3Server, prefix: str
) -> None:
    first = node(tmp_path, "n1", postgres_url, s3, prefix).start()
    second = node(tmp_path, "n2", postgres_url, s3, prefix)
    try:
        with first.connect() as conn:
            expected = load(conn)
        second.start()  # after the load: it replays the catalog from PostgreSQL, the files come from the bucket
        assert local_rowsets(second.data_dir) == {}
        with second.connect() as conn:
            assert q(conn, QUERY) == expected
        assert set(local_rowsets(second.data_dir)) == set(local_rowsets(first.data_dir))
        assert not set(second.data_dir.rglob("*")) & set(first.data_dir.rglob("*"))
    finally:
        second.stop()
        first.stop()


def test_local_copies_stay_within_their_bound(tmp_path: Path, postgres_url: str, s3: S3Server, prefix: str) -> None:
    srv = node(tmp_path, "n1", postgres_url, s3, prefix, http=True).start()
    try:
        with srv.connect() as conn:
            expected = load(conn)
            sizes = local_rowsets(srv.data_dir)
            per_partition = {
                name: q(conn, f"SELECT count(*), sum(k) FROM sdb.t PARTITION ({name})") for name in ("p1", "p2")
            }
        srv.restart_wiped()
        # room for one partition's files (9 of the 18 files, of about the same size), not for both
        bound = sum(sorted(sizes.values())[-9:])
        assert bound < sum(sizes.values())
        with srv.connect() as conn:
            set_config(conn, "file_cache_capacity_bytes", str(bound))
            for _ in range(2):
                for name, answer in per_partition.items():
                    assert q(conn, f"SELECT count(*), sum(k) FROM sdb.t PARTITION ({name})") == answer
                    assert sum(local_rowsets(srv.data_dir).values()) <= bound
            # a query that needs more than the bound still answers (its files are leased), and the copies
            # go back within the bound once it is done
            assert q(conn, QUERY) == expected
            assert sum(local_rowsets(srv.data_dir).values()) <= bound
        kept, fetched = cache_metrics(srv)
        assert kept == sum(local_rowsets(srv.data_dir).values())
        assert fetched > len(sizes)  # files evicted were fetched again
    finally:
        srv.stop()


def test_backup_and_restore_by_server_side_copy(
    tmp_path: Path, postgres_url: str, s3: S3Server, client: Any, prefix: str
) -> None:
    srv = node(tmp_path, "n1", postgres_url, s3, prefix).start()
    try:
        with srv.connect() as conn:
            expected = load(conn)
        srv.restart_wiped()  # no local copy of any rowset: a byte through the node would show
        repo_prefix = f"repo-{prefix}"
        props = ", ".join(f'"{k}" = "{v}"' for k, v in s3.repository_properties().items())
        with srv.connect() as conn:
            set_config(conn, "backup_handler_update_interval_millis", "50")
            q(conn, f'CREATE REPOSITORY r WITH S3 ON LOCATION "s3://{s3.bucket}/{repo_prefix}" PROPERTIES ({props})')
            q(conn, "BACKUP SNAPSHOT sdb.snap TO r ON (t)")
            row = wait_ended(conn, "BACKUP", "sdb")
            assert row[3] == "FINISHED", row
            assert local_rowsets(srv.data_dir) == {}
            assert not [p for p in srv.data_dir.glob("be/*/snapshot/**/*.parquet")]
            totals = upload_totals(srv.log(), "snap")
            assert totals["uploaded"] == 6  # the six tablet headers, built in memory; no rowset file
            assert re.search(r"upload of snapshot snap: .*, 18 copied from the storage vault", srv.log())
            # the repository's layout and checksums: each rowset object under <name>.<md5 the load recorded>
            vault = objects(client, s3.bucket, f"{prefix}/data/")
            content = objects(client, s3.bucket, f"{repo_prefix}/__palo_repository_r/__ss_snap/__ss_content/")
            rowsets = {k: v for k, v in content.items() if k.endswith(".parquet." + k.rpartition(".")[2])}
            assert len(rowsets) == 18
            for key, obj in rowsets.items():
                tablet, name = key.split("/")[-2][2:], key.rpartition("/")[2].rpartition(".")[0]
                body = client.get_object(Bucket=s3.bucket, Key=f"{repo_prefix}/__palo_repository_r/__ss_snap/"
                                         f"__ss_content/{key}")["Body"].read()  # fmt: skip
                assert hashlib.md5(body).hexdigest() == key.rpartition(".")[2]
                assert obj["Size"] == vault[f"{tablet}/{name}"]["Size"]

            restore_as_t2(conn)
            row = wait_ended(conn, "RESTORE", "sdb")
            assert row[4] == "FINISHED", row
            assert local_rowsets(srv.data_dir) == {}  # the download copied into the vault, not to this disk
            assert not [p for p in srv.data_dir.glob("be/*/snapshot/**/*.parquet")]
            restored = objects(client, s3.bucket, f"{prefix}/data/")
            assert len(restored) == 36  # the table's 18 and the restored table's 18, under new tablet ids
            assert q(conn, QUERY.replace("sdb.t", "sdb.t2")) == expected
    finally:
        srv.stop()


def test_backup_and_restore_through_a_local_repository(
    tmp_path: Path, postgres_url: str, s3: S3Server, client: Any, prefix: str
) -> None:
    """A repository the vault can not copy to on the server: the snapshot fetches the files it lacks (verified)
    and the restore's commit stores what it downloaded in the vault."""
    srv = node(tmp_path, "n1", postgres_url, s3, prefix).start()
    try:
        with srv.connect() as conn:
            expected = load(conn)
        srv.restart_wiped()
        with srv.connect() as conn:
            set_config(conn, "backup_handler_update_interval_millis", "50")
            q(conn, f'CREATE REPOSITORY r WITH LOCAL ON LOCATION "file://{tmp_path / "repo"}"')
            q(conn, "BACKUP SNAPSHOT sdb.snap TO r ON (t)")
            row = wait_ended(conn, "BACKUP", "sdb")
            assert row[3] == "FINISHED", row
            assert len(list((tmp_path / "repo").rglob("*.parquet.*"))) == 18
            assert not re.search(r"upload of snapshot snap: .*, [1-9]\d* copied from the storage vault", srv.log())
            before = objects(client, s3.bucket, f"{prefix}/data/")
            restore_as_t2(conn)
            row = wait_ended(conn, "RESTORE", "sdb")
            assert row[4] == "FINISHED", row
            assert len(set(objects(client, s3.bucket, f"{prefix}/data/")) - set(before)) == 18
        srv.restart_wiped()  # the restored table is in the vault, not only on this disk
        with srv.connect() as conn:
            assert q(conn, QUERY.replace("sdb.t", "sdb.t2")) == expected
    finally:
        srv.stop()


def test_a_backup_resumed_on_an_emptied_node_fetches_what_its_snapshot_linked(
    tmp_path: Path, postgres_url: str, s3: S3Server, prefix: str
) -> None:
    """A BACKUP to a LOCAL repository held after its snapshot, the node's data dir wiped (the job's snapshot dir
    with it) and the node restarted: the upload fetches each file from the vault, verified, and the snapshot
    restores exactly."""
    srv = node(tmp_path, "n1", postgres_url, s3, prefix).start()
    try:
        with srv.connect() as conn:
            expected = load(conn)
            set_config(conn, "backup_handler_update_interval_millis", "50")
            q(conn, f'CREATE REPOSITORY r WITH LOCAL ON LOCATION "file://{tmp_path / "repo"}"')
            pause(conn, "UPLOAD_SNAPSHOT")
            q(conn, "BACKUP SNAPSHOT sdb.snap TO r ON (t)")
            wait_backup(conn, "sdb", "snap", ("UPLOAD_SNAPSHOT",))
        assert len(list(srv.data_dir.glob("be/*/snapshot/*/*.parquet"))) == 18
        srv.restart_wiped()  # the pause was not kept: the job goes on
        with srv.connect() as conn:
            set_config(conn, "backup_handler_update_interval_millis", "50")
            row = wait_ended(conn, "BACKUP", "sdb")
            assert row[3] == "FINISHED", row
            assert upload_totals(srv.log(), "snap")["uploaded"] == 24  # 18 rowsets, fetched again, and 6 headers
            restore_as_t2(conn)
            row = wait_ended(conn, "RESTORE", "sdb")
            assert row[4] == "FINISHED", row
            assert q(conn, QUERY.replace("sdb.t", "sdb.t2")) == expected
    finally:
        srv.stop()


def test_a_restore_resumed_on_an_emptied_node_downloads_again(
    tmp_path: Path, postgres_url: str, s3: S3Server, prefix: str
) -> None:
    """A RESTORE from a LOCAL repository held before its download, the node's data dir wiped and the node
    restarted: the job downloads into a snapshot dir made again, and its commit stores the files in the vault."""
    srv = node(tmp_path, "n1", postgres_url, s3, prefix).start()
    try:
        with srv.connect() as conn:
            expected = load(conn)
            set_config(conn, "backup_handler_update_interval_millis", "50")
            q(conn, f'CREATE REPOSITORY r WITH LOCAL ON LOCATION "file://{tmp_path / "repo"}"')
            q(conn, "BACKUP SNAPSHOT sdb.snap TO r ON (t)")
            assert wait_ended(conn, "BACKUP", "sdb")[3] == "FINISHED"
            pause(conn, "DOWNLOAD", kind="RESTORE")
            restore_as_t2(conn)
            wait_until(lambda: q(conn, "SHOW RESTORE FROM sdb")[-1][4] == "DOWNLOAD", "the restore held in DOWNLOAD")
        srv.restart_wiped()
        with srv.connect() as conn:
            set_config(conn, "backup_handler_update_interval_millis", "50")
            row = wait_ended(conn, "RESTORE", "sdb")
            assert row[4] == "FINISHED", row
        srv.restart_wiped()
        with srv.connect() as conn:
            assert q(conn, QUERY.replace("sdb.t", "sdb.t2")) == expected
    finally:
        srv.stop()


def test_a_tampered_object_is_refused(
    tmp_path: Path, postgres_url: str, s3: S3Server, client: Any, prefix: str
) -> None:
    srv = node(tmp_path, "n1", postgres_url, s3, prefix).start()
    try:
        with srv.connect() as conn:
            load(conn)
        key = sorted(objects(client, s3.bucket, f"{prefix}/data/"))[0]
        body = client.get_object(Bucket=s3.bucket, Key=f"{prefix}/data/{key}")["Body"].read()
        client.put_object(Bucket=s3.bucket, Key=f"{prefix}/data/{key}", Body=bytes(b ^ 0xFF for b in body))
        srv.restart_wiped()
        with srv.connect() as conn:
            message = doris_err(conn, QUERY)
        assert f"{prefix}/data/{key}" in message and "does not match the catalog" in message, message
        assert not [p for p in local_rowsets(srv.data_dir) if p.endswith("/" + key)]  # never served
    finally:
        srv.stop()


def serve_error(*args: str) -> str:
    """What ``dorisbk serve`` says when it refuses its options."""
    done = subprocess.run(
        [sys.executable, "-m", "dorisbk.cli", "serve", "--http-port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    return done.stderr


def test_shared_mode_options_are_checked(tmp_path: Path, postgres_url: str) -> None:
    data = ["--data-dir", str(tmp_path / "d")]
    assert "needs a PostgreSQL --meta-url" in serve_error(*data, "--storage", "s3://b/p")
    assert "needs a PostgreSQL --meta-url" in serve_error(
        *data, "--storage", "s3://b/p", "--meta-url", f"sqlite:///{tmp_path / 'm.db'}"
    )
    for bad in ("http://b/p", "s3:///p", "s3://b/a/../p"):
        said = serve_error(*data, "--storage", bad, "--meta-url", postgres_url)
        assert "invalid" in said and bad in said, said
    said = serve_error(*data, "--storage-property", "s3.secret_key")
    assert "KEY=VALUE" in said
    said = serve_error(*data, "--storage", "s3://b/p", "--storage-property", "s3.secret_key=hunter2")
    assert "hunter2" not in said


@pytest.mark.fast
def test_vault_keys_are_rowset_paths_only() -> None:
    assert vault_key("data/10007/10048_10047.parquet") == "data/10007/10048_10047.parquet"
    for bad in ("data/1/../x", "../data/1/x", "data/a/x", "data/1/x/y", "/data/1/x", "data/1/.x", "data/1/"):
        with pytest.raises(DorisError, match="has no key in the storage vault"):
            vault_key(bad)


@pytest.mark.fast
def test_vault_locations() -> None:
    assert vault_location("s3a://bucket/a/b/") == "s3://bucket/a/b"
    assert vault_location("s3://bucket") == "s3://bucket"
    for bad in ("http://b/p", "s3:///p", "s3://b/a/../p", "s3://b/p?x=1", "b/p"):
        with pytest.raises(StorageError, match="invalid storage location"):
            vault_location(bad)
