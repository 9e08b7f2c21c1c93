"""Light schema change: ADD / DROP / MODIFY / RENAME COLUMN, checked the way Doris checks them.

Doris applies these to the metadata at once and reads old segments through the column's unique
id. Here a change is one metadata commit too, and rowset files are never rewritten:

* every column has a file name (``Column.stored``, its own name until renamed) under which loads
  write it; RENAME COLUMN keeps the file name, ADD COLUMN gives a fresh ``__c<id>`` one, so a new
  column never reads what a dropped or renamed one left in old files;
* ``Table.schema_version`` counts the changes; once above 0 a scan reads each group of files by its
  own Parquet schema (backend/scan.py): a column a file lacks reads as its default (else NULL), a
  changed type is cast, a dropped column is not read;
* MODIFY COLUMN allows the conversions Doris allows, read back with a cast (what Doris's rewrite
  of the data would give);
* each change is a FINISHED job in ``Table.schema_jobs`` for SHOW ALTER TABLE COLUMN.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from dorisbk.catalog import column_def as s
from dorisbk.catalog.catalog import Catalog
from dorisbk.catalog.model import AGG_FUNCS, Column, Table, now_ms
from dorisbk.catalog.rollup import ALTER_TIMEOUT_S
from dorisbk.catalog.types import INTEGER_RANGES, ColumnType
from dorisbk.errors import DorisError
from dorisbk.meta.store import Change
from dorisbk.timeutil import long_to_time_string

JOB_COLUMNS = ("JobId", "TableName", "CreateTime", "FinishTime", "IndexName", "IndexId", "OriginIndexId",
               "SchemaVersion", "TransactionId", "State", "Msg", "Progress", "Timeout")  # fmt: skip
_INTEGERS = list(INTEGER_RANGES)  # narrowest first
_STRINGS = ("CHAR", "VARCHAR", "STRING", "TEXT")


def apply(table: Table, changes: Sequence[s.ColumnChange], next_id: Callable[[], int]) -> Table:
    """``table`` after ``changes`` (one ALTER TABLE statement), with its finished job recorded."""
    if table.kind != "OLAP":
        raise DorisError(f"Table[{table.name}] is not a OLAP table")
    new = dataclasses.replace(
        table,
        columns=[dataclasses.replace(c) for c in table.columns],
        indexes=[dict(i) for i in table.indexes],
        properties=dict(table.properties),
    )
    for change in changes:
        if change.rollup is not None and change.rollup.lower() != table.name.lower():
            _check_rollup_target(table, change.rollup)
        match change.op:
            case "ADD":
                assert change.column is not None
                _add(new, change, next_id)
            case "DROP":
                _drop(new, change.name)
            case "MODIFY":
                assert change.column is not None
                _modify(new, change)
            case "COMMENT":
                _column(new, change.name).comment = change.comment
            case "RENAME":
                _rename(new, change.name, change.new_name)
    new.key_columns = [c.name for c in new.columns if c.is_key]
    now = now_ms()
    new.schema_version = table.schema_version + 1
    job = {"job_id": next_id(), "txn_id": next_id(), "create_time": now, "finish_time": now,
           "schema_version": new.schema_version}  # fmt: skip
    new.schema_jobs = [*table.schema_jobs, job]
    new.update_time = now
    return new


def _check_rollup_target(table: Table, name: str) -> None:
    if not any(r["name"].lower() == name.lower() for r in table.rollups):
        raise DorisError(f"Index[{name}] does not exist in table[{table.name}]")
    raise DorisError("Changing the columns of a materialized view index is not supported by dorisbk", code=1235)


def _column(table: Table, name: str) -> Column:
    col = table.column(name)
    if col is None:
        raise DorisError(f"Column[{name}] does not exists")
    return col


# Doris's rule for column names with its unicode name support (on by default): up to 256 characters, the last
# not a space. A CREATE TABLE ... AS SELECT names a column after its expression (``hist(c, 2)``), so brackets
# and operators are names too; each name is quoted where SQL is generated (quote_ident). Stricter than Doris:
# no single quote, semicolon, backtick, backslash or control character, which no generated text must carry
COLUMN_NAME = re.compile(r"[^\x00-\x1f\x7f'`;\\]{0,255}[^\x00-\x20\x7f'`;\\]")


def check_column_name(name: str) -> None:
    if not COLUMN_NAME.fullmatch(name):
        raise DorisError(f"Incorrect column name '{name}'. Column regex is '{COLUMN_NAME.pattern}'", code=1166)


def _new_column(table: Table, cdef: s.ColumnDef) -> Column:
    """A column of an ADD or MODIFY COLUMN, with its key / aggregation as the table's key model sets them."""
    if cdef.auto_increment is not None:
        raise DorisError(f"Can not add or modify a AUTO_INCREMENT column: {cdef.name}")
    check_column_name(cdef.name)
    ctype = ColumnType.of(cdef.type_name, cdef.type_args, cdef.type_items)
    if cdef.has_default and cdef.default not in (None, "CURRENT_TIMESTAMP"):
        ctype.coerce(cdef.default)
    agg = cdef.aggregation
    if agg is not None and agg not in AGG_FUNCS:
        raise DorisError(f"Aggregate type {agg} is not supported by dorisbk")
    is_key = cdef.is_key
    if table.keys_type == "AGG_KEYS":
        if is_key and agg is not None:
            raise DorisError(f"Can not assign aggregation method on key column: {cdef.name}")
        if agg is None:
            is_key = True  # in an aggregate table a column without aggregation is a key
        elif agg == "SUM" and cdef.default not in (None, "0"):
            raise DorisError(f"The default value of '{cdef.name}' with SUM aggregation function must be zero")
    elif agg is not None:
        model = "Unique" if table.keys_type == "UNIQUE_KEYS" else "Duplicate"
        raise DorisError(f"Can not assign aggregation method on column in {model} data model table: {cdef.name}")
    elif table.keys_type == "UNIQUE_KEYS" and not is_key:
        agg = "REPLACE"
    if is_key and ctype.is_float:
        raise DorisError(f"Float or double can not used as a key, use decimal instead: {cdef.name}")
    return Column(
        name=cdef.name,
        type=ctype,
        nullable=cdef.nullable if cdef.nullable is not None else True,
        is_key=is_key,
        aggregation=agg,
        default=cdef.default,
        comment=cdef.comment,
    )


