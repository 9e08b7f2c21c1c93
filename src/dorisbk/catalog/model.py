"""Doris's catalog objects: Database -> OlapTable -> Partition -> Tablet -> Replica -> Rowset.

Plain dataclasses that serialise to the JSON bodies the metadata store keeps. Bounds of
range partitions and values of list partitions are kept as the literal strings written
in DDL; ``ColumnType.coerce`` types them where they are compared.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from dorisbk.catalog.types import ColumnType

KEYS_TYPES = ("DUP_KEYS", "UNIQUE_KEYS", "AGG_KEYS")
KEYS_SQL = {"DUP_KEYS": "DUPLICATE KEY", "UNIQUE_KEYS": "UNIQUE KEY", "AGG_KEYS": "AGGREGATE KEY"}
AGG_FUNCS = ("SUM", "MIN", "MAX", "REPLACE", "REPLACE_IF_NOT_NULL", "NONE", "BITMAP_UNION", "HLL_UNION")


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class PartitionDef:
    """A partition as DDL describes it: RANGE (``less_than`` or ``lower``/``upper``) or LIST (``values``)."""

    name: str
    less_than: tuple[str | None, ...] | None = None
    lower: tuple[str, ...] | None = None
    upper: tuple[str, ...] | None = None
    values: tuple[tuple[str, ...], ...] | None = None
    properties: tuple[tuple[str, str], ...] = ()
    if_not_exists: bool = False


@dataclass(frozen=True)
class DistributionDef:
    kind: str  # HASH or RANDOM
    columns: tuple[str, ...] = ()
    buckets: int | None = None


@dataclass
class Column:
    name: str
    type: ColumnType
    nullable: bool = True
    is_key: bool = False
    aggregation: str | None = None
    default: str | None = None
    comment: str = ""
    auto_increment: int | None = None  # AUTO_INCREMENT(start): values are generated when a load omits it
    # the column's name inside rowset files ("" = its own name): kept across RENAME COLUMN, and a fresh
    # ``__c<id>`` for an added column, so old files never lend their data to a new or renamed column
    stored: str = ""
    # what rows written before ADD COLUMN hold: the default as it was then (CURRENT_TIMESTAMP frozen
    # at the ALTER, so old rows do not change on every read); None = the default, else NULL
    backfill: str | None = None

    @property
    def file_name(self) -> str:
        return self.stored or self.name

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["type"] = self.type.to_dict()
        return d

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Column:
        return Column(**{**d, "type": ColumnType.from_dict(d["type"])})


# Rowsets, replicas and tablets are the catalog's many objects (Doris allows 300,000 tablets in one job):
# slots keep each small, and their rows are written and read field by field rather than through
# dataclasses.asdict, which deep-copies (bench/scale.py).
@dataclass(slots=True)
class Rowset:
    """One immutable Parquet file of a replica, written by the load that made ``version``."""

    id: int
    version: int
    path: str
    rows: int
    size: int
    md5: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "path": self.path, "rows": self.rows, "size": self.size,
                "md5": self.md5}  # fmt: skip

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Rowset:
        return Rowset(d["id"], d["version"], d["path"], d["rows"], d["size"], d.get("md5", ""))


@dataclass(slots=True)
class Replica:
    id: int
    backend_id: int
    version: int = 1
    rowsets: list[Rowset] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return sum(r.rows for r in self.rowsets)

    @property
    def data_size(self) -> int:
        return sum(r.size for r in self.rowsets)

    def visible_rowsets(self, version: int) -> list[Rowset]:
        return [r for r in self.rowsets if r.version <= version]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "backend_id": self.backend_id, "version": self.version,
                "rowsets": [r.to_dict() for r in self.rowsets]}  # fmt: skip


@dataclass(slots=True)
class Tablet:
    id: int
    table_id: int
    partition_id: int
    index_id: int
    bucket: int
    replicas: list[Replica] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "table_id": self.table_id, "partition_id": self.partition_id, "index_id": self.index_id,
                "bucket": self.bucket, "replicas": [r.to_dict() for r in self.replicas]}  # fmt: skip

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Tablet:
        """Positional arguments throughout: a restart makes 300,000 of these, and ``Rowset(**s)`` took
        twice as long."""
        replicas = [
            Replica(r["id"], r["backend_id"], r["version"], [Rowset.from_dict(s) for s in r["rowsets"]])
            for r in d["replicas"]
        ]
        return Tablet(d["id"], d["table_id"], d["partition_id"], d["index_id"], d["bucket"], replicas)


@dataclass
class Partition:
    id: int
    table_id: int
    name: str
    index_id: int
    buckets: int
    replication_num: int
    # RANGE: [lower, upper) as literal tuples; lower None = MIN, upper None = MAXVALUE.
    lower: list[str] | None = None
    upper: list[str] | None = None
    # LIST: the value tuples of the partition.
    values: list[list[str]] | None = None
    visible_version: int = 1
    visible_version_time: int = field(default_factory=now_ms)
    tablet_ids: list[int] = field(default_factory=list)
    is_temp: bool = False  # a temporary partition (ADD TEMPORARY PARTITION): not read, not backed up
    storage_medium: str = "HDD"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Partition:
        return Partition(**d)


@dataclass
class Table:
    """An OLAP table or a view (``kind`` = ``OLAP`` / ``VIEW``)."""

    id: int
    db_id: int
    name: str
    kind: str = "OLAP"
    columns: list[Column] = field(default_factory=list)
    keys_type: str = "DUP_KEYS"
    key_columns: list[str] = field(default_factory=list)
    partition_type: str = "UNPARTITIONED"
    partition_columns: list[str] = field(default_factory=list)
    distribution: str = "HASH"
    distribution_columns: list[str] = field(default_factory=list)
    buckets: int = 1
    properties: dict[str, str] = field(default_factory=dict)
    comment: str = ""
    state: str = "NORMAL"
    view_sql: str = ""
    base_index_id: int = 0
    # secondary indexes: {"id", "name", "columns", "type" (INVERTED / NGRAM_BF / BITMAP), "properties", "comment"}
    indexes: list[dict[str, Any]] = field(default_factory=list)
    # synchronous materialized views (rollup indexes), see catalog/rollup.py for their keys
    rollups: list[dict[str, Any]] = field(default_factory=list)
    create_time: int = field(default_factory=now_ms)
    update_time: int = field(default_factory=now_ms)
    auto_bucket: bool = False  # BUCKETS AUTO: SHOW CREATE TABLE and a restored copy keep saying so
    auto_increment_next: int = 1  # the next value of the AUTO_INCREMENT column (ids are never given twice)
    # AUTO PARTITION: None for a table without; "" for AUTO LIST; the date_trunc unit ("day") for AUTO RANGE
    auto_partition: str | None = None
    # light schema changes: how many the table had (0: every rowset file has exactly its columns),
    # and their finished jobs for SHOW ALTER TABLE COLUMN (catalog/schema_change.py)
    schema_version: int = 0
    schema_jobs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def auto_increment_column(self) -> Column | None:
        return next((c for c in self.columns if c.auto_increment is not None), None)

    def column(self, name: str) -> Column | None:
        lowered = name.lower()
        return next((c for c in self.columns if c.name.lower() == lowered), None)

    @property
    def replication_num(self) -> int:
        return int(self.properties.get("replication_num", "1"))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["columns"] = [c.to_dict() for c in self.columns]
        return d

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Table:
        return Table(**{**d, "columns": [Column.from_dict(c) for c in d["columns"]]})


@dataclass
class Database:
    id: int
    name: str
    create_time: int = field(default_factory=now_ms)
    # CREATE DATABASE ... PROPERTIES, kept for SHOW CREATE DATABASE (Doris's DbProperties)
    properties: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Database:
        return Database(**d)


@dataclass
class Backend:
    """A storage root with its own worker pool (Doris's BE)."""

    id: int
    root: str
    host: str = "127.0.0.1"
    heartbeat_port: int = 9050
    be_port: int = 9060
    http_port: int = 8040
    brpc_port: int = 8060
    added_time: int = field(default_factory=now_ms)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Backend:
        return Backend(**d)
