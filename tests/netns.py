"""Separate hosts on one machine, for the shared-mode tests (no tests here): network namespaces of a test's own,
each joined to the root namespace by a veth pair, and a PostgreSQL server of the test's own listening on an
address the namespaces reach (the machine's PostgreSQL listens on loopback only, which no namespace sees).

Host ``n`` gets ``10.231.<net>.<4n+2>/30`` in its namespace and ``10.231.<net>.<4n+1>`` on the root side, its
default route; ``<net>`` comes from the test process's id, so that runs side by side do not collide. Services
in the root namespace listen on host 0's root-side address, which every host reaches through its own route.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.dorisbk_server import free_port

COMMAND_TIMEOUT_S = 60
PRIVATE_NET = "10.231"  # RFC 1918


@dataclass(frozen=True)
class Host:
    """A network namespace standing for another machine."""

    namespace: str
    address: str  # its own address, inside the namespace
    gateway: str  # the root namespace's end of its veth pair

    def wrap(self) -> list[str]:
        """The command prefix that runs a process on this host."""
        return ["ip", "netns", "exec", self.namespace]

    def run(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.wrap(), *cmd], capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)


def _must(done: subprocess.CompletedProcess[str]) -> None:
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, done.args))} failed: {done.stderr.strip()}")


@contextmanager
def hosts(count: int) -> Iterator[list[Host]]:
    """``count`` hosts, each a namespace with a veth pair to the root namespace; the namespaces and veths are
    deleted on exit, whatever happened. The test is skipped where ``ip netns`` is missing or not permitted."""
    if shutil.which("ip") is None:
        pytest.skip("the ip command (iproute2) is not installed")
    tag = f"dbk{os.getpid() % 100_000}"  # interface names stay within the kernel's 15 characters
    net = f"{PRIVATE_NET}.{os.getpid() % 250 + 1}"
    namespaces: list[str] = []
    links: list[str] = []
    made: list[Host] = []
    try:
        for n in range(count):
            namespace = f"{tag}h{n}"
            outer, inner = f"{namespace}r", f"{namespace}n"
            _ip("link", "del", outer)  # left by a killed run of a process with the same id, if any
            _ip("netns", "del", namespace)
            added = _ip("netns", "add", namespace)
            if added.returncode != 0:
                pytest.skip(f"ip netns add is not permitted here: {added.stderr.strip()}")
            namespaces.append(namespace)
            _must(_ip("link", "add", outer, "type", "veth", "peer", "name", inner, "netns", namespace))
            links.append(outer)
            gateway, address = f"{net}.{4 * n + 1}", f"{net}.{4 * n + 2}"
            _must(_ip("addr", "add", f"{gateway}/30", "dev", outer))
            _must(_ip("link", "set", outer, "up"))
            _must(_ip("-n", namespace, "addr", "add", f"{address}/30", "dev", inner))
            _must(_ip("-n", namespace, "link", "set", inner, "up"))
            _must(_ip("-n", namespace, "link", "set", "lo", "up"))
            _must(_ip("-n", namespace, "route", "add", "default", "via", gateway))
            made.append(Host(namespace, address, gateway))
        yield made
    finally:
        for link in links:
            _ip("link", "del", link)  # gone with its namespace already, at best
        for namespace in namespaces:
            _ip("netns", "del", namespace)


@contextmanager
def postgres_on(address: str) -> Iterator[str]:
    """A PostgreSQL server of its own (initdb and pg_ctl of the machine's PostgreSQL, in a temporary directory)
    listening on ``address`` and trusting the private range; yields the SQLAlchemy URL of its database
    ``dorisbk``. Run as the ``postgres`` user when the test runs as root (initdb refuses root). Skipped where
    the binaries or that user are missing."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    bindir = Path(found[-1]).parent
    as_user: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="dorisbk-pg-"))  # the postgres user must reach it: not in root's 0700 dirs
    try:
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                pytest.skip("no runuser to start a PostgreSQL server as the postgres user")
            try:
                shutil.chown(work, "postgres", "postgres")
            except LookupError:
                pytest.skip("no postgres user to run a PostgreSQL server as")
            as_user = ["runuser", "-u", "postgres", "--"]
        db = work / "db"
        port = free_port()

        def run(*cmd: str) -> None:
            done = subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
            if done.returncode != 0:
                log = work / "server.log"
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"{cmd[0]} failed: {done.stdout}{done.stderr}{tail}")

        run(str(bindir / "initdb"), "-D", str(db), "-A", "trust", "-U", "postgres", "--no-sync")
        with open(db / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {PRIVATE_NET}.0.0/16 trust\n")
        options = f"-c listen_addresses={address} -p {port} -k {work} -c fsync=off"
        try:
            run(str(bindir / "pg_ctl"), "-D", str(db), "-l", str(work / "server.log"), "-o", options, "-w", "start")
            run(str(bindir / "createdb"), "-h", address, "-p", str(port), "-U", "postgres", "dorisbk")
            yield f"postgresql+psycopg://postgres@{address}:{port}/dorisbk"
        finally:
            subprocess.run(
                [*as_user, str(bindir / "pg_ctl"), "-D", str(db), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=COMMAND_TIMEOUT_S,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
