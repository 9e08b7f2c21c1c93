"""``SHOW PROC '<path>'`` over the catalog tree Doris exposes (``/dbs``, ``/backends``) and
``SHOW TABLET <id>``, with Doris's columns and error texts.

Doris walks the path one name at a time from its root directory: each directory looks its child
up by id (or by a fixed name such as ``partitions``), and a bad step is reported in the words of
the directory that failed. Scripts and Doris's own regression suites use it to turn names into
ids (the CCR syncer, index ids after a restore), so the ids shown here are the catalog's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dorisbk.catalog.model import Database, Partition, Table
from dorisbk.engine.result import Result
from dorisbk.env import Env
from dorisbk.errors import DorisError
from dorisbk.sql.handlers import catalog_rows
from dorisbk.sql.result import text_result

NULL = "\\N"  # Doris's FeConstants.null_string

DBS_COLUMNS = ("DbId", "DbName", "TableNum", "Size", "Quota", "LastConsistencyCheckTime", "ReplicaCount",
               "ReplicaQuota")  # fmt: skip
TABLES_COLUMNS = ("TableId", "TableName", "IndexNum", "PartitionColumnName", "PartitionNum", "State", "Type",
                  "LastConsistencyCheckTime", "ReplicaCount")  # fmt: skip
INDICES_COLUMNS = ("IndexId", "IndexName", "State", "LastConsistencyCheckTime")
INDEXES_COLUMNS = ("Table", "IndexId", "NonUnique", "KeyName", "SeqInIndex", "ColumnName", "Collation",
                   "Cardinality", "SubPart", "Packed", "Null", "IndexType", "Comment", "Properties")  # fmt: skip
REPLICAS_COLUMNS = ("ReplicaId", "BackendId", "Version", "LstSuccessVersion", "LstFailedVersion", "LstFailedTime",
                    "SchemaHash", "LocalDataSize", "RemoteDataSize", "RowCount", "State", "IsBad", "IsUserDrop",
                    "VersionCount", "PathHash", "Path", "MetaUrl", "CompactionStatus", "CooldownReplicaId",
                    "CooldownMetaId", "QueryHits")  # fmt: skip
SHOW_TABLET_COLUMNS = ("DbName", "TableName", "PartitionName", "IndexName", "DbId", "TableId", "PartitionId",
                       "IndexId", "IsSync", "Order", "QueryHits", "DetailCmd")  # fmt: skip
ROOT_CHILDREN = ("backends", "dbs")


@dataclass
class Node:
    """One place in the tree: what it shows, and (for a directory) how it finds a child by name."""

    fetch: Callable[[], Result]
    lookup: Callable[[str], Node | None] | None = None


def _id(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise DorisError(f"Invalid {what} id format: {text}") from None


def show_proc(env: Env, path: str) -> Result:
    """Walk ``path`` from the root as Doris's ProcService does and fetch the node it names."""
    return open_node(env, path).fetch()


def open_node(env: Env, path: str) -> Node:
    """The node ``path`` names, walked from the root as Doris's ProcService does (a directory has a lookup)."""
    text = path.lstrip(" \t\r\n")
    if not text:
        raise DorisError("Path is null")
    if not text.startswith("/"):
        raise DorisError(f"Path({path}) does not start with '/'")
    text = text.split()[0] if text.split() else text  # a blank after the root ends the path
    names = [n for n in text.split("/") if n]
    node: Node | None = _root(env)
    walked = ""
    for i, name in enumerate(names):
        if node is None or node.lookup is None:
            raise DorisError(f"{walked} is not a directory")
        node = node.lookup(name)
        walked += "/" + name
        if node is None and i == len(names) - 1:
            raise DorisError(f"Proc path '{path}' doesn't exist", code=1105)
    if node is None:
        raise DorisError(f"Proc path '{path}' doesn't exist")
    if text.endswith("/") and node.lookup is None:
        raise DorisError(f"{path} is not a directory")
    return node


def _root(env: Env) -> Node:
    children = {"backends": Node(lambda: catalog_rows.backends(env)), "dbs": _dbs(env)}
    return Node(lambda: text_result(["name"], [(n,) for n in ROOT_CHILDREN]), children.get)


def _dbs(env: Env) -> Node:
    catalog = env.catalog

    def fetch() -> Result:
        rows = []
        for db in sorted(catalog.dbs.values(), key=lambda d: d.id):
            tables = catalog.db_tables(db.id)
            size = sum(_table_size(env, t) for t in tables)
            replicas = sum(_replica_count(env, t) for t in tables)
            rows.append((db.id, db.name, len(tables), catalog_rows.fmt_size(size), "1024.000 TB", NULL, replicas,
                         1073741824))  # fmt: skip
        return text_result(DBS_COLUMNS, rows)

    def lookup(name: str) -> Node:
        db = catalog.dbs.get(_id(name, "db"))
        if db is None:
            raise DorisError(f"Database {name} does not exist")
        return _tables(env, db)

    return Node(fetch, lookup)


def _table_size(env: Env, table: Table) -> int:
    if table.kind != "OLAP":
        return 0
    parts = env.catalog.table_partitions(table)
    return sum(t.replicas[0].data_size for p in parts for t in env.catalog.partition_tablets(p) if t.replicas)


def _replica_count(env: Env, table: Table) -> int:
    if table.kind != "OLAP":
        return 0
    parts = env.catalog.table_partitions(table)
    return sum(len(t.replicas) for p in parts for t in env.catalog.partition_tablets(p))


