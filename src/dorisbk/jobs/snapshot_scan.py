"""``FROM snapshot("repository" = "r", "label" = "l", "table" = "t", ...)``: a backed-up table read in place.

The table is answered as it was at backup time: its definition comes from the snapshot's ``__meta``, its
rows from the rowsets its tablet headers list, merged by its key model by the same scan SQL as a live
table's. Nothing is restored and nothing in the catalog changes. The info file, the meta and the headers
are read in memory and verified against their checksummed names; the rowset files are read through the
server's snapshot file cache (``storage/file_cache.py``), which verifies each copy before DuckDB may read it.
Names and ids read from the repository pass the layout's checks before they become paths.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dorisbk import interrupt
from dorisbk.backend.scan import ScanPlan
from dorisbk.backend.snapshot import header_name
from dorisbk.catalog.model import Partition, Table
from dorisbk.errors import DorisError
from dorisbk.jobs.dir_move import parse_header
from dorisbk.jobs.repositories import RepositoryMgr
from dorisbk.jobs.snapshot_list import backup_info
from dorisbk.storage.file_cache import FileCache, Wanted
from dorisbk.storage.layout import RemoteTablet, check_name, strip_checksum
from dorisbk.storage.repository import Repository

REQUIRED = ("repository", "label", "table")
PARAMETERS = (*REQUIRED, "backup_timestamp", "partitions")
CACHE_KNOB = "snapshot_cache_capacity_bytes"


@dataclass(frozen=True)
class SnapshotRef:
    """What a ``snapshot(...)`` call names: one table of one backup (None: the label's newest backup) and the
    partitions to read (none: all of them)."""

    repository: str
    label: str
    table: str
    timestamp: str | None
    partitions: tuple[str, ...]

    @staticmethod
    def from_params(params: Mapping[str, str]) -> SnapshotRef:
        unknown = [k for k in params if k not in PARAMETERS]
        if unknown:
            raise DorisError(f"Unknown snapshot parameters: [{', '.join(unknown)}]")
        for key in REQUIRED:
            if not params.get(key):
                raise DorisError(f'snapshot() needs the "{key}" parameter')
        names = [p.strip() for p in params.get("partitions", "").split(",") if p.strip()]
        return SnapshotRef(
            params["repository"],
            params["label"],
            params["table"],
            params.get("backup_timestamp") or None,
            tuple(dict.fromkeys(names)),
        )


class SnapshotScanner:
    """Plans the scan of a backed-up table: its definition, and verified local copies of its rowsets."""

    def __init__(self, repos: RepositoryMgr, cache: FileCache) -> None:
        self.repos = repos
        self.cache = cache

    def scan(self, params: Mapping[str, str]) -> ScanPlan:
        """The scan of the table a ``snapshot(...)`` call names, its files pinned in the cache until the plan's
        ``release``. Errors are RESTORE's for the same missing repository, backup, table or partition."""
        ref = SnapshotRef.from_params(params)
        repo = self.repos.repository(self.repos.record(ref.repository).name)
        _, info = backup_info(repo, ref.label, ref.timestamp)
        obj = info["backup_objects"].get(ref.table)
        if obj is None:
            raise DorisError(f"Table {ref.table} does not exist in snapshot {ref.label}")
        for name in ref.partitions:
            if name not in obj["partitions"]:
                raise DorisError(f"Partition {name} of table {ref.table} does not exist in snapshot")
        if info["content"] != "ALL":
            raise DorisError(f"Snapshot {ref.label} holds no data: its content is {info['content']}")
        table, partitions = self._definition(repo, ref)
        chosen = [p for p in partitions if not ref.partitions or p.name in ref.partitions]
        wanted: list[Wanted] = []
        tablets = 0
        for part in chosen:
            rpart = obj["partitions"].get(part.name)
            index = rpart["indexes"].get(ref.table) if isinstance(rpart, dict) else None
            if not isinstance(index, dict):
                raise DorisError(f"Partition {part.name} of table {ref.table} does not exist in snapshot")
            for tablet_id, names in index["tablets"].items():
                remote = RemoteTablet(info.get("id"), obj.get("id"), rpart.get("id"), index.get("id"), tablet_id)
                wanted += _rowset_files(repo, ref.label, remote, names)
                tablets += 1
                interrupt.check()
        lease = self.cache.fetch(repo, wanted, interrupt.check)
        return ScanPlan(
            table,
            chosen,
            len(partitions),
            tablets,
            files=lease.paths,
            db_name=info["database"],
            index_name=table.name,
            lease=lease.release,
        )

    @staticmethod
    def _definition(repo: Repository, ref: SnapshotRef) -> tuple[Table, list[Partition]]:
        """The table and its backed-up partitions as the snapshot's ``__meta`` defines them."""
        try:
            meta: dict[str, Any] = json.loads(repo.read_meta(ref.label))
            body = next(t for t in meta["olap_tables"] if t["name"] == ref.table)
            table = Table.from_dict({k: v for k, v in body.items() if k != "partitions"})
            for column in table.columns:
                column.type.check()
            parts = [Partition.from_dict({k: v for k, v in p.items() if k != "tablets"}) for p in body["partitions"]]
        except (ValueError, KeyError, TypeError, StopIteration, DorisError) as exc:
            reason = exc.message if isinstance(exc, DorisError) else repr(exc)
            raise DorisError(f"Failed to read meta of snapshot {ref.label}: {reason}") from None
        return table, parts


def _rowset_files(repo: Repository, label: str, remote: RemoteTablet, names: list[str]) -> list[Wanted]:
    """The rowset files of one tablet of the snapshot, as its tablet header (read and verified here) lists them."""
    if not names:
        return []
    stored = {strip_checksum(check_name(n)): n for n in names}
    header = header_name(remote.tablet_id)
    if header not in stored:
        raise DorisError(f"tablet header {header} is missing in the info of snapshot {label}")
    path = repo.tablet_file(label, remote, stored[header])
    rowsets = parse_header(repo.read_checked(path), path, header, names)
    return [Wanted(repo.tablet_file(label, remote, stored[r.file]), r.size) for r in rowsets]
