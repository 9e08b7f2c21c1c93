"""Time-based partitions: ``dynamic_partition.*`` table properties and ``FROM .. TO .. INTERVAL`` batches.

A dynamic-partition table gets, when it is created, one RANGE partition per time unit from
``start`` (only with ``create_history_partition``, else from today) to ``end`` units after today,
named ``<prefix><yyyy|yyyyMM|yyyyMMdd|yyyy_ww|yyyyMMddHH>`` as Doris's scheduler names them; a
partition whose name or range is already taken is skipped, as Doris does. As time passes the
scheduler (``dynamic_scheduler``) keeps adding the future partitions and drops those before ``start``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Sequence
from pathlib import Path

from dorisbk.catalog.model import PartitionDef
from dorisbk.config import MAX_MULTI_PARTITION_NUM
from dorisbk.errors import DorisError

PREFIX = "dynamic_partition."
UNITS = ("HOUR", "DAY", "WEEK", "MONTH", "YEAR")
MIN_START = -2147483648
# SHOW CREATE TABLE lists the properties in this order, defaults filled in.
ORDER = (
    "enable",
    "time_unit",
    "time_zone",
    "start",
    "end",
    "prefix",
    "replication_allocation",
    "buckets",
    "create_history_partition",
    "history_partition_num",
    "hot_partition_num",
    "reserved_history_periods",
    "storage_policy",
)


def system_time_zone() -> str:
    """The zone id Doris shows by default (the FE's system zone)."""
    zone = os.environ.get("TZ", "").lstrip(":")
    if not zone:
        try:
            zone = Path("/etc/timezone").read_text().strip()
        except OSError:
            zone = ""
    return zone or "Etc/UTC"


def is_dynamic(props: dict[str, str]) -> bool:
    return any(k.startswith(PREFIX) for k in props)


def _int(props: dict[str, str], key: str, default: int) -> int:
    raw = props.get(PREFIX + key)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise DorisError(f"Invalid properties: {PREFIX}{key}: {raw}") from None


def normalize(props: dict[str, str], partition_type: str, partition_columns: Sequence[str], column_type: str,
              buckets: int, replication_num: int) -> dict[str, str]:  # fmt: skip
    """Check the dynamic_partition.* properties as Doris does and fill in their defaults."""
    if partition_type != "RANGE":
        raise DorisError("Dynamic partition only support range partition type")
    if len(partition_columns) != 1:
        raise DorisError("Dynamic partition only support single-column range partition")
    if column_type.upper() not in ("DATE", "DATEV2", "DATETIME", "DATETIMEV2", "INT", "BIGINT", "LARGEINT"):
        raise DorisError(f"Dynamic partition only support DATE, DATETIME and INT type: {column_type}")
    unit = props.get(PREFIX + "time_unit", "").upper()
    if unit not in UNITS:
        raise DorisError(f"Unsupported time unit {unit}. Expect HOUR/DAY/WEEK/MONTH/YEAR.")
    if PREFIX + "prefix" not in props:
        raise DorisError("Must assign dynamic_partition.prefix properties")
    if PREFIX + "end" not in props:
        raise DorisError("Must assign dynamic_partition.end properties")
    start, end = _int(props, "start", MIN_START), _int(props, "end", 0)
    if end <= 0:
        raise DorisError("Dynamic partition end must greater than 0")
    if start >= 0:
        raise DorisError("Dynamic partition start must less than 0")
    enable = props.get(PREFIX + "enable", "true").lower()
    history = props.get(PREFIX + "create_history_partition", "false").lower()
    for key, value in (("enable", enable), ("create_history_partition", history)):
        if value not in ("true", "false"):
            raise DorisError(f"Invalid {PREFIX}{key} value: {props[PREFIX + key]}. Expected true or false")
    values = {
        "enable": enable,
        "time_unit": unit,
        "time_zone": props.get(PREFIX + "time_zone", system_time_zone()),
        "start": str(start),
        "end": str(end),
        "prefix": props[PREFIX + "prefix"],
        "replication_allocation": f"tag.location.default: {_int(props, 'replication_num', replication_num)}",
        "buckets": str(_int(props, "buckets", buckets)),
        "create_history_partition": history,
        "history_partition_num": str(_int(props, "history_partition_num", -1)),
        "hot_partition_num": str(_int(props, "hot_partition_num", 0)),
        "reserved_history_periods": props.get(PREFIX + "reserved_history_periods", "NULL"),
        "storage_policy": props.get(PREFIX + "storage_policy", ""),
    }
    others = {k: v for k, v in props.items() if not k.startswith(PREFIX)}
    extra = {
        k: v for k, v in props.items() if k.startswith(PREFIX) and k[len(PREFIX) :] not in (*ORDER, "replication_num")
    }
    return {**others, **{PREFIX + k: values[k] for k in ORDER}, **extra}


def _floor(now: dt.datetime, unit: str) -> dt.datetime:
    if unit == "HOUR":
        return now.replace(minute=0, second=0, microsecond=0)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "DAY":
        return day
    if unit == "WEEK":
        return day - dt.timedelta(days=day.weekday())
    if unit == "MONTH":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def _shift(start: dt.datetime, unit: str, n: int) -> dt.datetime:
    if unit == "HOUR":
        return start + dt.timedelta(hours=n)
    if unit == "DAY":
        return start + dt.timedelta(days=n)
    if unit == "WEEK":
        return start + dt.timedelta(weeks=n)
    months = start.year * 12 + start.month - 1 + (n if unit == "MONTH" else 12 * n)
    return start.replace(year=months // 12, month=months % 12 + 1)


def _suffix(moment: dt.datetime, unit: str) -> str:
    if unit == "HOUR":
        return moment.strftime("%Y%m%d%H")
    if unit == "DAY":
        return moment.strftime("%Y%m%d")
    if unit == "WEEK":
        return f"{moment.year}_{int(moment.strftime('%V')):02d}"
    if unit == "MONTH":
        return moment.strftime("%Y%m")
    return moment.strftime("%Y")


def _literal(moment: dt.datetime, column_type: str) -> str:
    if column_type.upper().startswith("DATETIME"):
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    if column_type.upper().startswith("DATE"):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y%m%d")  # an integer column holds yyyyMMdd


def initial_partitions(props: dict[str, str], column_type: str, now: dt.datetime | None = None) -> list[PartitionDef]:
    """The partitions a dynamic-partition table starts with (normalized ``props``)."""
    if props.get(PREFIX + "enable") != "true":
        return []
    unit = props[PREFIX + "time_unit"]
    start, end = int(props[PREFIX + "start"]), int(props[PREFIX + "end"])
    first = 0
    if props[PREFIX + "create_history_partition"] == "true":
        first = start
        history = int(props[PREFIX + "history_partition_num"])
        if history > 0:
            first = max(first, -history)
    base = _floor(now or dt.datetime.now(), unit)
    prefix = props[PREFIX + "prefix"]
    out = []
    for offset in range(first, end + 1):
        lower, upper = _shift(base, unit, offset), _shift(base, unit, offset + 1)
        if lower.year < 1 or upper.year > 9999:
            continue
        out.append(
            PartitionDef(
                prefix + _suffix(lower, unit),
                lower=(_literal(lower, column_type),),
                upper=(_literal(upper, column_type),),
            )
        )
    return out


def drop_bound(props: dict[str, str], column_type: str, now: dt.datetime | None = None) -> str | None:
    """The lower bound of the oldest partition ``start`` keeps (normalized ``props``): partitions wholly
    below it are history to drop. None when ``start`` is not set (nothing is ever dropped)."""
    start = int(props[PREFIX + "start"])
    if start == MIN_START:
        return None
    unit = props[PREFIX + "time_unit"]
    try:
        lower = _shift(_floor(now or dt.datetime.now(), unit), unit, start)
    except (ValueError, OverflowError):
        return None
    return _literal(lower, column_type)


def reserved_periods(props: dict[str, str], column_type: str) -> list[tuple[str, str]]:
    """``reserved_history_periods`` = ``[2020-01-01,2020-01-31],[...]``: history ranges kept from dropping,
    as bound literals of the partition column."""
    raw = props.get(PREFIX + "reserved_history_periods", "NULL")
    if raw in ("", "NULL"):
        return []
    out = []
    for body in raw.strip().strip("[]").split("],["):
        ends = [e.strip() for e in body.split(",")]
        if len(ends) != 2:
            raise DorisError(f"Invalid reserved_history_periods: {raw}")
        fmt = "%Y-%m-%d %H:%M:%S" if ":" in ends[0] else "%Y-%m-%d"
        try:
            low, high = (dt.datetime.strptime(e, fmt) for e in ends)
        except ValueError:
            raise DorisError(f"Invalid reserved_history_periods: {raw}") from None
        out.append((_literal(low, column_type), _literal(high, column_type)))
    return out


def expand_step(
    lower: str, upper: str, interval: int, unit: str | None, column_type: str, limit: int = MAX_MULTI_PARTITION_NUM
) -> list[PartitionDef]:
    """``FROM ("2023-12-01") TO ("2023-12-25") INTERVAL 1 DAY``: one partition per step, named ``p_<time>``
    (``p_<lower>_<upper>`` for an integer column), the last one cut at ``TO``. As in Doris, the steps
    after the first start on a Monday, the 1st of a month or January 1st; more than ``limit``
    partitions are refused before any is made."""
    if interval <= 0:
        raise DorisError("Multi partition time interval must be larger than zero.")
    if unit is None:
        try:
            lo, hi = int(lower), int(upper)
        except ValueError:
            raise DorisError(
                "Batch build partition INTERVAL is number type but From or TO does not type match."
            ) from None
        if lo >= hi:
            raise DorisError("Multi partition from value must be less than to value.")
        _check_count(-((lo - hi) // interval), limit)
        return [
            PartitionDef(f"p_{v}_{min(v + interval, hi)}", lower=(str(v),), upper=(str(min(v + interval, hi)),))
            for v in range(lo, hi, interval)
        ]
    unit = unit.upper()
    if unit not in UNITS:
        raise DorisError(f"Multi build partition got an unknow time unit: {unit}")
    parse = "%Y-%m-%d %H:%M:%S" if " " in lower.strip() else "%Y-%m-%d"
    try:
        begin = dt.datetime.strptime(lower.strip(), parse)
        stop = dt.datetime.strptime(upper.strip(), "%Y-%m-%d %H:%M:%S" if " " in upper.strip() else "%Y-%m-%d")
    except ValueError:
        raise DorisError("Multi build partition start or end time style is illegal.") from None
    if begin >= stop:
        raise DorisError("Multi partition from value must be less than to value.")
    anchor = _step_anchor(begin, unit)
    count = _step_count(anchor, stop, unit, interval)
    _check_count(count, limit)
    # bound k is anchor + k steps: below stop for every k < count, so no step overflows the calendar
    bounds = [begin, *(_shift(anchor, unit, k * interval) for k in range(1, count)), stop]
    return [
        PartitionDef(
            "p_" + _suffix(low, unit), lower=(_literal(low, column_type),), upper=(_literal(high, column_type),)
        )
        for low, high in itertools.pairwise(bounds)
    ]


def _step_anchor(begin: dt.datetime, unit: str) -> dt.datetime:
    """Where the steps of a batch are counted from: its start, moved back to the Monday, the 1st of the
    month or January 1st (Doris aligns every step after the first)."""
    if unit == "WEEK":
        return begin - dt.timedelta(days=begin.weekday())
    if unit == "MONTH":
        return begin.replace(day=1)
    if unit == "YEAR":
        return begin.replace(month=1, day=1)
    return begin


def _step_count(anchor: dt.datetime, stop: dt.datetime, unit: str, interval: int) -> int:
    """How many steps from ``anchor`` start below ``stop``, by arithmetic: a range of thirty years by the
    hour is counted, not walked."""
    if unit in ("MONTH", "YEAR"):
        step = interval * (12 if unit == "YEAR" else 1)
        months = (stop.year - anchor.year) * 12 + stop.month - anchor.month
        count = -(-months // step)
        # a step landing in stop's own month is below stop when it starts earlier in that month
        if count * step == months and (anchor.day, anchor.time()) < (stop.day, stop.time()):
            count += 1
        return count
    step_delta = (_shift(anchor, unit, 1) - anchor) * interval
    return -((anchor - stop) // step_delta)


def _check_count(count: int, limit: int) -> None:
    if count > limit:
        raise DorisError(f"The number of Multi partitions too much, should not exceed:{limit}")