def _position(table: Table, col: Column, after: str | None, first: bool) -> int:
    """Where a column goes: FIRST, AFTER a column, else a key after the last key and a value at the end."""
    if first:
        return 0
    if after is not None:
        anchor = table.column(after)
        if anchor is None:
            raise DorisError(f"Column[{after}] does not exists")
        return table.columns.index(anchor) + 1
    if col.is_key:
        return sum(1 for c in table.columns if c.is_key)
    return len(table.columns)


def _check_order(table: Table) -> None:
    """Keys stay an ordered prefix of the columns."""
    seen_value = False
    for i, col in enumerate(table.columns):
        if col.is_key and seen_value:
            raise DorisError(f"Invalid column order. value should be after key. index[{i}]")
        seen_value = seen_value or not col.is_key


def _add(table: Table, change: s.ColumnChange, next_id: Callable[[], int]) -> None:
    cdef = change.column
    assert cdef is not None
    if table.column(cdef.name) is not None:
        raise DorisError(f"Can not add column which already exists in base table: {cdef.name}")
    col = _new_column(table, cdef)
    if not col.nullable and not cdef.has_default:
        raise DorisError(f"Can not add a NOT NULL column without a default value: {cdef.name}")
    col.stored = f"__c{next_id()}"
    if col.default == "CURRENT_TIMESTAMP":
        col.backfill = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    table.columns.insert(_position(table, col, change.after, change.first), col)
    _check_order(table)


