"""BACKUP benchmark: dorisbk against ``cp -r`` + ``md5sum`` (LOCAL) and boto3 with 8 threads (S3), in one run.

Also, for information, against restic and rclone on the same bytes (``bench.tools``).

    python -m bench.backup [--gib 2] [--skip-s3] [--interval-ms MS] [--work-dir DIR] [--keep]

A real ``dorisbk serve`` (own temp data dir) gets a DUPLICATE KEY table of 4 RANGE
partitions x 16 HASH buckets = 64 tablets, loaded with ``INSERT ... SELECT FROM numbers``
batches of random doubles and md5 hex strings (which Parquet cannot compress away) until
the rowset files under ``<data>/be/be1/data`` hold at least ``--gib`` GiB. The server is
then restarted, so the backup's memory is not mixed up with what the loads left behind.

Measured, with the page cache dropped (``sync; echo 3 > /proc/sys/vm/drop_caches``, root
only) before each run:

* ``BACKUP SNAPSHOT`` to a LOCAL repository, then to an S3 repository on a loopback
  SeaweedFS (``tests/s3server.py``), each followed by a second backup of the unchanged table
  under a new label; time from the statement to ``SHOW BACKUP`` saying FINISHED (polled
  every 50 ms), MB/s over the rowset bytes, and the server's peak RSS;
* baselines over the same files, each run right after dorisbk's first backup of its kind:
  ``cp -r`` of the tablet data dir then ``md5sum`` of each copied file (plus, shown apart,
  the ``sync`` that makes the copy durable, since dorisbk fsyncs what it writes); boto3
  ``upload_file`` of every file from a pool of 8 threads into another prefix of the bucket;
* information only, beside each of those baselines: ``restic backup`` of the tablet data dir
  into a new restic repository (a local dir, or the S3 bucket), and ``rclone copy`` of it (to a
  local dir, or the S3 bucket, 8 transfers); a missing tool is shown as skipped.

Targets (issue 4): within 1.3x of the baseline's time on both, server peak RSS < 300 MiB,
second backup of the unchanged table < 0.1x of the first.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import (
    BASELINE_THREADS,
    BUCKETS,
    PARTITIONS,
    RSS_TARGET,
    TIME_TARGET,
    Check,
    GiB,
    baseline_local,
    build_table,
    checks_table,
    cpu_seconds,
    create_repositories,
    drop_caches,
    ensure_importable,
    find_processes,
    fmt_bytes,
    leave_work_dir,
    machine_line,
    maybe_s3,
    mbps,
    rss_bytes,
    run_job,
    s3_bytes,
    s3_client,
    say,
    table,
    timed,
    tree_bytes,
)
from bench.tools import Tools, result_row, versus_table

SECOND_TARGET = 0.1


def run_backup(server: Any, repo: str, label: str) -> dict[str, Any]:
    """BACKUP and poll until FINISHED; time, peak RSS and CPU of the server, CPU of SeaweedFS, time per state."""
    return run_job(
        server,
        f"BACKUP SNAPSHOT bk.{label} TO {repo} ON (t)",
        f'SHOW BACKUP FROM bk WHERE SnapshotName = "{label}"',
    )


def baseline_s3(client: Any, bucket: str, src: Path, prefix: str) -> dict[str, float]:
    """boto3 ``upload_file`` of each file, ``BASELINE_THREADS`` at a time (one transfer thread each)."""
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(use_threads=False)
    files = sorted(p for p in src.rglob("*") if p.is_file())
    weed = find_processes("weed")
    drop_caches()

    def put(path: Path) -> None:
        client.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(src)}", Config=config)

    cpu0, weed0 = cpu_seconds([os.getpid()]), cpu_seconds(weed)
    with timed() as t, ThreadPoolExecutor(BASELINE_THREADS) as pool:
        list(pool.map(put, files))
    return {"upload": t.seconds, "cpu": cpu_seconds([os.getpid()]) - cpu0, "weed_cpu": cpu_seconds(weed) - weed0}


def upload_summary(log: str) -> list[str]:
    """The server's "upload of snapshot ..." log lines (one each time a job uploads), added up per snapshot."""
    pattern = re.compile(
        r"upload of snapshot (\S+): (\d+) tasks, (\d+) tablets, (\d+) files uploaded \((\d+) bytes\), "
        r"(\d+) copied in the repository, (\d+) already present"
    )
    sums: dict[str, list[int]] = {}
    for match in pattern.finditer(log):
        label, *numbers = match.groups()
        total = sums.setdefault(label, [0] * len(numbers))
        for i, value in enumerate(numbers):
            total[i] += int(value)
    return [
        f"server log, {label}: {t[0]} upload tasks, {t[1]} tablets, {t[2]} files uploaded ({fmt_bytes(t[3])}), "
        f"{t[4]} copied inside the repository, {t[5]} already present"
        for label, t in sums.items()
    ]


