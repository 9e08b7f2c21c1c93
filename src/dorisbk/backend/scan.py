"""Reading a table: the rowset files of its visible versions, merged as its key model says.

``plan_scan`` captures, under the catalog lock, which partitions a read touches and the
exact files of each partition's visible version; the SQL built from that plan is then
run with no lock held, so a query sees one version per partition for its whole run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import duckdb

from dorisbk.backend import duck
from dorisbk.backend.duck import quote_ident, quote_str
from dorisbk.backend.tablet_store import TabletStore
from dorisbk.catalog.catalog import Catalog
from dorisbk.catalog.model import Column, Partition, Rowset, Table, Tablet
from dorisbk.errors import DorisError

ORDER_COLUMN = "__ord"


@dataclass
class ScanPlan:
    table: Table
    partitions: list[Partition]
    total_partitions: int
    tablets: int
    files: list[str] = field(default_factory=list)
    db_name: str = ""
    index_name: str = ""  # the index the planner reads: the table's own, or a materialized view's
    # gives back what the files are held by when they are not the tablet store's (a snapshot's cached copies)
    lease: Callable[[], None] | None = None

    def release(self, store: TabletStore) -> None:
        """Let go of the files once the query has read them."""
        if self.lease is not None:
            self.lease()
        else:
            store.release(self.files)

    @property
    def description(self) -> str:
        """EXPLAIN's line for this scan, in Doris's words (``TABLE: db.tbl(index)``)."""
        names = ",".join(p.name for p in self.partitions)
        where = f"{self.db_name}.{self.table.name}({self.index_name or self.table.name})"
        return (
            f"TABLE: {where}, PREAGGREGATION: ON, partitions={len(self.partitions)}/"
            f"{self.total_partitions} ({names}), tablets={self.tablets}, files={len(self.files)}"
        )


def readable_replica(tablet: Tablet, version: int) -> int:
    """Index of a replica that has the partition's visible version."""
    for i, replica in enumerate(tablet.replicas):
        if replica.version >= version:
            return i
    raise DorisError(f"Failed to get scan range, no queryable replica found in tablet: {tablet.id}")


def plan_scan(
    catalog: Catalog, store: TabletStore, table: Table, keep: Callable[[Partition], bool] | None = None
) -> ScanPlan:
    """The partitions ``keep`` selects and the files of their visible versions."""
    with catalog.lock:
        current = catalog.tables.get(table.id)
        if current is None:
            raise DorisError(f"Table [{table.name}] was dropped while the query was planned")
        table = current
        if table.state == "RESTORE":
            raise DorisError(f"Table [{table.name}] is under restore, can not be queried")
        parts = catalog.table_partitions(table)
        chosen = [p for p in parts if keep is None or keep(p)]
        plan = ScanPlan(table, chosen, len(parts), 0)
        shared: list[tuple[int, Rowset]] | None = [] if store.shared is not None else None
        for part in chosen:
            for tablet in catalog.partition_tablets(part):
                plan.tablets += 1
                replica = tablet.replicas[readable_replica(tablet, part.visible_version)]
                for rowset in replica.visible_rowsets(part.visible_version):
                    plan.files.append(store.absolute(replica.backend_id, rowset.path))
                    if shared is not None:
                        shared.append((replica.backend_id, rowset))
        # leased before the catalog lock is let go: a DELETE, OVERWRITE, TRUNCATE or compaction that
        # commits next cannot delete what this plan is about to read (the caller releases them)
        store.acquire(plan.files)
    if shared:  # fetched from the vault with no lock held; the lease keeps them until the query is done
        try:
            store.ensure_local(shared)
        except BaseException:
            store.release(plan.files)
            raise
    return plan


def create_views(cur: duckdb.DuckDBPyConnection, views: Sequence[tuple[str, str]]) -> None:
    """A query's scans as temporary views of the cursor that runs it: the query's SQL names each scan,
    its own SQL stays apart (a cursor's temporary views end with it)."""
    for name, sql in views:
        cur.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(name)} AS {sql}")


