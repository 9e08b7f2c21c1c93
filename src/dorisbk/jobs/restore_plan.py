"""A restore's plan (Doris's RestoreJob keeps the same in its restored tables and file mappings).

PENDING checks the snapshot against the local catalog and writes down here every table,
partition and tablet the restore creates or overwrites, with fresh ids, and where each
tablet's files are in the repository. The later states only carry the plan out, so it is
persisted with the job: a restarted job goes on with the same ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dorisbk.catalog.model import Partition, Replica, Table, Tablet
from dorisbk.storage.layout import RemoteTablet


class TableMode(StrEnum):
    """How a snapshot table reaches the local database."""

    NEW = "new"  # no local table of that name: created by the restore
    ATOMIC = "atomic"  # built aside under the atomic prefix, swapped with the local table (if any) at the end
    EXISTING = "existing"  # restored into the local table of that name, which must match the snapshot's


class PartitionMode(StrEnum):
    NEW = "new"  # a partition the table did not have
    OVERWRITE = "overwrite"  # replaces the local partition of that name (its id stays, its tablets go)


@dataclass(slots=True)
class TabletPlan:
    """A tablet the restore creates and the snapshot tablet whose files it gets."""

    tablet: Tablet  # planned with its replicas and no rowsets: COMMIT links them
    remote: RemoteTablet
    files: list[str]  # checksummed names in the repository, checked to be plain names

    def to_row(self) -> list[Any]:
        """A row of plain values: a restore may plan 300,000 tablets, and a dict of dicts each took three
        times the memory and time to encode (bench/scale.py)."""
        t, r = self.tablet, self.remote
        if any(replica.rowsets for replica in t.replicas):
            raise ValueError(f"planned tablet {t.id} has rowsets")
        return [
            t.id,
            t.bucket,
            [[replica.id, replica.backend_id, replica.version] for replica in t.replicas],
            [r.db_id, r.table_id, r.partition_id, r.index_id, r.tablet_id],
            self.files,
        ]

    @staticmethod
    def from_row(row: list[Any], part: Partition) -> TabletPlan:
        tablet_id, bucket, replicas, remote, files = row
        tablet = Tablet(tablet_id, part.table_id, part.id, part.index_id, bucket, [Replica(*r) for r in replicas])
        return TabletPlan(tablet, RemoteTablet(*remote), list(files))

    @staticmethod
    def from_dict(d: dict[str, Any]) -> TabletPlan:
        """A tablet planned by a dorisbk before the rows."""
        return TabletPlan(Tablet.from_dict(d["tablet"]), RemoteTablet(**d["remote"]), list(d["files"]))


@dataclass
class PartitionPlan:
    mode: PartitionMode
    partition: Partition
    tablets: list[TabletPlan]
    replaces_tablets: list[int]  # OVERWRITE: the local partition's tablets, dropped at the end

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "partition": self.partition.to_dict(),
            "tablets": [t.to_row() for t in self.tablets],
            "replaces_tablets": list(self.replaces_tablets),
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> PartitionPlan:
        part = Partition.from_dict(d["partition"])
        tablets = [
            TabletPlan.from_dict(t) if isinstance(t, dict) else TabletPlan.from_row(t, part) for t in d["tablets"]
        ]
        return PartitionPlan(PartitionMode(d["mode"]), part, tablets, list(d["replaces_tablets"]))


@dataclass
class TablePlan:
    """One snapshot table: the local table it is restored into (``table_id``) and how."""

    src_name: str
    target: str  # the local name (the alias, if the statement gave one)
    mode: TableMode
    table_id: int
    partitions: list[PartitionPlan] = field(default_factory=list)
    table: Table | None = None  # NEW / ATOMIC: the table the restore registers
    replaces: int | None = None  # ATOMIC: the local table swapped out at the end
    # EXISTING: what the local table takes over from the snapshot's
    auto_increment_next: int = 1
    schema_version: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "src_name": self.src_name,
            "target": self.target,
            "mode": self.mode.value,
            "table_id": self.table_id,
            "partitions": [p.to_dict() for p in self.partitions],
            "table": self.table.to_dict() if self.table is not None else None,
            "replaces": self.replaces,
            "auto_increment_next": self.auto_increment_next,
            "schema_version": self.schema_version,
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> TablePlan:
        return TablePlan(
            src_name=d["src_name"],
            target=d["target"],
            mode=TableMode(d["mode"]),
            table_id=d["table_id"],
            partitions=[PartitionPlan.from_dict(p) for p in d["partitions"]],
            table=Table.from_dict(d["table"]) if d["table"] is not None else None,
            replaces=d["replaces"],
            auto_increment_next=d["auto_increment_next"],
            schema_version=d["schema_version"],
        )


@dataclass
class ViewPlan:
    target: str
    sql: str  # the view's SQL, pointed at the target database
    comment: str
    replaces: int | None  # the local view of that name, whose id the restored one keeps

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "sql": self.sql, "comment": self.comment, "replaces": self.replaces}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> ViewPlan:
        return ViewPlan(**d)


@dataclass
class RestorePlan:
    tables: list[TablePlan] = field(default_factory=list)
    views: list[ViewPlan] = field(default_factory=list)
    locked: list[int] = field(default_factory=list)  # local tables restored into: RESTORE until the end
    atomic_locked: list[int] = field(default_factory=list)  # local tables an atomic restore replaces

    def targets(self) -> set[str]:
        """The local names of the tables and views the restore writes."""
        return {t.target for t in self.tables} | {v.target for v in self.views}

    def replicas(self) -> Iterator[tuple[TabletPlan, Replica]]:
        """Every replica the restore fills, with its tablet's plan."""
        for table in self.tables:
            for part in table.partitions:
                for tplan in part.tablets:
                    for replica in tplan.tablet.replicas:
                        yield tplan, replica

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables": [t.to_dict() for t in self.tables],
            "views": [v.to_dict() for v in self.views],
            "locked": list(self.locked),
            "atomic_locked": list(self.atomic_locked),
        }

    @staticmethod
    def cleanup_only(d: dict[str, Any]) -> RestorePlan:
        """What a cancel needs of a plan written before the plan was typed (a bare dict whose new tables
        carry their id in ``table``): the tables the job registered or locked, nothing to carry out."""
        tables = []
        for entry in d.get("tables", []):
            mode = TableMode(entry.get("mode", TableMode.EXISTING))
            table_id = entry["table_id"] if mode == TableMode.EXISTING else entry["table"]["id"]
            tables.append(TablePlan(str(entry.get("src_name", "")), str(entry.get("target", "")), mode, int(table_id)))
        return RestorePlan(
            tables, [], [int(i) for i in d.get("locked", [])], [int(i) for i in d.get("atomic_locked", [])]
        )

    @staticmethod
    def from_dict(d: dict[str, Any]) -> RestorePlan:
        return RestorePlan(
            [TablePlan.from_dict(t) for t in d["tables"]],
            [ViewPlan.from_dict(v) for v in d["views"]],
            list(d["locked"]),
            list(d["atomic_locked"]),
        )
