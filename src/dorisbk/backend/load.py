"""A load: one transaction that writes new rowset files into tablets and publishes version v+1.

Rows are routed to their partition (range / list) and bucket (hash of the distribution
columns, or random) by DuckDB in one pass that writes Parquet files per (partition,
bucket) into a staging dir, using Parquet's version 2 encodings (about a quarter smaller
than version 1 for the same rows, which makes loads, scans and backups faster). The files
are then moved into each replica's tablet dir (a tablet's first load renames its staged dir
into place) and made durable (one syncfs for many files), and one metadata transaction
makes the new version of every touched partition visible. A load that dies before that
commit leaves only files that nothing references, which the start-up collection removes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from dorisbk import memory
from dorisbk.backend import duck
from dorisbk.backend.duck import quote_ident, quote_str
from dorisbk.backend.scan import ORDER_COLUMN, create_views
from dorisbk.backend.tablet_store import TabletStore
from dorisbk.backend.transactions import LoadTransactionMgr
from dorisbk.catalog import auto_partition
from dorisbk.catalog import partitions as bounds
from dorisbk.catalog.catalog import Catalog
from dorisbk.catalog.model import Partition, Rowset, Table, Tablet, now_ms
from dorisbk.catalog.types import ColumnType
from dorisbk.checksum import md5_file
from dorisbk.errors import DorisError
from dorisbk.meta.store import Change

# How rowset files are written: Parquet's version 2 encodings, and dictionaries only where a column
# chunk's values fit in DICTIONARY_BYTES (small domains such as codes, days, statuses); trying
# to build one for a large domain costs ~10% of a load and saves nothing (bench/load_query.py)
DICTIONARY_BYTES = 2048
ROWSET_FORMAT = f"FORMAT parquet, PARQUET_VERSION V2, DICTIONARY_SIZE_LIMIT {DICTIONARY_BYTES}"
HASH_WORKERS = 4  # staged files checksummed at once
HASH_CHUNK = 256  # files per task: a future per file costs more than hashing a small file
# Tablets one COPY writes at most: DuckDB's partitioned write slows with the number of files one statement
# keeps (bench/scale.py: ~1 ms a file at 1,000 files, ~3 ms at 10,000), so a load into more tablets keeps
# its routed rows in a temporary table and writes them a group of partitions at a time.
COPY_TABLETS = 1024

# The partition id of rows no partition takes (they fail the load).
UNROUTED = -1

_table_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


def table_lock(table_id: int) -> threading.Lock:
    """The lock that orders writes (loads, deletes) of one table, so later writes win on equal keys."""
    with _locks_guard:
        return _table_locks.setdefault(table_id, threading.Lock())


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


# Doris's words for a load that strict mode (enable_insert_strict) stops at a value it can not convert
_STRICT = "Insert has filtered data in strict mode. [DATA_QUALITY_ERROR]"


def _load_error(exc: duckdb.Error, strict: bool) -> DorisError:
    """A failed load in a client's words: under strict mode a value its column can not hold (DuckDB's
    conversion error of the column's CAST) is filtered data, as Doris says it."""
    message = duck.error_message(exc)
    return DorisError(f"{_STRICT}{message}" if strict and isinstance(exc, duckdb.ConversionException) else message)


def sql_literal(ctype: ColumnType, value: object) -> str:
    """A catalog value (a default, a partition bound) as a DuckDB literal: a number as written when it
    is one, anything else a quoted string, so that no stored text is ever read as SQL."""
    text = str(value)
    numeric = ctype.is_integer or ctype.is_float or ctype.name.startswith("DECIMAL")
    literal = text if numeric and _NUMBER.fullmatch(text) else quote_str(text)
    return f"CAST({literal} AS {ctype.duck()})"


def _bound_expr(cols: Sequence[str], types: Sequence[ColumnType], key: tuple, op: str) -> str:
    """``cols >= key`` (op ``>=``) or ``cols < key`` (op ``<``), lexicographically; MIN/MAX handled."""
    terms: list[str] = []
    for i in range(len(cols) - 1, -1, -1):
        kind, value = key[i]
        col = quote_ident(cols[i])
        if kind == 0:  # MIN: any value is >= MIN, none is < MIN
            tail = "true" if op == ">=" else "false"
        elif kind == 2:  # MAXVALUE
            tail = "false" if op == ">=" else "true"
        else:
            lit = sql_literal(types[i], value)
            strict = ">" if op == ">=" else "<"
            inner = terms[-1] if terms else ("true" if op == ">=" else "false")
            if inner == "true":  # the rest of the key cannot change the answer: a plain comparison
                tail = f"{col} {strict}= {lit}"
            elif inner == "false":
                tail = f"{col} {strict} {lit}"
            else:
                tail = f"({col} {strict} {lit} OR ({col} = {lit} AND {inner}))"
        terms.append(tail)
    return terms[-1]


