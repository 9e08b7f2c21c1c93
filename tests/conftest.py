"""Fixtures: real dorisbk server processes on free loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dorisbk_server import DorisbkServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DorisbkServer]:
    """One server per test module (its tests use their own databases)."""
    srv = DorisbkServer(tmp_path_factory.mktemp("srv") / "data").start()
    yield srv
    srv.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[DorisbkServer]:
    """A server of the test's own, for restarts and kills."""
    srv = DorisbkServer(tmp_path / "data")
    yield srv
    srv.stop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fast: runs in process, without starting a server (the fast tier: make test-fast)"
    )
