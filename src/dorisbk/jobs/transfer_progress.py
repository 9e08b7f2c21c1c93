"""How far a job's file transfer is (the UPLOADING of a backup, the DOWNLOADING of a restore).

Each UploadTask / DownloadTask counts what it has done in its own fields (one writer, no lock on
the transfer path); a reader sums them. When the transfer ends the job keeps the sums in its
record, so a finished job still tells how many files and bytes its snapshot held, after a
restart too. The rate is taken over the last ``WINDOW_S`` seconds from samples made when someone
reads it: nothing is spent on it while nobody looks.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

WINDOW_S = 10.0


@dataclass(frozen=True)
class Transferred:
    """Files and bytes in place at the destination, out of all the transfer has to place, and the bytes
    that crossed over to get there (a file found already in place, or copied inside the repository from an
    earlier snapshot, is done without being moved)."""

    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    bytes_moved: int = 0

    def __add__(self, other: Transferred) -> Transferred:
        return Transferred(*(a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other), strict=True)))


@dataclass(frozen=True)
class TransferProgress:
    """What a job persists of its transfer: the counts at its end, and when it started and ended
    (-1: not yet)."""

    counts: Transferred = Transferred()
    start_ms: int = -1
    end_ms: int = -1

    @property
    def running(self) -> bool:
        return self.start_ms >= 0 and self.end_ms < 0

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self.counts), "start_ms": self.start_ms, "end_ms": self.end_ms}

    @staticmethod
    def from_dict(d: dict[str, Any] | None) -> TransferProgress:
        """A record's progress; a record of a dorisbk before progress was kept has none, and a transfer that
        had not ended is redone after a restart, from the start."""
        if not d or int(d.get("end_ms", -1)) < 0:
            return TransferProgress()
        names = {f.name for f in dataclasses.fields(Transferred)}
        counts = Transferred(**{k: int(v) for k, v in d.items() if k in names})
        return TransferProgress(counts, int(d.get("start_ms", -1)), int(d.get("end_ms", -1)))


@dataclass(frozen=True)
class ProgressReport:
    """A transfer as a reader sees it now: the counts, the rate in bytes per second (moved bytes), and
    the seconds left at that rate (None when there is no rate to go by)."""

    counts: Transferred
    rate: int
    eta_s: int | None


class RateMeter:
    """Bytes moved per second over the last ``WINDOW_S`` seconds, from (time, bytes moved) samples taken at
    each read; the first read measures from the transfer's start."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # readers (SQL statements) only: tasks never take it
        self._samples: deque[tuple[float, int]] = deque()

    def start(self) -> None:
        """A transfer starts: nothing moved yet."""
        with self._lock:
            self._samples.clear()
            self._samples.append((time.monotonic(), 0))

    def rate(self, moved: int) -> float:
        now = time.monotonic()
        with self._lock:
            samples = self._samples
            samples.append((now, moved))
            # keep one sample at or before the window's start as the base
            while len(samples) > 2 and samples[1][0] <= now - WINDOW_S:
                samples.popleft()
            (t0, b0), (t1, b1) = samples[0], samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0


def report(progress: TransferProgress, live: Transferred | None, meter: RateMeter) -> ProgressReport:
    """``live``: the tasks' counts while the transfer runs; otherwise what the job kept. An ended transfer
    reports its average rate, and no time left when it placed every file (None if it was cut short)."""
    if live is None or not progress.running:
        counts = progress.counts
        seconds = (progress.end_ms - progress.start_ms) / 1000 if progress.end_ms >= 0 else 0
        rate = int(counts.bytes_moved / seconds) if seconds > 0 else 0
        complete = progress.end_ms >= 0 and counts.files_done >= counts.files_total
        return ProgressReport(counts, rate, 0 if complete else None)
    rate = meter.rate(live.bytes_moved)
    left = live.bytes_total - live.bytes_done
    eta = 0 if left <= 0 else (round(left / rate) if rate > 0 else None)
    return ProgressReport(live, int(rate), eta)
