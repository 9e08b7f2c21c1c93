"""Fixtures: real dorisbk server processes on free loopback ports."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dorisbk_server import DorisbkServer
from tests.pgdb import SERVER, create_database, drop_database


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


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database per test (skipped where the machine's server is not usable)."""
    try:
        name = create_database()
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 not usable: {exc}")
    yield f"{SERVER}/{name}"
    drop_database(name)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run the tests marked slow (make test-slow)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fast: runs in process, without starting a server (the fast tier: make test-fast)"
    )
    config.addinivalue_line("markers", "slow: Doris's sizes, a quarter of an hour or more (make test-slow)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked slow are skipped unless asked for, so that make test stays within its time."""
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow (make test-slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
