"""Fault injection for the tests/test_faults_*.py modules (no tests here).

HAProxy in front of the real S3 server answers some requests itself with the errors S3
sends (503 SlowDown, 500 InternalError) or holds them (a hung server), chosen per frontend
by chance or by the request path; a tiny tmpfs gives a real "No space left on device".
Both need tools or rights a machine may lack: the fixtures skip with the reason then.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.dorisbk_server import free_port

START_TIMEOUT_S = 10.0

SLOW_DOWN = (
    '<?xml version=\\"1.0\\" encoding=\\"UTF-8\\"?><Error><Code>SlowDown</Code>'
    "<Message>Please reduce your request rate.</Message></Error>"
)
INTERNAL_ERROR = (
    '<?xml version=\\"1.0\\" encoding=\\"UTF-8\\"?><Error><Code>InternalError</Code>'
    "<Message>We encountered an internal error. Please try again.</Message></Error>"
)
DELAY_LUA = 'core.register_action("delay", { "http-req" }, function(txn, ms) core.msleep(tonumber(ms)) end, 1)\n'


@dataclass(frozen=True)
class FaultProxy:
    """Endpoints in front of one S3 server.

    ``slow``: a share of all requests get 503 SlowDown. ``faulty``: PUTs whose path contains
    ``fail`` get 500 InternalError, PUTs whose path contains ``hang`` get no answer for a minute.
    """

    slow: str
    faulty: str


def need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (mount)")


@contextmanager
def haproxy(backend: str, work: Path, slow_percent: int = 15) -> Iterator[FaultProxy]:
    """Run HAProxy on loopback in front of ``backend`` (``http://127.0.0.1:PORT``); killed on exit."""
    binary = haproxy_binary()
    host_port = backend.split("://", 1)[1]
    slow, faulty = free_port(), free_port()
    (work / "delay.lua").write_text(DELAY_LUA)
    config = f"""
global
    lua-load {work / "delay.lua"}
defaults
    mode http
    timeout connect 5s
    timeout client 90s
    timeout server 90s
frontend slow
    bind 127.0.0.1:{slow}
    {_answer(503, SLOW_DOWN)} if {{ rand(100) lt {slow_percent} }}
    default_backend s3
frontend faulty
    bind 127.0.0.1:{faulty}
    {_answer(500, INTERNAL_ERROR)} if METH_PUT {{ path_sub fail }}
    http-request lua.delay 60000 if METH_PUT {{ path_sub hang }}
    default_backend s3
backend s3
    server s1 {host_port}
"""
    with run_haproxy(binary, config, work, (slow, faulty)):
        yield FaultProxy(f"http://127.0.0.1:{slow}", f"http://127.0.0.1:{faulty}")


def haproxy_binary() -> str:
    """The haproxy binary; the test is skipped where there is none."""
    binary = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
    if binary is None:
        pytest.skip("haproxy is not installed (scripts/test-deps.sh installs it)")
    return binary


@contextmanager
def run_haproxy(binary: str, config: str, work: Path, ports: tuple[int, ...]) -> Iterator[None]:
    """HAProxy on ``config`` until exit, once it listens on every one of ``ports`` (loopback); killed on exit."""
    cfg = work / "haproxy.cfg"
    cfg.write_text(config)
    log = open(work / "haproxy.log", "wb")  # noqa: SIM115 - handed to the child process
    proc = subprocess.Popen([binary, "-db", "-f", str(cfg)], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not all(_listening(p) for p in ports):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"haproxy did not start:\n{(work / 'haproxy.log').read_text(errors='replace')}")
            time.sleep(0.05)
        yield
    finally:
        proc.kill()
        proc.wait()


def _answer(status: int, body: str) -> str:
    return f'http-request return status {status} content-type application/xml string "{body}"'


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (e.g. ``4m``) mounted on ``path``; unmounted on exit."""
    need_root()
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


FILL_CHUNK = 1024 * 1024


def fill(directory: Path, leave: int) -> Path:
    """Take all but ``leave`` bytes of the file system holding ``directory`` with one file. A running server
    writes beside it, so the space can run out before the filler has its share: that is the full disk the
    caller asked for, not an error (one write of the whole share failed that way under load)."""
    filler = directory / "filler.bin"
    stat = os.statvfs(directory)
    left = max(0, stat.f_bavail * stat.f_frsize - leave)
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        while left > 0:
            chunk = min(left, FILL_CHUNK)
            try:
                left -= os.write(fd, b"\0" * chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    finally:
        os.close(fd)
    return filler
