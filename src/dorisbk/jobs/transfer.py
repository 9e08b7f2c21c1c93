"""Upload and download tasks: moving snapshot files between backends and a repository.

They run on the backends' task workers, a batch of tablets per task, and check the job's
cancel flag between files. Uploads skip files the repository already holds under the
same checksummed name and copy, inside the repository, files an earlier snapshot of the
same tablet already holds; downloads verify every checksum. Each task counts its files and
bytes as it places them (``transfer_progress``): ``finished`` / ``size`` are files, as the
Doris BE reports an upload or download task's progress.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from dorisbk.backend.snapshot import SnapshotFile, SnapshotInfo, header_name, snapshot_file
from dorisbk.backend.tablet_store import tablet_file_key
from dorisbk.backend.tasks import AgentTask, TaskCancelled
from dorisbk.checksum import md5_bytes, md5_file
from dorisbk.errors import DorisError
from dorisbk.jobs.transfer_progress import Transferred
from dorisbk.storage.filesystem import NotFoundError
from dorisbk.storage.layout import RemoteTablet, check_name, split_checksum, with_checksum
from dorisbk.storage.repository import Repository
from dorisbk.storage.vault import StorageVault

log = logging.getLogger(__name__)


T = TypeVar("T")


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


# Tablets one task that links files takes (SnapshotTask, DirMoveTask): a link takes microseconds, a task and its
# future far more memory than that; and what a task built is frozen out of the cyclic GC when it ends
# (TaskTracker), so that a pass never walks more than a batch's objects
LINK_BATCH = 1000


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
    the job's cancel flag (checked between files), the speed limit, and the counts of files and bytes
    placed so far (written by the task's worker alone, read by anyone)."""

    repo: Repository
    label: str
    items: Sequence[T]
    cancelled: threading.Event
    kbps: int
    files_total: int = field(default=0, init=False)
    bytes_total: int = field(default=0, init=False)
    bytes_done: int = field(default=0, init=False)
    bytes_moved: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        sizes = self.file_sizes()
        self.files_total, self.bytes_total = len(sizes), sum(sizes)

    def file_sizes(self) -> list[int]:  # pragma: no cover - per task type
        """The size of every file the task places, moved or not."""
        raise NotImplementedError

    @property
    def size(self) -> int:
        return self.files_total

    @property
    def waits_on_network(self) -> bool:
        return self.repo.fs.remote

    def transferred(self) -> Transferred:
        return Transferred(self.finished, self.files_total, self.bytes_done, self.bytes_total, self.bytes_moved)

    def _placed(self, size: int) -> None:
        """A file is at its destination: moved, found there already, or copied inside the repository."""
        self.bytes_done += size
        self.finished += 1

    def _moved(self, size: int, throttle: Throttle) -> None:
        """A file crossed over: count it, hold to the speed limit, and stop here if the job was cancelled."""
        self.bytes_moved += size
        self._placed(size)
        throttle.account(size, self.cancelled)
        TaskCancelled.check(self.cancelled)


@dataclass
class UploadOutcome:
    """What an upload task did: the checksummed names now in the repository per tablet, and file counts."""

    files: dict[int, list[str]]
    sent: int = 0
    sent_bytes: int = 0
    copied: int = 0  # inside the repository, from an earlier snapshot
    present: int = 0  # already there (a job resumed after a restart)
    from_vault: int = 0  # copied on the server from the storage vault (shared mode)


