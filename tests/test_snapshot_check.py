"""ADMIN CHECK SNAPSHOT against a real server: a clean backup passes every level on LOCAL and S3, and each
kind of damage is found by the levels that read deep enough to see it, and only by those."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import doris_err, insert, q, snapshot_dir
from tests.s3server import S3Server, s3_server
from tests.sqlhelp import dicts, error
from tests.test_restore_support import (
    backup,
    content_files,
    create_local_repo,
    fast,
    flip_bytes,
    info_of,
    make_range_table,
    make_unique_table,
)

COLUMNS = ["Timestamp", "TableName", "PartitionName", "Tablets", "Files", "Bytes", "Rows", "Problems", "Status",
           "Detail"]  # fmt: skip
LEVELS = ("files", "checksums", "rows")
# (table, partition) of the snapshot of src, in the order the rows list them
PARTITIONS = [("t", "p1"), ("t", "p2"), ("t", "p3"), ("u", "u")]


@pytest.fixture(scope="module")
def env(server: DorisbkServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    conn = server.connect()
    fast(conn)
    q(conn, "CREATE DATABASE src")
    make_range_table(conn, "src.t")
    insert(conn, "src.t", range(30))  # ten rows a partition, over two buckets
    make_unique_table(conn, "src.u")
    q(conn, "INSERT INTO src.u VALUES (1, 'a', 1.50, '2024-01-01'), (2, 'b', 2.50, '2024-01-02')")
    yield {"conn": conn, "location": tmp_path_factory.mktemp("repos"), "srv": server}
    conn.close()


_repos = itertools.count()


def fresh_snapshot(env: dict) -> tuple[str, str]:
    """Snapshot ``snap`` of src in a repository of its own (each test damages its own); (repository, timestamp)."""
    repo = f"c{next(_repos)}"
    create_local_repo(env["conn"], repo, env["location"] / repo)
    return repo, backup(env["conn"], "src", "snap", repo)


def check_rows(conn: pymysql.connections.Connection, repo: str, **props: str) -> list[dict[str, Any]]:
    written = ", ".join(f'"{k}" = "{v}"' for k, v in props.items())
    sql = f"ADMIN CHECK SNAPSHOT snap FROM {repo}" + (f" PROPERTIES ({written})" if written else "")
    found = dicts(conn, sql)
    assert list(found[0]) == COLUMNS
    return found


def by_partition(found: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The partition rows by (table, partition); the last row is the verdict."""
    return {(r["TableName"], r["PartitionName"]): r for r in found[:-1]}


def verdict(found: list[dict[str, Any]]) -> dict[str, Any]:
    last = found[-1]
    assert last["TableName"] is None and last["PartitionName"] is None, last
    return last


def rowset_files(env: dict, repo: str) -> list[Path]:
    """The snapshot's rowset files (not the tablet headers), largest first."""
    files = [p for p in content_files(env["location"] / repo, repo, "snap") if ".hdr." not in p.name]
    return sorted(files, key=lambda p: -p.stat().st_size)


def partition_of(env: dict, repo: str, path: Path) -> tuple[str, str]:
    """The (table, partition) a file of the snapshot's content belongs to, from the info file's ids."""
    part_id = int(next(p for p in path.parts if p.startswith("__part_"))[len("__part_") :])
    info = info_of(env["location"] / repo, repo, "snap")
    for table, obj in info["backup_objects"].items():
        for name, part in obj["partitions"].items():
            if part["id"] == part_id:
                return table, name
    raise AssertionError(f"no partition {part_id}")


def assert_clean(found: list[dict[str, Any]], timestamp: str) -> None:
    assert [(r["TableName"], r["PartitionName"]) for r in found[:-1]] == PARTITIONS
    for row in found:
        assert (row["Status"], row["Problems"], row["Detail"], row["Timestamp"]) == ("OK", "0", None, timestamp)
    total = verdict(found)
    assert total["Tablets"] == "9"  # 3 partitions x 2 buckets, 3 buckets of u
    assert total["Rows"] == "32"
    parts = by_partition(found)
    assert [parts[p]["Rows"] for p in PARTITIONS] == ["10", "10", "10", "2"]
    assert int(total["Files"]) == sum(int(r["Files"]) for r in parts.values())
    assert int(total["Bytes"]) == sum(int(r["Bytes"]) for r in parts.values())


def expect_problem(found: list[dict[str, Any]], where: tuple[str, str], *fragments: str, count: int = 1) -> None:
    """``count`` problems, in partition ``where``, the first one's Detail (also the verdict's) holding
    ``fragments``."""
    for key, row in by_partition(found).items():
        assert row["Status"] == ("FAILED" if key == where else "OK"), row
    row = by_partition(found)[where]
    total = verdict(found)
    assert (row["Problems"], total["Problems"], total["Status"]) == (str(count), str(count), "FAILED"), (row, total)
    for fragment in fragments:
        assert fragment in row["Detail"], row["Detail"]
    assert total["Detail"] == row["Detail"]