def partition_expr(table: Table, parts: Sequence[Partition]) -> str:
    """SQL giving each row's partition id, UNROUTED where no partition takes it."""
    if table.partition_type == "UNPARTITIONED":
        return str(parts[0].id) if parts else str(UNROUTED)
    types = bounds.column_types(table)
    cols = table.partition_columns
    branches = []
    for part in parts:
        if table.partition_type == "RANGE":
            low = bounds.range_key(types, part.lower, False)
            high = bounds.range_key(types, part.upper, True)
            conds = [_bound_expr(cols, types, low, ">="), _bound_expr(cols, types, high, "<")]
            cond = " AND ".join(f"({c})" for c in conds if c != "true") or "true"
            if low[0][0] == 0:
                # Doris keeps NULL partition values in the partition that starts at MIN_VALUE
                cond = f"({cond}) OR {quote_ident(cols[0])} IS NULL"
        else:
            ors = []
            for value in part.values or []:
                ands = [
                    f"{quote_ident(c)} = {sql_literal(t, t.coerce(v))}"
                    for c, t, v in zip(cols, types, value, strict=False)
                ]
                ors.append("(" + " AND ".join(ands) + ")")
            cond = " OR ".join(ors) or "false"
        branches.append(f"WHEN {cond} THEN {part.id}")
    if not branches:
        return str(UNROUTED)
    return "CASE " + " ".join(branches) + f" ELSE {UNROUTED} END"


def bucket_expr(table: Table, parts: Sequence[Partition]) -> str:
    """SQL giving each row's bucket within its partition."""
    if table.distribution == "HASH" and table.distribution_columns:
        hashed = "hash(" + ", ".join(quote_ident(c) for c in table.distribution_columns) + ")"
    else:
        hashed = "hash(random())"
    counts = {p.buckets for p in parts}
    if len(counts) == 1:
        return f"({hashed} % {counts.pop()})"
    cases = " ".join(f"WHEN {p.id} THEN {hashed} % {p.buckets}" for p in parts)
    return f"(CASE __pid {cases} END)"


@dataclasses.dataclass
class LoadResult:
    rows: int
    txn_id: int
    label: str = ""
    status: str = "VISIBLE"

    @property
    def info(self) -> str:
        """The OK packet's info, as Doris's insert executor writes it."""
        return f"{{'label':'{self.label}', 'status':'{self.status}', 'txnId':'{self.txn_id}'}}"


