"""Frontend config knobs (ADMIN SET / SHOW FRONTEND CONFIG), at the bottom of the layers: every package reads them.

Runtime values, as in Doris: ADMIN SET FRONTEND CONFIG changes them until restart.
``debug_pause_job_states`` is dorisbk's debug point: a job whose ``TYPE:STATE`` is listed
(e.g. ``BACKUP:UPLOADING``) is held in that state, which lets tests and operators stop a
job at a chosen step (Doris uses debug points such as FE.PAUSE_PENDING_BACKUP_JOB).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from dorisbk.errors import DorisError

VERSION = "doris-2.1.8-dorisbk-0.1.0"  # what SHOW FRONTENDS / BACKENDS and version_comment say
MAX_MULTI_PARTITION_NUM = 4096  # Doris's FE config max_multi_partition_num


@dataclass(frozen=True)
class Knob:
    name: str
    type: type
    default: object
    mutable: bool = True
    description: str = ""


KNOBS = {
    k.name: k
    for k in (
        Knob("backup_job_default_timeout_ms", int, 86_400_000, description="default timeout of backup and restore"),
        Knob("max_backup_restore_job_num_per_db", int, 10, description="jobs remembered per database"),
        Knob("max_backup_tablets_per_job", int, 300_000, description="tablets one job may involve"),
        Knob("backup_upload_snapshot_batch_size", int, 10, description="tablets per upload task"),
        Knob("restore_download_snapshot_batch_size", int, 10, description="tablets per download task"),
        Knob("backup_handler_update_interval_millis", int, 200, description="job scheduler period"),
        Knob("ignore_backup_not_support_table_type", bool, False),
        Knob("ignore_backup_tmp_partitions", bool, False),
        Knob("label_regex_length", int, 128),
        Knob(
            "max_multi_partition_num",
            int,
            MAX_MULTI_PARTITION_NUM,
            description="partitions one FROM .. TO .. INTERVAL may create",
        ),
        Knob("label_keep_max_second", int, 3 * 24 * 3600, description="how long finished long loads keep labels"),
        Knob(
            "streaming_label_keep_max_second",
            int,
            43_200,
            description="how long finished INSERT / stream loads keep their labels",
        ),
        Knob("label_num_threshold", int, 2000, description="finished load labels kept per database, -1 = no cap"),
        Knob("label_clean_interval_second", int, 3600, description="period of the label cleaner"),
        Knob("table_name_length_limit", int, 64, mutable=False, description="longest table name"),
        Knob("restore_reset_index_id", bool, False, description="new ids for restored indexes"),
        Knob("dynamic_partition_enable", bool, True, description="whether the dynamic partition scheduler runs"),
        Knob(
            "dynamic_partition_check_interval_seconds",
            int,
            600,
            description="period of the dynamic partition scheduler",
        ),
        Knob("enable_debug_points", bool, False, mutable=False, description="FE debug points over HTTP"),
        Knob("debug_pause_job_states", str, "", description="TYPE:STATE list of job states to hold jobs in"),
        Knob("repository_ping_interval_ms", int, 30_000, description="how often repositories are checked"),
        Knob(
            "snapshot_ttl_check_interval_ms",
            int,
            60_000,
            description="how often repositories are checked for snapshots past their ttl",
        ),
        Knob(
            "enable_job_schedule_second_for_test",
            bool,
            False,
            description="CREATE JOB ... EVERY n SECOND allowed (for tests, as in Doris)",
        ),
        Knob(
            "job_scheduler_check_interval_ms",
            int,
            1000,
            description="how often scheduled jobs (CREATE JOB) are checked for a due run",
        ),
        Knob("max_upload_speed_kbps", int, 0, description="upload throttle per task, 0 = unlimited"),
        Knob("max_download_speed_kbps", int, 0, description="download throttle per task, 0 = unlimited"),
        Knob(
            "snapshot_cache_capacity_bytes",
            int,
            1 << 30,
            description="bytes of repository files that FROM snapshot(...) queries keep in the data dir",
        ),
        Knob(
            "file_cache_capacity_bytes",
            int,
            10 << 30,
            description="shared mode: bytes of storage vault files a node keeps copies of in its data dir",
        ),
        Knob(
            "vault_gc_interval_second",
            int,
            600,
            description="shared mode: period of the pass that deletes storage vault objects nothing references",
        ),
        Knob(
            "vault_gc_grace_second",
            int,
            3600,
            description="shared mode: an unreferenced storage vault object goes once stored and found unreferenced "
            "at least this long ago (a load stores its files before its version commits; a query may read an old one)",
        ),
        Knob(
            "catalog_trash_expire_second",
            int,
            86_400,
            description="how long dropped objects stay in the recycle bin for RECOVER",
        ),
        Knob(
            "enable_table_level_backup_concurrency",
            bool,
            False,
            description="several backup / restore jobs per database when their tables do not conflict",
        ),
        Knob(
            "max_backup_restore_concurrent_num_per_db",
            int,
            10,
            description="jobs of one database running at once, with enable_table_level_backup_concurrency",
        ),
        Knob(
            "max_concurrent_snapshot_tasks_total",
            int,
            100_000,
            description="snapshot tasks of all backups at once, with enable_table_level_backup_concurrency",
        ),
        Knob("enable_compaction", bool, True, description="whether tablets' small rowsets are merged in background"),
        Knob(
            "cumulative_compaction_min_deltas",
            int,
            5,
            description="visible rowsets of a tablet replica that make it compacted into one",
        ),
        Knob("compaction_interval_ms", int, 1000, description="period of the compaction pass"),
        Knob("audit_log_roll_size_mb", int, 1024, description="size at which fe.audit.log rolls to fe.audit.log.1"),
        Knob("audit_log_roll_num", int, 90, description="rolled audit log files kept"),
        Knob(
            "audit_log_max_stmt_length",
            int,
            4096,
            description="characters of a statement an audit line keeps (the rest is cut)",
        ),
        Knob(
            "force_olap_table_replication_num",
            int,
            0,
            description="replicas of new tables and restores, 0 = not forced",
        ),
        Knob(
            "force_olap_table_replication_allocation",
            str,
            "",
            description="e.g. tag.location.default:1; overrides the replicas of new tables, partitions and restores",
        ),
    )
}


class FrontendConfig:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = {name: knob.default for name, knob in KNOBS.items()}

    def get(self, name: str) -> object:
        return self._values[name]

    def int(self, name: str) -> int:
        return int(self._values[name])  # type: ignore[call-overload]

    def set(self, name: str, value: str) -> None:
        knob = KNOBS.get(name)
        if knob is None or not knob.mutable:
            raise DorisError(f"Config '{name}' does not exist or is not mutable")
        try:
            if knob.type is bool:
                if value.lower() not in ("true", "false"):
                    raise ValueError(value)
                parsed: object = value.lower() == "true"
            else:
                parsed = knob.type(value)
        except ValueError:
            raise DorisError(f"Invalid value '{value}' for config '{name}'") from None
        with self._lock:
            self._values[name] = parsed

    def rows(self) -> list[tuple[str, str, str, str, str, str]]:
        """ADMIN SHOW FRONTEND CONFIG rows: Key, Value, Type, IsMutable, MasterOnly, Comment."""
        out = []
        for name, knob in sorted(KNOBS.items()):
            value = self._values[name]
            text = str(value).lower() if isinstance(value, bool) else str(value)
            out.append(
                (
                    name,
                    text,
                    knob.type.__name__.replace("str", "String").replace("int", "long"),
                    str(knob.mutable).lower(),
                    "true",
                    knob.description,
                )
            )
        return out

    def forced_replication(self) -> int | None:
        """The replica count Doris's test clusters force on every new table and restore
        (``force_olap_table_replication_allocation``, else ``force_olap_table_replication_num``)."""
        alloc = str(self._values["force_olap_table_replication_allocation"])
        if alloc:
            total = 0
            for item in alloc.split(","):
                _, _, num = item.partition(":")
                total += int(num) if num.strip().isdigit() else 0
            return total or None
        num = int(self._values["force_olap_table_replication_num"])  # type: ignore[call-overload]
        return num if num > 0 else None

    def paused(self, job_type: str, state: str) -> bool:
        wanted = str(self._values["debug_pause_job_states"])
        return f"{job_type}:{state}" in {s.strip().upper() for s in wanted.split(",") if s.strip()}
