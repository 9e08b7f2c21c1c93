"""Shared mode's job leases: which node runs each unfinished BACKUP / RESTORE, and one job per database.

Every commit that writes a job's row passes ``JobLeases.guard`` in its transaction. A job without a lease
is new (``BackupHandler.add_job``): its submit transaction also writes the database's ``dorisbk_db_jobs`` row,
refused while the job it names is unfinished (the one-job rule across the cluster; Doris's message), and the
job's lease (this node, expiry). A job whose lease another node holds is not this node's to write: the
commit is refused (a node that stalled past its lease's expiry can not overwrite the new holder's progress).
The node holding the lease runs the job; a thread
renews its leases every ``RENEW_S`` and releases those of ended jobs. A lease not renewed for
``LEASE_TTL_MS`` (its node died) is taken by whichever node's thread sees it first; that node catches up with
the journal and runs the job from its last persisted state, as a restart does. Times are PostgreSQL's clock,
so the nodes' clocks need not agree.
"""

from __future__ import annotations

import json
import logging
import threading

from sqlalchemy import BigInteger, Column, MetaData, String, Table, text
from sqlalchemy.engine import Connection

from dorisbk.background import start_periodic
from dorisbk.errors import DorisError, StaleMetadata
from dorisbk.jobs.abstract_job import AbstractJob
from dorisbk.jobs.handler import ONE_JOB, BackupHandler
from dorisbk.meta.store import Change

log = logging.getLogger(__name__)

LEASE_TTL_MS = 8000  # a lease not renewed for this long is free for another node
RENEW_S = 1.0  # how often a node renews its leases and looks for expired ones
STATEMENT_TIMEOUT = "10s"
ENDED = ("FINISHED", "CANCELLED")  # both job types' terminal states, as their rows keep them
_NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint"

