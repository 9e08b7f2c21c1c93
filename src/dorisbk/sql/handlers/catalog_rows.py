"""Rows of the SHOW statements about the catalog that both SHOW and SHOW PROC answer with: partitions,
tablets, backends, DESC and indexes, in Doris's columns."""

from __future__ import annotations

import shutil

from dorisbk.catalog import partitions as bounds
from dorisbk.catalog import rollup
from dorisbk.catalog.model import Column, Partition, Table
from dorisbk.catalog.types import ColumnType
from dorisbk.config import VERSION
from dorisbk.engine.result import Result
from dorisbk.env import Env
from dorisbk.sql.result import text_result
from dorisbk.timeutil import long_to_time_string

PARTITION_COLUMNS = (
    "PartitionId",
    "PartitionName",
    "VisibleVersion",
    "VisibleVersionTime",
    "State",
    "PartitionKey",
    "Range",
    "DistributionKey",
    "Buckets",
    "ReplicationNum",
    "StorageMedium",
    "CooldownTime",
    "RemoteStoragePolicy",
    "LastConsistencyCheckTime",
    "DataSize",
    "IsInMemory",
    "ReplicaAllocation",
    "IsMutable",
    "SyncWithBaseTables",
    "UnsyncTables",
    "CommittedVersion",
    "RowCount",
)
TABLET_COLUMNS = (
    "TabletId",
    "ReplicaId",
    "BackendId",
    "SchemaHash",
    "Version",
    "LstSuccessVersion",
    "LstFailedVersion",
    "LstFailedTime",
    "LocalDataSize",
    "RemoteDataSize",
    "RowCount",
    "State",
    "LstConsistencyCheckTime",
    "CheckVersion",
    "VisibleVersionCount",
    "VersionCount",
    "QueryHits",
    "PathHash",
    "Path",
    "MetaUrl",
    "CompactionStatus",
    "CooldownReplicaId",
    "CooldownMetaId",
)
BACKEND_COLUMNS = (
    "BackendId",
    "Host",
    "HeartbeatPort",
    "BePort",
    "HttpPort",
    "BrpcPort",
    "ArrowFlightSqlPort",
    "LastStartTime",
    "LastHeartbeat",
    "Alive",
    "SystemDecommissioned",
    "TabletNum",
    "DataUsedCapacity",
    "TrashUsedCapacity",
    "AvailCapacity",
    "TotalCapacity",
    "UsedPct",
    "MaxDiskUsedPct",
    "RemoteUsedCapacity",
    "Tag",
    "ErrMsg",
    "Version",
    "Status",
    "HeartbeatFailureCounter",
    "NodeRole",
)
DESC_ALL_COLUMNS = (
    "IndexName",
    "IndexKeysType",
    "Field",
    "Type",
    "InternalType",
    "Null",
    "Key",
    "Default",
    "Extra",
    "Visible",
    "DefineExpr",
    "WhereClause",
)
# SHOW {PROCEDURE | FUNCTION} STATUS (Doris 3's ShowProcedureStatusCommand)


def fmt_size(size: int) -> str:
    """Doris's human byte count: ``0.000``, ``1.250 KB``, ``3.000 GB``."""
    value = float(size)
    for unit in ("", " KB", " MB", " GB", " TB"):
        if value < 1024 or unit == " TB":
            return f"{value:.3f}{unit}"
        value /= 1024
    return f"{value:.3f} TB"


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'")


def index_properties(index: dict) -> str:
    """An index's properties as Doris prints them: ``("parser" = "english")``, empty when there are none."""
    if not index["properties"]:
        return ""
    return "(" + ", ".join(f'"{k}" = "{escape(v)}"' for k, v in index["properties"].items()) + ")"


def index_row(table: Table, index: dict) -> tuple[str, ...]:
    """One SHOW INDEX row: Key_name is the index, Index_type INVERTED / NGRAM_BF / BITMAP."""
    cols = ",".join(index["columns"])
    return (table.name, "", index["name"], "", cols, "", "", "", "", "", index["type"], index["comment"],
            index_properties(index))  # fmt: skip


def type_text(ctype: ColumnType) -> str:
    """A type as Doris 2.x's DESC prints it (``hideVersionForVersionColumn``): lower case, ``decimal(18,2)``,
    ``varchar(32)``, ``datetime(3)``, ``text``, ``array<int>``."""
    if ctype.items:
        return f"{ctype.name.lower()}<{','.join(type_text(item) for item in ctype.items)}>"
    name = {"STRING": "TEXT", "DATEV2": "DATE", "DATETIMEV2": "DATETIME", "DECIMALV3": "DECIMAL"}.get(ctype.name)
    return ColumnType(name or ctype.name, ctype.length, ctype.precision, ctype.scale).sql().lower().replace(", ", ",")


