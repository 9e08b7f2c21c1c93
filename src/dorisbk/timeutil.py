"""Time formats of Doris's SHOW output (TimeUtils): ``yyyy-MM-dd HH:mm:ss``, ``NULL`` when unset; and the
zones a session's ``time_zone`` may name."""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo


def long_to_time_string(ms: int | None) -> str:
    if ms is None or ms <= 0:
        return "NULL"
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def hyphen_time_string(ms: int) -> str:
    """The snapshot timestamp users pass to RESTORE: ``yyyy-MM-dd-HH-mm-ss``."""
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d-%H-%M-%S")


_OFFSET = re.compile(r"([+-])(\d{1,2}):(\d{2})")
# Doris reads CST as China Standard Time, not US Central
_ALIASES = {"cst": "Asia/Shanghai", "utc": "UTC", "gmt": "UTC", "z": "UTC"}


@functools.cache
def _zone_keys() -> dict[str, str]:
    """IANA names by their lower-case spelling: Doris reads 'asia/SHANGHAI' as Asia/Shanghai."""
    return {key.lower(): key for key in zoneinfo.available_timezones()}


def session_zone(name: str) -> dt.tzinfo:
    """The zone a ``time_zone`` value names, as Doris accepts them: an IANA name (``Asia/Shanghai``,
    ``America/Los_Angeles``, ``Etc/UTC``), an offset (``+08:00``), ``SYSTEM`` (the server's zone),
    ``UTC`` or ``CST``. ValueError for anything else."""
    text = name.strip()
    if text.upper() == "SYSTEM":
        zone = dt.datetime.now().astimezone().tzinfo
        assert zone is not None
        return zone
    match = _OFFSET.fullmatch(text)
    if match:
        sign, hours, minutes = match.groups()
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes))
        if offset > dt.timedelta(hours=14) or int(minutes) >= 60:
            raise ValueError(name)
        return dt.timezone(-offset if sign == "-" else offset)
    key = _ALIASES.get(text.lower()) or _zone_keys().get(text.lower(), text)
    if key == "UTC":
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(key)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(name) from None


def zone_name(name: str, strict: bool = False) -> str:
    """A ``time_zone`` value as the query engine names it: an IANA key, or an offset ``+08:00``
    (fixed offsets and ``SYSTEM`` where the machine's zone has no key). Unknown names read as UTC
    (SET refuses them before a statement can use them), or raise ValueError when ``strict``."""
    try:
        zone = session_zone(name)
    except ValueError:
        if strict:
            raise
        return "UTC"
    if isinstance(zone, zoneinfo.ZoneInfo):
        return zone.key
    offset = zone.utcoffset(dt.datetime.now()) or dt.timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
