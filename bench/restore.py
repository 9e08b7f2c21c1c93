"""RESTORE benchmark: dorisbk against ``cp -r`` + ``md5sum`` (LOCAL) and boto3 with 8 threads (S3), in one run.

Also, for information, against restic and rclone on the same bytes (``bench.tools``).

    python -m bench.restore [--gib 2] [--skip-s3] [--work-dir DIR] [--keep]

A real ``dorisbk serve`` (own temp data dir) gets the table of the backup benchmark
(``bench.common.build_table``: 4 RANGE partitions x 16 HASH buckets = 64 tablets of random
doubles and md5 strings, loaded until the rowset files hold at least ``--gib`` GiB) and backs
it up once to a LOCAL repository and once to an S3 repository on a loopback SeaweedFS
(``tests/s3server.py``). The server is then restarted, so the restores' memory is not mixed
up with what the loads and backups left behind.

Measured, with the page cache dropped (``sync; echo 3 > /proc/sys/vm/drop_caches``, root
only) before each run:

* ``RESTORE SNAPSHOT <db>.<label> FROM <repo> ON (t) PROPERTIES ("backup_timestamp" = ...,
  "replication_num" = "1")`` into a new database, from LOCAL then from S3; time from the
  statement to ``SHOW RESTORE`` saying FINISHED (polled every 50 ms), MB/s over the
  snapshot's content bytes, the server's peak RSS and CPU, SeaweedFS's CPU, and the seconds
  seen in each job state. The restored table's row count (and ``sum(k)``) must equal the
  source's.
* baselines over the same files, each run right after dorisbk's restore of its kind: ``cp -r``
  of the snapshot's ``__ss_content`` dir then ``md5sum`` of each copied file; boto3
  ``download_file`` of every object of that dir from a pool of 8 threads (then, shown apart,
  an md5 of each downloaded file, the check dorisbk makes);
* information only, beside each of those baselines: ``restic restore`` of a restic repository
  (a local dir, or the S3 bucket) holding the snapshot's ``__ss_content`` dir, made first and
  not timed; ``rclone copy`` of that dir (locally, or from the dorisbk repository's objects in
  the bucket, 8 transfers) to a local dir; a missing tool is shown as skipped.

Targets (issue 5): within 1.3x of the baseline's time on both, server peak RSS < 300 MiB.
"""

from __future__ import annotations

import argparse
import hashlib
import os
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
    s3_client,
    s3_keys,
    say,
    table,
    timed,
    tree_bytes,
)
from bench.tools import Tools, result_row, versus_table

RESTORE_STATES = ("PENDING", "CREATING", "SNAPSHOTING", "DOWNLOAD", "DOWNLOADING", "COMMIT", "COMMITTING")
S3_PREFIX = "dorisbk"  # where bench.common.create_repositories puts the S3 repository in the bucket


def snapshot_timestamp(cur: Any, repo: str, label: str) -> str:
    cur.execute(f'SHOW SNAPSHOT ON {repo} WHERE SNAPSHOT = "{label}"')
    rows = cur.fetchall()
    if not rows or rows[0][2] != "OK":
        raise RuntimeError(f"SHOW SNAPSHOT ON {repo}: no snapshot {label}: {rows}")
    return str(rows[0][1]).split("\n")[-1]


def content_dir(repo: str, label: str) -> str:
    """The snapshot's files, relative to the repository location (docs/repository-format.md)."""
    from dorisbk.storage.layout import CONTENT_DIR, repo_dir, snapshot_dir_name

    return f"{repo_dir(repo)}/{snapshot_dir_name(label)}/{CONTENT_DIR}"


def table_digest(cur: Any, name: str) -> tuple[int, int]:
    cur.execute(f"SELECT count(*), sum(k) FROM {name}")
    count, total = cur.fetchone()
    return int(count), int(total or 0)


