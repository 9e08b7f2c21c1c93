"""SHOW DATA, SHOW CATALOGS / CATALOG, SWITCH, SHOW DATABASE|TABLE|PARTITION <id>, ADMIN SHOW REPLICA
STATUS / DISTRIBUTION, SHOW ROLES, SHOW PROPERTY, SHOW TRANSACTION and SHOW [STREAM] LOAD.

These are what Doris users' scripts and BI tools send to size databases, find an object by the id
a log line printed, check replica health and list loads. Columns, order, value formats and error
texts follow Doris 2.1's frontend; the values come from dorisbk's catalog and user manager.
SHOW LOAD lists the INSERT loads whose labels are kept (backend/transactions.py) as Doris's
InsertLoadJob shows them, SHOW TRANSACTION their transactions, VISIBLE or ABORTED.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from dorisbk.auth.users import PRIVILEGES, User, privilege_texts, require_admin
from dorisbk.backend.transactions import COORDINATOR, VISIBLE, LoadTxn
from dorisbk.catalog.model import Partition, Table, Tablet
from dorisbk.engine.result import Result, SessionContext
from dorisbk.env import Env
from dorisbk.errors import AccessDenied, DorisError
from dorisbk.sql import ddl_stmts as s
from dorisbk.sql.result import like, text_result
from dorisbk.timeutil import long_to_time_string

NULL = "\\N"  # Doris's FeConstants.null_string
DATA_QUOTA = 1024**5  # Config.default_db_data_quota_bytes (1 PB)
REPLICA_QUOTA = 1024**3  # Config.default_db_replica_quota_size

DB_DATA_COLUMNS = ("DbId", "DbName", "Size", "RemoteSize", "RecycleSize", "RecycleRemoteSize")
TABLE_DATA_COLUMNS = ("TableName", "Size", "ReplicaCount", "RemoteSize")
INDEX_DATA_COLUMNS = ("TableName", "IndexName", "Size", "ReplicaCount", "RowCount", "RemoteSize")
CATALOG_COLUMNS = ("CatalogId", "CatalogName", "Type", "IsCurrent", "CreateTime", "LastUpdateTime", "Comment")
REPLICA_STATUS_COLUMNS = ("TabletId", "ReplicaId", "BackendId", "Version", "LastFailedVersion",
                          "LastSuccessVersion", "CommittedVersion", "SchemaHash", "VersionNum", "IsBad",
                          "IsUserDrop", "State", "Status")  # fmt: skip
REPLICA_DISTRIBUTION_COLUMNS = ("BackendId", "ReplicaNum", "ReplicaSize", "NumGraph", "NumPercent", "SizeGraph",
                                "SizePercent")  # fmt: skip
REPLICA_STATUSES = ("OK", "DEAD", "VERSION_ERROR", "SCHEMA_ERROR", "MISSING", "DROP")
ROLE_COLUMNS = ("Name", "Comment", "Users", "GlobalPrivs", "CatalogPrivs", "DatabasePrivs", "TablePrivs",
                "ResourcePrivs", "WorkloadGroupPrivs")  # fmt: skip
# Doris's two built-in roles and the global privileges they carry
BUILTIN_ROLES = {"admin": "Admin_priv", "operator": "Node_priv,Admin_priv"}
# UserProperty.fetchProperty's keys with CommonUserProperties' defaults, in Doris's (sorted) order
USER_PROPERTIES = (("cpu_resource_limit", "-1"), ("default_load_cluster", ""), ("default_workload_group", "normal"),
                   ("exec_mem_limit", "-1"), ("insert_timeout", "-1"), ("max_query_instances", "-1"),
                   ("max_user_connections", "100"), ("parallel_fragment_exec_instance_num", "-1"),
                   ("query_timeout", "-1"), ("resource_tags", ""), ("sql_block_rules", ""))  # fmt: skip
TRANSACTION_COLUMNS = ("TransactionId", "Label", "Coordinator", "TransactionStatus", "LoadJobSourceType",
                       "PrepareTime", "PreCommitTime", "CommitTime", "PublishTime", "FinishTime", "Reason",
                       "ErrorReplicasCount", "ListenerId", "TimeoutMs", "ErrMsg")  # fmt: skip
TRANSACTION_STATUSES = ("PREPARE", "PRECOMMITTED", "COMMITTED", "VISIBLE", "ABORTED")
LOAD_COLUMNS = ("JobId", "Label", "State", "Progress", "Type", "EtlInfo", "TaskInfo", "ErrorMsg", "CreateTime",
                "EtlStartTime", "EtlFinishTime", "LoadStartTime", "LoadFinishTime", "URL", "JobDetails",
                "TransactionId", "ErrorTablets", "User", "Comment")  # fmt: skip
LOAD_STATES = ("PENDING", "ETL", "LOADING", "COMMITTED", "FINISHED", "CANCELLED", "QUEUED")
STREAM_LOAD_COLUMNS = ("Label", "Db", "Table", "User", "ClientIp", "Status", "Message", "Url", "TotalRows",
                       "LoadedRows", "FilteredRows", "UnselectedRows", "LoadBytes", "StartTime",
                       "FinishTime")  # fmt: skip


def execute(env: Env, ctx: SessionContext, stmt: s.ShowMoreStmt) -> Result | None:
    user = env.users.require(ctx.user)
    what = stmt.what
    if what == "DATA":
        return _show_data(env, ctx, user, stmt)
    if what == "CATALOGS":
        return _catalogs(stmt.like)
    if what == "CATALOG":
        _internal_only(stmt.name or "", "No catalog found with name: {}")
        return text_result(("Key", "Value"), [])  # the internal catalog has no properties
    if what == "SWITCH":
        _internal_only(stmt.name or "", "Unknown catalog '{}'")
        return None
    if what in ("DATABASE_ID", "TABLE_ID", "PARTITION_ID"):
        _require_global(user, "ADMIN_PRIV", f"SHOW {what.split('_')[0]}")
        return _object_by_id(env, what, stmt.object_id)
    if what in ("REPLICA_STATUS", "REPLICA_DISTRIBUTION"):
        require_admin(user)
        return _replica_status(env, ctx, stmt) if what == "REPLICA_STATUS" else _replica_distribution(env, ctx, stmt)
    if what == "ROLES":
        _require_global(user, "GRANT_PRIV", "GRANT")
        return _roles(env)
    if what == "PROPERTY":
        return _properties(env, user, stmt)
    if what == "TRANSACTION":
        return _transaction(env, ctx, stmt)
    return _loads(env, ctx, stmt)


def _require_global(user: User, priv: str, what: str) -> None:
    """Doris's ERR_SPECIFIC_ACCESS_DENIED_ERROR, naming the statement or privilege it wanted."""
    if not user.has(priv):
        raise AccessDenied(f"Access denied; you need (at least one of) the ({what}) privilege(s) for this operation")


