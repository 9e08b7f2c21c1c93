"""The catalog: databases, tables, partitions, tablets and backends, in memory and in the meta store.

Every change is computed first, written to the metadata store in one transaction, and
only then applied in memory, so what clients see is always what a restart replays.
Objects handed out are replaced, never mutated in place, once they are visible: a query
that captured a partition keeps a consistent view while loads commit new versions.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dorisbk import memory
from dorisbk.catalog import partitions as bounds
from dorisbk.catalog import recycle_bin, rollup
from dorisbk.catalog.model import (
    Backend,
    Column,
    Database,
    DistributionDef,
    Partition,
    PartitionDef,
    Replica,
    Table,
    Tablet,
    now_ms,
)
from dorisbk.catalog.types import ColumnType
from dorisbk.errors import (
    DatabaseExists,
    DorisError,
    TableExists,
    UnknownDatabase,
    UnknownTable,
)
from dorisbk.meta.store import Change, MetaStore

AUTO_BUCKETS = 10
ATOMIC_PREFIX = "__doris_atomic_restore_prefix__"  # staging name of a table an atomic restore builds
NOT_ENOUGH_BACKENDS = (
    "Failed to find enough backend, please check the replication num,replication tag and storage medium "
    "and avail capacity of backends or maybe all be on decommission or maybe all be on decommission.\n"
    "Create failed replications:\n"
    'replication tag: {{"location" : "default"}}, replication num: {num}, storage medium: HDD'
)


_KINDS: dict[type, str] = {Database: "db", Table: "table", Partition: "partition", Tablet: "tablet", Backend: "backend"}


class Catalog:
    """Doris's catalog, replayed from and written through to a MetaStore."""

    def __init__(self, store: MetaStore) -> None:
        self.store = store
        self.lock = threading.RLock()
        self.dbs: dict[int, Database] = {}
        self.tables: dict[int, Table] = {}
        self.partitions: dict[int, Partition] = {}
        self.tablets: dict[int, Tablet] = {}
        self.backends: dict[int, Backend] = {}
        self.recycled: dict[int, dict] = {}  # the recycle bin (catalog/recycle_bin.py), by object id
        # tablets a replica of which holds two or more rowsets: what the compactor looks at each second, not
        # every tablet (at 100,000 tablets its walk of all of them held the lock for 0.1 s each second)
        self.multi_rowset: set[int] = set()
        self._loaders = {
            "db": (Database.from_dict, self.dbs),
            "table": (Table.from_dict, self.tables),
            "partition": (Partition.from_dict, self.partitions),
            "tablet": (Tablet.from_dict, self.tablets),
            "backend": (Backend.from_dict, self.backends),
        }

    # ---- persistence
    def replay(self, rows: Iterable[tuple[str, int, dict]]) -> list[tuple[str, int, dict]]:
        """Load catalog objects; rows of other kinds are returned for their owners."""
        rest = []
        for kind, obj_id, body in rows:
            if kind == recycle_bin.KIND:
                self.recycled[obj_id] = body
                continue
            loader = self._loaders.get(kind)
            if loader is None:
                rest.append((kind, obj_id, body))
                continue
            make, target = loader
            target[obj_id] = obj = make(body)
            if kind == "tablet":
                self._note_rowsets(obj_id, obj)
        return rest

    def _note_rowsets(self, tablet_id: int, tablet: Tablet | None) -> None:
        """Keep ``multi_rowset`` up to date with a tablet put (or, None, deleted)."""
        if tablet is not None and any(len(r.rowsets) > 1 for r in tablet.replicas):
            self.multi_rowset.add(tablet_id)
        else:
            self.multi_rowset.discard(tablet_id)

    def apply(self, kind: str, obj_id: int, body: dict | None) -> bool:
        """Shared mode: one row another node committed (None: deleted), the object replaced or removed, never
        changed in place. False for a kind that is not the catalog's."""
        if kind == recycle_bin.KIND:
            target: dict = self.recycled
            value: object = body
        elif kind in self._loaders:
            make, target = self._loaders[kind]
            value = make(body) if body is not None else None
        else:
            return False
        with self.lock:
            if value is None:
                target.pop(obj_id, None)
            else:
                target[obj_id] = value
            if kind == "tablet":
                self._note_rowsets(obj_id, value)  # type: ignore[arg-type]
        return True

    def commit(self, change: Change, puts: Sequence[object] = (), deletes: Sequence[object] = ()) -> None:
        """Persist ``puts``/``deletes`` (catalog objects) plus any extra rows, then apply in memory."""
        for obj in puts:
            kind, target = self._kind_of(obj)
            change.put_encoded(kind, obj.id, obj.to_dict())  # type: ignore[attr-defined]
        for obj in deletes:
            kind, _target = self._kind_of(obj)
            change.delete(kind, obj.id)  # type: ignore[attr-defined]
        # under the lock from the store to memory: in shared mode a later change of another node to the same
        # objects (applied under it too) can not land in memory before this one and be overwritten by it
        with self.lock:
            self.store.commit(change)
            for kind, obj_id in change.deletes:
                if kind == recycle_bin.KIND:
                    self.recycled.pop(obj_id, None)
            for kind, obj_id, body in change.puts:
                if kind == recycle_bin.KIND:
                    self.recycled[obj_id] = body
            for obj in deletes:
                self._kind_of(obj)[1].pop(obj.id, None)  # type: ignore[attr-defined]
                if type(obj) is Tablet:
                    self._note_rowsets(obj.id, None)
            for obj in puts:
                self._kind_of(obj)[1][obj.id] = obj  # type: ignore[attr-defined]
                if type(obj) is Tablet:
                    self._note_rowsets(obj.id, obj)
        if len(puts) >= memory.FREEZE_AT:  # many objects kept for good: out of the cyclic GC's passes
            memory.freeze()

    def _kind_of(self, obj: object) -> tuple[str, dict]:
        kind = _KINDS[type(obj)]
        return kind, self._loaders[kind][1]

    # ---- backends
    def ensure_backends(self, count: int, data_dir: Path, make_roots: bool = True) -> None:
        """Create backends (storage roots) until there are ``count``; existing ones are kept. Without
        ``make_roots`` (shared mode: each node keeps the roots in its own dir) the rows' dirs are not made."""
        with self.lock:
            new = []
            for i in range(len(self.backends), count):
                backend_id = self.store.next_id()
                root = data_dir / "be" / f"be{i + 1}"
                new.append(Backend(id=backend_id, root=str(root), heartbeat_port=9050 + i))
            if new:
                self.commit(Change(), puts=new)
            for be in self.backends.values() if make_roots else ():
                Path(be.root).mkdir(parents=True, exist_ok=True)

    def backend_list(self) -> list[Backend]:
        return sorted(self.backends.values(), key=lambda b: b.id)

    # ---- lookups
    def db(self, name: str) -> Database:
        found = self.find_db(name)
        if found is None:
            raise UnknownDatabase(f"Unknown database '{name}'")
        return found

    def find_db(self, name: str) -> Database | None:
        return next((d for d in self.dbs.values() if d.name == name), None)

    def db_tables(self, db_id: int) -> list[Table]:
        return sorted((t for t in self.tables.values() if t.db_id == db_id), key=lambda t: t.name)

    def find_table(self, db: Database, name: str) -> Table | None:
        return next((t for t in self.tables.values() if t.db_id == db.id and t.name == name), None)

    def table(self, db: Database, name: str) -> Table:
        found = self.find_table(db, name)
        if found is None:
            raise UnknownTable(f"Table '{db.name}.{name}' doesn't exist")
        return found

    def olap_table(self, db: Database, name: str) -> Table:
        table = self.table(db, name)
        if table.kind != "OLAP":
            raise DorisError(f"Table[{name}] is not a OLAP table", code=1105)
        return table

    def table_partitions(self, table: Table) -> list[Partition]:
        """The formal partitions, in range order; temporary ones are apart (``temp_partitions``)."""
        parts = [p for p in self.partitions.values() if p.table_id == table.id and not p.is_temp]
        return self._sorted_partitions(table, parts)

    def temp_partitions(self, table: Table) -> list[Partition]:
        parts = [p for p in self.partitions.values() if p.table_id == table.id and p.is_temp]
        return self._sorted_partitions(table, parts)

    def _sorted_partitions(self, table: Table, parts: list[Partition]) -> list[Partition]:
        if table.partition_type == "RANGE":
            types = bounds.column_types(table)
            return sorted(parts, key=lambda p: bounds.range_key(types, p.upper, True))
        return sorted(parts, key=lambda p: p.id)

    def partition(self, table: Table, name: str) -> Partition:
        found = next((p for p in self.table_partitions(table) if p.name == name), None)
        if found is None:
            raise DorisError(f"Partition {name} does not exist in table {table.name}", code=1105)
        return found

    def partition_tablets(self, partition: Partition) -> list[Tablet]:
        return [self.tablets[t] for t in partition.tablet_ids]

    # ---- databases
    def create_database(self, name: str, if_not_exists: bool = False, properties: dict[str, str] | None = None) -> None:
        with self.lock:
            if self.find_db(name) is not None:
                if if_not_exists:
                    return
                raise DatabaseExists(f"Can't create database '{name}'; database exists")
            db = Database(id=self.store.next_id(), name=name, properties=dict(properties or {}))
            self.commit(Change(), puts=[db])

    def drop_database(self, name: str, if_exists: bool = False, recycle: bool = False) -> list[Tablet]:
        """Drop a database and all its tables; returns the dropped tablets for the storage to collect
        (none when ``recycle``: the database and its tables go to the recycle bin)."""
        with self.lock:
            db = self.find_db(name)
            if db is None:
                if if_exists:
                    return []
                raise UnknownDatabase(f"Can't drop database '{name}'; database doesn't exist")
            doomed: list[object] = [db]
            tablets: list[Tablet] = []
            for table in self.db_tables(db.id):
                if recycle:  # without FORCE, as Doris: a table being restored is not dropped under its job
                    self._check_droppable(table)
                doomed.extend(self.table_objects(table))
            tablets = [o for o in doomed if isinstance(o, Tablet)]
            change = Change()
            if recycle:
                tables = self.db_tables(db.id)
                kept = [recycle_bin.entry("Database", db.name, db.id, -1, -1, [db])]
                kept[0]["table_names"] = [t.name for t in tables]
                kept[0]["table_ids"] = [t.id for t in tables]  # a same-named table dropped earlier is not one of them
                kept += [recycle_bin.entry("Table", t.name, db.id, t.id, -1, self.table_objects(t)) for t in tables]
                self._recycle(change, kept)
            self.commit(change, deletes=doomed)
            return [] if recycle else tablets

    def _recycle(self, change: Change, bodies: Sequence[dict]) -> None:
        """Add recycle-bin rows to ``change`` (``commit`` applies them to memory)."""
        for body in bodies:
            change.put(recycle_bin.KIND, recycle_bin.entry_id(body), body)

    def partition_objects(self, part: Partition) -> list[object]:
        """A partition and its tablets: what dropping it deletes."""
        return [part, *self.partition_tablets(part)]

    def table_objects(self, table: Table) -> list[object]:
        """A table, its partitions and their tablets: what dropping it deletes."""
        objs: list[object] = [table]
        for part in [*self.table_partitions(table), *self.temp_partitions(table)]:
            objs.extend(self.partition_objects(part))
        return objs

    # ---- tables
    def create_table(
        self,
        db_name: str,
        table: Table,
        partition_defs: Sequence[PartitionDef],
        if_not_exists: bool = False,
        optional_defs: Sequence[PartitionDef] = (),
    ) -> bool:
        """Create an OLAP table with its partitions and tablets; False when it existed and IF NOT EXISTS.
        ``optional_defs`` (dynamic partitions) are skipped where their name or range is already taken. Its
        objects (300,000 tablets at Doris's largest) are built out of the cyclic GC's passes (memory.py)."""
        with self.lock, memory.no_cyclic_gc():
            db = self.db(db_name)
            self._check_not_restoring(db, table.name)
            if self.find_table(db, table.name) is not None:
                if if_not_exists:
                    return False
                raise TableExists(f"Table '{table.name}' already exists")
            table = dataclasses.replace(
                table,
                id=self.store.next_id(),
                db_id=db.id,
                base_index_id=self.store.next_id(),
                indexes=[{**i, "id": self.store.next_id()} for i in table.indexes],
            )
            self.check_replicas(table.replication_num)
            self.check_colocate(db, table)
            objs: list[object] = [table]
            if table.partition_type == "UNPARTITIONED":
                partition_defs = [PartitionDef(table.name)]
            made = _Placement(table, [], self.replica_load())
            self.store.reserve_ids(_ids_needed(table, [*partition_defs, *optional_defs]))
            for pdef in partition_defs:
                if pdef.name in made.names:
                    raise DorisError(f"Duplicated partition name: {pdef.name}")
                part, tablets = self._new_partition(table, made, pdef, None)
                objs.extend([part, *tablets])
            for pdef in optional_defs:
                if pdef.name in made.names:
                    continue
                try:
                    part, tablets = self._new_partition(table, made, pdef, None)
                except DorisError:
                    continue
                objs.extend([part, *tablets])
            self.commit(Change(), puts=objs)
            return True

    def create_table_like(self, db_name: str, name: str, src_db: str, src_name: str, if_not_exists: bool) -> None:
        """A new empty table with the source's schema, partitions and properties."""
        with self.lock:
            source = self.olap_table(self.db(src_db), src_name)
            defs = [
                PartitionDef(
                    p.name,
                    lower=tuple(p.lower) if p.lower is not None else None,
                    upper=tuple(p.upper) if p.upper is not None else (None,) * len(source.partition_columns),
                    values=tuple(tuple(v) for v in p.values) if p.values is not None else None,
                    properties=(("replication_num", str(p.replication_num)),),
                )
                for p in self.table_partitions(source)
            ]
            if source.partition_type == "RANGE":
                defs = [
                    d if d.lower is not None else dataclasses.replace(d, lower=None, less_than=d.upper) for d in defs
                ]
            # materialized views are not copied (Doris copies them only WITH ROLLUP)
            copy = dataclasses.replace(source, name=name, rollups=[], create_time=now_ms(), update_time=now_ms())
            self.create_table(db_name, copy, defs, if_not_exists)

    def create_view(self, db_name: str, name: str, query: str, comment: str, if_not_exists: bool) -> None:
        with self.lock:
            db = self.db(db_name)
            if self.find_table(db, name) is not None:
                if if_not_exists:
                    return
                raise TableExists(f"Table '{name}' already exists")
            view = Table(id=self.store.next_id(), db_id=db.id, name=name, kind="VIEW", view_sql=query, comment=comment)
            self.commit(Change(), puts=[view])

    def alter_view(self, db_name: str, name: str, query: str) -> None:
        with self.lock:
            view = self.table(self.db(db_name), name)
            if view.kind != "VIEW":
                raise DorisError(f"The specified table [{name}] is not a view")
            self.commit(Change(), puts=[dataclasses.replace(view, view_sql=query, update_time=now_ms())])

    def drop_table(
        self, db_name: str, name: str, if_exists: bool, is_view: bool, force: bool = False, recycle: bool = False
    ) -> list[Tablet]:
        """FORCE drops a table in any state, as Doris does: a restore writing it then cancels itself.
        With ``recycle`` the table goes to the recycle bin and no tablet is returned."""
        with self.lock:
            db = self.db(db_name)
            table = self.find_table(db, name)
            if table is None:
                if if_exists:
                    return []
                raise UnknownTable(f"Unknown table '{name}'", code=1051)
            if is_view and table.kind != "VIEW":
                raise DorisError(f"'{db_name}.{name}' is not VIEW")
            if not is_view and table.kind == "VIEW":
                raise DorisError(f"'{db_name}.{name}' is not TABLE, use DROP VIEW")
            if not force:
                self._check_droppable(table)
            doomed = self.table_objects(table)
            change = Change()
            if recycle and table.kind != "VIEW":
                self._recycle(change, [recycle_bin.entry("Table", table.name, db.id, table.id, -1, doomed)])
                doomed_tablets: list[Tablet] = []
            else:
                doomed_tablets = [o for o in doomed if isinstance(o, Tablet)]
            self.commit(change, deletes=doomed)
            return doomed_tablets

    def rename_table(self, db_name: str, name: str, new_name: str) -> None:
        with self.lock:
            db = self.db(db_name)
            table = self.table(db, name)
            self.check_alterable(table)
            if self.find_table(db, ATOMIC_PREFIX + new_name) is not None:
                raise DorisError(f"Name {new_name} is already used (in restoring)")
            if self.find_table(db, new_name) is not None:
                raise TableExists(f"Table '{new_name}' already exists")
            renamed = dataclasses.replace(table, name=new_name, update_time=now_ms())
            puts: list[object] = [renamed]
            if table.partition_type == "UNPARTITIONED":
                puts.extend(dataclasses.replace(p, name=new_name) for p in self.table_partitions(table))
            self.commit(Change(), puts=puts)

    def allocate_auto_increment(self, table_id: int, count: int) -> int:
        """Reserve ``count`` values of a table's AUTO_INCREMENT column and return the first. The
        reservation is durable before any row carries them, so no value is given twice (a failed
        load leaves a gap, as in Doris)."""
        with self.lock:
            table = self.tables.get(table_id)
            if table is None:
                raise DorisError("Load aborted: the table was dropped during the load")
            first = table.auto_increment_next
            if count > 0:
                self.commit(Change(), puts=[dataclasses.replace(table, auto_increment_next=first + count)])
            return first

    def replace_table(self, db_name: str, name: str, other: str, swap: bool) -> list[Tablet]:
        """ALTER TABLE name REPLACE WITH TABLE other: ``other`` takes the name; with swap the original
        takes ``other``'s name, without it the original is dropped (its tablets are returned)."""
        with self.lock:
            db = self.db(db_name)
            origin = self.olap_table(db, name)
            replacement = self.olap_table(db, other)
            self.check_alterable(origin)
            self.check_alterable(replacement)
            puts: list[object] = [*self._renamed(replacement, name)]
            doomed: list[object] = []
            if swap:
                puts.extend(self._renamed(origin, other))
            else:
                doomed = self.table_objects(origin)
            self.commit(Change(), puts=puts, deletes=doomed)
            return [o for o in doomed if isinstance(o, Tablet)]

    def _renamed(self, table: Table, new_name: str) -> list[object]:
        """A table under a new name; the single partition of an unpartitioned table carries its name."""
        out: list[object] = [dataclasses.replace(table, name=new_name, update_time=now_ms())]
        if table.partition_type == "UNPARTITIONED":
            out.extend(dataclasses.replace(p, name=new_name) for p in self.table_partitions(table))
        return out

    def set_table_properties(self, db_name: str, name: str, props: dict[str, str]) -> None:
        with self.lock:
            table = self.olap_table(self.db(db_name), name)
            self.check_alterable(table)
            merged = {**table.properties, **props}
            self.commit(Change(), puts=[dataclasses.replace(table, properties=merged, update_time=now_ms())])

    def add_partition(
        self, db_name: str, name: str, pdef: PartitionDef, dist: DistributionDef | None, temporary: bool = False
    ) -> None:
        """ADD [TEMPORARY] PARTITION: a temporary partition may overlap the formal ones, not other temporary ones."""
        with self.lock:
            table = self.olap_table(self.db(db_name), name)
            self.check_alterable(table)
            if table.partition_type == "UNPARTITIONED":
                raise DorisError(f"Table[{name}]'s partition type is UNPARTITIONED, can not add partition")
            existing = self.temp_partitions(table) if temporary else self.table_partitions(table)
            if any(p.name == pdef.name for p in existing):
                if pdef.if_not_exists:
                    return
                raise DorisError(f"Duplicate partition name {pdef.name}", code=1517)
            part, tablets = self._new_partition(table, _Placement(table, existing, self.replica_load()), pdef, dist)
            part.is_temp = temporary
            self.commit(Change(), puts=[part, *tablets, dataclasses.replace(table, update_time=now_ms())])

    def rename_partition(self, db_name: str, name: str, part_name: str, new_name: str) -> None:
        with self.lock:
            table = self.olap_table(self.db(db_name), name)
            self.check_alterable(table)
            if table.partition_type == "UNPARTITIONED":
                raise DorisError(f"Table[{name}] is single partitioned. no need to rename partition name.")
            if part_name == new_name:
                raise DorisError("Same partition name")
            parts = [*self.table_partitions(table), *self.temp_partitions(table)]
            part = next((p for p in parts if p.name == part_name), None)
            if part is None:
                raise DorisError(f"Partition[{part_name}] does not exists")
            if any(p.name.lower() == new_name.lower() for p in parts):
                raise DorisError(f"Partition name[{new_name}] is already used")
            table = dataclasses.replace(table, update_time=now_ms())
            self.commit(Change(), puts=[dataclasses.replace(part, name=new_name), table])

    def modify_partitions(self, db_name: str, name: str, part_names: Sequence[str], props: dict[str, str]) -> None:
        """MODIFY PARTITION ... SET: a partition's replica count and storage medium (every partition for
        an empty ``part_names``). The tablets keep the replicas they have: one backend holds them all here."""
        with self.lock:
            table = self.olap_table(self.db(db_name), name)
            self.check_alterable(table)
            parts = self.table_partitions(table)
            if part_names:
                found = []
                for pname in part_names:
                    part = next((p for p in parts if p.name == pname), None)
                    if part is None:
                        raise DorisError(f"Partition[{pname}] does not exist in table[{name}]")
                    found.append(part)
                parts = found
            changes: dict[str, object] = {}
            num = replication_from_properties(props)
            if num is not None:
                self.check_replicas(num)
                changes["replication_num"] = num
            if "storage_medium" in props:
                medium = props["storage_medium"].upper()
                if medium not in ("HDD", "SSD"):
                    raise DorisError(f"Invalid storage medium: {props['storage_medium']}")
                changes["storage_medium"] = medium
            self.commit(Change(), puts=[dataclasses.replace(p, **changes) for p in parts])  # type: ignore[arg-type]

    def add_auto_partitions(self, table_id: int, pdefs: Sequence[PartitionDef]) -> None:
        """The partitions an AUTO PARTITION load needs, added in one commit before it writes (as Doris does)."""
        with self.lock:
            table = self.tables.get(table_id)
            if table is None:
                raise DorisError("Load aborted: the table was dropped during the load")
            made = _Placement(table, self.table_partitions(table), self.replica_load())
            puts: list[object] = []
            for pdef in pdefs:
                if pdef.name in made.names:
                    continue
                part, tablets = self._new_partition(table, made, pdef, None)
                puts.extend([part, *tablets])
            if puts:
                self.commit(Change(), puts=[*puts, dataclasses.replace(table, update_time=now_ms())])

    def add_index(self, db_name: str, name: str, index: dict) -> None:
        """ADD INDEX / CREATE INDEX: the index is metadata (queries here scan whole rowsets anyway)."""
        with self.lock:
            table = self.olap_table(self.db(db_name), name)
            self.check_alterable(table)
            if any(i["name"].lower() == index["name"].lower() for i in table.indexes):
                if index.pop("if_not_exists", False):
                    return
                raise DorisError(f"index `{index['name']}` already exist.")
            index.pop("if_not_exists", None)
            check_index(table.columns, table.indexes, index)
            indexes = [*table.indexes, {**index, "id": self.store.next_id()}]
            self.commit(Change(), puts=[dataclasses.replace(table, indexes=indexes, update_time=now_ms())])

    def build_index(self, db_name: str, name: str, index_name: str, partitions: Sequence[str]) -> None:
        """BUILD INDEX: the index covers the data written before it was added (done at once here)."""
        with self.lock:
            table = self.olap_table(self.db(db_name), name)
            self.check_alterable(table)
            index = next((i for i in table.indexes if i["name"].lower() == index_name.lower()), None)
            if index is None:
                raise DorisError(f"index {index_name} not exist.")
            for part in partitions:
                self.partition(table, part)
            job = {"job_id": self.store.next_id(), "time": now_ms(), "partitions": list(partitions)}
            built = {**index, "build": job}
            indexes = [built if i is index else i for i in table.indexes]
            self.commit(Change(), puts=[dataclasses.replace(table, indexes=indexes)])

    def drop_index(self, db_name: str, name: str, index_name: str, if_exists: bool) -> None:
        with self.lock:
            table = self.olap_table(self.db(db_name), name)
            self.check_alterable(table)
            kept = [i for i in table.indexes if i["name"].lower() != index_name.lower()]
            if len(kept) == len(table.indexes):
                if if_exists:
                    return
                raise DorisError(f"index {index_name} does not exist", code=1176)
            self.commit(Change(), puts=[dataclasses.replace(table, indexes=kept, update_time=now_ms())])

    def add_rollup(self, db_name: str, name: str, make: Callable[[Table], dict]) -> None:
        """CREATE MATERIALIZED VIEW: ``make`` builds the view from the current table (rollup.build); its
        alter job finishes at once, as the view is read from the base rows (see catalog/rollup.py)."""
        with self.lock:
            table = self.olap_table(self.db(db_name), name)
            self.check_alterable(table)
            if self.temp_partitions(table):
                raise DorisError("Can not alter table when there are temp partitions in table")
            view = make(table)
            created = now_ms()
            job = {"job_id": self.store.next_id(), "txn_id": self.store.next_id(), "create_time": created,
                   "finish_time": now_ms()}  # fmt: skip
            rollups = [*table.rollups, {**view, "id": self.store.next_id(), "job": job}]
            self.commit(Change(), puts=[dataclasses.replace(table, rollups=rollups, update_time=now_ms())])

    def drop_rollup(self, db_name: str, name: str, mv_name: str, if_exists: bool) -> None:
        """DROP MATERIALIZED VIEW mv ON t."""
        with self.lock:
            table = self.olap_table(self.db(db_name), name)
            if table.state != "NORMAL":
                raise DorisError(f"Table[{table.name}]'s state is not NORMAL. Do not allow doing DROP ops")
            if mv_name == table.name:
                raise DorisError("Cannot drop base index by using DROP ROLLUP or DROP MATERIALIZED VIEW.")
            kept = [r for r in table.rollups if r["name"] != mv_name]
            if len(kept) == len(table.rollups):
                if if_exists:
                    return
                raise DorisError(f"Materialized view [{mv_name}] does not exist in table [{table.name}]")
            self.commit(Change(), puts=[dataclasses.replace(table, rollups=kept, update_time=now_ms())])

    def drop_partition(
        self, db_name: str, name: str, part_name: str, if_exists: bool, recycle: bool = False
    ) -> list[Tablet]:
        with self.lock:
            table = self.olap_table(self.db(db_name), name)
            self.check_alterable(table)
            if table.partition_type == "UNPARTITIONED":
                raise DorisError(f"Table[{name}]'s partition type is UNPARTITIONED, can not drop partition")
            part = next((p for p in self.table_partitions(table) if p.name == part_name), None)
            if part is None:
                if if_exists:
                    return []
                raise DorisError(f"Error in list of partitions to {part_name}", code=1507)
            tablets = self.partition_tablets(part)
            change = Change()
            if recycle:
                db_id = self.db(db_name).id
                body = recycle_bin.entry("Partition", part.name, db_id, table.id, part.id, [part, *tablets])
                self._recycle(change, [body])
            self.commit(change, deletes=[part, *tablets])
            return [] if recycle else tablets

    def truncate(self, db_name: str, name: str, part_names: Sequence[str]) -> list[Tablet]:
        """Replace the tablets of the partitions with new empty ones; returns the old tablets."""
        with self.lock:
            table = self.olap_table(self.db(db_name), name)
            self._check_normal(table)
            parts = [self.partition(table, n) for n in part_names] if part_names else self.table_partitions(table)
            puts: list[object] = []
            old: list[Tablet] = []
            load = self.replica_load()
            for part in parts:
                old.extend(self.partition_tablets(part))
                tablets = self.new_tablets(table, part, part.buckets, part.replication_num, load)
                puts.extend(tablets)
                puts.append(
                    dataclasses.replace(
                        part,
                        tablet_ids=[t.id for t in tablets],
                        visible_version=1,
                        visible_version_time=now_ms(),
                    )
                )
            self.commit(Change(), puts=puts, deletes=old)
            return old

    def _check_normal(self, table: Table) -> None:
        if table.state != "NORMAL":
            raise DorisError(f"Table[{table.name}]'s state is not NORMAL. Do not allow doing DDL operation.")

    def check_alterable(self, table: Table) -> None:
        """ALTER TABLE needs a NORMAL table: a restore or an atomic restore in progress holds it."""
        if table.state != "NORMAL":
            raise DorisError(f"Table[{table.name}]'s state({table.state}) is not NORMAL. Do not allow doing ALTER ops")

    def _check_droppable(self, table: Table) -> None:
        if table.state == "ATOMIC_RESTORE":
            raise DorisError(
                f"The table [{table.name}]'s state is in atomic restore (not NORMAL), cannot be dropped. "
                "please cancel the restore operation on olap table firstly."
            )
        if table.state != "NORMAL":
            raise DorisError(
                f"The table [{table.name}]'s state is {table.state} (not NORMAL), cannot be dropped. "
                "please cancel the operation on olap table firstly."
            )

    def check_colocate(self, db: Database, table: Table, ignore: Sequence[int] = ()) -> None:
        """Tables of one colocate group (``colocate_with``, per database) share buckets, replicas and
        distribution column types, so that their buckets can be read side by side."""
        group = table.properties.get("colocate_with")
        if not group:
            return
        if table.distribution != "HASH":
            raise DorisError("Random distribution for colocate table is unsupported")
        for other in self.db_tables(db.id):
            if other.id in ignore or other.id == table.id or other.properties.get("colocate_with") != group:
                continue
            if other.buckets != table.buckets:
                raise DorisError(f"Colocate tables must have same bucket num: {other.buckets}")
            if other.replication_num != table.replication_num:
                raise DorisError(f"Colocate tables must have same replication allocation: {other.replication_num}")
            mine = [table.column(c) for c in table.distribution_columns]
            theirs = [other.column(c) for c in other.distribution_columns]
            if len(mine) != len(theirs):
                raise DorisError(f"Colocate tables distribution columns size must be same : {len(theirs)}")
            for a, b in zip(mine, theirs, strict=True):
                if a is None or b is None or a.type.name != b.type.name:
                    raise DorisError("Colocate tables distribution columns must have the same data type")
            return

    def _check_not_restoring(self, db: Database, name: str) -> None:
        """An atomic restore builds ``name`` aside under the staging prefix and owns the name until it ends."""
        if self.find_table(db, ATOMIC_PREFIX + name) is not None:
            raise DorisError(f"table {name} is in atomic restore, please cancel the restore operation firstly")

    def check_replicas(self, num: int) -> None:
        """``num`` replicas per tablet fit on distinct backends (CREATE TABLE, ADD PARTITION, RESTORE)."""
        if num < 1:
            raise DorisError("Total replication num should between 1 and 32767")
        if num > len(self.backends):
            raise DorisError(NOT_ENOUGH_BACKENDS.format(num=num))

    def _new_partition(
        self, table: Table, placed: _Placement, pdef: PartitionDef, dist: DistributionDef | None
    ) -> tuple[Partition, list[Tablet]]:
        """A partition placed among ``placed`` (which then counts it and its tablets) and its tablets."""
        props = dict(pdef.properties)
        replication = int(props.get("replication_num", table.replication_num))
        self.check_replicas(replication)
        buckets = (dist.buckets if dist and dist.buckets else None) or table.buckets
        part = Partition(
            id=self.store.next_id(),
            table_id=table.id,
            name=pdef.name,
            index_id=table.base_index_id,
            buckets=buckets,
            replication_num=replication,
            storage_medium=props.get("storage_medium", table.properties.get("storage_medium", "hdd")).upper(),
        )
        if table.partition_type == "RANGE":
            if pdef.values is not None:
                raise DorisError("List partition values can not be used in a RANGE partitioned table")
            part.lower, part.upper = placed.ranges.place(pdef.less_than, pdef.lower, pdef.upper)
        elif table.partition_type == "LIST":
            if pdef.values is None:
                raise DorisError("Range partition values can not be used in a LIST partitioned table")
            part.values = bounds.check_list_values(placed.types, placed.parts, pdef.values)
        tablets = self.new_tablets(table, part, buckets, replication, placed.load)
        part.tablet_ids = [t.id for t in tablets]
        placed.add(part)
        return part, tablets

    def replica_load(self) -> dict[int, int]:
        """Replicas per backend, counted once per statement: what placing new tablets balances."""
        load = {be.id: 0 for be in self.backend_list()}
        for tablet in self.tablets.values():
            for replica in tablet.replicas:
                if replica.backend_id in load:
                    load[replica.backend_id] += 1
        return load

    def new_tablets(
        self, table: Table, part: Partition, buckets: int, replication: int, load: dict[int, int], version: int = 1
    ) -> list[Tablet]:
        """One tablet per bucket; each tablet's replicas go to distinct backends, the least loaded first
        (``load``: replicas per backend, the statement's new ones included, updated here)."""
        tablets = []
        for bucket in range(buckets):
            tablet_id = self.store.next_id()
            chosen = sorted(load, key=lambda be_id: (load[be_id], be_id))[:replication]
            for be_id in chosen:
                load[be_id] += 1
            replicas = [Replica(id=self.store.next_id(), backend_id=be_id, version=version) for be_id in chosen]
            tablets.append(
                Tablet(
                    id=tablet_id,
                    table_id=table.id,
                    partition_id=part.id,
                    index_id=part.index_id,
                    bucket=bucket,
                    replicas=replicas,
                )
            )
        return tablets


