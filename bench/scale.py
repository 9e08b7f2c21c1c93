"""Doris's sizes: one table of N tablets (up to the 300,000 tablets Doris allows one job), one small rowset each.

For each size N, a fresh ``dorisbk serve`` builds ``sc.t`` with N / B RANGE partitions of B HASH buckets, then
times, each beside what plain tools take on the same files in the same run:

* CREATE TABLE;
* one INSERT putting exactly one row into every tablet (the bench picks one key per bucket with the
  server's own bucket function, DuckDB's ``hash``), beside ``cp -a`` + ``sync`` and ``cp -al`` (hard links)
  + ``sync`` of the tablet files it wrote;
* BACKUP to a LOCAL repository, with the latency of each ``SHOW BACKUP`` polled while it runs;
* RESTORE of that snapshot into a new database;
* a restart (stop, start until the server is ready);
* the server's peak RSS over each phase.

and the growth exponent of each figure between consecutive sizes (``log(t2/t1) / log(n2/n1)``: 1 is
linear). Everything runs on loopback; every wait is bounded. Ratios are printed, nothing is asserted.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    PeakRss,
    ensure_importable,
    fmt_bytes,
    leave_work_dir,
    machine_line,
    rss_bytes,
    say,
    table,
    timed,
    tree_bytes,
)

DEFAULT_SIZES = "30000,100000,300000"
DEFAULT_BUCKETS = 100
POLL_S = 0.05
JOB_TIMEOUT_S = 3600.0
TARGETS = {  # the figures at 300,000 tablets, printed beside the measurements
    "CREATE TABLE": "<= 10 s",
    "INSERT": "<= 2.0x cp -a + sync",
    "restart": "<= 10 s",
    "peak RSS": "<= 1.5 GiB",
    "exponent": "<= 1.15",
}


@dataclass
class SizeResult:
    """The figures of one size."""

    tablets: int
    partitions: int
    buckets: int
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> wall seconds
    peak: dict[str, int] = field(default_factory=dict)  # phase -> server peak RSS bytes
    show_latency: list[float] = field(default_factory=list)  # seconds of each SHOW BACKUP while it ran
    files: int = 0
    bytes: int = 0
    filled: int = 0  # tablets holding a rowset after the INSERT
    rss_idle: int = 0  # after the restart


def bucket_keys(buckets: int) -> list[int]:
    """One BIGINT key per bucket, by the server's bucket function (``hash(k) % buckets``, backend/load.py)."""
    import duckdb

    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT b, min(i) FROM (SELECT i, hash(CAST(i AS BIGINT)) % ? AS b FROM range(?) r(i)) GROUP BY b",
            [buckets, buckets * 64],
        ).fetchall()
    keys = dict(rows)
    if len(keys) != buckets:
        raise RuntimeError(f"found keys for {len(keys)} of {buckets} buckets")
    return [int(keys[b]) for b in range(buckets)]


def create_sql(partitions: int, buckets: int) -> str:
    parts = ", ".join(f'PARTITION p{i} VALUES LESS THAN ("{i + 1}")' for i in range(partitions))
    return (
        "CREATE TABLE sc.t (p INT NOT NULL, k BIGINT NOT NULL, v BIGINT) DUPLICATE KEY(p, k) "
        f"PARTITION BY RANGE(p) ({parts}) DISTRIBUTED BY HASH(k) BUCKETS {buckets} "
        'PROPERTIES ("replication_num" = "1")'
    )


def insert_sql(tablets: int, buckets: int) -> str:
    """Row n goes to partition n DIV buckets and, through its key, to bucket n % buckets."""
    keys = ", ".join(str(k) for k in bucket_keys(buckets))
    return (
        f"INSERT INTO sc.t SELECT number DIV {buckets}, element_at([{keys}], number % {buckets} + 1), number "
        f'FROM numbers("number" = "{tablets}")'
    )


@contextmanager
def phase(result: SizeResult, name: str, pid: int) -> Iterator[None]:
    with PeakRss(pid) as peak, timed() as t:
        yield
    result.seconds[name] = t.seconds
    result.peak[name] = peak.bytes


BASELINE_RUNS = 2  # each copy is timed this many times and the fastest kept


def copy_baselines(src: Path, work: Path, result: SizeResult) -> None:
    """``cp -a`` + ``sync`` and ``cp -al`` + ``sync`` of the tablet files, each the fastest of BASELINE_RUNS:
    on this disk one copy of 30,000 files took 3.3 s in one run and 22 s in another (write-back of what
    the jobs before it wrote), which made a single copy no baseline."""
    for name, flags in (("cp -a + sync", "-a"), ("cp -al + sync", "-al")):
        times = []
        for _ in range(BASELINE_RUNS):
            dst = work / "copy"
            os.sync()
            with timed() as t:
                subprocess.run(["cp", flags, str(src), str(dst)], check=True)
                os.sync()
            times.append(t.seconds)
            remove_tree(dst)
        result.seconds[name] = min(times)