def run_restore(server: Any, repo: str, label: str, db: str) -> dict[str, Any]:
    """RESTORE the snapshot into the new database ``db`` and poll until FINISHED."""
    with server.connect() as conn, conn.cursor() as cur:
        timestamp = snapshot_timestamp(cur, repo, label)
        cur.execute(f"CREATE DATABASE {db}")
    return run_job(
        server,
        f"RESTORE SNAPSHOT {db}.{label} FROM {repo} ON (t) "
        f'PROPERTIES ("backup_timestamp" = "{timestamp}", "replication_num" = "1")',
        f'SHOW RESTORE FROM {db} WHERE Label = "{label}"',
    )


def baseline_s3(client: Any, bucket: str, prefix: str, dst: Path) -> dict[str, float]:
    """boto3 ``download_file`` of each object under ``prefix``, ``BASELINE_THREADS`` at a time (one transfer
    thread each), then (timed apart) an md5 of each downloaded file."""
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(use_threads=False)
    keys = [key for key, _size in s3_keys(client, bucket, prefix) if not key.endswith("/")]
    weed = find_processes("weed")
    drop_caches()

    def get(key: str) -> Path:
        local = dst / key[len(prefix) :].lstrip("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(bucket, key, str(local), Config=config)
        return local

    cpu0, weed0 = cpu_seconds([os.getpid()]), cpu_seconds(weed)
    with timed() as t, ThreadPoolExecutor(BASELINE_THREADS) as pool:
        files = list(pool.map(get, keys))
    cpu, weed_cpu = cpu_seconds([os.getpid()]) - cpu0, cpu_seconds(weed) - weed0
    with timed() as t_md5:
        for path in files:
            with open(path, "rb") as fh:
                hashlib.file_digest(fh, "md5")
    return {"download": t.seconds, "md5": t_md5.seconds, "cpu": cpu, "weed_cpu": weed_cpu, "objects": len(keys)}


def tool_baselines(tools: Tools, kind: str, content: Path, s3_prefix: str, work: Path) -> dict[str, Any]:
    """restic restore from a restic repository of ``content`` (made first, not timed) and rclone copy of the
    same files (``content`` for LOCAL, the objects under ``s3_prefix`` for S3) into local dirs, removed after."""
    say(f"baseline (info): restic restore, {kind} repository (made first, not timed) ...")
    repo = "restic_local" if kind == "LOCAL" else "restic"
    out = {f"restic_{kind}": tools.restic_restore(kind, content, repo, work / "restic_out")}
    say(f"baseline (info): rclone copy from {kind} ...")
    src = str(content) if kind == "LOCAL" else tools.s3_path(s3_prefix)
    out[f"rclone_{kind}"] = tools.rclone_copy(src, str(work / "rclone_out"))
    for key, name in ((f"restic_{kind}", "restic_out"), (f"rclone_{kind}", "rclone_out")):
        if "skipped" not in out[key]:
            out[key]["restored"] = tree_bytes(work / name)
        shutil.rmtree(work / name, ignore_errors=True)
    shutil.rmtree(work / "restic_local", ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.restore", description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=2.0, help="GiB of rowset files to back up and restore (default 2)")
    parser.add_argument("--skip-s3", action="store_true", help="LOCAL repository only")
    parser.add_argument("--work-dir", type=Path, default=None, help="parent of the temp dir (default: $TMPDIR)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args(argv)
    ensure_importable()
    from tests.dorisbk_server import DorisbkServer

    work = Path(tempfile.mkdtemp(prefix="dorisbk-bench-rs-", dir=args.work_dir))
    say(f"work dir: {work}; {machine_line()}")
    data_root = work / "data" / "be" / "be1" / "data"
    local_repo = work / "repo_local"
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
                    built["tablets"] = sum(1 for p in data_root.iterdir() if p.is_dir())
                    built["digest"] = table_digest(cur, "bk.t")
                    repos = create_repositories(cur, local_repo, s3)
                for kind, repo in repos.items():
                    say(f"BACKUP snap_{kind.lower()} to {kind} ...")
                    backup = run_job(
                        server,
                        f"BACKUP SNAPSHOT bk.snap_{kind.lower()} TO {repo} ON (t)",
                        f'SHOW BACKUP FROM bk WHERE SnapshotName = "snap_{kind.lower()}"',
                    )
                    say(f"  {backup['seconds']:.2f} s")
                say("restarting the server ...")
                server.restart()
                built["rss_idle"] = rss_bytes(server.proc.pid)  # type: ignore[union-attr]
                local_content = local_repo / content_dir("r_local", "snap_local")
                tools = Tools(work, s3)
                results["bytes"], results["files"] = tree_bytes(local_content)
                # Each baseline runs right after dorisbk's restore of its kind, so that load from other
                # work on the machine, which drifts over minutes, hits both sides of a ratio alike.
                for kind, repo in repos.items():
                    label, db = f"snap_{kind.lower()}", f"rs_{kind.lower()}"
                    say(f"RESTORE {label} from {kind} into {db} ...")
                    results[kind] = run_restore(server, repo, label, db)
                    say(f"  {results[kind]['seconds']:.2f} s")
                    with server.connect() as conn, conn.cursor() as cur:
                        results[kind]["digest"] = table_digest(cur, f"{db}.t")
                        cur.execute(f"DROP DATABASE {db} FORCE")  # frees its disk space for what follows
                    if kind == "LOCAL":
                        say("baseline: cp -r + md5sum ...")
                        results["cp"] = baseline_local(local_content, work / "cp_copy")
                        shutil.rmtree(work / "cp_copy")
                        results.update(tool_baselines(tools, kind, local_content, "", work))
                    else:
                        say(f"baseline: boto3 download_file x {BASELINE_THREADS} threads ...")
                        client = s3_client(s3)
                        prefix = f"{S3_PREFIX}/{content_dir(repo, label)}/"
                        results["boto3"] = baseline_s3(client, s3.bucket, prefix, work / "boto3_copy")
                        results["s3_bytes"] = sum(size for _key, size in s3_keys(client, s3.bucket, prefix))
                        shutil.rmtree(work / "boto3_copy")
                        results.update(tool_baselines(tools, kind, local_content, prefix, work))
            finally:
                server.stop()
        ok = report(built, results, s3 is not None)
        say(f"total bench time {time.monotonic() - started:.0f} s; at the end: {machine_line()}")
    finally:
        leave_work_dir(work, args.keep)
    return 0 if ok else 1


def report(built: dict, r: dict, with_s3: bool) -> bool:
    size = r["bytes"]
    kinds = ["LOCAL", "S3"] if with_s3 else ["LOCAL"]
    say()
    say(
        f"table: {built['rows']:,} rows, {fmt_bytes(built['bytes'])} in {built['files']} rowset files, "
        f"{built['tablets']} tablets; built in {built['seconds']:.0f} s"
    )
    say(
        f"snapshot content: {fmt_bytes(size)} ({size / 1e6:.0f} MB) in {r['files']} files"
        + (f"; in S3: {fmt_bytes(r['s3_bytes'])} in {r['boto3']['objects']} objects" if with_s3 else "")
    )
    say(f"server RSS restarted and idle: {fmt_bytes(built['rss_idle'])}")
    dropped = all(r[k]["dropped"] for k in kinds)
    say(
        f"page cache dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before every measured run: "
        f"{'yes' if dropped else 'NO (not root)'}; MB/s = snapshot content bytes / seconds (1 MB = 10^6 bytes)"
    )
    cp = r["cp"]
    base_local = cp["cp"] + cp["md5"]

    def job_row(kind: str) -> list[str]:
        v = r[kind]
        weed = f"{v['weed_cpu']:.1f}" if kind == "S3" else ""
        return [
            f"{kind} dorisbk RESTORE",
            f"{v['seconds']:.2f}",
            mbps(size, v["seconds"]),
            fmt_bytes(v["peak"]),
            f"{v['cpu']:.1f}",
            weed,
        ]

    rows = [
        job_row("LOCAL"),
        ["LOCAL baseline cp -r + md5sum", f"{base_local:.2f}", mbps(size, base_local), "", "", ""],
        ["   of which cp -r / md5sum", f"{cp['cp']:.2f} / {cp['md5']:.2f}", "", "", "", ""],
        result_row("LOCAL info: restic restore (local repo)", r["restic_LOCAL"], size, False),
        result_row("LOCAL info: rclone copy (local dir)", r["rclone_LOCAL"], size, False),
    ]
    if with_s3:
        b3 = r["boto3"]
        rows += [
            job_row("S3"),
            [
                f"S3 baseline boto3 download_file x {BASELINE_THREADS} threads",
                f"{b3['download']:.2f}",
                mbps(size, b3["download"]),
                "",
                f"{b3['cpu']:.1f} (bench)",
                f"{b3['weed_cpu']:.1f}",
            ],
            [
                "   + md5 of each file after it",
                f"{b3['download'] + b3['md5']:.2f}",
                mbps(size, b3["download"] + b3["md5"]),
                "",
                "",
                "",
            ],
            result_row("S3 info: restic restore (S3 repo)", r["restic_S3"], size, True),
            result_row(f"S3 info: rclone copy x {BASELINE_THREADS} transfers", r["rclone_S3"], size, True),
        ]
    say(
        table(
            ["run", "seconds", "rate", "peak RSS", "client CPU s", "SeaweedFS CPU s"],
            rows,
            "Restore time, throughput, memory and CPU (client = the dorisbk server, this process for boto3, "
            "or the tool's process for restic / rclone; peak RSS of the same)",
        )
    )
    say(
        table(
            ["job", *RESTORE_STATES],
            [[kind] + [f"{r[kind]['states'].get(s, 0.0):.2f}" for s in RESTORE_STATES] for kind in kinds],
            "Seconds seen in each state (SHOW RESTORE polled every 50 ms)",
        )
    )
    source = built["digest"]
    for kind in kinds:
        got = r[kind]["digest"]
        say(
            f"{kind} restored table: {got[0]:,} rows (source {source[0]:,}), sum(k) "
            f"{'equal' if got[1] == source[1] else f'DIFFERS: {got[1]} vs {source[1]}'}"
        )
    for kind in kinds:
        for tool in ("restic", "rclone"):
            v = r[f"{tool}_{kind}"]
            if "restored" in v and v["restored"] != (size, r["files"]):
                say(f"{tool} from {kind}: restored (bytes, files) {v['restored']}, not {(size, r['files'])}")
    say(
        versus_table(
            [
                (f"{kind} RESTORE", r[kind]["seconds"], f"{tool} {verb}", r[f"{tool}_{kind}"])
                for kind in kinds
                for tool, verb in (("restic", "restore"), ("rclone", "copy"))
            ],
            size,
            "restore",
        )
    )
    checks = [Check("LOCAL restore time / (cp -r + md5sum)", r["LOCAL"]["seconds"] / base_local, TIME_TARGET, False)]
    if with_s3:
        checks.append(
            Check("S3 restore time / boto3 8 threads", r["S3"]["seconds"] / r["boto3"]["download"], TIME_TARGET, False)
        )
    peak = max(r[k]["peak"] for k in kinds)
    checks.append(Check("server peak RSS during restores", peak, RSS_TARGET, False, fmt_bytes))
    say(checks_table(checks))
    same = all(r[k]["digest"] == source for k in kinds)
    if not same:
        say("FAIL: a restored table differs from the source")
    return same and all(c.ok for c in checks)


if __name__ == "__main__":
    sys.exit(main())