class _Placement:
    """The partitions a statement places new ones among (existing ones and those it made so far), kept so
    that each placement costs a lookup, not a pass over all the others: a CREATE TABLE of thousands of
    partitions would be quadratic otherwise."""

    def __init__(self, table: Table, existing: Sequence[Partition], load: dict[int, int]) -> None:
        self.is_range = table.partition_type == "RANGE"
        self.types = bounds.column_types(table) if table.partition_type != "UNPARTITIONED" else []
        self.parts = list(existing)
        self.names = {p.name for p in existing}
        self.ranges = bounds.RangePlacer(self.types, existing if self.is_range else [])
        self.load = load

    def add(self, part: Partition) -> None:
        self.parts.append(part)
        self.names.add(part.name)
        if self.is_range:
            self.ranges.add(part)


def _ids_needed(table: Table, pdefs: Sequence[PartitionDef]) -> int:
    """Ids a CREATE TABLE takes at most: each partition, its tablets and their replicas."""
    per_partition = 1 + table.buckets * (1 + max(table.replication_num, 1))
    return len(pdefs) * per_partition + 1


_INDEX_SIZES = {
    "TINYINT": 1,
    "BOOLEAN": 1,
    "SMALLINT": 2,
    "INT": 4,
    "BIGINT": 8,
    "LARGEINT": 16,
    "DATE": 4,
    "DATEV2": 4,
    "DATETIME": 8,
    "DATETIMEV2": 8,
    "FLOAT": 4,
    "DOUBLE": 8,
    "VARCHAR": 20,
}