def test_clean_snapshot_passes_every_level(env: dict) -> None:
    conn = env["conn"]
    repo, ts = fresh_snapshot(env)
    on_disk = sum(p.stat().st_size for p in content_files(env["location"] / repo, repo, "snap"))
    default = check_rows(conn, repo)
    assert_clean(default, ts)
    assert verdict(default)["Bytes"] == str(on_disk)
    for level in LEVELS:
        found = check_rows(conn, repo, level=level, backup_timestamp=ts)
        assert_clean(found, ts)
        assert found == default
    # the level is not case-sensitive
    assert check_rows(conn, repo, level="ROWS") == default


def test_corrupted_file_is_found_by_checksums_not_files(env: dict) -> None:
    conn = env["conn"]
    repo, ts = fresh_snapshot(env)
    victim = rowset_files(env, repo)[0]
    flip_bytes(victim, offset=victim.stat().st_size // 2)  # same size, same name
    assert_clean(check_rows(conn, repo, level="files"), ts)
    where = partition_of(env, repo, victim)
    for level in ("checksums", "rows"):
        found = check_rows(conn, repo, level=level)
        expect_problem(found, where, "invalid md5 of downloaded file: ", victim.name, "__ss_snap/__ss_content/")


def test_truncated_file_is_found_by_files(env: dict) -> None:
    conn = env["conn"]
    repo, _ts = fresh_snapshot(env)
    victim = rowset_files(env, repo)[0]
    size = victim.stat().st_size
    data = victim.read_bytes()[: size - 10]
    victim.unlink()
    victim.write_bytes(data)
    for level in LEVELS:
        found = check_rows(conn, repo, level=level)
        expect_problem(
            found, partition_of(env, repo, victim), "invalid size of file: ", victim.name, f"expected: {size}, get: "
        )


def test_missing_file_is_found_by_files(env: dict) -> None:
    conn = env["conn"]
    repo, _ts = fresh_snapshot(env)
    victim = rowset_files(env, repo)[-1]
    victim.unlink()
    for level in LEVELS:
        found = check_rows(conn, repo, level=level)
        expect_problem(found, partition_of(env, repo, victim), "File does not exist: ", victim.name)


def _rename_checksummed(path: Path, data: bytes) -> Path:
    """Write ``data`` under ``path``'s name with the checksum of ``data``; the old file goes."""
    new = path.with_name(f"{path.name.rpartition('.')[0]}.{hashlib.md5(data).hexdigest()}")
    path.unlink()
    new.write_bytes(data)
    return new


def test_rowset_with_fewer_rows_is_found_only_by_rows(env: dict, tmp_path: Path) -> None:
    """A rowset replaced by a valid Parquet file holding fewer rows, with every checksum, size and name made
    to match again (the tablet header keeps the old row count): only reading the rows shows it."""
    conn = env["conn"]
    repo, ts = fresh_snapshot(env)
    fewer = tmp_path / "fewer.parquet"
    with duckdb.connect() as db:
        counted = [
            (db.execute(f"SELECT count(*) FROM read_parquet('{p}')").fetchone()[0], p) for p in rowset_files(env, repo)
        ]
        rows, victim = max(counted)
        assert rows >= 2
        db.execute(f"COPY (SELECT * FROM read_parquet('{victim}') LIMIT 1) TO '{fewer}' (FORMAT parquet)")
    rowset_name = victim.name.rpartition(".")[0]
    new_rowset = _rename_checksummed(victim, fewer.read_bytes())
    (header,) = victim.parent.glob("*.hdr.*")
    body = json.loads(header.read_bytes())
    (entry,) = [r for r in body["rowsets"] if r["file"] == rowset_name]
    assert entry["rows"] == rows
    entry.update(size=new_rowset.stat().st_size, md5=new_rowset.name.rpartition(".")[2])
    new_header = _rename_checksummed(header, json.dumps(body).encode())
    (info_file,) = snapshot_dir(env["location"] / repo, repo, "snap").glob("__info_*")
    text = info_file.read_text().replace(victim.name, new_rowset.name).replace(header.name, new_header.name)
    _rename_checksummed(info_file, text.encode())

    where = partition_of(env, repo, new_rowset)
    for level in ("files", "checksums"):
        found = check_rows(conn, repo, level=level, backup_timestamp=ts)
        assert verdict(found)["Status"] == "OK", found
    found = check_rows(conn, repo, level="rows", backup_timestamp=ts)
    expect_problem(found, where, "invalid row count of rowset: ", new_rowset.name, f"expected: {rows}, get: 1")


def test_newest_backup_is_checked_by_default(env: dict) -> None:
    conn = env["conn"]
    repo, ts = fresh_snapshot(env)
    directory = snapshot_dir(env["location"] / repo, repo, "snap")
    (info_file,) = directory.glob("__info_*")
    later = "2999-01-01-00-00-00"
    shutil.copy(info_file, directory / info_file.name.replace(ts, later))
    assert {r["Timestamp"] for r in check_rows(conn, repo)} == {later}
    assert {r["Timestamp"] for r in check_rows(conn, repo, backup_timestamp=ts)} == {ts}


def test_errors(env: dict) -> None:
    conn = env["conn"]
    repo, _ts = fresh_snapshot(env)
    assert doris_err(conn, "ADMIN CHECK SNAPSHOT snap FROM nowhere") == "Repository nowhere does not exist"
    assert doris_err(conn, f"ADMIN CHECK SNAPSHOT other FROM {repo}") == (
        "Failed to get info of snapshot 'other' because: No info file found. Maybe specified wrong backup timestamp"
    )
    wrong = doris_err(conn, f'ADMIN CHECK SNAPSHOT snap FROM {repo} PROPERTIES ("backup_timestamp" = "2000-01-01")')
    assert wrong.startswith("Failed to get info of snapshot 'snap' because: ")
    assert wrong.endswith("Maybe specified wrong backup timestamp")
    bad_level = f'ADMIN CHECK SNAPSHOT snap FROM {repo} PROPERTIES ("level" = "bytes")'
    assert doris_err(conn, bad_level) == "Invalid check level: bytes"
    unknown = f'ADMIN CHECK SNAPSHOT snap FROM {repo} PROPERTIES ("deep" = "true", "level" = "rows")'
    assert doris_err(conn, unknown) == "Unknown check snapshot properties: [deep]"
    code, message = error(conn, f"ADMIN CHECK SNAPSHOT snap {repo}")
    assert code == 1064, message
    assert q(conn, "SELECT 1") == [(1,)]  # the connection stays usable


def test_non_admin_is_refused(env: dict) -> None:
    conn = env["conn"]
    repo, _ts = fresh_snapshot(env)
    q(conn, "CREATE USER 'checker'@'%' IDENTIFIED BY 'pw'")
    q(conn, "GRANT SELECT_PRIV, LOAD_PRIV ON *.* TO 'checker'@'%'")
    with env["srv"].connect(user="checker", password="pw") as user_conn:
        refused = error(user_conn, f"ADMIN CHECK SNAPSHOT snap FROM {repo}")
        assert refused == error(user_conn, f"BACKUP SNAPSHOT src.other TO {repo}")
        assert refused[0] == 1227 and "ADMIN" in refused[1], refused
        assert q(user_conn, "SELECT 1") == [(1,)]


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


def test_clean_snapshot_passes_every_level_on_s3(env: dict, s3: S3Server) -> None:
    conn = env["conn"]
    props = ", ".join(f'"{k}" = "{v}"' for k, v in s3.repository_properties().items())
    q(conn, f'CREATE REPOSITORY s3_check WITH S3 ON LOCATION "s3://{s3.bucket}/check" PROPERTIES ({props})')
    ts = backup(conn, "src", "snap", "s3_check")
    for level in LEVELS:
        assert_clean(check_rows(conn, "s3_check", level=level), ts)


def test_names_from_the_repository_are_not_paths(env: dict) -> None:
    """An info file naming a path instead of a file: a problem of its partition, nothing outside is read."""
    conn = env["conn"]
    repo, ts = fresh_snapshot(env)
    victim = rowset_files(env, repo)[0]
    planted = f"../../../../../../etc/passwd.{'0' * 32}"
    (info_file,) = snapshot_dir(env["location"] / repo, repo, "snap").glob("__info_*")
    _rename_checksummed(info_file, info_file.read_text().replace(victim.name, planted).encode())
    for level in LEVELS:
        found = check_rows(conn, repo, level=level, backup_timestamp=ts)
        # and the tablet header lists a rowset file that the info file no longer names
        where = partition_of(env, repo, victim)
        expect_problem(found, where, "invalid file name in repository: ", planted, count=2)


def test_metadata_only_snapshot(env: dict) -> None:
    conn = env["conn"]
    repo = f"c{next(_repos)}"
    create_local_repo(conn, repo, env["location"] / repo)
    ts = backup(conn, "src", "snap", repo, on='PROPERTIES ("content" = "metadata_only")')
    found = check_rows(conn, repo, level="rows")
    assert [(r["TableName"], r["PartitionName"]) for r in found[:-1]] == PARTITIONS
    assert [(r["Files"], r["Bytes"], r["Rows"], r["Status"]) for r in found] == [("0", "0", "0", "OK")] * 5
    assert verdict(found)["Timestamp"] == ts