@dataclass
class UploadTask(TransferTask[UploadItem]):
    """Put a batch of tablets' snapshot files into the repository (Doris's UploadTask)."""

    present: Mapping[str, Set[str]]  # the snapshot's files already in the repository, by tablet path (one listing)
    previous: Sequence[str]  # labels of earlier snapshots whose files can be copied inside the repository
    # shared mode: rowsets are copied from the vault on the server when the repository is on its endpoint; else
    # a file the job's snapshot dir lacks (the job resumed on a node with an emptied data dir) is fetched first
    vault: StorageVault | None = None

    def file_sizes(self) -> list[int]:
        return [f.size for item in self.items for f in item.snapshot.files]

    def run(self) -> UploadOutcome:
        """The checksummed file names now in the repository per tablet, which the job compares with the
        snapshot's file list.

        Files already there (a job resumed after a restart) are kept, once checked where the repository's
        file system does not vouch for names; the rest are sent in one ``upload_files`` call, durable at the
        job's ``sync()``."""
        repo, label = self.repo, self.label
        uploaded: dict[int, list[str]] = {}
        sends: list[tuple[str | bytes, str]] = []
        sizes: list[int] = []
        copied = skipped = from_vault = 0
        server_side = self.vault is not None and self.vault.copies_with(repo.fs)
        for item in self.items:
            TaskCancelled.check(self.cancelled)
            present = self.present.get(item.remote.path, frozenset())
            earlier = [(prev, repo.tablet_files(prev, item.remote)) for prev in self.previous]
            names = []
            for f in item.snapshot.files:
                stored = with_checksum(f.name, f.md5)
                names.append(stored)
                if stored in present and repo.holds(repo.tablet_file(label, item.remote, stored), f.md5):
                    skipped += 1
                    self._placed(f.size)
                    continue
                if server_side and self.vault is not None and f.name != header_name(item.snapshot.tablet_id):
                    key = tablet_file_key(item.snapshot.tablet_id, f.name)
                    self.vault.copy_out(key, repo.fs, repo.tablet_file(label, item.remote, stored))
                    from_vault += 1
                    self._placed(f.size)
                    TaskCancelled.check(self.cancelled)
                    continue
                source = next((prev for prev, held in earlier if stored in held), None)
                if source is not None and repo.copy_tablet_file(source, label, item.remote, stored):
                    copied += 1
                    self._placed(f.size)
                    continue
                sends.append((self._source(item.snapshot, f), repo.tablet_file(label, item.remote, stored)))
                sizes.append(f.size)
            uploaded[item.tablet_id] = names
        throttle = Throttle(self.kbps)

        repo.fs.upload_files(sends, lambda index: self._moved(sizes[index], throttle))
        return UploadOutcome(uploaded, len(sends), sum(sizes), copied, skipped, from_vault)

    def _source(self, snapshot: SnapshotInfo, file: SnapshotFile) -> str | bytes:
        """What to upload for a snapshot file: the tablet header's bytes, built from the job's record, or the
        path of the file linked into the snapshot dir (in shared mode fetched there, verified, if missing)."""
        if file.name == header_name(snapshot.tablet_id):
            return _header(snapshot, file)
        path = snapshot_file(snapshot.path, snapshot.tablet_id, file.name)
        if self.vault is not None and not os.path.lexists(path):
            self.vault.get(tablet_file_key(snapshot.tablet_id, file.name), path, file.size, file.md5)
        return path


def _header(snapshot: SnapshotInfo, file: SnapshotFile) -> bytes:
    """The tablet header's bytes, built from the job's record (indented for a snapshot taken before one-line
    headers)."""
    data = snapshot.header()
    if md5_bytes(data) != file.md5:
        data = snapshot.header(indented=True)
    if md5_bytes(data) != file.md5:  # never store a file under a checksum it does not have
        raise DorisError(f"tablet header of tablet {snapshot.tablet_id} does not match the snapshot's record")
    return data


@dataclass
class DownloadItem:
    tablet_id: int  # the local tablet the files go to
    remote: RemoteTablet  # the snapshot tablet they come from
    names: list[str]  # checksummed names expected there
    root: Path  # the job's snapshot dir on the backend (snapshot_root), where the files land (snapshot_file)


@dataclass
class DownloadTask(TransferTask[DownloadItem]):
    """Fetch and verify a batch of tablets' files into the job's snapshot dir (Doris's DownloadTask).

    Files are written under their own names and verified there (nothing reads the dir before
    COMMIT). A file already there with the expected checksum (a download redone after a restart)
    is kept; one without it (a write a crash cut short) is fetched again in its place.
    """

    present: Mapping[str, Mapping[str, int]]  # the snapshot's files in the repository with their sizes, by tablet
    held: Set[str]  # what the job's snapshot dirs held when the job (re)started downloading (one listing)
    vault: StorageVault | None = None  # shared mode on the repository's endpoint: rowsets copied there

    def file_sizes(self) -> list[int]:
        return [self.present.get(item.remote.path, {}).get(stored, 0) for item in self.items for stored in item.names]

    def run(self) -> dict[int, list[str]]:
        """Plain file names per tablet."""
        repo = self.repo
        fetched: dict[int, list[str]] = {}
        fetches: list[tuple[str, Path]] = []
        sizes: list[int] = []
        for item in self.items:
            header = header_name(item.remote.tablet_id)
            TaskCancelled.check(self.cancelled)
            listed = self.present.get(item.remote.path, {})
            names = []
            for stored in item.names:
                parsed = split_checksum(check_name(stored))  # a name from the info file, about to be a local path
                if parsed is None:
                    raise DorisError(f"file name should contains checksum: {stored}")
                remote = repo.tablet_file(self.label, item.remote, stored)
                if stored not in listed:
                    raise NotFoundError(f"File does not exist: {remote}")
                name, md5 = parsed
                names.append(name)
                if self.vault is not None and name != header:  # the header is read here; the rowsets stay remote
                    self.vault.copy_in(repo.fs, remote, tablet_file_key(item.tablet_id, name), md5)
                    self._placed(listed[stored])
                    TaskCancelled.check(self.cancelled)
                    continue
                local = Path(snapshot_file(item.root, item.tablet_id, name))
                held = local.name in self.held
                if held and md5_file(local) == md5:
                    self._placed(listed[stored])
                    continue
                if held:  # cut short by a crash, or changed: fetched again in its place
                    local.unlink(missing_ok=True)
                fetches.append((remote, local))
                sizes.append(listed[stored])
            fetched[item.tablet_id] = names
        throttle = Throttle(self.kbps)

        repo.download_checked_files(fetches, lambda index: self._moved(sizes[index], throttle), in_place=True)
        return fetched