def scan_sql(plan: ScanPlan) -> str:
    """A DuckDB query returning the table's visible rows with its columns, merged by key model."""
    table = plan.table
    if not plan.files:
        typed = ", ".join(f"CAST(NULL AS {c.type.duck()}) AS {quote_ident(c.name)}" for c in table.columns)
        return f"SELECT {typed} WHERE false"
    source = "read_parquet([" + ", ".join(quote_str(f) for f in plan.files) + "])"
    if table.schema_version:
        source = evolved_source(table, plan.files)
    typed = [_typed(c) for c in table.columns]
    if table.keys_type == "DUP_KEYS":
        return f"SELECT {', '.join(typed)} FROM {source}"
    keys = [quote_ident(k) for k in table.key_columns]
    if table.keys_type == "UNIQUE_KEYS" and sequence_groups(table):
        return _sequence_mapped_sql(table, source, keys)
    if table.keys_type == "UNIQUE_KEYS":
        return (
            f"SELECT {', '.join(typed)} FROM {source} "
            f"QUALIFY row_number() OVER (PARTITION BY {', '.join(keys)} ORDER BY {ORDER_COLUMN} DESC) = 1"
        )
    values = []
    for col in table.columns:
        if col.is_key:
            continue
        name = col.type.read_expr(quote_ident(col.name))
        agg = col.aggregation or "REPLACE"
        if agg in ("SUM", "MIN", "MAX"):
            expr = f"{agg}({name})"
        elif agg in ("BITMAP_UNION", "HLL_UNION"):  # the union of the sets: sorted distinct values
            expr = f"list_sort(list_distinct(flatten(list({name}))))"
        elif agg == "REPLACE_IF_NOT_NULL":
            expr = f"arg_max({name}, {ORDER_COLUMN}) FILTER (WHERE {name} IS NOT NULL)"
        else:  # REPLACE: the latest value, NULL included (DuckDB's arg_max skips NULL values)
            expr = f"arg_max_null({name}, {ORDER_COLUMN})"
        values.append(f"CAST({expr} AS {col.type.duck()}) AS {quote_ident(col.name)}")
    key_exprs = [_typed(c) for c in table.columns if c.is_key]
    return f"SELECT {', '.join(key_exprs + values)} FROM {source} GROUP BY {', '.join(keys)}"


def sequence_groups(table: Table) -> dict[str, list[str]]:
    """``"sequence_mapping.s" = "c,d"``: sequence column ``s`` decides which row's ``c`` and ``d`` stay."""
    groups = {}
    for key, value in table.properties.items():
        if key.startswith("sequence_mapping."):
            groups[key.split(".", 1)[1]] = [c.strip() for c in value.split(",") if c.strip()]
    return groups


def _sequence_mapped_sql(table: Table, source: str, keys: list[str]) -> str:
    """A UNIQUE table with sequence mapping: per key, each group of columns comes from the row with the
    largest value of its sequence column (NULL smallest, the later load on a tie); the sequence column
    keeps its largest value; other columns come from the latest row."""
    order_of: dict[str, str] = {}
    for seq, cols in sequence_groups(table).items():
        col = table.column(seq)
        if col is None:
            continue
        value = col.type.read_expr(quote_ident(col.name))
        order = f"struct_pack(n := {value} IS NOT NULL, s := {value}, o := {ORDER_COLUMN})"
        for name in [seq, *cols]:
            order_of[name.lower()] = order
    values = []
    for col in table.columns:
        if col.is_key:
            continue
        name = col.type.read_expr(quote_ident(col.name))
        expr = f"arg_max_null({name}, {order_of.get(col.name.lower(), ORDER_COLUMN)})"
        values.append(f"CAST({expr} AS {col.type.duck()}) AS {quote_ident(col.name)}")
    key_exprs = [_typed(c) for c in table.columns if c.is_key]
    selected = {c.name: e for c, e in zip([c for c in table.columns if c.is_key], key_exprs, strict=True)}
    selected.update({c.name: v for c, v in zip([c for c in table.columns if not c.is_key], values, strict=True)})
    ordered = [selected[c.name] for c in table.columns]
    return f"SELECT {', '.join(ordered)} FROM {source} GROUP BY {', '.join(keys)}"


_SCHEMA_CACHE_LIMIT = 200_000
_file_schemas: dict[str, tuple] = {}
_schemas_guard = threading.Lock()


