"""Fresh PostgreSQL databases on the machine's server (127.0.0.1:5432, trust auth), for tests and benchmarks."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
        timeout=60,
    )


def create_database() -> str:
    """A new database's name; OSError / CalledProcessError where PostgreSQL is not usable."""
    name = f"dorisbk_test_{uuid.uuid4().hex[:10]}"
    psql(f"CREATE DATABASE {name}")
    return name


def drop_database(name: str) -> None:
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def fresh_database() -> Iterator[str]:
    """The SQLAlchemy URL of a new database, dropped on exit."""
    name = create_database()
    try:
        yield f"{SERVER}/{name}"
    finally:
        drop_database(name)
