"""Cumulative compaction: a tablet's many small rowsets rewritten as one.

Every load adds one rowset file per tablet it touches, so a table fed by many small INSERTs
makes every scan open many files. Like Doris's cumulative compaction, a background thread
picks tablets whose replicas hold at least ``cumulative_compaction_min_deltas`` visible
rowsets and rewrites them as one file: the rows are read with the scan's per-file-schema
logic (files written before a schema change) and concatenated, keeping the hidden order
column of UNIQUE / AGG tables so merge-on-read still picks the latest version (nothing is
merged here). The file is on disk (md5, fsync) before one metadata commit replaces exactly
those rowsets; the commit is refused if a load, delete, truncate, overwrite or restore
changed the partition meanwhile. A crash before the commit leaves an unreferenced file and
one after it leaves unreferenced old files: the start-up collection removes either.

The replaced files go to the trash, which deletes them once no query holds a lease on them
(queries lease their files while they plan, under the catalog lock).
Backups are left alone: tables that are not NORMAL and databases with an unfinished backup or
restore job are skipped, and snapshots hold hard links of the files they took anyway.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dorisbk.backend import duck
from dorisbk.backend.duck import quote_ident, quote_str
from dorisbk.backend.load import ROWSET_FORMAT, table_lock
from dorisbk.backend.scan import ORDER_COLUMN, evolved_source
from dorisbk.backend.tablet_store import TabletStore
from dorisbk.background import start_periodic
from dorisbk.catalog.catalog import Catalog
from dorisbk.catalog.model import Partition, Replica, Rowset, Table, Tablet
from dorisbk.checksum import md5_file
from dorisbk.config import FrontendConfig
from dorisbk.durable import fsync_path
from dorisbk.errors import DorisError
from dorisbk.meta.store import Change

log = logging.getLogger(__name__)

RETRY_AFTER_S = 30.0  # a tablet whose compaction failed (disk full, unreadable file) waits this long


@dataclass
class _Candidate:
    """A tablet to compact, as planned: the partition version and rowsets its replicas held."""

    table: Table
    partition: Partition
    tablet: Tablet

    @property
    def rowset_ids(self) -> list[int]:
        return [r.id for r in self.tablet.replicas[0].rowsets]


class Compactor:
    """The background cumulative compaction of every tablet (Doris's BE compaction threads)."""

    def __init__(
        self,
        catalog: Catalog,
        store: TabletStore,
        config: FrontendConfig,
        busy: Callable[[int], bool],
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.config = config
        self.busy = busy  # whether a database has an unfinished backup or restore job
        self._failed: dict[int, float] = {}  # tablet id -> when it may be tried again
        self._stopping: threading.Event | None = None  # set by start(): a pass stops between tablets

    def start(self, stopping: threading.Event) -> threading.Thread:
        self._stopping = stopping
        return start_periodic(
            "CumulativeCompaction",
            stopping,
            lambda: max(10, self.config.int("compaction_interval_ms")) / 1000,
            self._pass,
            tick_s=0.05,
            first_now=True,
        )

    def _pass(self) -> None:
        if self.config.get("enable_compaction"):
            self.run_once()

    def run_once(self) -> int:
        """One pass: compact every tablet with enough rowsets; returns how many were compacted."""
        done = 0
        now = time.monotonic()
        self._failed = {t: until for t, until in self._failed.items() if until > now}
        for candidate in self.candidates():
            if self._stopping is not None and self._stopping.is_set():
                break
            if not self.config.get("enable_compaction"):
                break
            if candidate.tablet.id in self._failed:
                continue
            try:
                done += self.compact(candidate)
            except Exception:  # noqa: BLE001 - one tablet must not stop the others
                log.exception("compaction of tablet %d failed", candidate.tablet.id)
                self._failed[candidate.tablet.id] = time.monotonic() + RETRY_AFTER_S
        return done

    def candidates(self) -> list[_Candidate]:
        """Tablets whose replicas all hold the partition's visible version and the same rowsets, at least
        ``cumulative_compaction_min_deltas`` of them, of NORMAL tables of databases no backup or restore
        job is working on."""
        min_deltas = max(2, self.config.int("cumulative_compaction_min_deltas"))
        out = []
        catalog = self.catalog
        with catalog.lock:
            for tablet_id in sorted(catalog.multi_rowset):  # the tablets of more than one rowset only
                tablet = catalog.tablets[tablet_id]
                part = catalog.partitions.get(tablet.partition_id)
                if part is None or tablet_id not in part.tablet_ids:
                    continue
                table = catalog.tables.get(part.table_id)
                if table is None or table.kind != "OLAP" or table.state != "NORMAL":
                    continue
                first = tablet.replicas[0]
                if len(first.rowsets) < min_deltas:
                    continue
                ids = [r.id for r in first.rowsets]
                if all(
                    r.version == part.visible_version
                    and [s.id for s in r.rowsets] == ids
                    and all(s.version <= part.visible_version for s in r.rowsets)
                    for r in tablet.replicas
                ):
                    out.append(_Candidate(table, part, tablet))
        busy = {db_id: self.busy(db_id) for db_id in {c.table.db_id for c in out}}
        return [c for c in out if not busy[c.table.db_id]]

    def compact(self, candidate: _Candidate) -> int:
        """Rewrite one tablet's rowsets as one; 1 if committed, 0 if the tablet changed meanwhile."""
        tablet, table = candidate.tablet, candidate.table
        replica = tablet.replicas[0]
        files = [self.store.absolute(replica.backend_id, r.path) for r in replica.rowsets]
        staging = self.store.staging_dir(replica.backend_id, f"compaction_{tablet.id}_{uuid.uuid4().hex[:8]}")
        placed: list[str] = []
        try:
            staged = staging / "rowset.parquet"
            with self.store.lease(files):
                self.store.ensure_local((replica.backend_id, r) for r in replica.rowsets)
                rows = self._write(table, files, staged)
            md5 = md5_file(str(staged))
            fsync_path(staged)
            size = os.path.getsize(staged)
            rowset_id = self.catalog.store.next_id()
            new: list[Rowset] = []
            dirs: list[str] = []
            for i, rep in enumerate(tablet.replicas):
                target_dir = self.store.tablet_dir(rep.backend_id, tablet.id)
                target_dir.mkdir(parents=True, exist_ok=True)
                target = target_dir / f"{rowset_id}_compaction.parquet"
                if i == len(tablet.replicas) - 1:
                    os.replace(staged, target)
                else:
                    shutil.copyfile(staged, target)
                placed.append(str(target))
                dirs.append(str(target_dir))
                relative = self.store.relative(rep.backend_id, target)
                new.append(Rowset(rowset_id, candidate.partition.visible_version, relative, rows, size, md5))
            self.store.persist(placed, dirs)  # the files and their names are durable before the metadata lists them
            if not self._commit(candidate, new):
                raise _Changed
            placed.clear()
            self.store.trash([tablet])  # the replaced rowsets, once no query reads them
            return 1
        except _Changed:
            log.info("compaction of tablet %d skipped: it changed meanwhile", tablet.id)
            return 0
        finally:
            for path in placed:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            shutil.rmtree(staging, ignore_errors=True)

    def _write(self, table: Table, files: list[str], target: Path) -> int:
        """The rows of ``files``, concatenated in order, written as one rowset file of the current schema."""
        stored = [f"{quote_ident(c.name)} AS {quote_ident(c.file_name)}" for c in table.columns]
        if table.keys_type != "DUP_KEYS":
            stored.append(ORDER_COLUMN)
        cur = duck.cursor()
        try:
            cur.execute(
                f"COPY (SELECT {', '.join(stored)} FROM {evolved_source(table, files)} AS __rows) "
                f"TO {quote_str(str(target))} ({ROWSET_FORMAT})"
            )
            row = cur.execute(f"SELECT sum(num_rows) FROM parquet_file_metadata({quote_str(str(target))})").fetchone()
        except duckdb.Error as exc:
            raise DorisError(duck.error_message(exc)) from None
        finally:
            cur.close()
        return int(row[0] or 0) if row else 0

    def _commit(self, candidate: _Candidate, new: list[Rowset]) -> bool:
        """Replace exactly the planned rowsets by ``new`` (one per replica), unless the table, partition or
        tablet changed since they were planned; the table's write lock orders it with loads and deletes."""
        plan = candidate
        if self.busy(plan.table.db_id):  # outside the catalog lock: jobs take it under their own
            return False
        with table_lock(plan.table.id), self.catalog.lock:
            table = self.catalog.tables.get(plan.table.id)
            part = self.catalog.partitions.get(plan.partition.id)
            tablet = self.catalog.tablets.get(plan.tablet.id)
            if table is None or part is None or tablet is None or table.state != "NORMAL":
                return False
            if table.schema_version != plan.table.schema_version:
                return False
            if part.visible_version != plan.partition.visible_version or part.tablet_ids != plan.partition.tablet_ids:
                return False
            if len(tablet.replicas) != len(new):
                return False
            replicas: list[Replica] = []
            for rep, old, rowset in zip(tablet.replicas, plan.tablet.replicas, new, strict=True):
                if rep.id != old.id or rep.version != part.visible_version:
                    return False
                if [r.id for r in rep.rowsets] != plan.rowset_ids:
                    return False
                replicas.append(dataclasses.replace(rep, rowsets=[rowset]))
            self.catalog.commit(Change(), puts=[dataclasses.replace(tablet, replicas=replicas)])
        return True


class _Changed(Exception):
    """The tablet changed between planning and commit: the compaction is dropped."""
