"""Time formats of Doris's SHOW output (TimeUtils): ``yyyy-MM-dd HH:mm:ss``, ``NULL`` when unset."""

from __future__ import annotations

import datetime as dt


def long_to_time_string(ms: int | None) -> str:
    if ms is None or ms <= 0:
        return "NULL"
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def hyphen_time_string(ms: int) -> str:
    """The snapshot timestamp users pass to RESTORE: ``yyyy-MM-dd-HH-mm-ss``."""
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d-%H-%M-%S")