def describe(table: Table, full: bool, columns: list[Column]) -> Result:
    """DESC [ALL]. A view's columns are its query's (``view_columns``), typed as Doris 2.x prints them
    (lower case: the MySQL spelling SQLAlchemy's MySQL dialect reads a view's columns from), with no
    index rows."""
    if table.kind in ("VIEW", "SCHEMA"):
        rows = [(c.name, type_text(c.type), "Yes" if c.nullable else "No", "false", c.default, "") for c in columns]
        return text_result(["Field", "Type", "Null", "Key", "Default", "Extra"], rows)
    rows = []
    for col in columns:
        extra = "" if table.keys_type != "AGG_KEYS" or col.is_key else (col.aggregation or "")
        base = (
            col.name,
            col.type.sql(),
            "Yes" if col.nullable else "No",
            "true" if col.is_key else "false",
            col.default,
            extra,
        )
        if full:
            first = not rows  # the index's name and keys type head its first row only
            rows.append(
                (
                    table.name if first else "",
                    table.keys_type if first else "",
                    col.name,
                    col.type.sql(),
                    col.type.sql(),
                    base[2],
                    base[3],
                    col.default,
                    extra,
                    "true",
                    "",
                    "",
                )
            )
        else:
            rows.append(base)
    if full:
        return text_result(DESC_ALL_COLUMNS, rollup.describe_rows(table, rows))
    return text_result(["Field", "Type", "Null", "Key", "Default", "Extra"], rows)


def partitions(env: Env, table: Table, temporary: bool = False) -> Result:
    catalog = env.catalog
    rows = []
    types = bounds.column_types(table) if table.partition_type != "UNPARTITIONED" else []
    for part in catalog.temp_partitions(table) if temporary else catalog.table_partitions(table):
        tablets = catalog.partition_tablets(part)
        size = sum(t.replicas[0].data_size for t in tablets if t.replicas)
        row_count = sum(t.replicas[0].row_count for t in tablets if t.replicas)
        if table.partition_type == "RANGE":
            rng = bounds.format_range(types, part)
        elif table.partition_type == "LIST":
            rng = bounds.format_list(types, part)
        else:
            rng = ""
        dist = ", ".join(table.distribution_columns) if table.distribution == "HASH" else "RANDOM"
        rows.append(
            (
                part.id,
                part.name,
                part.visible_version,
                long_to_time_string(part.visible_version_time),
                "NORMAL",
                ", ".join(table.partition_columns),
                rng,
                dist,
                part.buckets,
                part.replication_num,
                part.storage_medium,
                "9999-12-31 23:59:59",
                "",
                "NULL",
                fmt_size(size),
                "false",
                f"tag.location.default: {part.replication_num}",
                "true",
                "true",
                "\\N",
                part.visible_version,
                row_count,
            )
        )
    return text_result(PARTITION_COLUMNS, rows)


def tablet_rows(env: Env, parts: list[Partition]) -> Result:
    """SHOW TABLETS rows of the given partitions, one per replica."""
    catalog = env.catalog
    rows = []
    for part in parts:
        for tablet in catalog.partition_tablets(part):
            for replica in tablet.replicas:
                path = str(env.tablets.tablet_dir(replica.backend_id, tablet.id))
                rows.append(
                    (
                        tablet.id,
                        replica.id,
                        replica.backend_id,
                        0,
                        replica.version,
                        replica.version,
                        -1,
                        "NULL",
                        replica.data_size,
                        0,
                        replica.row_count,
                        "NORMAL",
                        "NULL",
                        -1,
                        len(replica.visible_rowsets(part.visible_version)),
                        len(replica.rowsets),
                        0,
                        0,
                        path,
                        f"http://127.0.0.1:8040/api/meta/header/{tablet.id}",
                        f"http://127.0.0.1:8040/api/compaction/show?tablet_id={tablet.id}",
                        -1,
                        -1,
                    )
                )
    return text_result(TABLET_COLUMNS, rows)


def backends(env: Env) -> Result:
    rows = []
    for be in env.catalog.backend_list():
        usage = shutil.disk_usage(env.tablets.root(be.id))
        tablets = sum(1 for t in env.catalog.tablets.values() for r in t.replicas if r.backend_id == be.id)
        used = sum(r.data_size for t in env.catalog.tablets.values() for r in t.replicas if r.backend_id == be.id)
        rows.append(
            (
                be.id,
                be.host,
                be.heartbeat_port,
                be.be_port,
                be.http_port,
                be.brpc_port,
                -1,
                long_to_time_string(env.started_ms),
                long_to_time_string(env.started_ms),
                "true",
                "false",
                tablets,
                fmt_size(used),
                "0.000",
                fmt_size(usage.free),
                fmt_size(usage.total),
                f"{100.0 * (usage.total - usage.free) / usage.total:.2f} %",
                f"{100.0 * (usage.total - usage.free) / usage.total:.2f} %",
                "0.000",
                '{"location" : "default"}',
                "",
                VERSION,
                '{"lastSuccessReportTabletsTime":"' + long_to_time_string(env.started_ms) + '","isQueryDisabled":false,'
                '"isLoadDisabled":false}',
                0,
                "mix",
            )
        )
    return text_result(BACKEND_COLUMNS, rows)
