"""SHOW REPOSITORIES reports an unreachable repository in ErrMsg, and clears it once it is back."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from tests.dorisbk_server import DorisbkServer


def _err_msg(server: DorisbkServer, name: str) -> str | None:
    rows = server.query("SHOW REPOSITORIES")
    return next(r[7] for r in rows if r[1] == name)


def _wait_for(predicate, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_err_msg_follows_repository_health(fresh_server: DorisbkServer, tmp_path: Path) -> None:
    server = fresh_server.start()
    location = tmp_path / "repo"
    location.mkdir()
    server.query(f'CREATE REPOSITORY pinged WITH LOCAL ON LOCATION "file://{location}"')
    server.query('ADMIN SET FRONTEND CONFIG ("repository_ping_interval_ms" = "100")')
    assert _err_msg(server, "pinged") is None
    info = location / "__palo_repository_pinged" / "__repo_info"
    saved = info.read_bytes()
    shutil.rmtree(location / "__palo_repository_pinged")
    assert _wait_for(lambda: _err_msg(server, "pinged") is not None)
    message = _err_msg(server, "pinged")
    assert message is not None and "__repo_info" in message
    info.parent.mkdir(parents=True)
    info.write_bytes(saved)
    assert _wait_for(lambda: _err_msg(server, "pinged") is None)
