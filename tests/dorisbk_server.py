"""A real ``dorisbk serve`` process on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pymysql

READY_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DorisbkServer:
    """Start, stop, kill -9 and restart one server with its own data dir."""

    def __init__(
        self,
        data_dir: Path,
        backends: int = 1,
        meta_url: str | None = None,
        extra_args: list[str] | None = None,
        http: bool = False,
        storage: str | None = None,
        storage_properties: dict[str, str] | None = None,
        node_name: str = "",
        host: str = "127.0.0.1",
        wrap: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.backends = backends
        self.meta_url = meta_url
        self.storage = storage  # shared mode: the storage vault's s3:// URL
        self.storage_properties = storage_properties or {}
        self.node_name = node_name
        self.host = host  # the address it listens on (and clients connect to)
        self.wrap = wrap or []  # a command the server runs under, e.g. ip netns exec NAME (another host)
        self.env = env or {}  # set in the server's environment, beside this process's
        self.extra_args = extra_args or []
        self.port = free_port()
        # the HTTP side on a free port of its own when a test asks for it; off otherwise, so that servers
        # started side by side never contend for Doris's default 8030
        self.http_port = free_port() if http else 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-server.log"

    def start(self) -> DorisbkServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            *self.wrap,
            sys.executable,
            "-m",
            "dorisbk.cli",
            "serve",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--backends",
            str(self.backends),
            "--http-port",
            str(self.http_port),
            *self.extra_args,
        ]
        if self.meta_url:
            cmd += ["--meta-url", self.meta_url]
        if self.storage:
            cmd += ["--storage", self.storage]
        for key, value in self.storage_properties.items():
            cmd += ["--storage-property", f"{key}={value}"]
        if self.node_name:
            cmd += ["--node-name", self.node_name]
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        offset = log.tell()  # a restart appends to the same log: only this run's "ready" counts
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **self.env})
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dorisbk exited with {self.proc.returncode}:\n{self.log()}")
            if f"dorisbk ready on {self.host}:{self.port}".encode() in self.log_path.read_bytes()[offset:]:
                return self
            time.sleep(0.05)
        raise RuntimeError(f"dorisbk did not get ready:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def connect(
        self, user: str = "root", password: str = "", database: str | None = None, **kwargs: object
    ) -> pymysql.connections.Connection:
        return pymysql.connect(
            host=self.host, port=self.port, user=user, password=password, database=database, autocommit=True, **kwargs
        )  # type: ignore[arg-type]

    def http_url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.http_port}{path}"

    def query(self, sql: str, database: str | None = None) -> list[tuple]:
        with self.connect(database=database) as conn, conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code

    def kill9(self) -> None:
        self.stop(signal.SIGKILL)

    def restart_wiped(self) -> DorisbkServer:
        """Stop, remove the data dir, start again: in shared mode everything comes back from PostgreSQL and the
        storage vault, so a node that lost its disk answers as before."""
        self.stop()
        shutil.rmtree(self.data_dir)
        return self.start()

    def restart(self, sig: int = signal.SIGTERM) -> DorisbkServer:
        self.stop(sig)
        return self.start()
