"""One embedded DuckDB database shared by loads and queries; each task takes its own cursor.

Threads and memory are capped so that the server keeps to its footprint on a small
machine; DuckDB spills to the data dir's temp folder beyond that.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import duckdb

_lock = threading.Lock()
_db: duckdb.DuckDBPyConnection | None = None


def configure(temp_dir: Path, memory_limit: str = "640MB") -> None:
    """Open the shared database; called once at server start."""
    global _db
    with _lock:
        if _db is not None:
            return
        temp_dir.mkdir(parents=True, exist_ok=True)
        _db = duckdb.connect(
            config={
                "threads": max(2, os.cpu_count() or 2),
                "memory_limit": memory_limit,
                "temp_directory": str(temp_dir),
                "preserve_insertion_order": False,
                "enable_external_access": True,
                # a load writes one file per (partition, bucket): flush them early and keep them all open,
                # rather than buffering every row and spilling. Each flush is a Parquet row group, so a
                # smaller threshold loads faster but scans slower: 16384 rows balances the two
                # (bench/load_query.py: 8192 loads ~5% faster and scans ~40% slower, 65536 the reverse)
                "partitioned_write_flush_threshold": 16384,
                "partitioned_write_max_open_files": 1024,
            }
        )
        # rowset files never change once written, so their parsed footers can stay cached (DuckDB checks
        # each file's modification time): ~3% off a warm scan of 128 tablets (bench/load_query.py)
        _db.execute("LOAD parquet")
        _db.execute("SET GLOBAL parquet_metadata_cache = true")


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor of the shared database (safe to use from one worker thread)."""
    if _db is None:
        configure(Path("dorisbk-data") / "duckdb_tmp")
    assert _db is not None
    return _db.cursor()


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_ERROR_KINDS = (
    "Binder Error: ",
    "Parser Error: ",
    "Catalog Error: ",
    "Conversion Error: ",
    "Invalid Input Error: ",
    "Out of Range Error: ",
    "Not implemented Error: ",
)


def error_message(exc: duckdb.Error) -> str:
    """DuckDB's first error line without its category prefix, as a client should read it."""
    text = str(exc).split("\n", 1)[0]
    for prefix in _ERROR_KINDS:
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text
