"""restic and rclone as further baselines of bench.backup and bench.restore, on the same bytes.

They are information only (the targets stay against ``cp -r`` + ``md5sum`` and boto3). Each run:

* drops the page cache first, like every measured run of the benchmarks;
* is timed around the tool's process alone; its CPU seconds come from ``wait4``, its peak RSS from
  GNU ``time`` (``wait4``'s ``ru_maxrss`` of a child forked from this process starts at this
  process's own peak, which the kernel carries through fork and exec);
* is shown as skipped, with the reason, when the tool is missing (``scripts/bench-deps.sh``
  installs it) or exits with an error, so that the benchmark itself goes on.

restic keeps no cache (``--no-cache``) and gets its password from ``RESTIC_PASSWORD``; on S3 it
uses the loopback SeaweedFS with 8 connections. rclone runs ``copy`` with ``--transfers 8
--checkers 8``; its S3 remote ``benchs3:`` is defined by ``RCLONE_CONFIG_BENCHS3_*`` variables.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import cpu_seconds, drop_caches, find_processes, fmt_bytes, mbps, table

RESTIC_PASSWORD = "dorisbk-bench"
S3_CONNECTIONS = 8  # the boto3 baseline's thread count
RCLONE_FLAGS = ["--transfers", "8", "--checkers", "8", "-q"]


class ToolFailed(RuntimeError):
    """A baseline tool exited with an error; the message is the end of its stderr."""


def skipped(reason: str) -> dict[str, Any]:
    return {"skipped": reason}


def _env(s3: Any, work: Path) -> dict[str, str]:
    """What both tools need in their environment: restic's password and S3 keys, rclone's S3 remote."""
    env = {**os.environ, "RESTIC_PASSWORD": RESTIC_PASSWORD, "RCLONE_CONFIG": str(work / "rclone.conf")}
    # The endpoint is plain HTTP on loopback; rclone 1.60's AWS SDK fails on any AWS_CA_BUNDLE
    # ("unable to load custom CA bundle, HTTPClient's transport unsupported type").
    env.pop("AWS_CA_BUNDLE", None)
    if s3 is not None:
        env |= {
            "AWS_ACCESS_KEY_ID": s3.access_key,
            "AWS_SECRET_ACCESS_KEY": s3.secret_key,
            "RCLONE_CONFIG_BENCHS3_TYPE": "s3",
            "RCLONE_CONFIG_BENCHS3_PROVIDER": "Other",
            "RCLONE_CONFIG_BENCHS3_ENDPOINT": s3.endpoint,
            "RCLONE_CONFIG_BENCHS3_ACCESS_KEY_ID": s3.access_key,
            "RCLONE_CONFIG_BENCHS3_SECRET_ACCESS_KEY": s3.secret_key,
            "RCLONE_CONFIG_BENCHS3_REGION": "us-east-1",
            "RCLONE_CONFIG_BENCHS3_FORCE_PATH_STYLE": "true",
            "RCLONE_CONFIG_BENCHS3_NO_CHECK_BUCKET": "true",
        }
    return env


class Tools:
    """Runs restic and rclone for one benchmark, in ``work``, against ``s3`` (None: LOCAL only)."""

    def __init__(self, work: Path, s3: Any) -> None:
        self.work = work
        self.s3 = s3
        self.env = _env(s3, work)
        self.log = work / "tool-stderr.log"

    # ---- running
    def missing(self, tool: str) -> str | None:
        for name in (tool, "time"):
            if not shutil.which(name):
                return f"{name} not installed (scripts/bench-deps.sh)"
        return None

    def _spawn(self, cmd: Sequence[str], cwd: Path | None = None) -> tuple[float, float, int]:
        """Run ``cmd``; (seconds, CPU seconds, peak RSS bytes) of it, or ToolFailed."""
        rss_file = self.work / "tool-maxrss"
        timed_cmd = ["time", "-f", "%M", "-o", str(rss_file), *cmd]
        with open(self.log, "wb") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(timed_cmd, cwd=cwd, env=self.env, stdout=subprocess.DEVNULL, stderr=err)
            _pid, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            lines = self.log.read_text(errors="replace").strip().splitlines()[-3:]
            tail = [re.sub(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ", "", line) for line in lines]
            raise ToolFailed(f"{cmd[0]} {cmd[1]} exited {proc.returncode}: {' / '.join(tail)}"[:300])
        # GNU time writes the peak in KiB as the file's last word.
        return seconds, usage.ru_utime + usage.ru_stime, int(rss_file.read_text().split()[-1]) * 1024

    def measured(self, cmd: Sequence[str], cwd: Path | None = None) -> dict[str, Any]:
        """The page cache dropped, then ``cmd`` timed, with its CPU and peak RSS and SeaweedFS's CPU."""
        weed = find_processes("weed")
        drop_caches()
        weed0 = cpu_seconds(weed)
        seconds, cpu, peak = self._spawn(cmd, cwd)
        return {"seconds": seconds, "cpu": cpu, "peak": peak, "weed_cpu": cpu_seconds(weed) - weed0}

    def attempt(self, tool: str, action: Any) -> dict[str, Any]:
        """``action()`` unless ``tool`` is missing; a failure becomes a skipped baseline with its reason."""
        reason = self.missing(tool)
        if reason:
            return skipped(reason)
        try:
            return action()
        except (ToolFailed, OSError) as exc:
            return skipped(str(exc))

    # ---- restic
    def restic_repo(self, kind: str, name: str) -> str:
        if kind == "LOCAL":
            return str(self.work / name)
        return f"s3:{self.s3.endpoint}/{self.s3.bucket}/{name}"

    def restic(self, repo: str, *args: str) -> list[str]:
        opts = ["-o", f"s3.connections={S3_CONNECTIONS}", "-o", "s3.bucket-lookup=path", "-o", "s3.region=us-east-1"]
        return ["restic", "-r", repo, "--no-cache", "-q", *(opts if repo.startswith("s3:") else []), *args]

    def restic_backup(self, kind: str, src: Path, name: str) -> dict[str, Any]:
        """``restic init`` (not timed), then ``restic backup src`` timed."""

        def action() -> dict[str, Any]:
            repo = self.restic_repo(kind, name)
            self._spawn(self.restic(repo, "init"))
            return self.measured(self.restic(repo, "backup", "."), cwd=src)

        return self.attempt("restic", action)

    def restic_restore(self, kind: str, src: Path, name: str, dst: Path) -> dict[str, Any]:
        """A restic repository of ``src`` made first (not timed), then ``restic restore latest`` into ``dst`` timed."""

        def action() -> dict[str, Any]:
            repo = self.restic_repo(kind, name)
            self._spawn(self.restic(repo, "init"))
            self._spawn(self.restic(repo, "backup", "."), cwd=src)
            return self.measured(self.restic(repo, "restore", "latest", "--target", str(dst)))

        return self.attempt("restic", action)

    # ---- rclone
    def rclone_copy(self, src: str, dst: str) -> dict[str, Any]:
        """``rclone copy src dst`` timed; an S3 side is written ``benchs3:<bucket>/<prefix>``."""
        return self.attempt("rclone", lambda: self.measured(["rclone", "copy", src, dst, *RCLONE_FLAGS]))

    def s3_path(self, prefix: str) -> str:
        return f"benchs3:{self.s3.bucket}/{prefix.strip('/')}"


