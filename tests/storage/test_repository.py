"""Repository: Doris's layout and names, checksums, listings, on every backend."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from dorisbk.checksum import md5_file
from dorisbk.errors import StorageError
from dorisbk.storage import (
    ChecksumMismatchError,
    NoInfoFileError,
    NotFoundError,
    RemoteFileSystem,
    Repository,
    open_filesystem,
)
from dorisbk.storage.layout import (
    format_info_timestamp,
    parse_info_timestamp,
    split_checksum,
    strip_checksum,
    tablet_path,
    with_checksum,
)
from tests.s3server import S3Server

MD5_A = hashlib.md5(b"a").hexdigest()


@pytest.fixture
def repo(fs: RemoteFileSystem) -> Repository:
    repository = Repository(fs, "my_repo")
    repository.init()
    return repository


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_names_and_paths() -> None:
    assert tablet_path(10, 11, 12, 13, 14) == "__db_10/__tbl_11/__part_12/__idx_13/__14"
    assert with_checksum("0200_0.dat", MD5_A) == f"0200_0.dat.{MD5_A}"
    assert split_checksum(f"0200_0.dat.{MD5_A}") == ("0200_0.dat", MD5_A)
    assert strip_checksum(f"14.hdr.{MD5_A}") == "14.hdr"
    for unchecked in ["0200_0.dat", "x.part", f"x.{MD5_A[:31]}", f"x.{MD5_A.upper()}", f".{MD5_A}"]:
        assert split_checksum(unchecked) is None
    with pytest.raises(StorageError, match="should contains checksum"):
        strip_checksum("x.part")
    with pytest.raises(ValueError):
        with_checksum("x", "not-an-md5")
    moment = datetime(2018, 5, 5, 15, 34, 26)
    assert format_info_timestamp(moment) == "2018-05-05-15-34-26"
    assert parse_info_timestamp("2018-05-05-15-34-26") == moment


def test_init_writes_repo_info(repo: Repository) -> None:
    assert repo.root == "__palo_repository_my_repo"
    info = json.loads(repo.fs.get_bytes("__palo_repository_my_repo/__repo_info"))
    assert info == {"name": "my_repo", "create_time": repo.create_time.strftime("%Y-%m-%d %H:%M:%S")}
    repo.ping()
    assert repo.snapshot_dir("s1") == "__palo_repository_my_repo/__ss_s1"
    assert repo.tablet_dir("s1", 1, 2, 3, 4, 5) == (
        "__palo_repository_my_repo/__ss_s1/__ss_content/__db_1/__tbl_2/__part_3/__idx_4/__5"
    )


def test_init_adopts_existing_repo_info(fs: RemoteFileSystem) -> None:
    info = {"name": "shared", "create_time": "2020-01-02 03:04:05"}
    fs.put_bytes("__palo_repository_shared/__repo_info", json.dumps(info).encode())
    repo = Repository(fs, "shared")
    assert repo.init() == datetime(2020, 1, 2, 3, 4, 5)
    assert json.loads(fs.get_bytes("__palo_repository_shared/__repo_info")) == info


def test_init_refuses_bad_repo_info(fs: RemoteFileSystem) -> None:
    fs.put_bytes("__palo_repository_bad/__repo_info", b'{"name": "bad", "create_time": "yesterday"}')
    with pytest.raises(StorageError, match="failed to parse create time of repository: yesterday"):
        Repository(fs, "bad").init()


def test_init_delete_if_exists_wipes_the_repository(repo: Repository) -> None:
    repo.write_info("old", "2020-01-01-00-00-00", b"{}")
    again = Repository(repo.fs, "my_repo")
    again.init(delete_if_exists=True)
    assert again.list_snapshots() == []


def test_meta_and_info_files_carry_their_checksum(repo: Repository) -> None:
    meta_path = repo.write_meta("snap", b"meta-1")
    assert meta_path == f"__palo_repository_my_repo/__ss_snap/__meta.{md5(b'meta-1')}"
    info = b'{"name": "snap"}'
    info_path = repo.write_info("snap", "2024-01-02-03-04-05", info)
    assert info_path == f"__palo_repository_my_repo/__ss_snap/__info_2024-01-02-03-04-05.{md5(info)}"
    assert repo.read_meta("snap") == b"meta-1"
    assert repo.read_info("snap", "2024-01-02-03-04-05") == info
    repo.write_meta("snap", b"meta-2")
    assert repo.read_meta("snap") == b"meta-2", "a new backup of the label replaces __meta"


def test_list_snapshots_and_timestamps(repo: Repository) -> None:
    repo.write_info("b", "2024-01-02-00-00-00", b"2")
    repo.write_info("b", "2024-01-01-00-00-00", b"1")
    repo.write_info("a", "2023-12-31-23-59-59", b"0")
    repo.fs.put_bytes(f"{repo.content_dir('no_info')}/__db_1/f.{MD5_A}", b"a")
    assert repo.list_snapshots() == ["a", "b", "no_info"]
    assert repo.list_snapshot_timestamps("b") == ["2024-01-01-00-00-00", "2024-01-02-00-00-00"]
    with pytest.raises(NoInfoFileError, match="No info file found"):
        repo.list_snapshot_timestamps("no_info")
    repo.fs.put_bytes(f"{repo.snapshot_dir('no_info')}/__info_2024-01-01-00-00-00.part", b"x")
    assert repo.list_snapshot_timestamps("no_info") == ["Invalid: __info_2024-01-01-00-00-00.part"]


def test_missing_info_and_meta(repo: Repository) -> None:
    repo.write_info("snap", "2024-01-01-00-00-00", b"x")
    with pytest.raises(NoInfoFileError, match="Expected one file with path: .*__info_2024-09-09-00-00-00. get: 0"):
        repo.read_info("snap", "2024-09-09-00-00-00")
    with pytest.raises(NotFoundError):
        repo.read_meta("snap")


def test_corrupt_info_is_detected(repo: Repository) -> None:
    path = repo.write_info("snap", "2024-01-01-00-00-00", b"good")
    repo.fs.put_bytes(path, b"evil")
    with pytest.raises(ChecksumMismatchError, match=f"{md5(b'evil')}, remote: {md5(b'good')}"):
        repo.read_info("snap", "2024-01-01-00-00-00")


def test_drop_snapshot(repo: Repository) -> None:
    repo.write_info("s", "2024-01-01-00-00-00", b"x")
    repo.fs.put_bytes(f"{repo.content_dir('s')}/__db_1/f.{MD5_A}", b"a")
    repo.write_info("s2", "2024-01-01-00-00-00", b"x")
    assert repo.drop_snapshot("s") == 2
    assert repo.list_snapshots() == ["s2"]
    with pytest.raises(NotFoundError):
        repo.drop_snapshot("s")
    repo.ping()


def test_upload_skips_a_file_already_present(repo: Repository, tmp_path: Path) -> None:
    local = tmp_path / "0200_0.dat"
    local.write_bytes(b"rowset")
    remote_dir = repo.tablet_dir("s", 1, 2, 3, 4, 5)
    first = repo.upload_file_checked(local, remote_dir, "0200_0.dat")
    assert first.uploaded and first.md5 == md5(b"rowset")
    assert first.path == f"{remote_dir}/0200_0.dat.{md5(b'rowset')}"
    # Same checksummed name, so nothing is sent even though the local bytes now differ.
    local.write_bytes(b"changed")
    again = repo.upload_file_checked(local, remote_dir, "0200_0.dat", md5=first.md5)
    assert not again.uploaded
    assert repo.fs.get_bytes(first.path) == b"rowset"
    listed = {f.path.rpartition("/")[2] for f in repo.fs.list(f"{remote_dir}/")}
    assert not repo.upload_file_checked(local, remote_dir, "0200_0.dat", md5=first.md5, existing=listed).uploaded
    assert repo.upload_file_checked(local, remote_dir, "0200_0.dat").uploaded


def test_copy_from_previous_snapshot(repo: Repository, tmp_path: Path) -> None:
    local = tmp_path / "f.dat"
    local.write_bytes(b"same")
    done = repo.upload_file_checked(local, repo.tablet_dir("monday", 1, 2, 3, 4, 5), "f.dat")
    rel = f"{tablet_path(1, 2, 3, 4, 5)}/f.dat.{done.md5}"
    assert repo.copy_from_previous("monday", "tuesday", rel)
    assert repo.fs.get_bytes(f"{repo.content_dir('tuesday')}/{rel}") == b"same"
    assert not repo.copy_from_previous("sunday", "tuesday", rel)
    with pytest.raises(StorageError, match="checksum"):
        repo.copy_from_previous("monday", "tuesday", f"{tablet_path(1, 2, 3, 4, 5)}/f.dat")


def test_download_verifies_checksum(repo: Repository, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    local = tmp_path / "big.dat"
    local.write_bytes(data)
    done = repo.upload_file_checked(local, repo.tablet_dir("s", 1, 2, 3, 4, 5), "big.dat")
    out = tmp_path / "restore" / "big.dat"
    assert repo.download_file_checked(done.path, out) == md5(data)
    assert md5_file(out) == md5(data)

    repo.fs.put_bytes(done.path, b"bit rot")
    corrupt_out = tmp_path / "restore2" / "big.dat"
    with pytest.raises(ChecksumMismatchError) as err:
        repo.download_file_checked(done.path, corrupt_out)
    message = str(err.value)
    assert done.path in message and md5(data) in message and md5(b"bit rot") in message
    assert not corrupt_out.exists()
    assert list(corrupt_out.parent.iterdir()) == [], "no temporary file left behind"
    with pytest.raises(StorageError, match="should contains checksum"):
        repo.download_file_checked(f"{repo.snapshot_dir('s')}/plain", tmp_path / "x")


def test_bad_s3_credentials_give_a_clear_error(s3: S3Server) -> None:
    fs = open_filesystem("S3", f"s3://{s3.bucket}/denied", s3.repository_properties(**{"s3.secret_key": "wrong"}))
    with pytest.raises(StorageError, match="access denied .*check s3.access_key"):
        Repository(fs, "r").init()
    with pytest.raises(StorageError, match="access denied"):
        fs.ping()


def test_s3_credentials_can_be_rotated(s3: S3Server) -> None:
    """ALTER REPOSITORY: new keys replace old ones, including keys given under the old AWS_* names."""
    old_style = {
        "AWS_ENDPOINT": s3.endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY": s3.access_key,
        "AWS_SECRET_KEY": "expired",
        "use_path_style": "true",
    }
    fs = open_filesystem("S3", f"s3://{s3.bucket}/rotated/", old_style)
    with pytest.raises(StorageError, match="access denied"):
        fs.ping()
    fs.update_properties({"s3.secret_key": s3.secret_key})
    fs.ping()
    Repository(fs, "r").init()


def test_s3_missing_bucket(s3: S3Server) -> None:
    fs = open_filesystem("S3", "s3://no-such-bucket/x", s3.repository_properties())
    with pytest.raises(StorageError, match="bucket no-such-bucket does not exist"):
        fs.ping()


def test_s3_unreachable_endpoint() -> None:
    properties = {
        "s3.endpoint": "127.0.0.1:9",
        "s3.access_key": "k",
        "s3.secret_key": "s",
        "use_path_style": "true",
    }
    fs = open_filesystem("S3", "s3://b/x", properties)
    with pytest.raises(StorageError, match="cannot connect to S3 endpoint http://127.0.0.1:9"):
        fs.ping()


def test_hdfs_unreachable_namenode() -> None:
    fs = open_filesystem("HDFS", "hdfs://127.0.0.1:9/repo", {"dfs.namenode.http-address": "127.0.0.1:9"})
    with pytest.raises(StorageError, match="cannot reach HDFS NameNode at http://127.0.0.1:9/webhdfs/v1"):
        Repository(fs, "r").init()


def test_local_refuses_property_changes(tmp_path: Path) -> None:
    fs = open_filesystem("LOCAL", f"file://{tmp_path}", {})
    with pytest.raises(StorageError, match="does not support"):
        fs.update_properties({"s3.secret_key": "x"})
