"""Tablet snapshots: hard links of a replica's rowset files at a version, plus a tablet header.

No data is copied: the links keep the files alive even if the tablet is dropped or
truncated meanwhile, and loads that commit later add new files the snapshot never sees.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dorisbk.backend.tablet_store import TabletStore
from dorisbk.backend.tasks import AgentTask
from dorisbk.catalog.model import Tablet
from dorisbk.checksum import md5_bytes
from dorisbk.durable import syncfs


@dataclass
class SnapshotFile:
    name: str
    md5: str
    size: int


@dataclass
class SnapshotInfo:
    """One tablet's snapshot on one backend (Doris's SnapshotInfo)."""

    tablet_id: int
    backend_id: int
    path: str
    version: int
    files: list[SnapshotFile] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> SnapshotInfo:
        return SnapshotInfo(**{**d, "files": [SnapshotFile(**f) for f in d["files"]]})


def snapshots_dir(store: TabletStore, backend_id: int) -> Path:
    """``<backend root>/snapshot``: one dir per job below it."""
    return Path(store.backend(backend_id).root) / "snapshot"


def snapshot_root(store: TabletStore, backend_id: int, job_id: int) -> Path:
    return snapshots_dir(store, backend_id) / str(job_id)


@dataclass
class SnapshotTask(AgentTask):
    """Snapshot one replica of a tablet at a version for a backup job (Doris's SnapshotTask): link the
    replica's files visible at ``version`` into the job's snapshot dir and write the header."""

    store: TabletStore
    tablet: Tablet
    replica_index: int
    version: int
    job_id: int
    schema_hash: int

    def run(self) -> SnapshotInfo:
        store, tablet, version = self.store, self.tablet, self.version
        replica = tablet.replicas[self.replica_index]
        target = snapshot_root(store, replica.backend_id, self.job_id) / str(tablet.id)
        try:
            os.mkdir(target)
        except FileExistsError:  # left by a run of the job before a restart
            shutil.rmtree(target)
            os.mkdir(target)
        except FileNotFoundError:  # the job's first tablet on this backend
            target.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(target)
        info = SnapshotInfo(tablet.id, replica.backend_id, str(target), version)
        rowsets = replica.visible_rowsets(version)
        for rowset in rowsets:
            name = os.path.basename(rowset.path)
            os.link(store.absolute(replica.backend_id, rowset.path), target / name)
            info.files.append(SnapshotFile(name, rowset.md5, rowset.size))
        header = {
            "tablet_id": tablet.id,
            "schema_hash": self.schema_hash,
            "version": version,
            "rowsets": [
                {"file": os.path.basename(r.path), "rows": r.rows, "size": r.size, "md5": r.md5} for r in rowsets
            ],
        }
        data = json.dumps(header, sort_keys=True, indent=1).encode()
        (target / header_name(tablet.id)).write_bytes(data)
        info.files.append(SnapshotFile(header_name(tablet.id), md5_bytes(data), len(data)))
        return info


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
