"""Fixtures: real dorisbk server processes on free loopback ports."""

from __future__ import annotations

import subprocess
import uuid
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


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database of the machine's PostgreSQL (127.0.0.1:5432, trust auth) for the test, dropped after."""
    name = f"dorisbk_test_{uuid.uuid4().hex[:10]}"
    try:
        _psql(f"CREATE DATABASE {name}")
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 not usable: {exc}")
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


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
