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
from typing import Generic, TypeVar

from dorisbk.backend.snapshot import SnapshotInfo
from dorisbk.backend.tasks import AgentTask
from dorisbk.errors import DorisError
from dorisbk.storage.layout import RemoteTablet, check_name, split_checksum, with_checksum
from dorisbk.storage.repository import Repository

log = logging.getLogger(__name__)


T = TypeVar("T")


class TaskCancelled(DorisError):
    """The job was cancelled while the task ran."""


@dataclass
class UploadItem:
    tablet_id: int
    remote: RemoteTablet  # where its files go in the snapshot
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


@dataclass
class TransferTask(AgentTask, Generic[T]):
    """What an upload and a download share: the repository and the snapshot's label, a batch of tablets,
    the job's cancel flag (checked between files) and the speed limit."""

    repo: Repository
    label: str
    items: Sequence[T]
    cancelled: threading.Event
    kbps: int

    @property
    def size(self) -> int:
        return len(self.items)


@dataclass
class UploadTask(TransferTask[UploadItem]):
    """Put a batch of tablets' snapshot files into the repository (Doris's UploadTask)."""

    previous: Sequence[str]  # labels of earlier snapshots whose files can be copied inside the repository

    def run(self) -> dict[int, list[str]]:
        """The checksummed file names now in the repository per tablet, which the job compares with the
        snapshot's file list. ``finished`` counts the tablets done so far."""
        repo, label = self.repo, self.label
        throttle = Throttle(self.kbps)
        uploaded: dict[int, list[str]] = {}
        sent = copied = skipped = sent_bytes = 0
        for item in self.items:
            present = repo.tablet_files(label, item.remote)
            earlier = [(prev, repo.tablet_files(prev, item.remote)) for prev in self.previous]
            names = []
            for f in item.snapshot.files:
                if self.cancelled.is_set():
                    raise TaskCancelled("job cancelled")
                stored = with_checksum(f.name, f.md5)
                names.append(stored)
                if stored in present:
                    skipped += 1
                    continue
                source = next((prev for prev, held in earlier if stored in held), None)
                if source is not None and repo.copy_tablet_file(source, label, item.remote, stored):
                    copied += 1
                    continue
                local = os.path.join(item.snapshot.path, f.name)
                repo.upload_tablet_file(label, item.remote, local, f.name, f.md5, present)
                sent += 1
                sent_bytes += f.size
                throttle.account(f.size, self.cancelled)
            uploaded[item.tablet_id] = names
            self.finished += 1
        log.info(
            "upload task of snapshot %s: %d tablets, %d files uploaded (%d bytes), %d copied in the repository, "
            "%d already present",
            label,
            len(self.items),
            sent,
            sent_bytes,
            copied,
            skipped,
        )
        return uploaded


@dataclass
class DownloadItem:
    tablet_id: int  # the local tablet the files go to
    remote: RemoteTablet  # the snapshot tablet they come from
    names: list[str]  # checksummed names expected there
    local_dir: Path  # the job's snapshot dir for the tablet on the backend


@dataclass
class DownloadTask(TransferTask[DownloadItem]):
    """Fetch and verify a batch of tablets' files into their local snapshot dirs (Doris's DownloadTask).

    A file already there with the expected checksum (a download redone after a restart) is
    kept; anything else in the dir (left over by an interrupted download) is removed, so the
    dir holds exactly the snapshot tablet's files.
    """

    def run(self) -> dict[int, list[str]]:
        """Plain file names per tablet."""
        throttle = Throttle(self.kbps)
        fetched: dict[int, list[str]] = {}
        for item in self.items:
            local_dir = item.local_dir
            local_dir.mkdir(parents=True, exist_ok=True)
            present = self.repo.tablet_files(self.label, item.remote)
            names = []
            for stored in item.names:
                if self.cancelled.is_set():
                    raise TaskCancelled("job cancelled")
                parsed = split_checksum(check_name(stored))  # a name from the info file, about to be a local path
                if parsed is None:
                    raise DorisError(f"file name should contains checksum: {stored}")
                local = local_dir / parsed[0]
                if self.repo.download_tablet_file(self.label, item.remote, stored, local, present):
                    throttle.account(local.stat().st_size, self.cancelled)
                names.append(parsed[0])
            for stray in local_dir.iterdir():
                if stray.name not in names:
                    stray.unlink()
            fetched[item.tablet_id] = names
        return fetched
