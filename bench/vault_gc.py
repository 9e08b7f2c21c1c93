"""The storage vault's garbage collection at Doris's sizes: one pass's time and Python memory.

    python -m bench.vault_gc [--tablets 300000] [--objects 20000]

A fresh database on the machine's PostgreSQL gets ``--tablets`` tablet rows (one replica, two rowsets each) and
an unfinished BACKUP's record over the first half of them (its targets and snapshot files: the largest row a
pass reads); a SeaweedFS bucket started here gets, for ``--objects`` tablets of the other half, each tablet's
first rowset (referenced) and a file no row lists (garbage). Two passes of ``jobs/vault_gc.py`` run in this
process with no grace: the first finds the garbage, the second deletes it. Each pass's time and the peak of the
Python heap during it (tracemalloc, which slows it) are printed, not judged: SeaweedFS and PostgreSQL share
the machine's cores.
"""

from __future__ import annotations

import argparse
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.common import MiB, ensure_importable, say

PUT_WORKERS = 16
PREFIX = "vault"


def _tablet_row(tablet_id: int) -> dict[str, Any]:
    rowsets = [
        {"id": tablet_id * 10 + n, "version": n + 2, "path": f"data/{tablet_id}/{tablet_id}_{n}.parquet", "rows": 100,
         "size": 4096, "md5": "0" * 32}
        for n in range(2)
    ]  # fmt: skip
    return {"id": tablet_id, "table_id": 1, "partition_id": 2, "index_id": 3, "bucket": tablet_id % 16,
            "replicas": [{"id": tablet_id + 1, "backend_id": 10, "version": 3, "rowsets": rowsets}]}  # fmt: skip


def _fill_store(url: str, tablets: list[int], held: list[int]) -> None:
    from dorisbk.backend.snapshot import SnapshotFile
    from dorisbk.jobs.backup_tablets import TabletTarget, encode_snapshots, encode_targets
    from dorisbk.meta.store import Change, MetaStore

    store = MetaStore(url)
    try:
        for start in range(0, len(tablets), 50_000):
            change = Change()
            for tablet_id in tablets[start : start + 50_000]:
                change.put_encoded("tablet", tablet_id, _tablet_row(tablet_id))
            store.commit(change)
        targets = {t: TabletTarget(t, 1, 2, 3, 0, 10, 3, 0) for t in held}
        snapshots = {t: [SnapshotFile(f"{t}_{n}.parquet", "0" * 32, 4096, 100) for n in range(2)] for t in held}
        job = {"type": "BACKUP", "state": "UPLOADING", "targets": encode_targets(targets),
               "snapshots": encode_snapshots(snapshots)}  # fmt: skip
        store.commit(Change().put_encoded("job", 1, job))
    finally:
        store.close()


def _fill_vault(client: Any, bucket: str, tablets: list[int]) -> int:
    """Each tablet's first rowset and one garbage file; returns the number of objects."""
    keys = [f"{PREFIX}/data/{t}/{name}" for t in tablets for name in (f"{t}_0.parquet", f"{t}_9.parquet")]
    with ThreadPoolExecutor(PUT_WORKERS) as pool:
        list(pool.map(lambda key: client.put_object(Bucket=bucket, Key=key, Body=b"x" * 64), keys))
    return len(keys)


def _measured_pass(collector: Any) -> tuple[float, int, Any]:
    tracemalloc.start()
    start = time.monotonic()
    outcome = collector.run()
    seconds = time.monotonic() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak, outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tablets", type=int, default=300_000)
    parser.add_argument("--objects", type=int, default=20_000, help="tablets of the vault's objects (two each)")
    args = parser.parse_args()
    ensure_importable()
    import boto3
    from botocore.config import Config

    from dorisbk.jobs.vault_gc import VaultCollector
    from dorisbk.storage.vault import StorageVault
    from tests.pgdb import fresh_database
    from tests.s3server import s3_server

    tablets = list(range(100_000, 100_000 + args.tablets))
    half = len(tablets) // 2
    with fresh_database() as url, s3_server() as s3:
        start = time.monotonic()
        _fill_store(url, tablets, tablets[:half])
        say(f"{args.tablets:,} tablet rows and a BACKUP over {half:,} of them in {time.monotonic() - start:.1f} s")
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=s3.endpoint,
            region_name="us-east-1",
            aws_access_key_id=s3.access_key,
            aws_secret_access_key=s3.secret_key,
            config=Config(s3={"addressing_style": "path"}, max_pool_connections=PUT_WORKERS),
        )
        start = time.monotonic()
        count = _fill_vault(client, s3.bucket, tablets[half : half + args.objects])
        say(f"{count:,} objects in the vault in {time.monotonic() - start:.1f} s")

        from dorisbk.meta.store import MetaStore

        store = MetaStore(url)
        try:
            vault = StorageVault(f"s3://{s3.bucket}/{PREFIX}", s3.repository_properties())
            collector = VaultCollector(store, vault, lambda: 0, threading.Event())
            say("pass        seconds   python heap peak   listed   deleted   kept unreferenced")
            for name in ("first", "second"):
                seconds, peak, outcome = _measured_pass(collector)
                say(f"{name:<10}{seconds:>9.1f}{peak / MiB:>15.1f} MiB{outcome.listed:>9,}{outcome.deleted:>10,}"
                    f"{outcome.young:>10,}")  # fmt: skip
        finally:
            store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
