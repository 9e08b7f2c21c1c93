"""Fixtures giving each test a fresh, empty location on every backend: local, S3 and (emulated) HDFS."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dorisbk.storage import RemoteFileSystem, open_filesystem
from tests.s3server import S3Server, s3_server
from tests.storage.webhdfs import webhdfs_server

BACKENDS = ["local", "s3", "hdfs"]
# the local backend needs no server: its cases are in the fast tier
BACKEND_PARAMS = [pytest.param("local", marks=pytest.mark.fast), "s3", "hdfs"]

FsFactory = Callable[[str], RemoteFileSystem]


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture(scope="session")
def webhdfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with webhdfs_server(tmp_path_factory.mktemp("hdfs")) as address:
        yield address


@pytest.fixture
def make_fs(request: pytest.FixtureRequest, tmp_path: Path) -> FsFactory:
    """Open a new, empty location of one backend kind (with a trailing slash, as users write it)."""

    def make(kind: str) -> RemoteFileSystem:
        unique = uuid.uuid4().hex[:12]
        if kind == "local":
            return open_filesystem("LOCAL", f"file://{tmp_path}/{unique}/", {})
        if kind == "s3":
            server: S3Server = request.getfixturevalue("s3")
            return open_filesystem("S3", f"s3://{server.bucket}/{unique}/", server.repository_properties())
        address: str = request.getfixturevalue("webhdfs")
        properties = {"dfs.namenode.http-address": address, "hadoop.username": "doris"}
        return open_filesystem("HDFS", f"hdfs://127.0.0.1:8020/{unique}/", properties)

    return make


@pytest.fixture(params=BACKEND_PARAMS)
def fs(request: pytest.FixtureRequest, make_fs: FsFactory) -> RemoteFileSystem:
    return make_fs(request.param)
