"""One embedded DuckDB database shared by loads and queries; each task takes its own cursor.

Threads and memory are capped so that the server keeps to its footprint on a small
machine; DuckDB spills to the data dir's temp folder beyond that.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import duckdb

from dorisbk import interrupt

_lock = threading.Lock()
_db: duckdb.DuckDBPyConnection | None = None


# no extension is installed or loaded while queries run: only what DuckDB is built with
_NO_EXTENSIONS = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
}


def configure(temp_dir: Path, data_roots: list[Path], memory_limit: str = "640MB") -> None:
    """Open the shared database, locked; called once at server start.

    DuckDB may touch files only under the backends' storage roots and its temp folder (not the
    metadata store beside them), loads no extension at query time, and its configuration is
    locked: no statement can widen that, log to a file or change a limit. The query allowlist
    (``engine/allowlist.py``) is the other layer; each alone stops a query from reaching the host.
    """
    global _db
    with _lock:
        if _db is not None:
            return
        temp_dir.mkdir(parents=True, exist_ok=True)
        db = duckdb.connect(
            config={
                "threads": max(2, os.cpu_count() or 2),
                "memory_limit": memory_limit,
                "temp_directory": str(temp_dir),
                # loads number the rows of UNIQUE / AGGREGATE tables in source order and compaction keeps
                # rowsets in order; the setting is locked below, so it is DuckDB's default for every cursor
                # (no measurable cost on a 5M-row partitioned COPY and scan, 3 interleaved runs)
                "preserve_insertion_order": True,
                **_NO_EXTENSIONS,
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
        db.execute("SET GLOBAL parquet_metadata_cache = true")
        allowed = ", ".join(quote_str(str(path.resolve()) + os.sep) for path in [temp_dir, *data_roots])
        db.execute(f"SET allowed_directories = [{allowed}]")
        db.execute("SET enable_external_access = false")
        db.execute("SET lock_configuration = true")
        _db = db


def scratch() -> duckdb.DuckDBPyConnection:
    """A small in-memory database of its own (information_schema answers from rows the catalog gives it),
    with no file access at all and its configuration locked, like the shared one."""
    return duckdb.connect(
        ":memory:",
        config={
            "threads": 1,
            **_NO_EXTENSIONS,
            "enable_external_access": False,
            "lock_configuration": True,
        },
    )


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor of the shared database (safe to use from one worker thread); KILL and query_timeout
    interrupt it when it is opened for a client's statement."""
    if _db is None:
        raise RuntimeError("duck.configure() was not called")
    cur = _db.cursor()
    interrupt.register(cur)
    return cur


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# DuckDB words each error "<Kind> Error: <message>" (Binder, Catalog, Conversion, Permission, ...)
_ERROR_KIND = re.compile(r"^[A-Z][A-Za-z]*(?: [A-Za-z]+)* Error: ")


# DuckDB's words for a call it cannot bind, and Doris's for the same failure
_NO_FUNCTION = re.compile(
    r'(?:Scalar|Aggregate|Table) Function with name "?(\w+)"? (?:does not exist|is not in the catalog)'
)
_NO_SIGNATURE = re.compile(r"No function matches the given name and argument types '(.*)'\.")
# what DuckDB puts before the message of an exception a Python function of ours raised (engine/macros.py)
_PYTHON_FUNCTION = re.compile(r"^Python exception occurred while executing the UDF: \w+: ")


def error_message(exc: duckdb.Error) -> str:
    """DuckDB's first error line without its category prefix, as a client should read it; a call DuckDB
    cannot bind in Doris's words."""
    message = _PYTHON_FUNCTION.sub("", _ERROR_KIND.sub("", str(exc).split("\n", 1)[0], count=1), count=1)
    if found := _NO_FUNCTION.search(message):
        return f"Can not found function '{found.group(1)}'"
    if found := _NO_SIGNATURE.search(message):
        return f"Can not find the compatibility function signature: {found.group(1)}"
    return message