_metadata = MetaData()
Table(
    "dorisbk_job_leases",
    _metadata,
    Column("job_id", BigInteger, primary_key=True, autoincrement=False),
    Column("node", String(255), nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
)
Table(
    "dorisbk_db_jobs",
    _metadata,
    Column("db_id", BigInteger, primary_key=True, autoincrement=False),
    Column("job_id", BigInteger, nullable=False),
)


class JobLeases:
    """This node's leases, renewed and taken over by one background thread."""

    def __init__(self, handler: BackupHandler, node: str) -> None:
        self.handler = handler
        self.store = handler.store
        self.node = node
        self._lock = threading.Lock()
        self._held: set[int] = set()
        _metadata.create_all(self.store.engine)
        handler.runs_here = self.holds
        handler.lost = self.lose
        self.store.guards.append(self.guard)

    def holds(self, job: AbstractJob) -> bool:
        with self._lock:
            return job.job_id in self._held

    def guard(self, conn: Connection, change: Change) -> None:
        """In a commit's transaction: each job row it writes is this node's to write, a new job's claimed."""
        for kind, job_id, body in change.puts:
            if kind != "job":
                continue
            _bound(conn)
            holder = conn.execute(
                text("SELECT node FROM dorisbk_job_leases WHERE job_id = :job FOR UPDATE"), {"job": job_id}
            ).first()
            if holder is None and body.get("state") not in ENDED:
                self._claim(conn, job_id, int(body["db_id"]), exclusive=not self.handler.concurrent)
            elif holder is not None and holder[0] != self.node:  # the renewal finds it lost and stops its tasks
                raise StaleMetadata(f"Job {body.get('label')} is run by frontend {holder[0]} now")

    def _claim(self, conn: Connection, job_id: int, db_id: int, exclusive: bool) -> None:
        """The lease of a new job, and with one job per database its database's row."""
        if exclusive:
            row = conn.execute(
                text(
                    "SELECT d.job_id, o.body FROM dorisbk_db_jobs d LEFT JOIN dorisbk_objects o "
                    "ON o.kind = 'job' AND o.id = d.job_id WHERE d.db_id = :db FOR UPDATE OF d"
                ),
                {"db": db_id},
            ).first()
            holder_state = json.loads(row[1]).get("state") if row is not None and row[1] is not None else None
            if holder_state is not None and holder_state not in ENDED:
                raise DorisError(ONE_JOB)
            conn.execute(
                text(
                    "INSERT INTO dorisbk_db_jobs (db_id, job_id) VALUES (:db, :job) "
                    "ON CONFLICT (db_id) DO UPDATE SET job_id = excluded.job_id"
                ),
                {"db": db_id, "job": job_id},
            )
        conn.execute(
            text(f"INSERT INTO dorisbk_job_leases (job_id, node, expires_ms) VALUES (:job, :node, {_NOW_MS} + :ttl)"),
            {"job": job_id, "node": self.node, "ttl": LEASE_TTL_MS},
        )
        with self._lock:
            self._held.add(job_id)

    def resume_own(self) -> None:
        """At start: the leases this node (by its name) held before a restart are its own again at once."""
        with self.store.engine.begin() as conn:
            _bound(conn)
            taken = conn.execute(
                text(
                    f"UPDATE dorisbk_job_leases SET expires_ms = {_NOW_MS} + :ttl WHERE node = :node RETURNING job_id"
                ),
                {"node": self.node, "ttl": LEASE_TTL_MS},
            )
            with self._lock:
                self._held.update(int(r[0]) for r in taken)

    def start(self, stopping: threading.Event) -> threading.Thread:
        return start_periodic("JobLeases", stopping, lambda: RENEW_S, self.tick, first_now=True)

    def tick(self) -> None:
        """Renew, release the leases of ended jobs, take expired ones."""
        self._renew()
        self._release_ended()
        self._take_expired()

    def _jobs(self) -> dict[int, AbstractJob]:
        return {job.job_id: job for job in self.handler.all_jobs()}

    def _renew(self) -> None:
        with self._lock:
            held = sorted(self._held)
        if not held:
            return
        with self.store.engine.begin() as conn:
            _bound(conn)
            renewed = {
                int(r[0])
                for r in conn.execute(
                    text(
                        f"UPDATE dorisbk_job_leases SET expires_ms = {_NOW_MS} + :ttl "
                        "WHERE node = :node AND job_id = ANY(:ids) RETURNING job_id"
                    ),
                    {"node": self.node, "ttl": LEASE_TTL_MS, "ids": held},
                )
            }
        lost = set(held) - renewed
        jobs = self._jobs()
        for job_id in lost:
            job = jobs.get(job_id)
            if job is not None:
                self.lose(job)
            else:  # a job this node never got to list (its submit failed after the claim)
                with self._lock:
                    self._held.discard(job_id)

    def lose(self, job: AbstractJob) -> None:
        """Another node runs the job now (this one stalled past its lease): this one stops its tasks."""
        with self._lock:
            if job.job_id not in self._held:
                return
            self._held.discard(job.job_id)
        if not job.done:
            log.warning("lost the lease of job %s (%s): another frontend runs it now", job.label, job.type)
            job.interrupt()

    def _release_ended(self) -> None:
        jobs = self._jobs()
        with self._lock:
            ended = sorted(i for i in self._held if i in jobs and jobs[i].done)
        if not ended:
            return
        with self.store.engine.begin() as conn:
            _bound(conn)
            conn.execute(
                text("DELETE FROM dorisbk_job_leases WHERE node = :node AND job_id = ANY(:ids)"),
                {"node": self.node, "ids": ended},
            )
        with self._lock:
            self._held -= set(ended)

    def _take_expired(self) -> None:
        with self.store.engine.begin() as conn:
            _bound(conn)
            expired = [
                int(r[0])
                for r in conn.execute(text(f"SELECT job_id FROM dorisbk_job_leases WHERE expires_ms < {_NOW_MS}"))
            ]
        for job_id in expired:
            with self.store.engine.begin() as conn:
                _bound(conn)
                taken = conn.execute(
                    text(
                        f"UPDATE dorisbk_job_leases SET node = :node, expires_ms = {_NOW_MS} + :ttl "
                        f"WHERE job_id = :job AND expires_ms < {_NOW_MS} RETURNING job_id"
                    ),
                    {"node": self.node, "ttl": LEASE_TTL_MS, "job": job_id},
                ).first()
            if taken is None:
                continue
            # every row the last holder wrote is in the journal now (the guard refuses it any later one): the
            # job as it last persisted it
            self.store.catch_up()
            job = self._jobs().get(job_id)
            if job is None or job.done:  # nothing left to run: the lease goes
                with self.store.engine.begin() as conn:
                    _bound(conn)
                    conn.execute(
                        text("DELETE FROM dorisbk_job_leases WHERE job_id = :job AND node = :node"),
                        {"job": job_id, "node": self.node},
                    )
                continue
            log.info("took over job %s (%s) in state %s from an expired lease", job.label, job.type, job.state)
            with self._lock:
                self._held.add(job_id)
            self.handler.wake()


def _bound(conn: Connection) -> None:
    conn.execute(text(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'"))