def tool_baselines_local(tools: Tools, src: Path, work: Path) -> dict[str, Any]:
    """restic backup into a local restic repository and rclone copy to a local dir, each removed after."""
    say("baseline (info): restic backup, local repository ...")
    out = {"restic_LOCAL": tools.restic_backup("LOCAL", src, "restic_local")}
    say("baseline (info): rclone copy, local dir ...")
    out["rclone_LOCAL"] = tools.rclone_copy(str(src), str(work / "rclone_copy"))
    for key, name in (("restic_LOCAL", "restic_local"), ("rclone_LOCAL", "rclone_copy")):
        if "skipped" not in out[key]:
            out[key]["stored"] = tree_bytes(work / name)
        shutil.rmtree(work / name, ignore_errors=True)
    return out


def tool_baselines_s3(tools: Tools, src: Path) -> dict[str, Any]:
    """restic backup into a restic repository in the bucket (prefix restic/), rclone copy to prefix rclone/."""
    say("baseline (info): restic backup, S3 repository ...")
    out = {"restic_S3": tools.restic_backup("S3", src, "restic")}
    say(f"baseline (info): rclone copy to S3, {BASELINE_THREADS} transfers ...")
    out["rclone_S3"] = tools.rclone_copy(str(src), tools.s3_path("rclone"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=2.0, help="GiB of rowset files to back up (default 2)")
    parser.add_argument("--skip-s3", action="store_true", help="LOCAL repository only")
    parser.add_argument("--work-dir", type=Path, default=None, help="parent of the temp dir (default: $TMPDIR)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument(
        "--interval-ms",
        type=int,
        default=None,
        help="set backup_handler_update_interval_millis before the backups (default: the server's own, 200)",
    )
    args = parser.parse_args(argv)
    ensure_importable()
    from tests.dorisbk_server import DorisbkServer

    work = Path(tempfile.mkdtemp(prefix="dorisbk-bench-bk-", dir=args.work_dir))
    say(f"work dir: {work}; {machine_line()}")
    data_root = work / "data" / "be" / "be1" / "data"
    results: dict[str, Any] = {}
    ok = True
    started = time.monotonic()
    try:
        with maybe_s3(args.skip_s3) as s3:
            server = DorisbkServer(work / "data").start()
            try:
                say(f"building a table of >= {args.gib} GiB in {PARTITIONS * BUCKETS} tablets ...")
                with server.connect() as conn, conn.cursor() as cur:
                    built = build_table(cur, data_root, int(args.gib * GiB))
                tablets = sum(1 for p in data_root.iterdir() if p.is_dir())
                built["tablets"] = tablets
                built["rss_after_loads"] = rss_bytes(server.proc.pid)  # type: ignore[union-attr]
                say("restarting the server ...")
                server.restart()
                built["rss_idle"] = rss_bytes(server.proc.pid)  # type: ignore[union-attr]
                with server.connect() as conn, conn.cursor() as cur:
                    if args.interval_ms is not None:
                        cur.execute(
                            "ADMIN SET FRONTEND CONFIG "
                            f'("backup_handler_update_interval_millis" = "{args.interval_ms}")'
                        )
                    cur.execute("ADMIN SHOW FRONTEND CONFIG LIKE 'backup_handler_update_interval_millis'")
                    built["interval_ms"] = cur.fetchone()[1]
                    repos = create_repositories(cur, work / "repo_local", s3)
                tools = Tools(work, s3)
                # Each baseline runs right after dorisbk's first backup of its kind, so that load from other
                # work on the machine, which drifts over minutes, hits both sides of a ratio alike.
                for kind, repo in repos.items():
                    for n, label in enumerate((f"{kind.lower()}_first", f"{kind.lower()}_second")):
                        say(f"BACKUP {label} to {kind} ({'unchanged table' if n else 'first'}) ...")
                        results[(kind, n)] = run_backup(server, repo, label)
                        say(f"  {results[(kind, n)]['seconds']:.2f} s")
                        if n == 0 and kind == "LOCAL":
                            say("baseline: cp -r + md5sum ...")
                            results["cp"] = baseline_local(data_root, work / "cp_copy")
                            shutil.rmtree(work / "cp_copy")
                            results.update(tool_baselines_local(tools, data_root, work))
                        elif n == 0:
                            say(f"baseline: boto3 upload_file x {BASELINE_THREADS} threads ...")
                            client = s3_client(s3)
                            results["boto3"] = baseline_s3(client, s3.bucket, data_root, "baseline")
                            results.update(tool_baselines_s3(tools, data_root))
                log_tail = server.log()
            finally:
                server.stop()
            repo_bytes = tree_bytes(work / "repo_local")
            if s3 is not None:
                results["s3_repo"] = s3_bytes(client, s3.bucket, "dorisbk/")
                results["s3_base"] = s3_bytes(client, s3.bucket, "baseline/")
                for tool, prefix in (("restic", "restic/"), ("rclone", "rclone/")):
                    if "skipped" not in results[f"{tool}_S3"]:
                        results[f"{tool}_S3"]["stored"] = s3_bytes(client, s3.bucket, prefix)
        ok = report(built, results, repo_bytes, s3 is not None)
        for line in upload_summary(log_tail):
            say(line)
        say(f"total bench time {time.monotonic() - started:.0f} s; at the end: {machine_line()}")
    finally:
        leave_work_dir(work, args.keep)
    return 0 if ok else 1


def report(built: dict, r: dict, repo_bytes: tuple[int, int], with_s3: bool) -> bool:
    size = built["bytes"]
    say()
    say(
        f"table: {built['rows']:,} rows, {fmt_bytes(size)} ({size / 1e6:.0f} MB) in {built['files']} rowset files, "
        f"{built['tablets']} tablets; built in {built['seconds']:.0f} s"
    )
    say(
        f"server RSS: after the loads {fmt_bytes(built['rss_after_loads'])}, restarted and idle "
        f"{fmt_bytes(built['rss_idle'])}"
    )
    dropped = all(v["dropped"] for k, v in r.items() if isinstance(k, tuple))
    say(
        f"page cache dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before every measured run: "
        f"{'yes' if dropped else 'NO (not root)'}; MB/s = rowset bytes / seconds (1 MB = 10^6 bytes)"
    )
    say(f"backup_handler_update_interval_millis = {built['interval_ms']} (the job scheduler's period)")
    cp = r["cp"]
    base_local = cp["cp"] + cp["md5"]

    def job_row(name: str, key: tuple[str, int]) -> list[str]:
        v = r[key]
        weed = f"{v['weed_cpu']:.1f}" if key[0] == "S3" else ""
        return [name, f"{v['seconds']:.2f}", mbps(size, v["seconds"]), fmt_bytes(v["peak"]), f"{v['cpu']:.1f}", weed]

    rows = [
        job_row("LOCAL dorisbk BACKUP (first)", ("LOCAL", 0)),
        job_row("LOCAL dorisbk BACKUP (second, unchanged)", ("LOCAL", 1)),
        ["LOCAL baseline cp -r + md5sum", f"{base_local:.2f}", mbps(size, base_local), "", "", ""],
        ["   of which cp -r / md5sum", f"{cp['cp']:.2f} / {cp['md5']:.2f}", "", "", "", ""],
        [
            "   + sync after it (durable copy)",
            f"{base_local + cp['sync']:.2f}",
            mbps(size, base_local + cp["sync"]),
            "",
            "",
            "",
        ],
        result_row("LOCAL info: restic backup (local repo)", r["restic_LOCAL"], size, False),
        result_row("LOCAL info: rclone copy (local dir)", r["rclone_LOCAL"], size, False),
    ]
    if with_s3:
        b3 = r["boto3"]
        rows += [
            job_row("S3 dorisbk BACKUP (first)", ("S3", 0)),
            job_row("S3 dorisbk BACKUP (second, unchanged)", ("S3", 1)),
            [
                f"S3 baseline boto3 upload_file x {BASELINE_THREADS} threads",
                f"{b3['upload']:.2f}",
                mbps(size, b3["upload"]),
                "",
                f"{b3['cpu']:.1f} (bench)",
                f"{b3['weed_cpu']:.1f}",
            ],
            result_row("S3 info: restic backup (S3 repo)", r["restic_S3"], size, True),
            result_row(f"S3 info: rclone copy x {BASELINE_THREADS} transfers", r["rclone_S3"], size, True),
        ]
    say(
        table(
            ["run", "seconds", "rate", "peak RSS", "client CPU s", "SeaweedFS CPU s"],
            rows,
            "Backup time, throughput, memory and CPU (client = the dorisbk server, this process for boto3, "
            "or the tool's process for restic / rclone; peak RSS of the same)",
        )
    )
    state_rows = []
    for key, v in r.items():
        if isinstance(key, tuple):
            name = f"{key[0]} {'second' if key[1] else 'first'}"
            state_rows.append(
                [name]
                + [
                    f"{v['states'].get(s, 0.0):.2f}"
                    for s in ("PENDING", "SNAPSHOTING", "UPLOAD_SNAPSHOT", "UPLOADING", "SAVE_META", "UPLOAD_INFO")
                ]
            )
    say(
        table(
            ["job", "PENDING", "SNAPSHOTING", "UPLOAD_SNAPSHOT", "UPLOADING", "SAVE_META", "UPLOAD_INFO"],
            state_rows,
            "Seconds seen in each state (SHOW BACKUP polled every 50 ms)",
        )
    )
    say(
        f"LOCAL repository: {fmt_bytes(repo_bytes[0])} in {repo_bytes[1]} files (both snapshots, counted per "
        "name; the second's files are hard links to the first's, so the disk holds them once)"
    )
    if with_s3:
        say(
            f"S3 repository prefix: {fmt_bytes(r['s3_repo'][0])} in {r['s3_repo'][1]} objects (both snapshots); "
            f"baseline prefix: {fmt_bytes(r['s3_base'][0])} in {r['s3_base'][1]} objects"
        )
    for key in ("restic_LOCAL", "rclone_LOCAL", "restic_S3", "rclone_S3"):
        if key in r and "stored" in r[key]:
            say(f"{key.replace('_', ' ')} stored: {fmt_bytes(r[key]['stored'][0])} in {r[key]['stored'][1]} files")
    pairs = [
        ("LOCAL BACKUP (first)", r[("LOCAL", 0)]["seconds"], "restic backup, local repo", r["restic_LOCAL"]),
        ("LOCAL BACKUP (first)", r[("LOCAL", 0)]["seconds"], "rclone copy, local dir", r["rclone_LOCAL"]),
    ]
    if with_s3:
        pairs += [
            ("S3 BACKUP (first)", r[("S3", 0)]["seconds"], "restic backup, S3 repo", r["restic_S3"]),
            ("S3 BACKUP (first)", r[("S3", 0)]["seconds"], "rclone copy to S3", r["rclone_S3"]),
        ]
    say(versus_table(pairs, size, "backup"))
    checks = [
        Check(
            "LOCAL first backup time / (cp -r + md5sum)", r[("LOCAL", 0)]["seconds"] / base_local, TIME_TARGET, False
        ),
        Check(
            "LOCAL second / first backup", r[("LOCAL", 1)]["seconds"] / r[("LOCAL", 0)]["seconds"], SECOND_TARGET, False
        ),
    ]
    if with_s3:
        checks += [
            Check(
                "S3 first backup time / boto3 8 threads",
                r[("S3", 0)]["seconds"] / r["boto3"]["upload"],
                TIME_TARGET,
                False,
            ),
            Check("S3 second / first backup", r[("S3", 1)]["seconds"] / r[("S3", 0)]["seconds"], SECOND_TARGET, False),
        ]
    peak = max(v["peak"] for k, v in r.items() if isinstance(k, tuple))
    checks.append(Check("server peak RSS during backups", peak, RSS_TARGET, False, fmt_bytes))
    say(checks_table(checks))
    say(f"(LOCAL first backup vs cp -r + md5sum + sync: {r[('LOCAL', 0)]['seconds'] / (base_local + cp['sync']):.2f}x)")
    return all(c.ok for c in checks)


if __name__ == "__main__":
    sys.exit(main())