def _drop(table: Table, name: str) -> None:
    col = table.column(name)
    if col is None:
        raise DorisError(f"Column does not exists: {name}")
    if col.is_key and table.keys_type == "UNIQUE_KEYS":
        raise DorisError("Can not drop key column in Unique data model table")
    replaced = any(c.aggregation in ("REPLACE", "REPLACE_IF_NOT_NULL") for c in table.columns)
    if col.is_key and table.keys_type == "AGG_KEYS" and replaced:
        raise DorisError("Can not drop key column when table has value column with REPLACE aggregation method")
    lowered = name.lower()
    if lowered in (c.lower() for c in [*table.partition_columns, *table.distribution_columns]):
        raise DorisError(f"Can not drop partition or distribution column : {col.name}")
    for r in table.rollups:
        if any(lowered in (c.get("define_expr") or "").strip("`").lower() for c in r["columns"]):
            raise DorisError(f"Can not drop column contained by mv, mv={r['name']}")
    if len(table.columns) == 1:
        raise DorisError("Do not allow remove last column of table: " + table.name)
    if col.is_key and sum(1 for c in table.columns if c.is_key) == 1 and table.keys_type != "DUP_KEYS":
        raise DorisError(f"Can not drop the only key column: {col.name}")
    table.columns.remove(col)
    # indexes on the column go with it, as in Doris
    table.indexes = [i for i in table.indexes if lowered not in (c.lower() for c in i["columns"])]
    _drop_from_property(table, "bloom_filter_columns", lowered)


def _drop_from_property(table: Table, key: str, lowered: str) -> None:
    if key not in table.properties:
        return
    kept = [c.strip() for c in table.properties[key].split(",") if c.strip() and c.strip().lower() != lowered]
    if kept:
        table.properties[key] = ", ".join(kept)
    else:
        table.properties.pop(key)


def _modify(table: Table, change: s.ColumnChange) -> None:
    cdef = change.column
    assert cdef is not None
    old = _column(table, cdef.name)
    if old.auto_increment is not None:
        raise DorisError("Can't not modify a AUTO_INCREMENT column")
    new = _new_column(table, cdef)
    new.name, new.stored = old.name, old.stored
    if table.keys_type == "AGG_KEYS" and old.is_key != new.is_key:
        raise DorisError("Can not change aggregation type")
    if table.keys_type != "AGG_KEYS":
        new.is_key = old.is_key
        new.aggregation = old.aggregation
    if new.aggregation != old.aggregation:
        raise DorisError("Can not change aggregation type")
    if old.nullable and not new.nullable:
        raise DorisError("Can not change from nullable to non-nullable")
    if new.type != old.type:
        lowered = old.name.lower()
        if lowered in (c.lower() for c in table.partition_columns):
            raise DorisError(f"Can not modify partition column[{old.name}]. index[{table.name}]")
        if lowered in (c.lower() for c in table.distribution_columns):
            raise DorisError(f"Can not modify distribution column[{old.name}]. index[{table.name}]")
        check_type_change(old.type, new.type)
    place = table.columns.index(old)  # without FIRST / AFTER the column keeps its place
    table.columns.remove(old)
    if change.first or change.after is not None:
        place = _position(table, new, change.after, change.first)
    table.columns.insert(place, new)
    _check_order(table)