def remove_tree(path: Path) -> None:
    """``rm -rf``: at 300,000 tablets it takes minutes, shutil.rmtree longer still."""
    subprocess.run(["rm", "-rf", "--", str(path)], check=True)


def wait_job(cur: Any, show_sql: str, result: SizeResult | None) -> None:
    """Poll ``show_sql`` until FINISHED (bounded); with ``result``, keep each poll's latency."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        with timed() as t:
            cur.execute(show_sql)
            rows = cur.fetchall()
        if result is not None:
            result.show_latency.append(t.seconds)
        names = [d[0] for d in cur.description]
        state = dict(zip(names, rows[-1], strict=True))["State"] if rows else ""
        if state == "FINISHED":
            return
        if state == "CANCELLED":
            raise RuntimeError(f"{show_sql}: CANCELLED {rows[-1]}")
        time.sleep(POLL_S)
    raise RuntimeError(f"{show_sql}: not FINISHED within {JOB_TIMEOUT_S:.0f} s")


def fresh_meta_url(base: str | None, tag: str) -> tuple[str | None, Any]:
    """A new empty PostgreSQL database beside ``base`` (an admin URL), or None for SQLite in the data dir."""
    if base is None:
        return None, None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"dorisbk_scale_{os.getpid()}_{tag}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(base).set(database=name).render_as_string(hide_password=False), (admin, name)


def drop_meta(handle: Any) -> None:
    if handle is None:
        return
    from sqlalchemy import text

    admin, name = handle
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def run_size(tablets: int, buckets: int, work: Path, meta_base: str | None, jobs: bool) -> SizeResult:
    ensure_importable()
    from tests.dorisbk_server import DorisbkServer

    partitions = max(1, tablets // buckets)
    result = SizeResult(partitions * buckets, partitions, buckets)
    meta_url, handle = fresh_meta_url(meta_base, str(tablets))
    server = DorisbkServer(work / "data", meta_url=meta_url).start()
    data_root = work / "data" / "be" / "be1" / "data"
    try:
        pid = server.proc.pid  # type: ignore[union-attr]
        with server.connect(read_timeout=JOB_TIMEOUT_S) as conn, conn.cursor() as cur:
            cur.execute("CREATE DATABASE sc")
            sql = create_sql(partitions, buckets)
            with phase(result, "CREATE TABLE", pid):
                cur.execute(sql)
            say(f"  CREATE TABLE {result.seconds['CREATE TABLE']:.2f} s")
            sql = insert_sql(result.tablets, buckets)
            with phase(result, "INSERT", pid):
                cur.execute(sql)
            result.bytes, result.files = tree_bytes(data_root)
            result.filled = sum(1 for d in data_root.iterdir() if any(d.iterdir()))
            say(f"  INSERT {result.seconds['INSERT']:.2f} s: {result.files} files in {result.filled} tablets")
            copy_baselines(data_root, work, result)
            if jobs:
                cur.execute(f'CREATE REPOSITORY r WITH LOCAL ON LOCATION "file://{work / "repo"}"')
                with phase(result, "BACKUP", pid):
                    cur.execute("BACKUP SNAPSHOT sc.snap TO r ON (t)")
                    wait_job(cur, 'SHOW BACKUP FROM sc WHERE SnapshotName = "snap"', result)
                say(f"  BACKUP {result.seconds['BACKUP']:.2f} s")
                cur.execute('SHOW SNAPSHOT ON r WHERE SNAPSHOT = "snap"')
                timestamp = str(cur.fetchall()[0][1]).split("\n")[-1]
                cur.execute("CREATE DATABASE sc_r")
                with phase(result, "RESTORE", pid):
                    cur.execute(
                        "RESTORE SNAPSHOT sc_r.snap FROM r ON (t) "
                        f'PROPERTIES ("backup_timestamp" = "{timestamp}", "replication_num" = "1")'
                    )
                    wait_job(cur, 'SHOW RESTORE FROM sc_r WHERE Label = "snap"', None)
                say(f"  RESTORE {result.seconds['RESTORE']:.2f} s")
        server.stop()
        with timed() as t:
            server.start()
        result.seconds["restart"] = t.seconds
        result.rss_idle = rss_bytes(server.proc.pid)  # type: ignore[union-attr]
        say(f"  restart {t.seconds:.2f} s, RSS {fmt_bytes(result.rss_idle)}")
    finally:
        server.stop()
        drop_meta(handle)
    return result


def exponent(a: SizeResult, b: SizeResult, phase_name: str) -> str:
    ta, tb = a.seconds.get(phase_name), b.seconds.get(phase_name)
    if not ta or not tb or a.tablets == b.tablets:
        return "-"
    return f"{math.log(tb / ta) / math.log(b.tablets / a.tablets):.2f}"


def report(results: list[SizeResult]) -> None:
    phases = ["CREATE TABLE", "INSERT", "BACKUP", "RESTORE", "restart", "cp -a + sync", "cp -al + sync"]
    phases = [p for p in phases if any(p in r.seconds for r in results)]
    headers = ["tablets", *phases, "INSERT / cp -a", "INSERT / cp -al"]
    if any("BACKUP" in r.seconds for r in results):
        headers += ["BACKUP / cp -a", "RESTORE / cp -a"]
    rows = []
    for r in results:
        row: list[object] = [f"{r.tablets:,}"] + [f"{r.seconds[p]:.2f}" if p in r.seconds else "-" for p in phases]
        cp, ln = r.seconds["cp -a + sync"], r.seconds["cp -al + sync"]
        row += [f"{r.seconds['INSERT'] / cp:.2f}x", f"{r.seconds['INSERT'] / ln:.2f}x"]
        if "BACKUP" in r.seconds:
            row += [f"{r.seconds['BACKUP'] / cp:.2f}x", f"{r.seconds['RESTORE'] / cp:.2f}x"]
        rows.append(row)
    say(
        table(
            headers,
            rows,
            f"Seconds (cp -a / cp -al: the same tablet files, each followed by sync, the best of {BASELINE_RUNS})",
        )
    )
    mem_phases = [p for p in ("CREATE TABLE", "INSERT", "BACKUP", "RESTORE") if any(p in r.peak for r in results)]
    rows = []
    for r in results:
        peak = max(r.peak.values())
        rows.append(
            [f"{r.tablets:,}", *(fmt_bytes(r.peak[p]) for p in mem_phases), fmt_bytes(r.rss_idle),
             f"{peak / r.tablets / 1024:.1f} KiB"]
        )  # fmt: skip
    say(table(["tablets", *(f"peak {p}" for p in mem_phases), "after restart", "peak / tablet"], rows, "Server RSS"))
    latency = [
        [f"{r.tablets:,}", len(r.show_latency), f"{statistics.median(r.show_latency) * 1000:.0f}",
         f"{max(r.show_latency) * 1000:.0f}"]
        for r in results
        if r.show_latency
    ]  # fmt: skip
    if latency:
        say(table(["tablets", "polls", "median ms", "max ms"], latency, "SHOW BACKUP while the BACKUP runs"))
    if len(results) > 1:
        rows = [
            [f"{a.tablets:,} -> {b.tablets:,}", *(exponent(a, b, p) for p in phases)]
            for a, b in zip(results, results[1:], strict=False)
        ]
        say(table(["sizes", *phases], rows, "Growth exponent (1.00 = linear)"))
    say(table(["figure", "target at 300,000 tablets"], list(TARGETS.items()), "The issue's targets"))
    for r in results:
        say(f"{r.tablets:,} tablets: {r.partitions} partitions x {r.buckets} buckets; "
            f"{r.files} files, {fmt_bytes(r.bytes)}, {r.filled} tablets with a rowset")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"tablet counts, comma separated ({DEFAULT_SIZES})")
    parser.add_argument("--buckets", type=int, default=DEFAULT_BUCKETS, help="buckets per partition (100)")
    parser.add_argument(
        "--meta-url",
        default=None,
        help="PostgreSQL admin URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres): each size gets "
        "a new database beside it, dropped afterwards; default SQLite in the data dir",
    )
    parser.add_argument("--skip-jobs", action="store_true", help="no BACKUP / RESTORE")
    parser.add_argument("--work-dir", type=Path, default=None, help="parent of the temp dir (default: $TMPDIR)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    work = Path(tempfile.mkdtemp(prefix="dorisbk-bench-scale-", dir=args.work_dir))
    say(f"work dir: {work}; {machine_line()}; metadata: {'PostgreSQL' if args.meta_url else 'SQLite'}")
    results = []
    started = time.monotonic()
    try:
        for n in sizes:
            say(f"{n:,} tablets ...")
            size_dir = work / str(n)
            results.append(run_size(n, args.buckets, size_dir, args.meta_url, not args.skip_jobs))
            if not args.keep:
                remove_tree(size_dir)
        report(results)
        say(f"total bench time {time.monotonic() - started:.0f} s; at the end: {machine_line()}")
    finally:
        leave_work_dir(work, args.keep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