def _index_size(ctype: ColumnType) -> int:
    if ctype.name == "CHAR":
        return ctype.length or 1
    if ctype.precision is not None:
        return 4 if ctype.precision <= 9 else 8 if ctype.precision <= 18 else 16
    return _INDEX_SIZES.get(ctype.name, 16)


def table_signature(table: Table | Mapping[str, Any]) -> tuple:
    """What must match for a snapshot's table to be restored into a local one (Doris's
    OlapTable.getSignature): a local Table, or a snapshot's table as its meta file holds it
    (the same ``to_dict`` form), gives one signature."""
    d = table.to_dict() if isinstance(table, Table) else table
    cols = tuple(
        # the file name of a column counts: restored files must hold the local table's columns
        (
            c["name"],
            json.dumps(c["type"], sort_keys=True),
            c["nullable"],
            c["is_key"],
            c["aggregation"],
            c.get("stored", ""),
        )
        for c in d["columns"]
    )
    return (
        cols,
        d["keys_type"],
        d["partition_type"],
        tuple(d["partition_columns"]),
        d["distribution"],
        tuple(d["distribution_columns"]),
        # indexes count as schema (Doris's signature covers them); their ids do not
        tuple(
            sorted(
                (i["name"], i["type"], tuple(i["columns"]), json.dumps(i["properties"], sort_keys=True))
                for i in d.get("indexes", [])
            )
        ),
        d.get("properties", {}).get("bloom_filter_columns", ""),
        rollup.signature(d.get("rollups", [])),
    )


