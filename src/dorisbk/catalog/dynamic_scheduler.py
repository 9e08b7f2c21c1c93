"""Doris's DynamicPartitionScheduler: keeps each dynamic-partition table's window of partitions.

Every ``dynamic_partition_check_interval_seconds`` (and right after ALTER TABLE enables it) each
table with ``dynamic_partition.enable`` = true gets the partitions from today to ``end`` units
ahead (from ``start`` with ``create_history_partition``) that it lacks, and loses those wholly
before ``start`` units ago unless ``reserved_history_periods`` keeps them. A table that is not
NORMAL (being restored, or held by an atomic restore) is left alone, and nothing is dropped from a
database whose backup or restore has not ended: a running backup may be snapshotting it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dorisbk.background import start_periodic
from dorisbk.catalog import auto_partition
from dorisbk.catalog import dynamic_partition as dp
from dorisbk.catalog import partitions as bounds
from dorisbk.catalog.catalog import ATOMIC_PREFIX, Catalog
from dorisbk.catalog.model import Database, DistributionDef, Table, Tablet
from dorisbk.config import FrontendConfig
from dorisbk.errors import DorisError
from dorisbk.timeutil import long_to_time_string

log = logging.getLogger(__name__)

NULL = "\\N"  # what SHOW DYNAMIC PARTITION TABLES says for a value not known yet


@dataclass
class RuntimeInfo:
    """What SHOW DYNAMIC PARTITION TABLES reports about the scheduler's last pass over a table."""

    last_update_time: str = NULL
    last_scheduler_time: str = NULL
    state: str = "NORMAL"
    create_msg: str = NULL
    drop_msg: str = NULL


class DynamicPartitionScheduler:
    def __init__(
        self,
        catalog: Catalog,
        config: FrontendConfig,
        job_running: Callable[[int], bool],
        trash: Callable[[Iterable[Tablet]], None],
    ) -> None:
        self.catalog = catalog
        self.config = config
        self.job_running = job_running  # a BACKUP or RESTORE of the database holds its partitions still
        self.trash = trash
        self.runtime: dict[int, RuntimeInfo] = {}
        self._lock = threading.Lock()  # one pass at a time (the thread and ALTER TABLE)

    def info(self, table_id: int) -> RuntimeInfo:
        return self.runtime.get(table_id, RuntimeInfo())

    def start(self, stopping: threading.Event) -> threading.Thread:
        return start_periodic(
            "DynamicPartitionScheduler",
            stopping,
            lambda: max(1, self.config.int("dynamic_partition_check_interval_seconds")),
            self._pass,
            tick_s=0.2,
        )

    def _pass(self) -> None:
        if self.config.get("dynamic_partition_enable"):
            self.run_once()

    def run_once(self) -> None:
        """One pass over every dynamic-partition table of every database."""
        for table in list(self.catalog.tables.values()):
            self.run_table(table.id)
            self.recycle_auto_partitions(table.id)

    def recycle_auto_partitions(self, table_id: int) -> None:
        """``partition.retention_count`` of an AUTO RANGE table: history partitions past it are dropped
        (not while a backup or restore of the database runs, nor while the table is not NORMAL)."""
        dropped: list[Tablet] = []
        with self._lock, self.catalog.lock:
            table = self.catalog.tables.get(table_id)
            if table is None or not table.auto_partition or auto_partition.RETENTION_COUNT not in table.properties:
                return
            db = self.catalog.dbs.get(table.db_id)
            if db is None or table.state != "NORMAL" or self.job_running(db.id):
                return
            for part in auto_partition.expired(table, self.catalog.table_partitions(table)):
                dropped.extend(self.catalog.drop_partition(db.name, table.name, part.name, True))
        self.trash(dropped)

    def run_table(self, table_id: int) -> None:
        """Bring one table's partitions up to date now (also what ALTER TABLE ... SET enable=true does)."""
        dropped: list[Tablet] = []
        with self._lock, self.catalog.lock:
            table = self.catalog.tables.get(table_id)
            db = self.catalog.dbs.get(table.db_id) if table is not None else None
            if table is None or db is None or table.kind != "OLAP" or not dp.is_dynamic(table.properties):
                self.runtime.pop(table_id, None)
                return
            if table.properties.get(dp.PREFIX + "enable", "true").lower() != "true":
                return
            if table.state != "NORMAL" or table.name.startswith(ATOMIC_PREFIX):
                return  # a restore owns it until it ends
            info = self.runtime.setdefault(table_id, RuntimeInfo())
            now = long_to_time_string(int(time.time() * 1000))
            info.last_scheduler_time = now
            try:
                self._schedule(db, table, dropped)
                info.state, info.create_msg = "NORMAL", NULL
            except DorisError as exc:
                info.state = "ERROR"
                info.create_msg = exc.message
            info.last_update_time = now
        self.trash(dropped)  # the files go outside the catalog lock

    def _schedule(self, db: Database, table: Table, dropped: list[Tablet]) -> None:
        col = table.column(table.partition_columns[0]) if table.partition_columns else None
        ctype = col.type.name if col is not None else ""
        props = dp.normalize(table.properties, table.partition_type, table.partition_columns, ctype, table.buckets,
                             table.replication_num)  # fmt: skip
        dist = DistributionDef(table.distribution, tuple(table.distribution_columns), int(props[dp.PREFIX + "buckets"]))
        names = {p.name for p in self.catalog.table_partitions(table)}
        for pdef in dp.initial_partitions(props, ctype):
            if pdef.name in names:
                continue
            try:
                self.catalog.add_partition(db.name, table.name, pdef, dist)
            except DorisError as exc:  # its range is taken by a partition of another name: skipped
                log.info("dynamic partition %s of %s.%s skipped: %s", pdef.name, db.name, table.name, exc.message)
        bound = dp.drop_bound(props, ctype)
        if bound is None:
            return
        if self.job_running(db.id):
            log.info("history of %s.%s kept: a backup or restore of the database is running", db.name, table.name)
            return
        types = bounds.column_types(table)
        limit = bounds.range_key(types, [bound], True)
        reserved = [(bounds.range_key(types, [lo], False), bounds.range_key(types, [hi], True))
                    for lo, hi in dp.reserved_periods(props, ctype)]  # fmt: skip
        for part in self.catalog.table_partitions(table):
            upper = bounds.range_key(types, part.upper, True)
            if part.upper is None or upper > limit:
                continue
            lower = bounds.range_key(types, part.lower, False)
            if any(lower <= hi and upper > lo for lo, hi in reserved):
                continue
            dropped.extend(self.catalog.drop_partition(db.name, table.name, part.name, True))
