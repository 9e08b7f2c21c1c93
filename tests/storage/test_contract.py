"""The RemoteFileSystem contract: every backend must pass every test here, unchanged.

HDFS runs against the WebHDFS emulator in webhdfs.py, not a real cluster (none can run here).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from dorisbk.errors import StorageError
from dorisbk.storage import NotFoundError, RemoteFile, RemoteFileSystem, open_filesystem
from dorisbk.storage.s3 import MULTIPART_THRESHOLD, S3FileSystem


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_put_get_and_exists(fs: RemoteFileSystem) -> None:
    assert not fs.exists("a/b.txt")
    fs.put_bytes("a/b.txt", b"hello")
    assert fs.exists("a/b.txt")
    assert fs.get_bytes("a/b.txt") == b"hello"
    fs.put_bytes("a/b.txt", b"replaced")
    assert fs.get_bytes("a/b.txt") == b"replaced"
    assert not fs.exists("a"), "exists() is about files, not directories"


def test_paths_are_normalised(fs: RemoteFileSystem) -> None:
    fs.put_bytes("/x//y/./z", b"1")
    assert fs.get_bytes("x/y/z") == b"1"
    with pytest.raises(StorageError, match="invalid remote path"):
        fs.get_bytes("x/../../etc/passwd")


def test_missing_files_raise_not_found(fs: RemoteFileSystem, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        fs.get_bytes("nope")
    with pytest.raises(NotFoundError):
        fs.download("nope", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(NotFoundError):
        fs.rename("nope", "other")
    with pytest.raises(NotFoundError):
        fs.copy("nope", "other")
    assert fs.list() == []


def test_upload_and_download_are_complete(fs: RemoteFileSystem, tmp_path: Path) -> None:
    src = write(tmp_path / "src.bin", os.urandom(100_000))
    fs.upload(src, "d/file.bin")
    out = tmp_path / "deep" / "er" / "out.bin"
    fs.download("d/file.bin", out)
    assert out.read_bytes() == src.read_bytes()
    fs.put_bytes("d/file.bin", b"new")
    fs.download("d/file.bin", out)
    assert out.read_bytes() == b"new"
    assert sorted(p.name for p in out.parent.iterdir()) == ["out.bin"], "no temporary file left behind"


def test_empty_file(fs: RemoteFileSystem, tmp_path: Path) -> None:
    fs.upload(write(tmp_path / "empty", b""), "e/empty")
    assert fs.list("e/") == [RemoteFile("e/empty", 0)]
    fs.download("e/empty", tmp_path / "back")
    assert (tmp_path / "back").read_bytes() == b""


def test_list_is_recursive_with_string_prefix(fs: RemoteFileSystem) -> None:
    fs.put_bytes("__ss_a/__info_1.x", b"1")
    fs.put_bytes("__ss_a/__meta.y", b"22")
    fs.put_bytes("__ss_a/__ss_content/__db_1/f", b"333")
    fs.put_bytes("__ss_ab/__info_2.x", b"4444")
    assert fs.list() == [
        RemoteFile("__ss_a/__info_1.x", 1),
        RemoteFile("__ss_a/__meta.y", 2),
        RemoteFile("__ss_a/__ss_content/__db_1/f", 3),
        RemoteFile("__ss_ab/__info_2.x", 4),
    ]
    assert [f.path for f in fs.list("__ss_a/")] == [
        "__ss_a/__info_1.x",
        "__ss_a/__meta.y",
        "__ss_a/__ss_content/__db_1/f",
    ]
    assert [f.path for f in fs.list("__ss_a/__info_")] == ["__ss_a/__info_1.x"]
    assert [f.path for f in fs.list("__ss_a")] == [f.path for f in fs.list()]
    assert fs.list("__ss_c/") == []


def test_list_dirs_gives_immediate_children(fs: RemoteFileSystem) -> None:
    fs.put_bytes("repo/__ss_a/x", b"1")
    fs.put_bytes("repo/__ss_b/deep/y", b"1")
    fs.put_bytes("repo/file", b"1")
    assert fs.list_dirs("repo") == ["__ss_a", "__ss_b"]
    assert fs.list_dirs("repo/") == ["__ss_a", "__ss_b"]
    assert fs.list_dirs("") == ["repo"]
    assert fs.list_dirs("missing") == []
    assert fs.list_dirs("repo/file") == []
    assert fs.list("repo/file/") == []


def test_delete_is_idempotent_and_removes_empty_dirs(fs: RemoteFileSystem) -> None:
    fs.put_bytes("r/a/only", b"1")
    fs.put_bytes("r/keep", b"1")
    fs.delete("r/a/only")
    assert not fs.exists("r/a/only")
    assert fs.list_dirs("r") == []
    fs.delete("r/a/only")
    fs.delete("never/was")
    assert [f.path for f in fs.list()] == ["r/keep"]


def test_delete_prefix_removes_one_subtree(fs: RemoteFileSystem) -> None:
    for path in ["r/__ss_a/x", "r/__ss_a/d/y", "r/__ss_ab/z", "r/other"]:
        fs.put_bytes(path, b"1")
    assert fs.delete_prefix("r/__ss_a/") == 2
    assert [f.path for f in fs.list()] == ["r/__ss_ab/z", "r/other"]
    assert fs.list_dirs("r") == ["__ss_ab"]
    assert fs.delete_prefix("r/__ss_a/") == 0


def test_rename_moves_and_replaces(fs: RemoteFileSystem) -> None:
    fs.put_bytes("tmp/f.part", b"new")
    fs.put_bytes("final/f", b"old")
    fs.rename("tmp/f.part", "final/f")
    assert fs.get_bytes("final/f") == b"new"
    assert not fs.exists("tmp/f.part")
    assert fs.list_dirs() == ["final"]


def test_rename_and_copy_onto_themselves_keep_the_file(fs: RemoteFileSystem) -> None:
    fs.put_bytes("d/f", b"kept")
    fs.rename("d/f", "d//f")
    fs.copy("d/f", "./d/f")
    assert fs.get_bytes("d/f") == b"kept"


def test_copy_is_independent_of_source(fs: RemoteFileSystem) -> None:
    fs.put_bytes("s1/f.dat", b"content")
    fs.copy("s1/f.dat", "s2/sub/f.dat")
    assert fs.get_bytes("s2/sub/f.dat") == b"content"
    fs.put_bytes("s1/f.dat", b"changed")
    fs.delete("s1/f.dat")
    assert fs.get_bytes("s2/sub/f.dat") == b"content"


def test_large_file_round_trip(fs: RemoteFileSystem, tmp_path: Path) -> None:
    """20 MiB: more than the S3 multipart threshold, so it goes up and down in parts."""
    data = os.urandom(20 * 1024 * 1024)
    assert len(data) > 2 * MULTIPART_THRESHOLD
    fs.upload(write(tmp_path / "big", data), "big/file")
    assert fs.list("big/") == [RemoteFile("big/file", len(data))]
    fs.copy("big/file", "big/copy")
    fs.download("big/copy", tmp_path / "back")
    assert hashlib.md5((tmp_path / "back").read_bytes()).digest() == hashlib.md5(data).digest()
    if isinstance(fs, S3FileSystem):
        assert fs.etag("big/file").endswith("-3"), "uploaded in three 8 MiB parts"


def test_ping(fs: RemoteFileSystem) -> None:
    fs.ping()


def test_location_trailing_slash_is_optional(tmp_path: Path) -> None:
    with_slash = open_filesystem("LOCAL", f"file://{tmp_path}/", {})
    without = open_filesystem("LOCAL", f"file://{tmp_path}", {})
    with_slash.put_bytes("f", b"1")
    assert without.get_bytes("f") == b"1"


@pytest.mark.parametrize(
    ("kind", "location"),
    [
        ("LOCAL", "relative/path"),
        ("S3", "http://bucket/x"),
        ("S3", "s3:///no-bucket"),
        ("HDFS", "s3://bucket"),
        ("BROKER", "bos://bucket"),
    ],
)
def test_bad_locations_are_refused(kind: str, location: str) -> None:
    with pytest.raises(StorageError):
        open_filesystem(kind, location, {})
