"""When a recurring job of the job scheduler runs (Doris's ``TimerDefinition`` and ``IntervalUnit``).

``EVERY <n> <unit> [STARTS 'yyyy-MM-dd HH:mm:ss'] [ENDS '...']``: runs at STARTS, STARTS + n units, ...
and never at or after ENDS. Without STARTS the first run is one interval after the job was created, as in
Doris. Times are read and shown in the server's time zone (the zone SHOW BACKUP's times are in).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any

from dorisbk.config import FrontendConfig
from dorisbk.errors import DorisError
from dorisbk.timeutil import long_to_time_string


class IntervalUnit(Enum):
    """The units of EVERY, in seconds. SECOND only with ``enable_job_schedule_second_for_test``, as in
    Doris: the smallest interval otherwise is one minute."""

    SECOND = 1
    MINUTE = 60
    HOUR = 3600
    DAY = 86_400
    WEEK = 7 * 86_400

    @classmethod
    def parse(cls, word: str, config: FrontendConfig) -> IntervalUnit:
        unit = cls.__members__.get(word.upper())
        if unit is None:
            raise DorisError(f"Invalid interval time unit: {word}")
        if unit is cls.SECOND and not config.get("enable_job_schedule_second_for_test"):
            raise DorisError("Interval time unit can not be second in production mode")
        return unit


def parse_time(text: str) -> int:
    """``yyyy-MM-dd HH:mm:ss`` in the server's zone, as epoch milliseconds."""
    try:
        return int(dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S").timestamp() * 1000)
    except ValueError:
        raise DorisError(f"Invalid datetime value: {text}, expected yyyy-MM-dd HH:mm:ss") from None


@dataclass(frozen=True)
class TimerDefinition:
    interval: int
    unit: IntervalUnit
    start_ms: int
    end_ms: int | None = None

    @classmethod
    def build(
        cls, interval: int, unit: IntervalUnit, starts: str | None, ends: str | None, now_ms: int
    ) -> TimerDefinition:
        """The timer a CREATE JOB asks for, with Doris's checks."""
        if interval <= 0:
            raise DorisError("interval must be greater than 0")
        start = parse_time(starts) if starts is not None else now_ms // 1000 * 1000 + interval * unit.value * 1000
        end = parse_time(ends) if ends is not None else None
        if end is not None and end < start:
            raise DorisError("endTimeMs must be greater than the start time")
        if end is not None and end <= now_ms:
            raise DorisError("endTimeMs must be greater than current time")
        return cls(interval, unit, start, end)

    @property
    def interval_ms(self) -> int:
        return self.interval * self.unit.value * 1000

    def latest_due(self, now_ms: int) -> int | None:
        """The last run time at or before ``now_ms`` (None before the first): several missed runs are one."""
        if now_ms < self.start_ms:
            return None
        due = self.start_ms + (now_ms - self.start_ms) // self.interval_ms * self.interval_ms
        return due if self.end_ms is None or due < self.end_ms else None

    def next_after(self, t_ms: int) -> int:
        """The first run time after ``t_ms``."""
        if t_ms < self.start_ms:
            return self.start_ms
        return self.start_ms + ((t_ms - self.start_ms) // self.interval_ms + 1) * self.interval_ms

    def ended(self, next_ms: int) -> bool:
        """No run is left from ``next_ms`` on."""
        return self.end_ms is not None and next_ms >= self.end_ms

    def strategy(self) -> str:
        """The jobs() TVF's RecurringStrategy: ``EVERY 1 DAY STARTS 2025-01-01 00:00:00 [ENDS ...]``."""
        text = f"EVERY {self.interval} {self.unit.name} STARTS {long_to_time_string(self.start_ms)}"
        return text if self.end_ms is None else f"{text} ENDS {long_to_time_string(self.end_ms)}"

    def to_dict(self) -> dict[str, Any]:
        return {"interval": self.interval, "unit": self.unit.name, "start_ms": self.start_ms, "end_ms": self.end_ms}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TimerDefinition:
        return cls(d["interval"], IntervalUnit[d["unit"]], d["start_ms"], d["end_ms"])
