"""Shared helpers of the benchmarks: memory of a process tree from /proc, timing, page cache, tables.

Memory is measured two ways, both from /proc:

* ``VmHWM`` (the kernel's own peak RSS) of each process, reset at the start of a phase by
  writing ``5`` to ``/proc/<pid>/clear_refs`` (Linux >= 4.0), so a phase's peak is exact
  and not just sampled;
* a background sampler summing ``VmRSS`` over the process and all its descendants every
  few milliseconds, which also catches helper processes.

The larger of the two is reported.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
REPO_ROOT = Path(__file__).resolve().parent.parent


def ensure_importable() -> None:
    """Let ``tests.*`` helpers import (they live beside ``bench/`` in the repository)."""
    root = str(REPO_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)


# ---- /proc
def _status_kib(pid: int, field_name: str) -> int:
    """A ``kB`` field of /proc/<pid>/status (0 when the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0
    return 0


def rss_bytes(pid: int) -> int:
    return _status_kib(pid, "VmRSS") * KiB


def hwm_bytes(pid: int) -> int:
    return _status_kib(pid, "VmHWM") * KiB


def reset_hwm(pid: int) -> bool:
    """Set the process's peak RSS back to its current RSS; False when the kernel refuses."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (via /proc/<pid>/task/*/children)."""
    out = [pid]
    i = 0
    while i < len(out):
        current = out[i]
        i += 1
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except FileNotFoundError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{current}/task/{tid}/children") as fh:
                    out.extend(int(c) for c in fh.read().split())
            except (FileNotFoundError, ProcessLookupError):
                continue
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by ``pids`` (from /proc/<pid>/stat)."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def find_processes(word: str, under: int | None = None) -> list[int]:
    """Pids below ``under`` (default: this process) whose command line contains ``word``."""
    found = []
    for pid in descendants(under or os.getpid()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if word.encode() in fh.read():
                    found.append(pid)
        except FileNotFoundError:
            continue
    return found


class PeakRss:
    """Peak memory of a process tree over a phase: ``with PeakRss(pid) as peak: ...; peak.bytes``."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.sampled = 0
        self.hwm = 0
        self.start_rss = 0
        self.hwm_reset = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pids: list[int] = []

    def __enter__(self) -> PeakRss:
        self._pids = descendants(self.pid)
        self.hwm_reset = all(reset_hwm(p) for p in self._pids)
        self.start_rss = sum(rss_bytes(p) for p in self._pids)
        self.sampled = self.start_rss
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        tick = 0
        while not self._stop.is_set():
            if tick % 25 == 0:  # new children appear rarely; rescan every ~0.5 s
                self._pids = descendants(self.pid)
            total = sum(rss_bytes(p) for p in self._pids)
            self.sampled = max(self.sampled, total)
            tick += 1
            self._stop.wait(self.interval)

    def __exit__(self, *exc: object) -> None:
        self.hwm = sum(hwm_bytes(p) for p in descendants(self.pid)) if self.hwm_reset else 0
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def bytes(self) -> int:
        return max(self.sampled, self.hwm)


# ---- page cache
def drop_caches() -> bool:
    """``sync`` then drop the page cache (root only); False if not allowed."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
        return True
    except OSError:
        return False


# ---- timing
@dataclass
class Timed:
    seconds: float = 0.0


@contextlib.contextmanager
def timed() -> Iterator[Timed]:
    t = Timed()
    start = time.perf_counter()
    try:
        yield t
    finally:
        t.seconds = time.perf_counter() - start


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def run(cmd: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(cmd), check=True, **kwargs)  # type: ignore[call-overload]


# ---- files
def tree_bytes(path: Path) -> tuple[int, int]:
    """(bytes, files) of the regular files under ``path``."""
    total = count = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
                count += 1
    return total, count


# ---- printing
def fmt_bytes(n: float) -> str:
    if n >= GiB:
        return f"{n / GiB:.2f} GiB"
    if n >= MiB:
        return f"{n / MiB:.1f} MiB"
    return f"{n / KiB:.0f} KiB"


def fmt_rate(n: float, unit: str = "") -> str:
    if n >= 1e6:
        return f"{n / 1e6:.2f} M{unit}"
    if n >= 1e3:
        return f"{n / 1e3:.1f} k{unit}"
    return f"{n:.1f} {unit}".rstrip()


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str | None = None) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    if title:
        lines.append(title)
    sep = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    lines.append(sep)
    for n, row in enumerate(cells):
        lines.append(
            "| "
            + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
            + " |"
        )
        if n == 0:
            lines.append(sep)
    lines.append(sep)
    return "\n".join(lines)


@dataclass
class Check:
    """One target: ``measured`` compared with ``limit`` (``higher_is_better`` says which way passes)."""

    name: str
    measured: float
    limit: float
    higher_is_better: bool
    shown: Callable[[float], str] = field(default=lambda v: f"{v:.2f}x")

    @property
    def ok(self) -> bool:
        return self.measured >= self.limit if self.higher_is_better else self.measured < self.limit

    def row(self) -> list[str]:
        op = ">=" if self.higher_is_better else "<"
        return [self.name, self.shown(self.measured), f"{op} {self.shown(self.limit)}", "PASS" if self.ok else "FAIL"]


def checks_table(checks: Sequence[Check], title: str = "Targets") -> str:
    return table(["target", "measured", "required", "result"], [c.row() for c in checks], title)


def machine_line() -> str:
    """CPUs and load average: other work on the machine skews every figure, so each run shows it."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.2f} (1 min) {five:.2f} (5 min)"


def say(text: str = "") -> None:
    print(text, flush=True)