def default_keys(columns: Sequence[Column]) -> list[str]:
    """Doris's implicit DUPLICATE KEY: the leading columns, at most 3 and 36 bytes of short key; a
    VARCHAR ends the key (included), a STRING or floating point column ends it (excluded)."""
    keys: list[str] = []
    width = 0
    for col in columns:
        width += _index_size(col.type)
        if len(keys) >= 3 or width > 36:
            if not keys and col.type.name in ("CHAR", "VARCHAR"):
                keys.append(col.name)
            break
        if col.type.is_float or col.type.name in ("STRING", "TEXT", "JSON"):
            break
        keys.append(col.name)
        if col.type.name == "VARCHAR":
            break
    if not keys:
        raise DorisError(
            "The olap table first column could not be float, double, string or array, "
            "struct, map, please use decimal or varchar instead."
        )
    return keys


INDEX_TYPES = ("INVERTED", "NGRAM_BF", "BITMAP", "BLOOMFILTER", "ANN")


def check_index(columns: Sequence[Column], existing: Sequence[dict], index: dict) -> None:
    """An index must name existing columns, a known type, and not repeat a name or an indexed column set."""
    if index["type"] not in INDEX_TYPES:
        raise DorisError(f"Only support inverted index, ngram bloom filter index and bitmap index: {index['type']}")
    for name in index["columns"]:
        if not any(c.name.lower() == name.lower() for c in columns):
            raise DorisError(f"Column does not exist in table. invalid column: {name}")
    for other in existing:
        if other["name"].lower() == index["name"].lower():
            raise DorisError(f"index `{index['name']}` already exist.")


def replication_from_properties(props: dict[str, str]) -> int | None:
    """Replica count from ``replication_num`` or ``replication_allocation`` (``tag.location.default: 3``)."""
    if "replication_allocation" in props:
        total = 0
        for item in props["replication_allocation"].split(","):
            tag, _, num = item.partition(":")
            if not tag.strip().startswith("tag.location.") or not num.strip().isdigit():
                raise DorisError(f"Invalid replication allocation property: {props['replication_allocation']}")
            total += int(num)
        return total
    num = props.get("replication_num")
    if num is None:
        return None
    if not num.strip().isdigit():
        raise DorisError(f"Invalid replication_num: {num}")
    return int(num)
