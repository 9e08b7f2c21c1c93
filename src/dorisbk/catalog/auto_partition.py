"""AUTO PARTITION tables: the partitions a load's rows need, named and bounded as Doris makes them.

``AUTO PARTITION BY RANGE (date_trunc(col, 'day')) ()`` gets, for a row whose truncated value no
partition takes, the partition ``[t, t + 1 unit)`` named ``p<yyyyMMddHHmmss of t>``;
``AUTO PARTITION BY LIST (col) ()`` gets ``VALUES IN (v)`` named ``p`` + each value followed by
its length, with characters other than ``[A-Za-z0-9]`` written as their code point in hex
(a leading ``-`` adds ``_``), cut at 50 characters plus a hash when a column is a string.
As in Doris, the partitions are added (in one metadata commit) before the load writes its rows,
so they stay when the load then fails.

``partition.retention_count`` = N keeps the N newest history partitions of an AUTO RANGE table
(those wholly before now); older ones are dropped by the partition scheduler.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence

from dorisbk.catalog.model import Column, Partition, PartitionDef, Table
from dorisbk.errors import DorisError

UNITS = ("year", "quarter", "month", "week", "day", "hour", "minute", "second")
RETENTION_COUNT = "partition.retention_count"
MAX_NAME = 50


def check(spec: object, part_type: str, part_cols: Sequence[str], columns: Sequence[Column]) -> str | None:
    """The table's ``auto_partition`` value (None, "" for LIST, the unit for RANGE) after Doris's checks."""
    if spec is None:
        return None
    func, unit = getattr(spec, "func", ""), getattr(spec, "unit", "")
    if part_type == "LIST":
        if func:
            raise DorisError("auto create partition only support slotRef in list partitions.")
        return ""
    if not func:
        raise DorisError("now range partition only support FunctionCallExpr")
    if func != "date_trunc":
        raise DorisError("now range partition only support date_trunc/date_floor/date_ceil.")
    if unit not in UNITS:
        raise DorisError(f"date_trunc function time unit param only support argument is {'|'.join(UNITS)}")
    col = next((c for c in columns if c.name.lower() == part_cols[0].lower()), None)
    if col is not None and col.type.name not in ("DATE", "DATEV2", "DATETIME", "DATETIMEV2"):
        raise DorisError(f"partition expr date_trunc is illegal! column {col.name} is not a date type")
    return unit


def truncated_sql(table: Table, column_sql: str) -> str:
    """DuckDB SQL of ``date_trunc(col, unit)`` as a TIMESTAMP (weeks start on Monday in both)."""
    return f"date_trunc('{table.auto_partition}', CAST({column_sql} AS TIMESTAMP))"


def _plus(start: dt.datetime, unit: str) -> dt.datetime:
    if unit in ("year", "quarter", "month"):
        months = {"year": 12, "quarter": 3, "month": 1}[unit]
        total = start.year * 12 + start.month - 1 + months
        year, month = divmod(total, 12)
        day = min(start.day, calendar.monthrange(year, month + 1)[1])
        return start.replace(year=year, month=month + 1, day=day)
    step = {"week": dt.timedelta(days=7), "day": dt.timedelta(days=1), "hour": dt.timedelta(hours=1)}
    step |= {"minute": dt.timedelta(minutes=1), "second": dt.timedelta(seconds=1)}
    return start + step[unit]


def _literal(moment: dt.datetime, type_name: str) -> str:
    return moment.strftime("%Y-%m-%d" if type_name in ("DATE", "DATEV2") else "%Y-%m-%d %H:%M:%S")


def range_partition(table: Table, begin: dt.datetime) -> PartitionDef:
    """The partition ``[begin, begin + unit)`` a row truncated to ``begin`` needs."""
    col = table.column(table.partition_columns[0])
    type_name = col.type.name if col is not None else "DATETIME"
    try:
        end = _plus(begin, str(table.auto_partition))
    except (ValueError, OverflowError):
        raise DorisError(f"Can't create partition for {begin}: its range ends beyond 9999-12-31") from None
    name = "p" + begin.strftime("%Y%m%d%H%M%S")
    return PartitionDef(name, lower=(_literal(begin, type_name),), upper=(_literal(end, type_name),))


def _java_hash(text: str) -> int:
    h = 0
    for ch in text:
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h


def _format_value(text: str) -> str:
    out = "_" if text.startswith("-") else ""
    for ch in text:
        out += ch if ch.isascii() and ch.isalnum() else format(ord(ch), "x")
    return out


def list_partition(table: Table, value: Sequence[str], has_string: bool) -> PartitionDef:
    """The partition ``VALUES IN ((v1, v2..))`` a row with ``value`` needs, with Doris's name for it."""
    name = "p" + _format_value("".join(f"{v}{len(v)}" for v in value))
    if has_string and len(name) > MAX_NAME:
        name = name[:MAX_NAME] + "_" + format(_java_hash(name), "x")
    return PartitionDef(name, values=(tuple(value),))


def value_text(value: object) -> str:
    """A partition value as the load hands it over (Doris's string form of the literal)."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def expired(table: Table, parts: Sequence[Partition], now: dt.datetime | None = None) -> list[Partition]:
    """History partitions beyond ``partition.retention_count`` (oldest first) of an AUTO RANGE table."""
    raw = table.properties.get(RETENTION_COUNT)
    if not table.auto_partition or raw is None or not raw.strip().lstrip("-").isdigit() or int(raw) <= 0:
        return []
    col = table.column(table.partition_columns[0])
    type_name = col.type.name if col is not None else "DATETIME"
    limit = _literal(now or dt.datetime.now(), type_name)
    history = [p for p in parts if p.upper is not None and p.upper[0] is not None and p.upper[0] <= limit]
    history.sort(key=lambda p: p.upper[0] if p.upper else "")
    return history[: max(0, len(history) - int(raw))]
