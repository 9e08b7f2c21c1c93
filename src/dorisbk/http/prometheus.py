"""``/metrics``: the frontend's metrics in Prometheus's text format, under Doris's FE names where Doris has
the metric (``doris_fe_*``) and ours (``dorisbk_*``) for what only dorisbk counts. docs/http-api.md lists them.
Gauges are read at scrape time from memory (sessions, catalog, job lists); counters from FrontendMetrics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from dorisbk.env import Env
from dorisbk.jobs.backup_job import BackupJobState
from dorisbk.jobs.restore_job import RestoreJobState
from dorisbk.metrics import Histogram

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
JOB_STATES = {"BACKUP": list(BackupJobState), "RESTORE": list(RestoreJobState)}
ENDED = ("FINISHED", "CANCELLED")


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for v in labels.values())
    return "{" + ",".join(f'{k}="{v}"' for k, v in zip(labels, quoted, strict=True)) + "}"


class Exposition:
    """Lines of the text format, each metric's HELP and TYPE once before its samples."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def metric(self, name: str, kind: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]) -> None:
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        self.lines += [f"{name}{_labels(labels)} {_number(value)}" for labels, value in samples]

    def histogram(self, name: str, help_text: str, series: dict[tuple[str, str], Histogram]) -> None:
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
        for (job_type, state), hist in sorted(series.items()):
            base = {"type": job_type, "state": state}
            for bound, count in zip(hist.bounds, hist.counts, strict=True):
                self.lines.append(f"{name}_bucket{_labels({**base, 'le': _number(bound)})} {count}")
            self.lines.append(f"{name}_bucket{_labels({**base, 'le': '+Inf'})} {hist.count}")
            self.lines.append(f"{name}_sum{_labels(base)} {_number(hist.total)}")
            self.lines.append(f"{name}_count{_labels(base)} {hist.count}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render(env: Env) -> str:
    out = Exposition()
    metrics = env.metrics
    out.metric("doris_fe_connection_total", "gauge", "total connections", [({}, len(env.live_sessions()))])
    out.metric("doris_fe_query_total", "counter", "total query", [({}, metrics.query_total)])
    out.metric("doris_fe_query_err", "counter", "total error query", [({}, metrics.query_err)])
    out.metric("doris_fe_internal_database_num", "gauge", "total internal database num", [({}, len(env.catalog.dbs))])
    out.metric("doris_fe_internal_table_num", "gauge", "total internal table num", [({}, len(env.catalog.tables))])
    remembered = Counter((job.type, str(job.state)) for job in env.jobs.all_jobs())
    out.metric(
        "doris_fe_job",
        "gauge",
        "job statistics",
        [
            ({"job": "backup", "type": job_type, "state": str(state)}, remembered[(job_type, str(state))])
            for job_type, states in JOB_STATES.items()
            for state in states
        ],
    )
    ended, failures, durations = metrics.job_snapshot()
    for job_type, name in (("BACKUP", "dorisbk_backup_jobs_total"), ("RESTORE", "dorisbk_restore_jobs_total")):
        out.metric(
            name,
            "counter",
            f"{job_type} jobs that ended on this server since it started, by final state",
            [({"state": state}, ended.get((job_type, state), 0)) for state in ENDED],
        )
    out.metric(
        "dorisbk_job_failures_total",
        "counter",
        "BACKUP and RESTORE jobs that ended CANCELLED since the server started, by Status code",
        [({"type": t, "code": code}, n) for (t, code), n in sorted(failures.items())],
    )
    out.histogram(
        "dorisbk_job_duration_seconds", "seconds from a job's creation to its end, by type and final state", durations
    )
    if env.tablets.shared is not None:  # shared mode: this node's copies of the storage vault's files
        cache = env.tablets.cache_stats()
        out.metric("dorisbk_file_cache_bytes", "gauge", "bytes of storage vault files kept here", [({}, cache.bytes)])
        out.metric(
            "dorisbk_file_cache_fetched_total",
            "counter",
            "files fetched from the storage vault since the server started",
            [({}, cache.fetched)],
        )
    if env.vault_gc is not None:  # shared mode: what this node's passes of the vault's garbage collection did
        totals = env.vault_gc.totals
        out.metric(
            "dorisbk_vault_gc_passes_total", "counter", "garbage collection passes this node ran", [({}, totals.passes)]
        )
        out.metric(
            "dorisbk_vault_gc_deleted_objects_total",
            "counter",
            "storage vault objects this node's passes deleted since it started",
            [({}, totals.deleted)],
        )
        out.metric(
            "dorisbk_vault_gc_deleted_bytes_total",
            "counter",
            "bytes of the storage vault objects this node's passes deleted since it started",
            [({}, totals.deleted_bytes)],
        )
    return out.text()
