"""``SHOW DYNAMIC PARTITION TABLES [FROM db]``: each dynamic-partition table's settings and what the
scheduler last did to it, in Doris's columns."""

from __future__ import annotations

from dorisbk.auth.users import User
from dorisbk.catalog import dynamic_partition as dp
from dorisbk.engine.result import Result
from dorisbk.env import Env
from dorisbk.sql.result import text_result

COLUMNS = ("TableName", "Enable", "TimeUnit", "Start", "End", "Prefix", "Buckets", "ReplicationNum",
           "ReplicaAllocation", "StartOf", "LastUpdateTime", "LastSchedulerTime", "State", "LastCreatePartitionMsg",
           "LastDropPartitionMsg", "ReservedHistoryPeriods")  # fmt: skip


def _start_of(props: dict[str, str]) -> str:
    """Doris's StartOf: the first day of a WEEK / MONTH partition, ``\\N`` for other units."""
    unit = props.get(dp.PREFIX + "time_unit", "").upper()
    if unit == "WEEK":
        return "MONDAY"
    if unit == "MONTH":
        return "1st"
    return "\\N"


def show_tables(env: Env, user: User, db_name: str) -> Result:
    catalog = env.catalog
    db = catalog.db(db_name)
    rows = []
    for table in sorted(catalog.db_tables(db.id), key=lambda t: t.id):
        props = table.properties
        if table.kind != "OLAP" or not dp.is_dynamic(props) or not user.has_any_in_db(db_name):
            continue
        alloc = props.get(dp.PREFIX + "replication_allocation", f"tag.location.default: {table.replication_num}")
        info = env.dynamic_partitions.info(table.id)
        rows.append(
            (
                table.name,
                props.get(dp.PREFIX + "enable", "true"),
                props.get(dp.PREFIX + "time_unit", "").upper(),
                props.get(dp.PREFIX + "start", str(dp.MIN_START)),
                props.get(dp.PREFIX + "end", ""),
                props.get(dp.PREFIX + "prefix", ""),
                props.get(dp.PREFIX + "buckets", str(table.buckets)),
                alloc.rsplit(":", 1)[-1].strip(),
                alloc,
                _start_of(props),
                info.last_update_time,
                info.last_scheduler_time,
                info.state,
                info.create_msg,
                info.drop_msg,
                props.get(dp.PREFIX + "reserved_history_periods", "NULL"),
            )
        )
    return text_result(COLUMNS, rows)
