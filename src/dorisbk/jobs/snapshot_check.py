"""ADMIN CHECK SNAPSHOT: whether one backup in a repository is whole, without restoring it.

Each level does what the one before does, and more:

- ``files``: every file the info file names is in the repository, each rowset with the size its
  tablet header gives (the headers are read to learn the sizes, and verified as they are read);
- ``checksums``: every file is read and must have the md5 its name carries, verified by the code a
  restore's download uses;
- ``rows``: every rowset is also read as Parquet and must hold the rows its tablet header gives.

The work runs as agent tasks on the backends' workers, a batch of tablets each, as a restore's
downloads do. A task reads one file at a time into a scratch dir of its backend and removes it once
checked, so memory and disk hold one file at most. Names and ids from the info file and the tablet
headers are data: they pass the layout's checks before they become paths. A problem is a finding,
not a failure: the statement lists every partition and fails only when the backup can not be found.
"""

from __future__ import annotations

import secrets
import shutil
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, wait
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from dorisbk import interrupt
from dorisbk.backend.scan import rowset_rows
from dorisbk.backend.snapshot import header_name, snapshots_dir
from dorisbk.backend.tasks import AgentTask, TaskCancelled
from dorisbk.errors import DorisError, StorageError
from dorisbk.jobs.context import JobContext
from dorisbk.jobs.dir_move import HeaderRowset, parse_header
from dorisbk.jobs.transfer import batches
from dorisbk.storage.layout import InvalidNameError, RemoteTablet, check_id, check_name, split_checksum
from dorisbk.storage.repository import Repository

COLUMNS = (
    "Timestamp",
    "TableName",
    "PartitionName",
    "Tablets",
    "Files",
    "Bytes",
    "Rows",
    "Problems",
    "Status",
    "Detail",
)
PROPERTIES = ("backup_timestamp", "level")
# how often the statement's thread looks for KILL / query_timeout while the tasks run
_POLL_S = 0.2


class CheckLevel(StrEnum):
    """How deep the check reads; each level includes the ones before it."""

    FILES = "files"
    CHECKSUMS = "checksums"
    ROWS = "rows"

    def covers(self, other: CheckLevel) -> bool:
        levels = list(CheckLevel)
        return levels.index(self) >= levels.index(other)


class Verdict(StrEnum):
    OK = "OK"
    FAILED = "FAILED"


@dataclass(frozen=True)
class CheckRequest:
    """What the statement asks: the backup (None: the label's newest) and the level."""

    timestamp: str | None
    level: CheckLevel

    @staticmethod
    def from_properties(props: Mapping[str, str]) -> CheckRequest:
        """Each known property's value first, then unknown keys, as RESTORE checks its own."""
        level = props.get("level", CheckLevel.FILES).lower()
        if level not in {member.value for member in CheckLevel}:
            raise DorisError(f"Invalid check level: {props['level']}")
        unknown = [k for k in props if k not in PROPERTIES]
        if unknown:
            raise DorisError(f"Unknown check snapshot properties: [{', '.join(unknown)}]")
        return CheckRequest(props.get("backup_timestamp"), CheckLevel(level))


@dataclass
class Tally:
    """What a tablet, a partition or the whole backup holds, and the problems found in it."""

    tablets: int = 0
    files: int = 0
    bytes: int = 0
    rows: int = 0
    problems: int = 0
    detail: str | None = None  # the first problem

    def problem(self, message: str) -> None:
        self.problems += 1
        if self.detail is None:
            self.detail = message

    def add(self, other: Tally) -> None:
        self.tablets += other.tablets
        self.files += other.files
        self.bytes += other.bytes
        self.rows += other.rows
        self.problems += other.problems
        if self.detail is None:
            self.detail = other.detail

    @property
    def verdict(self) -> Verdict:
        return Verdict.FAILED if self.problems else Verdict.OK