def file_schemas(files: list[str]) -> dict[str, tuple]:
    """Each rowset file's Parquet columns as ``((name, type), ...)``; files never change, so once read
    a file's schema is kept."""
    with _schemas_guard:
        missing = [f for f in files if f not in _file_schemas]
    if missing:
        listed = ", ".join(quote_str(f) for f in missing)
        cur = duck.cursor()
        try:
            rows = cur.execute(
                "SELECT file_name, name, num_children, type, converted_type, logical_type "
                f"FROM parquet_schema([{listed}])"
            ).fetchall()
        except duckdb.Error as exc:
            raise DorisError(duck.error_message(exc)) from None
        finally:
            cur.close()
        found: dict[str, list[tuple]] = {f: [] for f in missing}
        for file_name, columns in _top_level(rows).items():
            found[file_name] = columns
        with _schemas_guard:
            if len(_file_schemas) > _SCHEMA_CACHE_LIMIT:
                _file_schemas.clear()
            _file_schemas.update({f: tuple(cols) for f, cols in found.items()})
    with _schemas_guard:
        return {f: _file_schemas[f] for f in files if f in _file_schemas}


def rowset_rows(path: str) -> int:
    """The rows of one rowset file, counted while every column of every row is decoded (hashed), so that a
    damaged page fails here, not only a damaged footer."""
    cur = duck.cursor()
    try:
        row = cur.execute(f"SELECT count(*), bit_xor(hash(r)) FROM read_parquet({quote_str(path)}) AS r").fetchone()
    except duckdb.Error as exc:
        raise DorisError(duck.error_message(exc)) from None
    finally:
        cur.close()
    return int(row[0]) if row else 0


def _top_level(rows: list[tuple]) -> dict[str, list[tuple]]:
    """The top-level columns of each file in ``parquet_schema`` rows (file, name, children, kind...), in
    schema order: an ARRAY, MAP or STRUCT column is a group whose leaves are named ``element``, ``key``...,
    so it is found by its place in the tree, and its kind is that of all its nodes."""
    found: dict[str, list[tuple]] = {}
    pending: list[int] = []  # children still to come at each depth below the file's root
    for file_name, name, children, *kind in rows:
        if not pending:  # the root of a file's schema
            found.setdefault(file_name, [])
            pending = [children or 0]
            continue
        if len(pending) == 1:
            found[file_name].append((name, ()))
        column, kinds = found[file_name][-1]
        found[file_name][-1] = (column, (*kinds, *(str(k) for k in kind)))
        pending[-1] -= 1
        if children:
            pending.append(children)
        while pending and pending[-1] == 0:
            pending.pop()
    return found


def _missing_value(col: Column) -> str:
    """What a file written before ``col`` was added holds for it: its default, else NULL."""
    if col.backfill is not None:
        value = quote_str(col.backfill)
    elif col.default is None:
        value = "NULL"
    elif col.default == "CURRENT_TIMESTAMP":
        value = "current_timestamp"
    else:
        value = quote_str(col.default)
    return f"CAST({value} AS {col.type.storage()})"


def evolved_source(table: Table, files: list[str]) -> str:
    """The rows of files written under different schemas of a table: files grouped by their Parquet
    schema, each group read with the table's current columns (found by their name in files, cast to
    their current type, the default where a file predates the column); dropped columns are not read."""
    schemas = file_schemas(files)
    groups: dict[tuple, list[str]] = {}
    for f in files:
        groups.setdefault(schemas.get(f, ()), []).append(f)
    selects = []
    for schema, group in groups.items():
        present = {name for name, _ in schema}
        cols = [
            f"CAST({quote_ident(c.file_name)} AS {c.type.storage()}) AS {quote_ident(c.name)}"
            if c.file_name in present
            else f"{_missing_value(c)} AS {quote_ident(c.name)}"
            for c in table.columns
        ]
        if table.keys_type != "DUP_KEYS":
            cols.append(ORDER_COLUMN)
        listed = ", ".join(quote_str(f) for f in group)
        selects.append(f"SELECT {', '.join(cols)} FROM read_parquet([{listed}])")
    return "(" + " UNION ALL ".join(selects) + ")"


def _typed(col: Column) -> str:
    """A column read back with its own type (LARGEINT is stored as text)."""
    name = quote_ident(col.name)
    read = col.type.read_expr(name)
    return name if read == name else f"{read} AS {name}"