def check_type_change(old: ColumnType, new: ColumnType) -> None:
    """The type conversions Doris's schema change allows (others fail as Doris says)."""
    if old == new:
        return
    if old.name in _STRINGS and new.name in _STRINGS:
        if new.name == "CHAR" and old.name != "CHAR":
            raise DorisError(f"Can not change {old.sql()} to {new.sql()}")
        if old.name in ("STRING", "TEXT") and new.name not in ("STRING", "TEXT"):
            raise DorisError(f"Can not change {old.sql()} to {new.sql()}")
        if (old.length or 0) > (new.length or 65533) and new.name not in ("STRING", "TEXT"):
            raise DorisError("Cannot shorten string length")
        return
    if old.is_integer and new.is_integer and _INTEGERS.index(new.name) >= _INTEGERS.index(old.name):
        return
    numeric = old.is_integer or old.is_float
    if numeric and (new.is_float or new.name in ("VARCHAR", "STRING")) and (old.name, new.name) != ("DOUBLE", "FLOAT"):
        return
    decimals = old.name.startswith("DECIMAL") and new.name.startswith("DECIMAL")
    if decimals and (new.precision or 0) >= (old.precision or 0) and new.scale == old.scale:
        return
    if old.name in ("DATE", "DATEV2") and new.name in ("DATETIME", "DATETIMEV2", "DATE", "DATEV2"):
        return
    if old.name in ("DATETIME", "DATETIMEV2") and new.name in ("DATETIME", "DATETIMEV2", "DATE", "DATEV2"):
        return
    raise DorisError(f"Can not change {old.sql()} to {new.sql()}")


def _rename(table: Table, name: str, new_name: str) -> None:
    col = _column(table, name)
    if name == new_name:
        raise DorisError(f"Same column name: {name}")
    check_column_name(new_name)
    if table.column(new_name) is not None and new_name.lower() != name.lower():
        raise DorisError(f"Column name[{new_name}] is already used")
    if not new_name or len(new_name) > 256:
        raise DorisError(f"Incorrect column name '{new_name}'", code=1166)
    lowered = col.name.lower()
    for r in table.rollups:
        if any(lowered in (c.get("define_expr") or "").strip("`").lower() for c in r["columns"]):
            raise DorisError(f"Can not rename column contained by mv, mv={r['name']}")
    col.stored = col.file_name  # the files keep the column under the name they have
    col.name = new_name

    def renamed(names: list[str]) -> list[str]:
        return [new_name if n.lower() == lowered else n for n in names]

    table.partition_columns = renamed(table.partition_columns)
    table.distribution_columns = renamed(table.distribution_columns)
    table.indexes = [{**i, "columns": renamed(list(i["columns"]))} for i in table.indexes]
    if "bloom_filter_columns" in table.properties:
        names = [c.strip() for c in table.properties["bloom_filter_columns"].split(",") if c.strip()]
        table.properties["bloom_filter_columns"] = ", ".join(renamed(names))
    for key in [k for k in table.properties if k.startswith("sequence_mapping.")]:
        cols = [c.strip() for c in table.properties[key].split(",") if c.strip()]
        table.properties[key] = ",".join(renamed(cols))
    if table.properties.get("function_column.sequence_col", "").lower() == lowered:
        table.properties["function_column.sequence_col"] = new_name


def alter(catalog: Catalog, db_name: str, name: str, changes: Sequence[s.ColumnChange]) -> None:
    """ALTER TABLE ... ADD / DROP / MODIFY / RENAME COLUMN: one metadata commit, finished at once."""
    with catalog.lock:
        table = catalog.olap_table(catalog.db(db_name), name)
        catalog.check_alterable(table)
        catalog.commit(Change(), puts=[apply(table, changes, catalog.store.next_id)])


# ---- SHOW ALTER TABLE COLUMN


def job_rows(tables: list[Table]) -> list[tuple]:
    """The finished schema change jobs of ``tables``, by job id."""
    rows = []
    for table in tables:
        for job in table.schema_jobs:
            rows.append(_job_row(table, job))
    return sorted(rows, key=lambda row: int(row[0]))


def _job_row(table: Table, job: dict[str, Any]) -> tuple:
    schema_hash = zlib.crc32(f"{table.id}:{job['schema_version']}".encode()) & 0x7FFFFFFF
    return (str(job["job_id"]), table.name, long_to_time_string(job["create_time"]),
            long_to_time_string(job["finish_time"]), table.name, str(table.base_index_id),
            str(table.base_index_id), f"{job['schema_version']}:{schema_hash}", str(job["txn_id"]),
            "FINISHED", "", None, str(ALTER_TIMEOUT_S))  # fmt: skip