@dataclass(frozen=True)
class TabletCheck:
    slot: int  # the partition it belongs to, in the order the rows list them
    remote: RemoteTablet
    names: Sequence[str]  # the checksummed names the info file gives, not yet checked


@dataclass
class SnapshotCheckTask(AgentTask):
    """Check a batch of a snapshot's tablets on one backend's workers; the result is a Tally per tablet."""

    repo: Repository
    label: str
    level: CheckLevel
    items: Sequence[TabletCheck]
    listed: Mapping[str, Mapping[str, int]]  # the snapshot's files by tablet path: name -> size (one listing)
    scratch: Path  # where files are read into, under the backend's root (DuckDB reads nothing else)
    cancelled: threading.Event

    @property
    def size(self) -> int:
        return len(self.items)

    @property
    def waits_on_network(self) -> bool:
        return self.repo.fs.remote

    def run(self) -> list[Tally]:
        """What each tablet holds, in the order of ``items``."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        try:
            found = []
            for item in self.items:
                TaskCancelled.check(self.cancelled, "check")
                found.append(self._tablet(item))
                self.finished += 1
            return found
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def _tablet(self, item: TabletCheck) -> Tally:
        tally = Tally(tablets=1, files=len(item.names))
        files: dict[str, str] = {}  # plain name -> checksummed name
        for stored in item.names:
            try:
                parsed = split_checksum(check_name(stored))
            except InvalidNameError as exc:
                tally.problem(exc.message)
                continue
            if parsed is None:
                tally.problem(f"file name should contains checksum: {stored}")
                continue
            files[parsed[0]] = stored
        listed = self.listed.get(item.remote.path, {})
        header = header_name(item.remote.tablet_id)
        rowsets = self._header(item, header, files, listed, tally)
        for name, stored in files.items():
            path = self.repo.tablet_file(self.label, item.remote, stored)
            if stored not in listed:
                tally.problem(f"File does not exist: {path}")
                continue
            size = listed[stored]
            tally.bytes += size
            if name == header:  # read and verified already
                continue
            rowset = rowsets.get(name)
            if rowset is not None:
                tally.rows += rowset.rows
                if size != rowset.size:
                    tally.problem(f"invalid size of file: {path}, expected: {rowset.size}, get: {size}")
                    continue
            if self.level.covers(CheckLevel.CHECKSUMS):
                self._read(path, name, rowset, tally)
        return tally

    def _header(
        self, item: TabletCheck, header: str, files: dict[str, str], listed: Mapping[str, int], tally: Tally
    ) -> dict[str, HeaderRowset]:
        """The rowsets the tablet header lists, by file name; none when it can not be read (a problem)."""
        if not files:  # a metadata-only snapshot's tablets hold no files
            return {}
        stored = files.get(header)
        if stored is None:
            tally.problem(f"tablet header {header} is missing in the info of snapshot {self.label}")
            return {}
        if stored not in listed:  # a problem of the files' loop
            return {}
        path = self.repo.tablet_file(self.label, item.remote, stored)
        try:
            rowsets = parse_header(self.repo.read_checked(path), path, header, list(files.values()))
        except DorisError as exc:
            tally.problem(exc.message)
            return {}
        return {r.file: r for r in rowsets}

    def _read(self, path: str, name: str, rowset: HeaderRowset | None, tally: Tally) -> None:
        """Read a file through and verify it, as a restore downloads it; at ``rows`` a rowset's rows are
        counted too."""
        local = self.scratch / name
        try:
            self.repo.download_checked_files([(path, local)], lambda _index: None)
            if rowset is not None and self.level.covers(CheckLevel.ROWS):
                rows = rowset_rows(str(local))
                if rows != rowset.rows:
                    tally.problem(f"invalid row count of rowset: {path}, expected: {rowset.rows}, get: {rows}")
        except DorisError as exc:
            tally.problem(exc.message)
        finally:
            local.unlink(missing_ok=True)


@dataclass
class SnapshotCheck:
    """One ADMIN CHECK SNAPSHOT: the backup's partitions and the tablets to check in each."""

    ctx: JobContext
    repo: Repository
    label: str
    timestamp: str
    level: CheckLevel
    partitions: list[tuple[str, str, Tally]] = field(default_factory=list)  # (table, partition, what was found)
    total: Tally = field(default_factory=Tally)

    def run(self, info: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The rows: one per partition of the backup, then the backup's total with the verdict."""
        try:
            self.repo.read_meta(self.label)
        except StorageError as exc:
            self.total.problem(exc.message)
        items = self._tablets(info)
        if items:
            listed = self.repo.snapshot_tablet_sizes(self.label, items[0].remote.db_id)
            for item, tally in zip(items, self._run_tasks(items, listed), strict=True):
                self.partitions[item.slot][2].add(tally)
        rows: list[tuple[Any, ...]] = []
        for table, partition, tally in self.partitions:
            rows.append(self._row(table, partition, tally))
            self.total.add(tally)
        rows.append(self._row(None, None, self.total))
        return rows

    def _row(self, table: str | None, partition: str | None, tally: Tally) -> tuple[Any, ...]:
        return (
            self.timestamp,
            table,
            partition,
            tally.tablets,
            tally.files,
            tally.bytes,
            tally.rows,
            tally.problems,
            tally.verdict,
            tally.detail,
        )

    def _tablets(self, info: dict[str, Any]) -> list[TabletCheck]:
        """Every tablet of the info file; one whose ids are not ids is a problem of its partition."""
        items = []
        for table, obj in info["backup_objects"].items():
            for partition, part in obj["partitions"].items():
                slot = len(self.partitions)
                tally = Tally()
                self.partitions.append((table, partition, tally))
                for index in part["indexes"].values():
                    for tablet_id, names in index["tablets"].items():
                        try:
                            remote = RemoteTablet(
                                check_id(info.get("id")), obj.get("id"), part.get("id"), index.get("id"), tablet_id
                            )
                        except InvalidNameError as exc:
                            tally.add(Tally(tablets=1, files=len(names)))
                            tally.problem(exc.message)
                            continue
                        items.append(TabletCheck(slot, remote, names))
        return items

    def _run_tasks(self, items: list[TabletCheck], listed: Mapping[str, Mapping[str, int]]) -> list[Tally]:
        """What each tablet holds, in the order of ``items``: the tablets are spread over every backend's
        workers, and stopped when the statement is killed or times out."""
        ctx = self.ctx
        backends = [be.id for be in ctx.catalog.backend_list()]
        workers = ctx.executor.workers(self.repo.fs.remote) * len(backends)
        batch = max(1, ctx.config.int("restore_download_snapshot_batch_size"))
        cancelled = threading.Event()
        token = secrets.token_hex(6)
        sent: list[tuple[list[int], Future]] = []
        try:
            for n, chunk in enumerate(batches(range(len(items)), batch, workers)):
                backend_id = backends[n % len(backends)]
                scratch = snapshots_dir(ctx.tablets, backend_id) / f"check-{token}-{n}"
                chosen = [items[i] for i in chunk]
                task = SnapshotCheckTask(
                    backend_id, self.repo, self.label, self.level, chosen, listed, scratch, cancelled
                )
                sent.append((chunk, ctx.executor.submit(task)))
            pending = {future for _, future in sent}
            while pending:
                done, pending = wait(pending, timeout=_POLL_S, return_when=FIRST_EXCEPTION)
                interrupt.check()
                for future in done:
                    future.result()  # a task that failed (a fault, not a problem found) ends the check
            found: list[Tally] = [Tally()] * len(items)
            for chunk, future in sent:
                for i, tally in zip(chunk, future.result(), strict=True):
                    found[i] = tally
            return found
        finally:
            cancelled.set()
            for _, future in sent:
                future.cancel()
