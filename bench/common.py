"""Shared helpers of the benchmarks: memory of a process tree from /proc, timing, page cache, tables,
and what the backup and restore benchmarks share (their table, job polling, the S3 server).

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
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def leave_work_dir(work: Path, keep: bool) -> None:
    """A bench's temp dir at its end: kept, and said where, with --keep; removed otherwise."""
    if keep:
        say(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


# ---- the backup / restore table (bench.backup, bench.restore)
PARTITIONS = 4
BUCKETS = 16
DAYS_PER_PARTITION = 30
START = dt.date(2024, 1, 1)
LOAD_SQL = (
    "INSERT INTO bk.t SELECT date_add('2024-01-01', INTERVAL number % {days} DAY), number + {offset}, "
    "rand(), rand() * 1000000, md5(cast(number + {offset} as varchar)), "
    "md5(concat(cast(rand() as varchar), 'x')) "
    'FROM numbers("number" = "{rows}")'
)
FIRST_BATCH_ROWS = 2_000_000
MAX_BATCH_ROWS = 5_000_000


def create_table_sql() -> str:
    parts = []
    for i in range(PARTITIONS):
        upper = START + dt.timedelta(days=(i + 1) * DAYS_PER_PARTITION)
        parts.append(f"PARTITION p{i} VALUES LESS THAN ('{upper.isoformat()}')")
    return (
        "CREATE TABLE bk.t (d DATE NOT NULL, k BIGINT NOT NULL, r1 DOUBLE, r2 DOUBLE, h1 VARCHAR(64), "
        "h2 VARCHAR(64)) DUPLICATE KEY(d, k) "
        f"PARTITION BY RANGE(d) ({', '.join(parts)}) "
        f'DISTRIBUTED BY HASH(k) BUCKETS {BUCKETS} PROPERTIES ("replication_num" = "1")'
    )


def build_table(cur: Any, data_root: Path, want_bytes: int) -> dict[str, Any]:
    """Create ``bk.t`` and load batches until the rowset files under ``data_root`` hold ``want_bytes``;
    returns rows, bytes, files, seconds."""
    cur.execute("CREATE DATABASE bk")
    cur.execute(create_table_sql())
    rows = 0
    size = 0
    batch = min(FIRST_BATCH_ROWS, max(100_000, want_bytes // 100))
    started = time.monotonic()
    while size < want_bytes:
        cur.execute(LOAD_SQL.format(days=PARTITIONS * DAYS_PER_PARTITION, offset=rows, rows=batch))
        rows += batch
        size, files = tree_bytes(data_root)
        say(f"  loaded {rows:,} rows: {fmt_bytes(size)} in {files} files")
        per_row = size / rows
        batch = int(min(MAX_BATCH_ROWS, max(100_000, (want_bytes - size) / per_row * 1.02 + 1)))
    size, files = tree_bytes(data_root)
    return {"rows": rows, "bytes": size, "files": files, "seconds": time.monotonic() - started}


# ---- backup and restore jobs
TIME_TARGET = 1.3  # within 1.3x of the baseline's time (issues 4 and 5)
RSS_TARGET = 300 * MiB  # server peak RSS (issues 4 and 5)
BASELINE_THREADS = 8
POLL_S = 0.05


def show_job(cur: Any, sql: str) -> dict[str, str]:
    """The last row of a SHOW BACKUP / SHOW RESTORE statement, by column name."""
    cur.execute(sql)
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if not rows:
        raise RuntimeError(f"no job: {sql}")
    return dict(zip(names, rows[-1], strict=True))


def run_job(server: Any, statement: str, show_sql: str) -> dict[str, Any]:
    """Run a BACKUP or RESTORE statement and poll ``show_sql`` every POLL_S until FINISHED, the page
    cache dropped first: time, peak RSS and CPU of the server, CPU of SeaweedFS, time seen per state."""
    pid = server.proc.pid
    dropped = drop_caches()
    states: dict[str, float] = {}
    weed = find_processes("weed")
    with server.connect() as conn, conn.cursor() as cur:
        rss_before = rss_bytes(pid)
        cpu0, weed0 = cpu_seconds([pid]), cpu_seconds(weed)
        with PeakRss(pid) as peak, timed() as t:
            cur.execute(statement)
            last_state, since = "", time.perf_counter()
            while True:
                row = show_job(cur, show_sql)
                state = row["State"]
                now = time.perf_counter()
                if state != last_state:
                    if last_state:
                        states[last_state] = states.get(last_state, 0.0) + now - since
                    last_state, since = state, now
                if state in ("FINISHED", "CANCELLED"):
                    break
                time.sleep(POLL_S)
        cpu, weed_cpu = cpu_seconds([pid]) - cpu0, cpu_seconds(weed) - weed0
    if state != "FINISHED":
        raise RuntimeError(f"{statement} ended {state}: {row.get('Status')} {row.get('TaskErrMsg')}")
    return {
        "seconds": t.seconds,
        "peak": peak.bytes,
        "rss_before": rss_before,
        "states": states,
        "dropped": dropped,
        "cpu": cpu,
        "weed_cpu": weed_cpu,
    }


def baseline_local(src: Path, dst: Path) -> dict[str, float]:
    """The page cache dropped, ``cp -r`` of ``src`` to ``dst``, ``md5sum`` of each copied file, then (timed
    apart) ``sync``; returns seconds of each as cp, md5, sync."""
    drop_caches()
    with timed() as t_cp:
        subprocess.run(["cp", "-r", str(src), str(dst)], check=True)
    files = sorted(str(p) for p in dst.rglob("*") if p.is_file())
    with timed() as t_md5:
        for start in range(0, len(files), 500):
            subprocess.run(["md5sum", *files[start : start + 500]], check=True, stdout=subprocess.DEVNULL)
    with timed() as t_sync:
        os.sync()
    return {"cp": t_cp.seconds, "md5": t_md5.seconds, "sync": t_sync.seconds}


def mbps(nbytes: int, seconds: float) -> str:
    return f"{nbytes / 1e6 / seconds:.0f} MB/s"


# ---- the loopback S3 server (tests/s3server.py)
@contextlib.contextmanager
def maybe_s3(skip: bool) -> Iterator[Any]:
    """A SeaweedFS S3 server with bucket ``dorisbk-bench``, or None with ``skip``."""
    if skip:
        yield None
        return
    ensure_importable()
    from tests.s3server import s3_server

    with s3_server(bucket="dorisbk-bench") as server:
        yield server


def s3_client(s3: Any) -> Any:
    """A client of the bench's S3 server with a pool for the transfer threads and checksums only where required."""
    return s3.client(
        max_pool_connections=32,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


def s3_keys(client: Any, bucket: str, prefix: str) -> list[tuple[str, int]]:
    """(key, size) of every object under ``prefix``."""
    found = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.extend((obj["Key"], obj["Size"]) for obj in page.get("Contents", []))
    return found


def s3_bytes(client: Any, bucket: str, prefix: str) -> tuple[int, int]:
    """(bytes, objects) under ``prefix``."""
    keys = s3_keys(client, bucket, prefix)
    return sum(size for _key, size in keys), len(keys)


def create_repositories(cur: Any, local_dir: Path, s3: Any) -> dict[str, str]:
    """CREATE REPOSITORY r_local on ``local_dir`` and, with an S3 server, r_s3 on ``s3://<bucket>/dorisbk``;
    returns {"LOCAL": "r_local", "S3": "r_s3"}."""
    cur.execute(f'CREATE REPOSITORY r_local WITH LOCAL ON LOCATION "file://{local_dir}"')
    repos = {"LOCAL": "r_local"}
    if s3 is not None:
        props = ", ".join(f'"{k}" = "{v}"' for k, v in s3.repository_properties().items())
        cur.execute(f'CREATE REPOSITORY r_s3 WITH S3 ON LOCATION "s3://{s3.bucket}/dorisbk" PROPERTIES ({props})')
        repos["S3"] = "r_s3"
    return repos
