"""What a backup job keeps per tablet: the replica it snapshots and the snapshot's files.

A job may hold Doris's limit of 300,000 tablets, so both are kept compact: a slotted object per
tablet in memory, and rows of plain values in the job's record (a list per tablet encodes several
times faster than a dict of named fields, and takes less room in the metadata store).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any

from dorisbk.backend.snapshot import SnapshotFile
from dorisbk.storage.layout import RemoteTablet


@dataclass(slots=True)
class TabletTarget:
    """A tablet to snapshot: where it sits in the catalog and which replica to read."""

    tablet_id: int
    table_id: int
    partition_id: int
    index_id: int
    replica_index: int
    backend_id: int
    version: int
    schema_hash: int

    def remote(self, db_id: int) -> RemoteTablet:
        """The tablet's place in the snapshot's content."""
        return RemoteTablet(db_id, self.table_id, self.partition_id, self.index_id, self.tablet_id)


TARGET_FIELDS = [f.name for f in fields(TabletTarget)]
_target_row = attrgetter(*TARGET_FIELDS)


def encode_targets(targets: Mapping[int, TabletTarget]) -> dict[str, Any]:
    return {"fields": TARGET_FIELDS, "rows": [_target_row(t) for t in targets.values()]}


def decode_targets(raw: Any) -> dict[int, TabletTarget]:
    """ValueError for a record of another shape (a job written by an earlier dorisbk)."""
    if not isinstance(raw, dict) or raw.get("fields") != TARGET_FIELDS or not isinstance(raw.get("rows"), list):
        raise ValueError("backup targets of another format")
    return {row[0]: TabletTarget(*row) for row in raw["rows"]}


def encode_snapshots(snapshots: Mapping[int, list[SnapshotFile]]) -> dict[str, list[list[Any]]]:
    return {str(tablet_id): [[f.name, f.md5, f.size, f.rows] for f in files] for tablet_id, files in snapshots.items()}


def decode_snapshots(raw: Any) -> dict[int, list[SnapshotFile]]:
    """ValueError for a record of another shape (a job written by an earlier dorisbk)."""
    if not isinstance(raw, dict):
        raise ValueError("backup snapshots of another format")
    try:
        return {int(key): [SnapshotFile(*f) for f in files] for key, files in raw.items()}
    except TypeError as exc:  # a dict where a list of values is expected
        raise ValueError("backup snapshots of another format") from exc
