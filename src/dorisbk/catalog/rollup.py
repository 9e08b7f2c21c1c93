"""Synchronous materialized views: Doris's rollup indexes of an OLAP table.

Doris fills each such view as an extra index of every partition (an alter job) and keeps it
current on every load. Here a view is metadata of its base table (``Table.rollups``): its rows
are what its query gives over the base table's visible rows, which is always what Doris's
index holds, so loads, deletes, truncates and restores keep it consistent with nothing to do.
What users see of it follows Doris: the index rows of ``DESC t ALL`` and the alter job of
``SHOW ALTER TABLE MATERIALIZED VIEW``; building one from its SELECT and choosing the index a query
reads is the engine's (``engine.materialized_view``).

A rollup is a dict: ``id``, ``name``, ``keys_type`` (AGG_KEYS / DUP_KEYS), ``columns`` (each
``name``, ``type``, ``nullable``, ``is_key``, ``aggregation``, ``define_expr``, ``source``),
``where`` (Doris's WhereClause text, "" without one), ``query`` (the statement's SELECT) and,
on the server that built it, ``job`` (its alter job: ``job_id``, ``txn_id``, times).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dorisbk.catalog.model import Table
from dorisbk.catalog.types import ColumnType
from dorisbk.timeutil import long_to_time_string

ALTER_TIMEOUT_S = 2592000  # Config.alter_table_timeout_second
ALTER_JOB_COLUMNS = ("JobId", "TableName", "CreateTime", "FinishTime", "BaseIndexName", "RollupIndexName",
                     "RollupId", "TransactionId", "State", "Msg", "Progress", "Timeout")  # fmt: skip


def find(table: Table, name: str) -> dict[str, Any] | None:
    return next((r for r in table.rollups if r["name"].lower() == name.lower()), None)


def restored(rollups: list[dict[str, Any]], next_id: Callable[[], int]) -> list[dict[str, Any]]:
    """A restored table's views: new index ids as every restored index gets, and no alter job (the
    job belonged to the server that built the view)."""
    return [{**{k: v for k, v in r.items() if k != "job"}, "id": next_id()} for r in rollups]


def signature(rollups: list[dict[str, Any]]) -> tuple:
    """What of the views makes a table's schema (a restore into an existing table compares it)."""
    return tuple(
        sorted((r["name"], r["keys_type"], tuple((c["name"], c["is_key"]) for c in r["columns"])) for r in rollups)
    )


# ---- what users see


def describe_rows(table: Table, base_rows: list[tuple]) -> list[tuple]:
    """``DESC t ALL``: the base index rows, then each view's, an empty row between two indexes;
    an index's name, keys type and WHERE clause are on its first row only."""
    out = list(base_rows)
    width = len(base_rows[0]) if base_rows else 12
    for r in table.rollups:
        out.append(("",) * width)
        for i, col in enumerate(r["columns"]):
            ctype = ColumnType.from_dict(col["type"]).sql()
            first = i == 0
            out.append((
                r["name"] if first else "", r["keys_type"] if first else "", col["name"], ctype, ctype,
                "Yes" if col["nullable"] else "No", "true" if col["is_key"] else "false", None,
                col["aggregation"] or "", "true", col["define_expr"], r["where"] if first else "",
            ))  # fmt: skip
    return out


def alter_job_rows(tables: list[Table]) -> list[tuple]:
    """``SHOW ALTER TABLE MATERIALIZED VIEW``: the finished job that built each view, by job id."""
    rows = []
    for table in tables:
        for r in table.rollups:
            job = r.get("job")
            if job is None:
                continue
            rows.append((str(job["job_id"]), table.name, long_to_time_string(job["create_time"]),
                         long_to_time_string(job["finish_time"]), table.name,
                         r["name"], str(r["id"]), str(job["txn_id"]), "FINISHED", "", None,
                         str(ALTER_TIMEOUT_S)))  # fmt: skip
    return sorted(rows, key=lambda row: (int(row[0]), row[1]))
