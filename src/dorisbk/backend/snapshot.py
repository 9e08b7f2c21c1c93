"""Tablet snapshots: hard links of a replica's rowset files at a version, and the record of a tablet header.

No data is copied: the links keep the files alive even if the tablet is dropped or
truncated meanwhile, and loads that commit later add new files the snapshot never sees.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dorisbk.backend.tablet_store import TabletStore
from dorisbk.backend.tasks import AgentTask, TaskCancelled
from dorisbk.catalog.model import Tablet
from dorisbk.checksum import md5_bytes
from dorisbk.durable import syncfs


@dataclass(slots=True)
class SnapshotFile:
    name: str
    md5: str
    size: int
    rows: int = 0  # a rowset's rows, which the tablet header lists


@dataclass
class SnapshotInfo:
    """One tablet's snapshot on one backend (Doris's SnapshotInfo)."""

    tablet_id: int
    backend_id: int
    path: str  # the job's snapshot dir on the backend (snapshot_root), which holds the tablet's files
    version: int
    files: list[SnapshotFile] = field(default_factory=list)
    schema_hash: int = 0

    def header(self, indented: bool = False) -> bytes:
        """The tablet header (``<tablet id>.hdr``): the rowsets the snapshot's files hold. It is built from the
        job's record when uploaded, never written to the backend's disk: one file fewer to create per tablet.

        One line of JSON, by json's C encoder. Until 2026-12 it was indented (``indented``, for a job whose
        snapshot was taken then): that took json's Python encoder, 3x the time, and each call left a cycle of
        closures (~35 objects) that only the cyclic GC frees, so that a job frozen before a pass (memory.py)
        kept 10,000 tablets' worth of them for good (a 30,000-tablet job: 1 million objects)."""
        name = header_name(self.tablet_id)
        rowsets = [{"file": f.name, "rows": f.rows, "size": f.size, "md5": f.md5} for f in self.files if f.name != name]
        header = {
            "tablet_id": self.tablet_id,
            "schema_hash": self.schema_hash,
            "version": self.version,
            "rowsets": rowsets,
        }
        return json.dumps(header, sort_keys=True, indent=1 if indented else None).encode()


def snapshots_dir(store: TabletStore, backend_id: int) -> Path:
    """``<backend root>/snapshot``: one dir per job below it."""
    return Path(store.root(backend_id)) / "snapshot"


def snapshot_root(store: TabletStore, backend_id: int, job_id: int) -> Path:
    """A job's snapshot dir on a backend: flat, every tablet's files in it side by side (snapshot_file)."""
    return snapshots_dir(store, backend_id) / str(job_id)


def snapshot_file(root: str | os.PathLike[str], tablet_id: int, name: str) -> str:
    """A tablet's file in a job's snapshot dir, its name prefixed by the tablet: a dir per tablet cost a
    mkdir and an rmdir each, which on this kind of disk took longer than linking the files themselves."""
    return os.path.join(root, f"{tablet_id}_{name}")


@dataclass(slots=True)
class SnapshotItem:
    """One replica of a tablet to snapshot at a version."""

    tablet: Tablet
    replica_index: int
    version: int
    schema_hash: int


@dataclass
class SnapshotTask(AgentTask):
    """Snapshot a batch of tablets' replicas for a backup job (Doris's SnapshotTask, a batch of them): link
    each replica's files visible at its version into the job's snapshot dir; the header's checksum is
    recorded. A task per tablet held a task, a future and their callbacks for each of 300,000 tablets.

    Without ``link`` (shared mode, a repository the vault copies to on the server) the snapshot is only the
    list of the files, which are immutable objects in the vault: nothing is linked or fetched."""

    store: TabletStore
    items: Sequence[SnapshotItem]
    job_id: int
    cancelled: threading.Event
    link: bool = True

    @property
    def size(self) -> int:
        return len(self.items)

    def run(self) -> list[SnapshotInfo]:
        store = self.store
        root = snapshot_root(store, self.backend_id, self.job_id)
        infos = []
        for item in self.items:
            TaskCancelled.check(self.cancelled)
            tablet = item.tablet
            replica = tablet.replicas[item.replica_index]
            info = SnapshotInfo(tablet.id, replica.backend_id, str(root), item.version, schema_hash=item.schema_hash)
            rowsets = replica.visible_rowsets(item.version)
            if self.link:  # in shared mode the files are fetched first (the job leases them)
                store.ensure_local((replica.backend_id, rowset) for rowset in rowsets)
            for rowset in rowsets:
                name = os.path.basename(rowset.path)
                if self.link:
                    link(store.absolute(replica.backend_id, rowset.path), snapshot_file(root, tablet.id, name))
                info.files.append(SnapshotFile(name, rowset.md5, rowset.size, rowset.rows))
            data = info.header()
            info.files.append(SnapshotFile(header_name(tablet.id), md5_bytes(data), len(data)))
            infos.append(info)
            self.finished += 1
        return infos


def link(source: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Hard-link ``source`` as ``dest``, replacing what a run of the job before a restart linked there."""
    try:
        os.link(source, dest)
    except FileExistsError:
        os.unlink(dest)
        os.link(source, dest)


def header_name(tablet_id: int) -> str:
    """The tablet header's file name in a snapshot: it lists the rowsets the snapshot's files hold."""
    return f"{tablet_id}.hdr"


def sync_snapshots(store: TabletStore, job_id: int) -> None:
    """Make a job's snapshot dirs durable (one ``syncfs`` per backend, not an fsync per header): an upload
    resumed after a crash reads them, under the checksums the job kept."""
    for backend_id in list(store.catalog.backends):
        root = snapshot_root(store, backend_id, job_id)
        if root.is_dir():
            syncfs(root)


def release_snapshots(store: TabletStore, job_id: int) -> None:
    """Drop a job's snapshot dirs on every backend."""
    for backend_id in list(store.catalog.backends):
        shutil.rmtree(snapshot_root(store, backend_id, job_id), ignore_errors=True)
