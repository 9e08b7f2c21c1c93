"""Upload and download tasks: moving snapshot files between backends and a repository.

They run on the backends' task workers, a batch of tablets per task, and check the job's
cancel flag between files. Uploads skip files the repository already holds under the
same checksummed name and copy, inside the repository, files an earlier snapshot of the
same tablet already holds; downloads verify every checksum.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from dorisbk.backend.snapshot import SnapshotInfo
from dorisbk.checksum import md5_file
from dorisbk.errors import DorisError
from dorisbk.storage.filesystem import NotFoundError
from dorisbk.storage.layout import check_name, split_checksum, with_checksum
from dorisbk.storage.repository import Repository

log = logging.getLogger(__name__)


T = TypeVar("T")


class TaskCancelled(DorisError):
    """The job was cancelled while the task ran."""


@dataclass
class UploadItem:
    tablet_id: int
    rel_path: str  # __db_x/__tbl_y/__part_z/__idx_w/__<tablet>
    snapshot: SnapshotInfo


class Throttle:
    """Holds a task to ``kbps`` KiB/s (0 = unlimited), like the BE's max_download_speed_kbps."""

    def __init__(self, kbps: int) -> None:
        self.kbps = kbps
        self.start = time.monotonic()
        self.done = 0

    def account(self, size: int, cancelled: threading.Event) -> None:
        if self.kbps <= 0:
            return
        self.done += size
        due = self.done / (self.kbps * 1024.0)
        while not cancelled.is_set():
            wait = due - (time.monotonic() - self.start)
            if wait <= 0:
                return
            cancelled.wait(min(wait, 0.2))


def batches(items: Sequence[T], batch_size: int, workers: int) -> list[list[T]]:
    """Split a backend's tablets into tasks of at most ``batch_size`` tablets, in a multiple of ``workers``
    tasks of even size so that no worker idles while another still has a long batch to go."""
    if not items:
        return []
    count = -(-len(items) // max(1, batch_size))
    count = min(len(items), -(-count // workers) * workers)
    return [list(items[i::count]) for i in range(count)]


def upload_tablets(
    repo: Repository,
    label: str,
    items: Sequence[UploadItem],
    previous: Sequence[str],
    cancelled: threading.Event,
    kbps: int,
    progress: list[int] | None = None,
) -> dict[int, list[str]]:
    """Put each tablet's snapshot files under ``__ss_<label>/__ss_content/<rel_path>/``.

    Returns the checksummed file names now in the repository per tablet, which the job
    compares with the snapshot's file list. ``progress[0]`` counts the tablets done so far.
    """
    throttle = Throttle(kbps)
    uploaded: dict[int, list[str]] = {}
    sent = copied = skipped = sent_bytes = 0
    for item in items:
        remote_dir = f"{repo.content_dir(label)}/{item.rel_path}"
        present = repo.file_names(remote_dir)
        earlier = [(prev, repo.file_names(f"{repo.content_dir(prev)}/{item.rel_path}")) for prev in previous]
        names = []
        for f in item.snapshot.files:
            if cancelled.is_set():
                raise TaskCancelled("job cancelled")
            stored = with_checksum(f.name, f.md5)
            names.append(stored)
            if stored in present:
                skipped += 1
                continue
            source = next((prev for prev, held in earlier if stored in held), None)
            if source is not None and repo.copy_from_previous(source, label, f"{item.rel_path}/{stored}"):
                copied += 1
                continue
            repo.upload_file_checked(os.path.join(item.snapshot.path, f.name), remote_dir, f.name, f.md5, present)
            sent += 1
            sent_bytes += f.size
            throttle.account(f.size, cancelled)
        uploaded[item.tablet_id] = names
        if progress is not None:
            progress[0] += 1
    log.info(
        "upload task of snapshot %s: %d tablets, %d files uploaded (%d bytes), %d copied in the repository, "
        "%d already present",
        label,
        len(items),
        sent,
        sent_bytes,
        copied,
        skipped,
    )
    return uploaded


@dataclass
class DownloadItem:
    tablet_id: int  # the local tablet the files go to
    remote_dir: str  # the repository's tablet dir
    names: list[str]  # checksummed names expected there
    local_dir: str


def download_tablets(
    repo: Repository, items: Sequence[DownloadItem], cancelled: threading.Event, kbps: int
) -> dict[int, list[str]]:
    """Fetch and verify each tablet's files into its local snapshot dir; returns plain names per tablet.

    A file already there with the expected checksum (a download redone after a restart) is
    kept; anything else in the dir (left over by an interrupted download) is removed, so the
    dir holds exactly the snapshot tablet's files.
    """
    throttle = Throttle(kbps)
    fetched: dict[int, list[str]] = {}
    for item in items:
        local_dir = Path(item.local_dir)
        local_dir.mkdir(parents=True, exist_ok=True)
        present = repo.file_names(item.remote_dir)
        names = []
        for stored in item.names:
            if cancelled.is_set():
                raise TaskCancelled("job cancelled")
            parsed = split_checksum(check_name(stored))  # a name from the info file, about to be a local path
            if parsed is None:
                raise DorisError(f"file name should contains checksum: {stored}")
            remote = f"{item.remote_dir}/{stored}"
            if stored not in present:
                raise NotFoundError(f"File does not exist: {remote}")
            local = local_dir / parsed[0]
            if not (local.is_file() and md5_file(local) == parsed[1]):
                repo.download_file_checked(remote, local)
                throttle.account(local.stat().st_size, cancelled)
            names.append(parsed[0])
        for stray in local_dir.iterdir():
            if stray.name not in names:
                stray.unlink()
        fetched[item.tablet_id] = names
    return fetched