class Loader:
    """Writes loads into tablets; one load per table at a time, so later loads win on equal keys."""

    def __init__(self, catalog: Catalog, store: TabletStore, txns: LoadTransactionMgr) -> None:
        self.catalog = catalog
        self.store = store
        self.txns = txns

    def load(
        self,
        table: Table,
        source_sql: str,
        source_columns: Sequence[str],
        partition_names: Sequence[str] = (),
        overwrite: bool = False,
        label: str | None = None,
        user: str = "root",
        views: Sequence[tuple[str, str]] = (),
        strict: bool = True,
    ) -> LoadResult:
        """Load the rows of ``source_sql`` (columns named ``source_columns``, the scans it names in ``views``)
        into ``table``. With
        ``overwrite`` (INSERT OVERWRITE) the rows replace what the named partitions, or all of the
        table's, held: one new version of each, holding only this load's rows. The load is one
        transaction holding ``label`` (or a generated one), refused if a live load of the database has it.
        ``strict`` (enable_insert_strict): a value its column can not hold fails the load; without it the
        value is NULL, as Doris loads it."""
        txn = self.txns.begin(table.db_id, table.id, label, user)
        try:
            # a load into many tablets builds their new versions: out of the cyclic GC's passes (memory.py)
            with table_lock(table.id), memory.no_cyclic_gc():
                result = self._load(
                    table, source_sql, source_columns, partition_names, overwrite, txn.txn_id, views, strict
                )
        except BaseException as exc:
            self.txns.abort(txn.txn_id, exc.message if isinstance(exc, DorisError) else str(exc))
            raise
        self.txns.finish(txn.txn_id, result.rows)
        return dataclasses.replace(result, label=txn.label)

    def _load(
        self,
        table: Table,
        source_sql: str,
        source_columns: Sequence[str],
        partition_names: Sequence[str],
        overwrite: bool,
        txn_id: int,
        views: Sequence[tuple[str, str]],
        strict: bool,
    ) -> LoadResult:
        with self.catalog.lock:
            table = self.catalog.tables.get(table.id) or table
            if table.state != "NORMAL":
                raise DorisError(f"Table [{table.name}] is in {table.state} state, can not load data")
            all_parts = self.catalog.table_partitions(table)
            parts = [self.catalog.partition(table, n) for n in partition_names] if partition_names else all_parts
        select_cols = self._target_columns(table, source_columns, strict)
        staged = f"SELECT {', '.join(select_cols)} FROM ({source_sql}) AS __src"
        auto = table.auto_partition is not None and not partition_names
        cur = duck.cursor()
        try:
            create_views(cur, views)
            if auto:
                staged, parts = self._auto_partitions(cur, table, staged, parts, txn_id, strict)
            return self._route_and_publish(cur, table, staged, parts, txn_id, overwrite, strict)
        finally:
            if auto:
                with contextlib.suppress(duckdb.Error):
                    cur.execute(f"DROP TABLE IF EXISTS {_auto_temp(txn_id)}")
            cur.close()

    def _route_and_publish(
        self,
        cur: duckdb.DuckDBPyConnection,
        table: Table,
        staged: str,
        parts: list[Partition],
        txn_id: int,
        overwrite: bool,
        strict: bool,
    ) -> LoadResult:
        pid = partition_expr(table, parts)
        order = ""
        if table.keys_type != "DUP_KEYS":
            order = f", (CAST({txn_id} AS BIGINT) << 24) + row_number() OVER () AS {ORDER_COLUMN}"
        # columns are written under their file name (catalog/model.py Column.stored)
        names = ", ".join(
            f"CAST({quote_ident(c.name)} AS {c.type.storage()}) AS {quote_ident(c.file_name)}"
            if c.type.storage() != c.type.duck() or c.file_name != c.name
            else quote_ident(c.name)
            for c in table.columns
        )
        routed = (
            f"SELECT {names}{order}, __pid, {bucket_expr(table, parts)} AS __bucket "
            f"FROM (SELECT *, {pid} AS __pid FROM ({staged}) AS __typed) AS __routed"
        )
        first_backend = self.catalog.backend_list()[0].id
        staging = self.store.staging_dir(first_backend, f"load_{txn_id}_{uuid.uuid4().hex[:8]}")
        try:
            try:
                staged_files = self._write_staged(cur, routed, parts, staging, txn_id)
                self._check_unrouted(cur, staged_files, table)
                written = self._collect_files(staged_files)
            except duckdb.Error as exc:
                raise _load_error(exc, strict) from None
            replaced = [p.id for p in parts] if overwrite else []
            if not written and not replaced:
                return LoadResult(0, txn_id)
            return self._publish(table, written, txn_id, replaced)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _auto_partitions(
        self,
        cur: duckdb.DuckDBPyConnection,
        table: Table,
        staged: str,
        parts: list[Partition],
        txn_id: int,
        strict: bool,
    ) -> tuple[str, list[Partition]]:
        """AUTO PARTITION: the rows are typed once into a temporary table, the distinct keys no partition
        takes are read from it (set-wise in DuckDB), their partitions added, and the load reads the
        temporary table."""
        temp = _auto_temp(txn_id)
        try:
            cur.execute(f"CREATE OR REPLACE TEMP TABLE {temp} AS {staged}")
            unrouted = f"SELECT * FROM {temp} WHERE {partition_expr(table, parts)} = {UNROUTED}"
            cols = ", ".join(quote_ident(c) for c in table.partition_columns)
            if table.partition_type == "RANGE":
                key = auto_partition.truncated_sql(table, quote_ident(table.partition_columns[0]))
                keys = cur.execute(f"SELECT DISTINCT {key} FROM ({unrouted}) AS __u ORDER BY 1").fetchall()
            else:
                keys = cur.execute(f"SELECT DISTINCT {cols} FROM ({unrouted}) AS __u").fetchall()
        except duckdb.Error as exc:
            raise _load_error(exc, strict) from None
        if table.partition_type == "RANGE":
            if any(k[0] is None for k in keys):
                raise DorisError("Can't create partition for NULL Range")
            pdefs = [auto_partition.range_partition(table, k[0]) for k in keys]
        else:
            has_string = any(t.is_string for t in bounds.column_types(table))
            # a NULL list value gets no partition here: its rows fail the load as unrouted
            pdefs = [
                auto_partition.list_partition(table, [auto_partition.value_text(v) for v in k], has_string)
                for k in keys
                if None not in k
            ]
        if pdefs:
            self.catalog.add_auto_partitions(table.id, pdefs)
            with self.catalog.lock:
                parts = self.catalog.table_partitions(self.catalog.tables.get(table.id) or table)
        return f"SELECT * FROM {temp}", parts

    def _target_columns(self, table: Table, source_columns: Sequence[str], strict: bool) -> list[str]:
        given = {c.lower(): c for c in source_columns}
        for name in source_columns:
            if table.column(name) is None:
                raise DorisError(f"Unknown column '{name}' in '{table.name}'", code=1054)
        if len(given) != len(source_columns):
            raise DorisError("Column has been specified twice", code=1110)
        out = []
        for col in table.columns:
            src = given.get(col.name.lower())
            if src is not None:
                expr = quote_ident(src)
            elif col.default is not None:
                expr = "current_timestamp" if col.default == "CURRENT_TIMESTAMP" else sql_literal(col.type, col.default)
            elif col.nullable:
                expr = "NULL"
            else:
                raise DorisError(f"Column has no default value, column={col.name}")
            if col.type.is_string and col.type.length is not None:
                # names are data inside the SQL: always a quoted literal
                too_long = quote_str(
                    f"the length of input string is too long than schema. column_name: {col.name}; "
                    f"schema length: {col.type.length}"
                )
                expr = (
                    f"CASE WHEN length(CAST({expr} AS VARCHAR)) > {col.type.length} THEN error({too_long}) "
                    f"ELSE CAST({expr} AS VARCHAR) END"
                )
            duck_type = col.type.duck()
            if src is None:
                typed = f"CAST({expr} AS {duck_type})"
            else:  # strict: a value that does not convert fails the load (_load_error), else it is NULL
                typed = f"{'CAST' if strict else 'TRY_CAST'}(({expr}) AS {duck_type})"
            if not col.nullable:
                is_null = quote_str(f"null value for not null column, column={col.name}")
                typed = f"CASE WHEN ({typed}) IS NULL THEN error({is_null}) ELSE {typed} END"
            if col.type.name in ("DATETIME", "DATETIMEV2") and (col.type.scale or 0) < 6:
                # DATETIME(p) keeps p digits of the seconds' fraction, rounded, as Doris stores it
                unit = 10 ** (6 - (col.type.scale or 0))
                typed = f"make_timestamp(CAST(round(epoch_us({typed}) / {unit}) AS BIGINT) * {unit})"
            out.append(f"{typed} AS {quote_ident(col.name)}")
        return out

    def _write_staged(
        self, cur: duckdb.DuckDBPyConnection, routed: str, parts: Sequence[Partition], staging: Path, txn_id: int
    ) -> list[_Staged]:
        """Write the routed rows as one Parquet file per (partition, bucket) under ``staging``. Beyond
        COPY_TABLETS tablets, the rows are kept in a temporary table and written a group of partitions
        at a time."""
        groups = _copy_groups(parts)
        if len(groups) == 1:
            return _copy_partitioned(cur, routed, staging, txn_id)
        temp = f"__load_routed_{txn_id}"
        cur.execute(f"CREATE TEMP TABLE {temp} AS {routed}")
        try:
            staged: list[_Staged] = []
            for n, pids in enumerate(groups):
                chosen = f"SELECT * FROM {temp} WHERE __pid IN ({', '.join(map(str, pids))})"
                staged.extend(_copy_partitioned(cur, chosen, staging / f"g{n}", txn_id))
            return staged
        finally:
            cur.execute(f"DROP TABLE IF EXISTS {temp}")

    def _check_unrouted(self, cur: duckdb.DuckDBPyConnection, staged: Sequence[_Staged], table: Table) -> None:
        files = [f.path for f in staged if f.partition_id == UNROUTED]
        if not files:
            return
        sample = cur.execute(
            f"SELECT * FROM read_parquet([{', '.join(quote_str(f) for f in files)}]) LIMIT 1"
        ).fetchone()
        shown = ", ".join(f"{c.name}={v}" for c, v in zip(table.columns, sample or (), strict=False))
        raise DorisError(
            f"Insert has filtered data in strict mode. [DATA_QUALITY_ERROR]no partition for this tuple. tuple=({shown})"
        )

    def _collect_files(self, staged: Sequence[_Staged]) -> dict[tuple[int, int], list[tuple]]:
        """The staged files by (partition, bucket), as (path, rows, size, md5)."""
        paths = [f.path for f in staged]
        chunks = [paths[i : i + HASH_CHUNK] for i in range(0, len(paths), HASH_CHUNK)]
        with ThreadPoolExecutor(HASH_WORKERS) as pool:  # hashlib releases the GIL
            digests = [md5 for chunk in pool.map(_md5_files, chunks) for md5 in chunk]
        out: dict[tuple[int, int], list[tuple]] = {}
        for f, md5 in zip(staged, digests, strict=True):
            out.setdefault((f.partition_id, f.bucket), []).append((f.path, f.rows, f.size, md5))
        return out

    def _publish(
        self, table: Table, written: dict[tuple[int, int], list[tuple]], txn_id: int, replaced: list[int]
    ) -> LoadResult:
        """Place the staged files in their tablets and commit the new versions; the partitions in
        ``replaced`` keep only the new rowsets (their old files go once no query reads them)."""
        placed: list[str] = []
        try:
            self.catalog.store.reserve_ids(sum(len(files) for files in written.values()))
            with self.catalog.lock:
                touched = {pid for pid, _ in written} | set(replaced)
                parts = {pid: self.catalog.partitions.get(pid) for pid in touched}
                if any(p is None for p in parts.values()) or table.id not in self.catalog.tables:
                    raise DorisError("Load aborted: the table or partition was dropped or truncated during the load")
                tablets = {pid: self.catalog.partition_tablets(parts[pid]) for pid in touched}  # type: ignore[arg-type]
            new_rowsets: dict[int, list[list[Rowset]]] = {}
            dirs: set[str] = set()
            for (pid, bucket), files in written.items():
                tablet = tablets[pid][bucket]
                per_replica = new_rowsets.setdefault(tablet.id, [[] for _ in tablet.replicas])
                sources = [f[0] for f in files]
                rowset_ids = [self.catalog.store.next_id() for _ in files]
                for i, replica in enumerate(tablet.replicas):
                    target_dir, relative_dir = self.store.tablet_path(replica.backend_id, tablet.id)
                    targets, new_dir = _place(sources, target_dir, move=i == len(tablet.replicas) - 1)
                    placed.extend(targets)
                    dirs.add(os.path.dirname(target_dir) if new_dir else target_dir)
                    for rowset_id, target, (_path, rows, size, md5) in zip(rowset_ids, targets, files, strict=True):
                        relative = f"{relative_dir}/{os.path.basename(target)}"
                        per_replica[i].append(Rowset(rowset_id, 0, relative, rows, size, md5))
            # the files' data and new names are durable (in shared mode stored) before the version that lists them
            self.store.persist(placed, dirs)
            total = sum(f[1] for files in written.values() for f in files)

            def commit_versions() -> list[Tablet]:
                """The next version of each touched partition, from the catalog as it is now: in shared mode
                this runs again after another node's load took the version it computed (retry_stale)."""
                old: list[Tablet] = []
                with self.catalog.lock:
                    puts: list[object] = []
                    for pid in touched:
                        part = self.catalog.partitions.get(pid)
                        if part is None or [t.id for t in tablets[pid]] != part.tablet_ids:
                            raise DorisError("Load aborted: the partition was dropped or truncated during the load")
                        version = part.visible_version + 1
                        for tablet_id in part.tablet_ids:
                            tablet = self.catalog.tablets[tablet_id]
                            if pid in replaced:
                                old.append(tablet)
                            replicas = []
                            for i, replica in enumerate(tablet.replicas):
                                added = [
                                    dataclasses.replace(r, version=version)
                                    for r in new_rowsets.get(tablet_id, [[]] * len(tablet.replicas))[i]
                                ]
                                kept = [] if pid in replaced else replica.rowsets
                                replicas.append(dataclasses.replace(replica, version=version, rowsets=[*kept, *added]))
                            puts.append(dataclasses.replace(tablet, replicas=replicas))
                        puts.append(dataclasses.replace(part, visible_version=version, visible_version_time=now_ms()))
                    current = self.catalog.tables[table.id]
                    puts.append(dataclasses.replace(current, update_time=now_ms()))
                    self.catalog.commit(self.txns.visible_change(txn_id, total, Change()), puts=puts)
                    self.txns.published(txn_id, total)
                return old

            self.store.trash(self.catalog.store.retry_stale(commit_versions))
            return LoadResult(total, txn_id)
        except BaseException:
            for path in placed:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            raise