def _can_show(user: User, db: str, tbl: str | None = None) -> bool:
    """Doris's SHOW predicate: any privilege on the object (or above it)."""
    return any(user.has(p, db, tbl) for p in PRIVILEGES)


def _internal_only(name: str, message: str) -> None:
    if name != "internal":
        raise DorisError(message.format(name))


# ---- SHOW DATA


def byte_unit(size: int) -> str:
    """DebugUtil.getByteUint with DECIMAL_FORMAT_SCALE_3: a unit only above each boundary, ``B`` below
    1 KB, and none for zero (Doris prints ``0.000 `` with its trailing blank)."""
    if size == 0:
        return "0.000 "
    for unit, scale in (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size > scale:
            return f"{size / scale:.3f} {unit}"
    return f"{float(size):.3f} B"


def _all_partitions(env: Env, table: Table) -> list[Partition]:
    """Formal and temporary partitions, as OlapTable.getAllPartitions counts them."""
    return env.catalog.table_partitions(table) + env.catalog.temp_partitions(table)


def _tablets(env: Env, parts: Sequence[Partition]) -> list[Tablet]:
    return [t for p in parts for t in env.catalog.partition_tablets(p)]


def _table_size(env: Env, table: Table) -> tuple[int, int]:
    """(bytes over every replica, replica count) of an OLAP table."""
    tablets = _tablets(env, _all_partitions(env, table))
    return sum(r.data_size for t in tablets for r in t.replicas), sum(len(t.replicas) for t in tablets)


def _order(rows: list[list[Any]], order_by: tuple[tuple[str, bool], ...], titles: Sequence[str]) -> None:
    """ORDER BY over SHOW DATA's raw values (sizes as numbers), most significant key first."""
    keys = []
    for column, desc in order_by:
        index = next((i for i, t in enumerate(titles) if t.lower() == column.lower()), None)
        if index is None:
            raise DorisError(f"Title name[{column}] does not exist")
        keys.append((index, desc))
    for index, desc in reversed(keys):
        rows.sort(key=lambda r, i=index: r[i], reverse=desc)


def _show_data(env: Env, ctx: SessionContext, user: User, stmt: s.ShowMoreStmt) -> Result:
    if not ctx.db:  # Doris looks at the session's database only: without one, every database's totals
        require_admin(user)
        return _all_db_data(env)
    db_name = (stmt.table.db if stmt.table else None) or ctx.db
    db = env.catalog.db(db_name)
    if stmt.table is None:
        titles = TABLE_DATA_COLUMNS
        rows: list[list[Any]] = []
        for table in env.catalog.db_tables(db.id):
            if table.kind == "OLAP" and _can_show(user, db.name, table.name):
                size, replicas = _table_size(env, table)
                rows.append([table.name, size, replicas, 0])
        _order(rows, stmt.order_by, titles)
        total_size, total_replicas = sum(r[1] for r in rows), sum(r[2] for r in rows)
        out = [(r[0], byte_unit(r[1]), r[2], byte_unit(r[3])) for r in rows]
        out.append(("Total", byte_unit(total_size), total_replicas, byte_unit(0)))
        out.append(("Quota", byte_unit(DATA_QUOTA), REPLICA_QUOTA, ""))
        out.append(("Left", byte_unit(max(0, DATA_QUOTA - total_size)), max(0, REPLICA_QUOTA - total_replicas), ""))
        return text_result(titles, out)
    if not _can_show(user, db.name, stmt.table.name):
        raise AccessDenied(
            f"SHOW DATA command denied to user '{user.name}'@'{user.host}' for table '{db.name}: {stmt.table.name}'",
            code=1142,
        )
    table = env.catalog.olap_table(db, stmt.table.name)
    tablets = _tablets(env, _all_partitions(env, table))
    # the base index carries the data; a synchronous view's rows are derived from it (catalog/rollup.py)
    indexes = [[table.name, table.name, sum(r.data_size for t in tablets for r in t.replicas),
                sum(len(t.replicas) for t in tablets),
                sum(t.replicas[0].row_count for t in tablets if t.replicas), 0]]  # fmt: skip
    indexes += [[table.name, r["name"], 0, 0, 0, 0] for r in table.rollups]
    indexes.sort(key=lambda r: r[1])
    _order(indexes, stmt.order_by, INDEX_DATA_COLUMNS)
    out = [(table.name if i == 0 else "", r[1], byte_unit(r[2]), r[3], r[4], byte_unit(r[5]))
           for i, r in enumerate(indexes)]  # fmt: skip
    out.append(("", "Total", byte_unit(sum(r[2] for r in indexes)), sum(r[3] for r in indexes), "", byte_unit(0)))
    return text_result(INDEX_DATA_COLUMNS, out)


def _all_db_data(env: Env) -> Result:
    rows = []
    total = 0
    for db in sorted(env.catalog.dbs.values(), key=lambda d: d.name):
        size = sum(_table_size(env, t)[0] for t in env.catalog.db_tables(db.id) if t.kind == "OLAP")
        total += size
        rows.append((db.id, db.name, size, 0, 0, 0))
    rows.append(("Total", "NULL", total, 0, 0, 0))
    return text_result(DB_DATA_COLUMNS, rows)


# ---- catalogs and ids


def _catalogs(pattern: str | None) -> Result:
    rows = [(0, "internal", "internal", "Yes", "UNRECORDED", NULL, "Doris internal catalog")]
    return text_result(CATALOG_COLUMNS, [r for r in rows if like(pattern, r[1])])


def _object_by_id(env: Env, what: str, object_id: int) -> Result:
    """Which database / table / partition has this id; no row when none has."""
    catalog = env.catalog
    if what == "DATABASE_ID":
        db = catalog.dbs.get(object_id)
        return text_result(("DbName",), [(db.name,)] if db else [])
    if what == "TABLE_ID":
        table = catalog.tables.get(object_id)
        db = catalog.dbs.get(table.db_id) if table else None
        return text_result(("DbName", "TableName", "DbId"), [(db.name, table.name, db.id)] if table and db else [])
    part = catalog.partitions.get(object_id)
    table = catalog.tables.get(part.table_id) if part else None
    db = catalog.dbs.get(table.db_id) if table else None
    rows = [(db.name, table.name, part.name, db.id, table.id)] if part and table and db else []
    return text_result(("DbName", "TableName", "PartitionName", "DbId", "TableId"), rows)


# ---- ADMIN SHOW REPLICA


def _replica_table(env: Env, ctx: SessionContext, stmt: s.ShowMoreStmt) -> Table:
    assert stmt.table is not None
    db = env.catalog.db(ctx.current_db(stmt.table.db))
    return env.catalog.olap_table(db, stmt.table.name)


def _named_partitions(env: Env, table: Table, names: Sequence[str], temporary: bool) -> list[Partition]:
    parts = env.catalog.temp_partitions(table) if temporary else env.catalog.table_partitions(table)
    if not names:
        return parts
    by_name = {p.name.lower(): p for p in parts}
    missing = next((n for n in names if n.lower() not in by_name), None)
    if missing is not None:
        raise DorisError(f"Partition does not exist: {missing}")
    return [by_name[n.lower()] for n in names]


def _replica_status(env: Env, ctx: SessionContext, stmt: s.ShowMoreStmt) -> Result:
    if stmt.temporary:
        raise DorisError("Do not support showing replica status of temporary partitions")
    wanted = _status_filter(stmt.where)
    table = _replica_table(env, ctx, stmt)
    backends = env.catalog.backends
    rows = []
    for part in _named_partitions(env, table, stmt.partitions, temporary=False):
        for tablet in env.catalog.partition_tablets(part):
            for replica in tablet.replicas:
                status = "OK"
                if replica.backend_id not in backends:
                    status = "DEAD"
                elif replica.version < part.visible_version:
                    status = "VERSION_ERROR"
                if _keep(status, wanted):
                    rows.append((tablet.id, replica.id, replica.backend_id, replica.version, -1, replica.version,
                                 part.visible_version, 0, len(replica.rowsets), "false", "false", "NORMAL",
                                 status))  # fmt: skip
            if _keep("MISSING", wanted):
                for _ in range(part.replication_num - len(tablet.replicas)):
                    rows.append((tablet.id, -1, -1, -1, -1, -1, -1, -1, NULL, NULL, NULL, NULL, "MISSING"))
    return text_result(REPLICA_STATUS_COLUMNS, rows)


def _status_filter(where: tuple[tuple[str, str, str], ...]) -> tuple[str, str] | None:
    """``WHERE status = 'OK'`` / ``status != 'DEAD'``: the only filter Doris takes here."""
    if not where:
        return None
    column, op, value = where[0]
    if len(where) != 1 or column.lower() != "status" or op not in ("=", "!=") or value.upper() not in REPLICA_STATUSES:
        raise DorisError("Where clause should looks like: status =/!= 'OK/DEAD/VERSION_ERROR/SCHEMA_ERROR/MISSING'")
    return op, value.upper()


def _keep(status: str, wanted: tuple[str, str] | None) -> bool:
    if wanted is None:
        return True
    op, value = wanted
    return (status == value) == (op == "=")


def _graph(num: int, total: int) -> str:
    if num == total:
        return ">" * (100 if total else 0)
    return ">" * (num * 100 // total)


def _percent(num: int, total: int) -> str:
    """DecimalFormat("00.00 %") of num / total, with Doris's special cases for all and nothing."""
    if num == total:
        return "100.00%" if total else "0.00%"
    return f"{100.0 * num / total:05.2f} %"


def _replica_distribution(env: Env, ctx: SessionContext, stmt: s.ShowMoreStmt) -> Result:
    table = _replica_table(env, ctx, stmt)
    parts = _named_partitions(env, table, stmt.partitions, stmt.temporary)
    counts = {be.id: 0 for be in env.catalog.backend_list()}
    sizes = dict.fromkeys(counts, 0)
    for tablet in _tablets(env, parts):
        for replica in tablet.replicas:
            if replica.backend_id in counts:
                counts[replica.backend_id] += 1
                sizes[replica.backend_id] += replica.data_size
    total_num, total_size = sum(counts.values()), sum(sizes.values())
    rows = [(be, counts[be], sizes[be], _graph(counts[be], total_num), _percent(counts[be], total_num),
             _graph(sizes[be], total_size), _percent(sizes[be], total_size)) for be in sorted(counts)]  # fmt: skip
    return text_result(REPLICA_DISTRIBUTION_COLUMNS, rows)


# ---- accounts


def _roles(env: Env) -> Result:
    rows = []
    for role, privs in sorted(BUILTIN_ROLES.items()):
        members = sorted(u.identity for u in env.users.users.values() if role in u.roles)
        rows.append((role, "", ", ".join(members), privs, None, None, None, None, None))
    for name, custom in sorted(env.users.roles.items()):
        members = sorted(u.identity for u in env.users.users.values() if name in u.roles)
        rows.append((name, "", ", ".join(members), *privilege_texts(custom.grants), None, None))
    return text_result(ROLE_COLUMNS, rows)


def _properties(env: Env, user: User, stmt: s.ShowMoreStmt) -> Result:
    """SHOW PROPERTY [FOR user] [LIKE 'key']: one's own needs nothing, another's (or ALL) GRANT."""
    if stmt.name and stmt.all:
        raise DorisError("Can not specified keyword ALL when specified user")
    if stmt.name or stmt.all:
        _require_global(user, "GRANT_PRIV", "GRANT")

    def keep(key: str) -> bool:
        return like(stmt.like, key.split(".")[0])

    if stmt.all:
        rows = []
        for name in sorted(env.users.users):
            props = {k: v for k, v in USER_PROPERTIES if keep(k)}
            rows.append((name, json.dumps(props, separators=(",", ":"))))
        return text_result(("User", "Properties"), rows)
    name = stmt.name or user.name
    if env.users.get(name) is None:
        raise DorisError(f"Unknown user: {name}")
    return text_result(("Key", "Value"), [(k, v) for k, v in USER_PROPERTIES if keep(k)])


# ---- transactions and loads


def _transaction(env: Env, ctx: SessionContext, stmt: s.ShowMoreStmt) -> Result:
    db = env.catalog.db(ctx.current_db(stmt.db))
    if not stmt.where:
        raise DorisError("Missing transaction id")
    column, op, value = stmt.where[0]
    key = column.lower()
    invalid = len(stmt.where) != 1 or op != "=" or key not in ("id", "label", "status")
    if not invalid and key == "id" and not value.lstrip("-").isdigit():
        invalid = True
    if invalid:
        raise DorisError(
            "Where clause should looks like one of them: id = 123 or label = 'label' "
            "or status = 'prepare/precommitted/committed/visible/aborted'"
        )
    txns = env.txns.txns(db.id)
    if key == "status":
        if value.upper() not in TRANSACTION_STATUSES:
            raise DorisError("status should be prepare/precommitted/committed/visible/aborted")
        found = [t for t in txns if t.status == value.upper()]
    elif key == "label":
        found = [t for t in txns if t.label == value]
        if not found:
            raise DorisError(f"transaction with label {value} does not exist")
    else:
        found = [t for t in txns if t.txn_id == int(value)]
        if not found:
            raise DorisError(f"transaction with id {value} does not exist")
    return text_result(TRANSACTION_COLUMNS, [_txn_row(t) for t in found])


def _time(ms: int) -> str:
    """TimeUtils.longToTimeString: FeConstants.null_string when unset."""
    return long_to_time_string(ms) if ms > 0 else NULL


def _txn_row(txn: LoadTxn) -> tuple[Any, ...]:
    """TransactionState's SHOW TRANSACTION row; an INSERT's source type is INSERT_STREAMING."""
    return (txn.txn_id, txn.label, COORDINATOR, txn.status, "INSERT_STREAMING", _time(txn.prepare_ms), NULL,
            _time(txn.commit_ms), _time(txn.finish_ms if txn.status == VISIBLE else -1), _time(txn.finish_ms),
            txn.reason, 0, txn.job_id, txn.timeout_ms, "")  # fmt: skip


def _load_row(txn: LoadTxn) -> list[Any]:
    """InsertLoadJob.getShowInfo of a finished INSERT (Doris records only successful ones as jobs)."""
    details = {"Unfinished backends": {}, "ScannedRows": txn.rows, "TaskNumber": 0, "LoadBytes": 0,
               "All backends": {}, "FileNumber": 0, "FileSize": 0}  # fmt: skip
    task = f"cluster:N/A; timeout(s):{txn.timeout_ms // 1000}; max_filter_ratio:0.0; priority:NORMAL"
    start = _time(txn.prepare_ms)
    return [txn.job_id, txn.label, "FINISHED", "100.00% (0/0)", "INSERT", NULL, task, NULL, start, start, start,
            start, _time(txn.finish_ms), "", json.dumps(details, separators=(",", ":")), txn.txn_id, "{}",
            txn.user, ""]  # fmt: skip


def _loads(env: Env, ctx: SessionContext, stmt: s.ShowMoreStmt) -> Result:
    """SHOW LOAD / SHOW STREAM LOAD: the filters are checked as Doris checks them; INSERT loads are listed
    by job id unless ordered, stream loads are never kept."""
    db = env.catalog.db(ctx.current_db(stmt.db))
    stream = stmt.what == "STREAM_LOAD"
    states = ("SUCCESS", "FAIL") if stream else LOAD_STATES
    state_column = "status" if stream else "state"
    for column, op, value in stmt.where:
        key = column.lower()
        ok = (key == "label" and op in ("=", "LIKE")) or (key == state_column and op == "=" and value.upper() in states)
        if not ok:
            if stream:
                raise DorisError(
                    'Where clause should looks like: LABEL = "your_load_label", or LABEL LIKE "matcher",  '
                    'or STATUS = "SUCCESS|FAIL",  or compound predicate with operator AND'
                )
            raise DorisError(
                'Where clause should looks like: LABEL = "your_load_label", or LABEL LIKE "matcher", '
                'or STATE = "PENDING|ETL|LOADING|FINISHED|CANCELLED|QUEUED", or compound predicate with operator AND'
            )
    titles = STREAM_LOAD_COLUMNS if stream else LOAD_COLUMNS
    rows: list[list[Any]] = []
    if not stream:
        user = env.users.require(ctx.user)
        for txn in env.txns.txns(db.id):
            table = env.catalog.tables.get(txn.table_id)
            if txn.status != VISIBLE or not _can_show(user, db.name, table.name if table else None):
                continue
            row = _load_row(txn)
            if all(_load_matches(row, c.lower(), op, v) for c, op, v in stmt.where):
                rows.append(row)
    _order(rows, stmt.order_by or ((titles[0], False),), titles)  # JobId; Label for stream loads
    if stmt.limit is not None:
        offset, count = stmt.limit
        rows = rows[offset : offset + count]
    return text_result(titles, rows)


def _load_matches(row: list[Any], column: str, op: str, value: str) -> bool:
    if column == "label":
        return row[1] == value if op == "=" else like(value, row[1])
    return row[2] == value.upper()
