"""Helpers for the tests that run real MySQL clients (tests/test_clients_*.py, test_help_cli.py).

A client that is not installed makes its test fail with a hint, never skip: the clients are
installed by ``scripts/test-deps.sh`` (run by ``make test``).
"""

from __future__ import annotations

import contextlib
import importlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.dorisbk_server import DorisbkServer

ROOT = Path(__file__).resolve().parent.parent
INSTALL_HINT = "install the test clients with scripts/test-deps.sh (make test runs it)"
MARIADB_JAVA_JAR = Path("/usr/share/java/mariadb-java-client.jar")
CONNECTOR_J_JAR = Path(sys.prefix) / "test-jars" / "mysql-connector-j-8.0.33.jar"
ERR_PREFIX = "errCode = 2, detailMessage = "


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"'{name}' is not installed: {INSTALL_HINT}")
    return path


def tool_binary(tool: str, program: str) -> str:
    """A program of a client tool that scripts/test-deps.sh installs in a venv of its own (mycli,
    Superset) beside the project's, under ``<venv>/tools/<tool>``."""
    path = Path(sys.prefix) / "tools" / tool / "bin" / program
    if not path.is_file():
        pytest.fail(f"{tool} is not installed at {path}: {INSTALL_HINT}")
    return str(path)


def require_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        pytest.fail(f"Python module '{name}' cannot be imported ({exc}): {INSTALL_HINT}")


def require_file(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path} is missing: {INSTALL_HINT}")
    return path


@contextlib.contextmanager
def odbc_connection(port: int, database: str) -> Iterator[Any]:
    """A pyodbc connection through MariaDB's ODBC driver (autocommit), closed afterwards."""
    pyodbc = require_module("pyodbc")
    if "MariaDB Unicode" not in pyodbc.drivers():
        pytest.fail(f"ODBC driver 'MariaDB Unicode' is not registered ({pyodbc.drivers()}): run scripts/test-deps.sh")
    connection = pyodbc.connect(
        f"DRIVER={{MariaDB Unicode}};SERVER=127.0.0.1;PORT={port};UID=root;PWD=;DATABASE={database};",
        autocommit=True,
        timeout=10,
    )
    try:
        yield connection
    finally:
        connection.close()


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A throw-away certificate and key for 127.0.0.1, made with the openssl CLI."""
    openssl = require_binary("openssl")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1"],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


def start_tls_server(base: Path) -> DorisbkServer:
    """A server offering TLS (``dorisbk serve --tls-cert --tls-key``)."""
    cert, key = self_signed_cert(base / "tls")
    return DorisbkServer(base / "data", extra_args=["--tls-cert", str(cert), "--tls-key", str(key)]).start()


def mysql_cmd(port: int, *args: str, user: str = "root") -> list[str]:
    return [require_binary("mysql"), "-h127.0.0.1", f"-P{port}", f"-u{user}", *args]


def run_mysql(port: int, sql: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The mysql CLI in batch mode with ``sql`` on stdin."""
    return subprocess.run(mysql_cmd(port, *args), input=sql, capture_output=True, text=True, timeout=60)


class Tmux:
    """An interactive program in a detached tmux session: type into it, read its screen."""

    def __init__(self, name: str, command: list[str], width: int = 200, height: int = 50) -> None:
        self.tmux = require_binary("tmux")
        self.name = name
        subprocess.run([self.tmux, "kill-session", "-t", name], capture_output=True)
        subprocess.run(
            [self.tmux, "new-session", "-d", "-s", name, "-x", str(width), "-y", str(height),
             " ".join(_quote(c) for c in command)],
            check=True,
        )  # fmt: skip

    def send(self, line: str) -> None:
        if line.endswith(";"):  # tmux reads a final ';' as its own command separator
            line = line[:-1] + "\\;"
        subprocess.run([self.tmux, "send-keys", "-t", self.name, "-l", line], check=True)
        subprocess.run([self.tmux, "send-keys", "-t", self.name, "Enter"], check=True)

    def screen(self) -> str:
        out = subprocess.run(
            [self.tmux, "capture-pane", "-p", "-J", "-t", self.name, "-S", "-2000"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout

    def wait_for(self, text: str, count: int = 1, timeout: float = 15.0) -> str:
        """The screen once ``text`` appears on it ``count`` times."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if screen.count(text) >= count:
                return screen
            time.sleep(0.05)
        raise AssertionError(f"{text!r} did not appear {count} time(s) on the screen:\n{screen}")

    def close(self) -> None:
        subprocess.run([self.tmux, "kill-session", "-t", self.name], capture_output=True)


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


def after(screen: str, marker: str, occurrence: int = 1) -> str:
    """The screen text after the ``occurrence``-th ``marker``."""
    pos = -1
    for _ in range(occurrence):
        pos = screen.index(marker, pos + 1)
    return screen[pos + len(marker) :]
