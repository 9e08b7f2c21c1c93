"""The frontend's counters (Doris's MetricRepo): what the server counts as it goes, read by ``/metrics``.

Only what can not be read off the catalog or the job lists at scrape time is counted here: statements
and their errors (counted where a session finishes one) and jobs as they end (counted by the job
scheduler). Gauges (connections, jobs per state) are computed when scraped. Plain ints: a statement
is counted on the event loop's thread, a job's end under a lock."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

# Upper bounds (seconds) of the job duration histogram: a backup of a few tablets takes under a second,
# one of 100,000 tablets hours.
DURATION_BUCKETS = (1.0, 5.0, 30.0, 60.0, 300.0, 1800.0, 3600.0, 6 * 3600.0, 24 * 3600.0)


@dataclass
class Histogram:
    """Prometheus's cumulative histogram: counts per upper bound, their sum and count."""

    bounds: tuple[float, ...] = DURATION_BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * len(DURATION_BUCKETS))
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[i] += 1
        self.total += value
        self.count += 1


@dataclass(frozen=True)
class EndedJob:
    """What the counters keep of a job that ended: its type (BACKUP / RESTORE), final state, Status code and
    how long it ran."""

    type: str
    state: str
    status_code: str
    seconds: float


class FrontendMetrics:
    """Counters since the server started."""

    def __init__(self) -> None:
        self.query_total = 0
        self.query_err = 0
        self._lock = threading.Lock()
        self.jobs_ended: Counter[tuple[str, str]] = Counter()  # (type, state) -> jobs
        self.job_failures: Counter[tuple[str, str]] = Counter()  # (type, status code) -> cancelled jobs
        self.durations: dict[tuple[str, str], Histogram] = {}  # (type, state) -> seconds from create to end

    def statement_done(self, failed: bool) -> None:
        """A client statement ended (its result sent or its error packet)."""
        self.query_total += 1
        if failed:
            self.query_err += 1

    def job_ended(self, job: EndedJob) -> None:
        with self._lock:
            self.jobs_ended[(job.type, job.state)] += 1
            if job.status_code != "OK":
                self.job_failures[(job.type, job.status_code)] += 1
            self.durations.setdefault((job.type, job.state), Histogram()).observe(job.seconds)

    def job_snapshot(
        self,
    ) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int], dict[tuple[str, str], Histogram]]:
        """Copies of the job counters, consistent with each other."""
        with self._lock:
            durations = {k: Histogram(h.bounds, list(h.counts), h.total, h.count) for k, h in self.durations.items()}
            return dict(self.jobs_ended), dict(self.job_failures), durations
