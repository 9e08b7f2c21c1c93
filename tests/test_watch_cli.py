"""``dorisbk watch`` in a real terminal (tmux): a backup held in UPLOADING shows with its label and a
bar, redrawn in place; released, it shows FINISHED and full; Ctrl-C ends the view cleanly."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

import dorisbk
from tests.clientkit import Tmux
from tests.dorisbk_server import DorisbkServer
from tests.jobkit import pause, q, set_config
from tests.test_backup_support import make_table

SRC = Path(dorisbk.__file__).resolve().parent.parent  # the code under test, whatever tmux's environment


@pytest.fixture(scope="module")
def conn(server: DorisbkServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[pymysql.connections.Connection]:
    location = tmp_path_factory.mktemp("repo")
    with server.connect() as c:
        q(c, f'CREATE REPOSITORY r WITH LOCAL ON LOCATION "file://{location}"')
        set_config(c, "backup_handler_update_interval_millis", "50")
        yield c
        pause(c)


def state_of(conn: pymysql.connections.Connection, label: str) -> str | None:
    found = q(conn, f"SELECT STATE FROM information_schema.backup_restore_jobs WHERE LABEL = '{label}'")
    return found[0][0] if found else None


def wait_for_state(conn: pymysql.connections.Connection, label: str, state: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while state_of(conn, label) != state:
        assert time.monotonic() < deadline, f"{label} never reached {state}: {state_of(conn, label)}"
        time.sleep(0.05)


def test_watch_draws_a_running_backup_until_it_finishes(
    server: DorisbkServer, conn: pymysql.connections.Connection
) -> None:
    q(conn, "CREATE DATABASE wdb")
    make_table(conn, "wdb", "t", rows=50, buckets=2)
    pause(conn, "UPLOADING")  # the job stays in UPLOADING until released
    q(conn, "BACKUP SNAPSHOT wdb.held TO r")
    wait_for_state(conn, "held", "UPLOADING")
    command = ["env", f"PYTHONPATH={SRC}", sys.executable, "-m", "dorisbk.cli", "watch", "--port", str(server.port),
               "--db", "wdb", "--interval", "0.2"]  # fmt: skip
    shell = " ".join(f"'{c}'" for c in command) + "; echo watch exited $?; sleep 60"
    tmux = Tmux(f"dorisbk-watch-{server.port}", ["bash", "-c", shell], width=180, height=20)
    try:
        screen = tmux.wait_for("wdb.held")
        row = next(line for line in screen.splitlines() if "wdb.held" in line)
        assert "BACKUP" in row and "UPLOADING" in row and "[" in row and "]" in row, screen
        first = tmux.wait_for("dorisbk watch")
        # redrawn in place: frames replace each other, the job is on the screen once
        deadline = time.monotonic() + 10
        while tmux.screen() == first:
            assert time.monotonic() < deadline, "the view never refreshed"
            time.sleep(0.05)
        assert tmux.screen().count("wdb.held") == 1, tmux.screen()
        pause(conn)  # released: the job uploads its meta and finishes
        wait_for_state(conn, "held", "FINISHED")
        screen = tmux.wait_for("FINISHED")
        row = next(line for line in screen.splitlines() if "wdb.held" in line)
        assert "[" + "#" * 30 + "]" in row and "100%" in row, screen
        subprocess.run([tmux.tmux, "send-keys", "-t", tmux.name, "C-c"], check=True)
        screen = tmux.wait_for("watch exited 0")
        assert "Traceback" not in screen, screen
    finally:
        tmux.close()