# ---- reporting
def result_row(name: str, v: dict[str, Any], size: int, s3: bool) -> list[str]:
    """A row of the benchmark's main table: seconds, rate, peak RSS of the tool, its CPU, SeaweedFS CPU."""
    if "skipped" in v:
        return [name, "skipped", v["skipped"][:60], "", "", ""]
    weed = f"{v['weed_cpu']:.1f}" if s3 else ""
    return [name, f"{v['seconds']:.2f}", mbps(size, v["seconds"]), fmt_bytes(v["peak"]), f"{v['cpu']:.1f}", weed]


def versus_table(pairs: Sequence[tuple[str, float, str, dict[str, Any]]], size: int, verb: str) -> str:
    """The info table: each dorisbk run (name, seconds) against a restic or rclone run; ratio = dorisbk / tool."""
    rows: list[list[str]] = []
    reasons: list[str] = []
    for dorisbk_name, dorisbk_s, tool_name, v in pairs:
        if "skipped" in v:
            rows.append([dorisbk_name, tool_name, "skipped", "", f"{dorisbk_s:.2f}", ""])
            reasons.append(f"{tool_name} skipped: {v['skipped']}")
            continue
        rows.append(
            [
                dorisbk_name,
                tool_name,
                f"{v['seconds']:.2f}",
                mbps(size, v["seconds"]),
                f"{dorisbk_s:.2f}",
                f"{dorisbk_s / v['seconds']:.2f}x",
            ]
        )
    shown = table(
        ["dorisbk", "vs", "tool s", "tool rate", "dorisbk s", "dorisbk / tool"],
        rows,
        f"vs restic / rclone (info, no target): dorisbk {verb} time / the tool's time, below 1 = dorisbk faster",
    )
    return "\n".join([shown, *reasons])