def _tables(env: Env, db: Database) -> Node:
    catalog = env.catalog

    def fetch() -> Result:
        rows = []
        for table in sorted(catalog.db_tables(db.id), key=lambda t: t.id):
            if table.kind != "OLAP":
                rows.append((table.id, table.name, NULL, NULL, 1, NULL, "VIEW", NULL, 0))
                continue
            key = ", ".join(table.partition_columns) if table.partition_type == "RANGE" else NULL
            num = len(catalog.table_partitions(table)) if table.partition_type == "RANGE" else 1
            rows.append((table.id, table.name, 1, key, num, table.state, "OLAP", NULL, _replica_count(env, table)))
        return text_result(TABLES_COLUMNS, rows)

    def lookup(name: str) -> Node:
        table = catalog.tables.get(_id(name, "table"))
        if table is None or table.db_id != db.id:
            raise DorisError(f"Unknown table '{name}'", code=1051)
        return _table(env, table)

    return Node(fetch, lookup)


def _table(env: Env, table: Table) -> Node:
    children = ("partitions", "temp_partitions", "index_schema", "indexes")

    def lookup(name: str) -> Node:
        if not name:
            raise DorisError("Entry name is null")
        if name in ("partitions", "temp_partitions"):
            if table.kind != "OLAP":
                raise DorisError(f"Table[{table.name}] is not a OLAP or ELASTICSEARCH table")
            return _partitions(env, table, temporary=name == "temp_partitions")
        if name == "index_schema":
            return Node(lambda: catalog_rows.describe(table, True, table.columns))
        if name == "indexes":
            return Node(lambda: _indexes(table))
        raise DorisError(f"Not implemented yet: {name}")

    return Node(lambda: text_result(["Nodes"], [(n,) for n in children]), lookup)


def _indexes(table: Table) -> Result:
    rows = []
    for index in table.indexes:
        row = catalog_rows.index_row(table, index)
        rows.append((table.name, index["id"], *row[1:]))
    return text_result(INDEXES_COLUMNS, rows)


def _partitions(env: Env, table: Table, temporary: bool) -> Node:
    catalog = env.catalog

    def lookup(name: str) -> Node:
        part = catalog.partitions.get(_id(name, "partition"))
        if part is None or part.table_id != table.id or part.is_temp != temporary:
            raise DorisError(f"Partition[{name}] does not exist")
        return _indices(env, table, part)

    return Node(lambda: catalog_rows.partitions(env, table, temporary), lookup)


def _indices(env: Env, table: Table, part: Partition) -> Node:
    """One partition's materialized indexes: here only the base index, named after the table."""

    def fetch() -> Result:
        return text_result(INDICES_COLUMNS, [(part.index_id, table.name, "NORMAL", NULL)])

    def lookup(name: str) -> Node:
        index_id = _id(name, "index")
        if index_id != part.index_id:
            raise DorisError(f"Index[{index_id}] does not exist.")
        return _tablets(env, part)

    return Node(fetch, lookup)


def _tablets(env: Env, part: Partition) -> Node:
    def fetch() -> Result:
        result = catalog_rows.tablet_rows(env, [part])
        return Result(result.columns, sorted(result.rows, key=lambda r: (int(r[0]), int(r[1]))))

    def lookup(name: str) -> Node:
        tablet_id = _id(name, "tablet")
        if tablet_id not in part.tablet_ids:
            raise DorisError(f"Tablet[{tablet_id}] does not exist")
        return Node(lambda: _replicas(env, tablet_id))

    return Node(fetch, lookup)


def _replicas(env: Env, tablet_id: int) -> Result:
    tablet = env.catalog.tablets[tablet_id]
    rows = []
    for r in tablet.replicas:
        be = env.catalog.backends.get(r.backend_id)
        host = f"{be.host}:{be.http_port}" if be else "0.0.0.0:0"
        rows.append((r.id, r.backend_id, r.version, r.version, -1, NULL, 0, r.data_size, 0, r.row_count, "NORMAL",
                     "false", "false", len(r.rowsets), 0, str(env.tablets.tablet_dir(r.backend_id, tablet_id)),
                     f"http://{host}/api/meta/header/{tablet_id}",
                     f"http://{host}/api/compaction/show?tablet_id={tablet_id}", -1, "", 0))  # fmt: skip
    return text_result(REPLICAS_COLUMNS, rows)


def show_tablet(env: Env, tablet_id: int) -> Result:
    """``SHOW TABLET <id>``: where a tablet lives; an unknown id gives one row of -1 / ``\\N``, IsSync false."""
    catalog = env.catalog
    tablet = catalog.tablets.get(tablet_id)
    db_name = table_name = part_name = index_name = NULL
    db_id = table_id = part_id = index_id = -1
    order, sync = -1, False
    if tablet is not None:
        table_id, part_id, index_id = tablet.table_id, tablet.partition_id, tablet.index_id
        table = catalog.tables.get(tablet.table_id)
        part = catalog.partitions.get(tablet.partition_id)
        db = catalog.dbs.get(table.db_id) if table is not None else None
        if table is not None:
            db_id = table.db_id
        if db is not None and table is not None and part is not None and tablet_id in part.tablet_ids:
            db_name, table_name, part_name, index_name = db.name, table.name, part.name, table.name
            order, sync = part.tablet_ids.index(tablet_id), True
    detail = f"SHOW PROC '/dbs/{db_id}/{table_id}/partitions/{part_id}/{index_id}/{tablet_id}';"
    row = (db_name, table_name, part_name, index_name, db_id, table_id, part_id, index_id, str(sync).lower(), order,
           0, detail)  # fmt: skip
    return text_result(SHOW_TABLET_COLUMNS, [row])
