"""Doris's catalog recycle bin: dropped databases, tables and partitions kept for RECOVER.

A DROP without FORCE moves the object's catalog rows (and those of its partitions and
tablets) into one ``recycle`` meta row in the same commit that removes them from the
catalog, so the rowset files stay referenced. RECOVER puts the rows back under their old
ids; once ``catalog_trash_expire_second`` has passed (or on DROP CATALOG RECYCLE BIN) the
entry is erased and its tablets' files go to the trash.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dorisbk.catalog import partitions as bounds
from dorisbk.catalog.model import Database, Partition, Table, Tablet, now_ms
from dorisbk.errors import DatabaseExists, DorisError, TableExists, UnknownDatabase
from dorisbk.meta.store import Change

if TYPE_CHECKING:
    from dorisbk.catalog.catalog import Catalog

KIND = "recycle"
_MAKERS = {"db": Database.from_dict, "table": Table.from_dict, "partition": Partition.from_dict,
           "tablet": Tablet.from_dict}  # fmt: skip
_KIND_OF = {Database: "db", Table: "table", Partition: "partition", Tablet: "tablet"}


def entry(kind: str, name: str, db_id: int, table_id: int, partition_id: int, objects: Sequence[object]) -> dict:
    """One recycle-bin row: what SHOW CATALOG RECYCLE BIN lists and the objects RECOVER puts back."""
    return {
        "type": kind,
        "name": name,
        "db_id": db_id,
        "table_id": table_id,
        "partition_id": partition_id,
        "drop_time": now_ms(),
        "objects": [[_KIND_OF[type(o)], o.to_dict()] for o in objects],  # type: ignore[attr-defined]
    }


def objects(body: dict) -> list[object]:
    return [_MAKERS[kind](d) for kind, d in body["objects"]]


def tablets(body: dict) -> list[Tablet]:
    return [o for o in objects(body) if isinstance(o, Tablet)]


def entry_id(body: dict) -> int:
    return {"Database": body["db_id"], "Table": body["table_id"]}.get(body["type"], body["partition_id"])


def _latest(catalog: Catalog, kind: str, match: dict) -> dict | None:
    found = [b for b in catalog.recycled.values() if b["type"] == kind and all(b[k] == v for k, v in match.items())]
    return max(found, key=lambda b: (b["drop_time"], entry_id(b)), default=None)


def _restore(catalog: Catalog, body: dict, puts: list[object], extra: Sequence[dict] = ()) -> None:
    change = Change()
    for b in [body, *extra]:
        change.delete(KIND, entry_id(b))
    catalog.commit(change, puts=puts)


def _renamed_table(objs: list[object], new_name: str | None) -> list[object]:
    if not new_name:
        return objs
    table = next(o for o in objs if isinstance(o, Table))
    out: list[object] = []
    for o in objs:
        if o is table:
            o = dataclasses.replace(table, name=new_name)
        elif isinstance(o, Partition) and table.partition_type == "UNPARTITIONED":
            o = dataclasses.replace(o, name=new_name)
        out.append(o)
    return out


def recover_table(catalog: Catalog, db_name: str, name: str, table_id: int | None, new_name: str | None) -> None:
    """RECOVER TABLE [db.]t [id] [AS new]: the most recently dropped table of that name."""
    with catalog.lock:
        db = catalog.db(db_name)
        target = new_name or name
        if catalog.find_table(db, target) is not None:
            raise TableExists(f"Table '{target}' already exists")
        match = {"db_id": db.id, "name": name, **({"table_id": table_id} if table_id is not None else {})}
        body = _latest(catalog, "Table", match)
        if body is None:
            raise DorisError(f"Unknown table '{name}' in {db_name}", code=1109)
        _restore(catalog, body, _renamed_table(objects(body), new_name))


def recover_partition(catalog: Catalog, db_name: str, table_name: str, name: str, part_id: int | None,
                      new_name: str | None) -> None:  # fmt: skip
    """RECOVER PARTITION p [id] [AS new] FROM [db.]t: back only if its range or values are still free."""
    with catalog.lock:
        table = catalog.olap_table(catalog.db(db_name), table_name)
        catalog.check_alterable(table)
        target = new_name or name
        if any(p.name == target for p in catalog.table_partitions(table)):
            raise DorisError(f"partition[{target}] already exist in table[{table_name}]")
        match = {"table_id": table.id, "name": name, **({"partition_id": part_id} if part_id is not None else {})}
        body = _latest(catalog, "Partition", match)
        if body is None:
            raise DorisError(f"No partition named '{name}' in recycle bin that belongs to table '{table_name}'")
        objs = objects(body)
        part = next(o for o in objs if isinstance(o, Partition))
        existing = catalog.table_partitions(table)
        types = bounds.column_types(table)
        if table.partition_type == "RANGE":
            bounds.place_range(types, existing, None, part.lower or [], part.upper)
        elif table.partition_type == "LIST":
            bounds.check_list_values(types, existing, part.values or [])
        objs = [dataclasses.replace(o, name=target) if o is part else o for o in objs]
        _restore(catalog, body, objs)


def recover_database(catalog: Catalog, name: str, db_id: int | None, new_name: str | None) -> None:
    """RECOVER DATABASE db [id] [AS new]: the database with the tables it had when dropped."""
    with catalog.lock:
        target = new_name or name
        if catalog.find_db(target) is not None:
            raise DatabaseExists(f"Can't create database '{target}'; database exists")
        body = _latest(catalog, "Database", {"name": name, **({"db_id": db_id} if db_id is not None else {})})
        if body is None:
            raise UnknownDatabase(f"Unknown database '{name}'")
        tables = [b for b in catalog.recycled.values() if b["type"] == "Table" and b["db_id"] == body["db_id"]
                  and b["table_id"] in body.get("table_ids", [])]  # fmt: skip
        missing = set(body.get("table_names", [])) - {b["name"] for b in tables}
        if missing:
            raise DorisError(f"Tables[{', '.join(sorted(missing))}] is missing. Can not recover db")
        db = next(o for o in objects(body) if isinstance(o, Database))
        puts: list[object] = [dataclasses.replace(db, name=target)]
        for b in tables:
            puts.extend(objects(b))
        _restore(catalog, body, puts, tables)


def erase(catalog: Catalog, doomed: Sequence[dict]) -> list[Tablet]:
    """Remove entries for good; returns their tablets, whose files the caller trashes."""
    with catalog.lock:
        bodies = {entry_id(b): b for b in doomed}
        if not bodies:
            return []
        change = Change()
        for obj_id in bodies:
            change.delete(KIND, obj_id)
        catalog.commit(change)
        return [t for body in bodies.values() for t in tablets(body)]


def erase_by_id(catalog: Catalog, key: str, value: int) -> list[Tablet]:
    """DROP CATALOG RECYCLE BIN WHERE 'DbId' | 'TableId' | 'PartitionId' = n: that object and what it held."""
    field = {"dbid": "db_id", "tableid": "table_id", "partitionid": "partition_id"}.get(key.lower())
    if field is None:
        raise DorisError("DROP CATALOG RECYCLE BIN: the WHERE clause takes 'DbId', 'TableId' or 'PartitionId'")
    with catalog.lock:
        return erase(catalog, [b for b in catalog.recycled.values() if b[field] == value])


def expired(catalog: Catalog, expire_seconds: int) -> list[Tablet]:
    """The background pass: entries older than ``catalog_trash_expire_second`` are erased."""
    limit = now_ms() - expire_seconds * 1000
    with catalog.lock:
        return erase(catalog, [b for b in catalog.recycled.values() if b["drop_time"] <= limit])


def referenced_files(catalog: Catalog) -> list[tuple[int, str]]:
    """(backend id, relative path) of every rowset file recycled objects keep."""
    return [
        (replica.backend_id, rowset.path)
        for body in list(catalog.recycled.values())
        for tablet in tablets(body)
        for replica in tablet.replicas
        for rowset in replica.rowsets
    ]


def data_size(body: dict) -> int:
    return sum(rowset.size for tablet in tablets(body) for replica in tablet.replicas[:1] for rowset in replica.rowsets)