def _auto_temp(txn_id: int) -> str:
    """The temporary DuckDB table holding an AUTO PARTITION load's typed rows."""
    return f"__auto_load_{txn_id}"


def _md5_files(paths: Sequence[str]) -> list[str]:
    return [md5_file(path) for path in paths]


@dataclasses.dataclass(frozen=True, slots=True)
class _Staged:
    """A file a partitioned COPY wrote: its rows all go to one bucket of one partition."""

    path: str
    partition_id: int
    bucket: int
    rows: int
    size: int


def _copy_groups(parts: Sequence[Partition]) -> list[list[int]]:
    """Partition ids in groups of at most COPY_TABLETS tablets (a partition bigger than that alone), the
    first with UNROUTED, so that each group is one COPY."""
    groups: list[list[int]] = [[UNROUTED]]
    tablets = 0
    for part in parts:
        if tablets and tablets + part.buckets > COPY_TABLETS:
            groups.append([])
            tablets = 0
        groups[-1].append(part.id)
        tablets += part.buckets
    return groups


def _copy_partitioned(cur: duckdb.DuckDBPyConnection, select: str, staging: Path, txn_id: int) -> list[_Staged]:
    """One COPY of ``select`` into files per (__pid, __bucket) under ``staging``, with DuckDB's own account
    of each file it wrote (path, rows, bytes, partition keys). The files keep their names in the tablet:
    ``<txn_id>_<n>.parquet``, unique there as a load writes each tablet in one COPY."""
    rows = cur.execute(
        f"COPY ({select}) TO {quote_str(str(staging))} "
        f"({ROWSET_FORMAT}, PARTITION_BY (__pid, __bucket), FILENAME_PATTERN '{txn_id}_{{i}}', RETURN_STATS)"
    ).fetchall()
    names = [d[0] for d in cur.description or ()]
    at = {name: names.index(name) for name in ("filename", "count", "file_size_bytes", "partition_keys")}
    out = []
    for row in rows:
        keys = row[at["partition_keys"]]
        out.append(
            _Staged(row[at["filename"]], int(keys["__pid"]), int(keys["__bucket"]), int(row[at["count"]]),
                    int(row[at["file_size_bytes"]]))
        )  # fmt: skip
    return out


def _place(sources: Sequence[str], target_dir: str, move: bool) -> tuple[list[str], bool]:
    """Put a bucket's staged files (all in its staged dir) into a tablet dir under their own names: copied
    for all but the last replica, then moved. A tablet without a dir yet (its first load) gets the staged
    dir itself, renamed: a load into every tablet of a large table then makes and removes no dir per tablet
    beyond the one DuckDB writes into. Returns the files' new paths and whether the dir was renamed in."""
    targets = [os.path.join(target_dir, os.path.basename(source)) for source in sources]
    if move and not os.path.isdir(target_dir):
        try:
            _rename_dir(os.path.dirname(sources[0]), target_dir)
            return targets, True
        except OSError:  # the dir appeared meanwhile: the files go one by one
            pass
    os.makedirs(target_dir, exist_ok=True)
    for source, target in zip(sources, targets, strict=True):
        if move:
            os.replace(source, target)
        else:
            shutil.copyfile(source, target)
    return targets, False


def _rename_dir(source: str, target: str) -> None:
    """Rename a dir, making the target's parent (a backend's data dir) the first time it is missing."""
    try:
        os.rename(source, target)
    except FileNotFoundError:
        if not os.path.isdir(source):
            raise
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.rename(source, target)
