"""A restore's COMMIT on the backends: the downloaded snapshot files become the tablets' files.

As Doris's DirMoveTask, one task per batch of replicas runs on the backend's workers, not on
the scheduler: it reads each tablet header that came with the snapshot, checks it, and hard
links the rowset files it lists from the job's snapshot dir into the tablet's data dir.
Linking again (after a restart) gives the same result.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dorisbk.backend.snapshot import link, snapshot_file
from dorisbk.backend.tasks import AgentTask, TaskCancelled
from dorisbk.errors import DorisError
from dorisbk.storage.layout import InvalidNameError, check_name, is_md5, strip_checksum


@dataclass(frozen=True)
class HeaderRowset:
    """A rowset as a snapshot's tablet header lists it (``backend/snapshot.py`` writes the header)."""

    file: str
    rows: int
    size: int
    md5: str


@dataclass
class DirMoveItem:
    tablet_id: int  # the local tablet
    snapshot_root: Path  # the job's snapshot dir, which holds its downloaded files (snapshot_file)
    tablet_dir: Path  # the replica's data dir on the backend
    files: list[str]  # the snapshot tablet's checksummed names, from the info file
    header: str  # the tablet header's file name among them
    linked: bool = True  # False: the rowsets went to the storage vault by server-side copies, not to this disk


@dataclass
class DirMoveTask(AgentTask):
    items: Sequence[DirMoveItem]
    cancelled: threading.Event

    @property
    def size(self) -> int:
        return len(self.items)

    def run(self) -> dict[tuple[int, int], list[HeaderRowset]]:
        """The rowsets now in each tablet's dir, by (backend id, tablet id)."""
        linked: dict[tuple[int, int], list[HeaderRowset]] = {}
        for item in self.items:
            TaskCancelled.check(self.cancelled)
            rowsets = header_rowsets(item)
            item.tablet_dir.mkdir(parents=True, exist_ok=True)
            for rowset in rowsets if item.linked else ():
                source = snapshot_file(item.snapshot_root, item.tablet_id, rowset.file)
                try:
                    link(source, item.tablet_dir / rowset.file)
                except FileNotFoundError:
                    raise DorisError(f"downloaded file is missing: {source}") from None
            linked[(self.backend_id, item.tablet_id)] = rowsets
        return linked


def header_rowsets(item: DirMoveItem) -> list[HeaderRowset]:
    """The rowsets the downloaded tablet header lists (none for a tablet without files)."""
    if not item.files:
        return []
    header = Path(snapshot_file(item.snapshot_root, item.tablet_id, item.header))
    try:
        data = header.read_bytes()
    except OSError as exc:
        raise DorisError(f"failed to read tablet header {header}: {exc}") from None
    return parse_header(data, str(header), item.header, item.files)


def parse_header(data: bytes, where: str, header: str, files: list[str]) -> list[HeaderRowset]:
    """The rowsets tablet header ``header`` (a plain name; ``where`` names it in messages) lists, checked
    against ``files``, the snapshot tablet's checksummed names.

    Its file names are joined to the tablet dir: each must be another file of the snapshot tablet,
    once; a path (``/etc/passwd``, ``../..``) or any other name is a tampered snapshot.
    """
    try:
        rowsets = [HeaderRowset(**r) for r in json.loads(data)["rowsets"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise DorisError(f"failed to read tablet header {where}: {exc}") from None
    unclaimed = {strip_checksum(n) for n in files} - {header}
    for rowset in rowsets:
        if check_name(rowset.file) not in unclaimed:
            raise InvalidNameError(
                f"invalid file name in tablet header {where}: {rowset.file!r} is not a file of the snapshot tablet"
            )
        unclaimed.remove(rowset.file)
        if not (isinstance(rowset.rows, int) and isinstance(rowset.size, int) and is_md5(rowset.md5)):
            raise DorisError(f"failed to read tablet header {where}: invalid rowset {rowset.file}")
    return rowsets
