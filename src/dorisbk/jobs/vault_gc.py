"""The storage vault's garbage collection (shared mode): objects no catalog row references are deleted.

A dropped table (once the recycle bin erased it), a truncated or overwritten partition, a compaction or a
DELETE leaves rowset objects nothing lists any more. A periodic pass lists the vault's ``data/`` keys a page
at a time and deletes those that, in PostgreSQL at the time of the pass (not in this node's memory, which may
lag another node's commits), no tablet row, no recycle-bin entry and no unfinished BACKUP or RESTORE
references, once they are older than a grace period and a pass found them unreferenced at least the grace
earlier: a load or compaction on another node stores its files before its version commits, and a query there
may still read an old version. One node at a time runs it, under a PostgreSQL advisory lock; the others skip
their pass.

What the pass holds in memory is bounded by one listing page, the ids of the tablets the recycle bin and the
unfinished jobs hold, and at most MARK_LIMIT unreferenced keys, never the whole catalog's rowsets.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.engine import Connection

from dorisbk.backend.tablet_store import vault_key
from dorisbk.catalog import recycle_bin
from dorisbk.catalog.model import Tablet
from dorisbk.errors import DorisError
from dorisbk.jobs.backup_job import BackupJob
from dorisbk.jobs.backup_tablets import TARGET_FIELDS
from dorisbk.jobs.restore_job import RestoreJob
from dorisbk.meta.store import LOAD_BATCH, MetaStore, objects
from dorisbk.storage.s3 import StoredObject
from dorisbk.storage.vault import StorageVault

log = logging.getLogger(__name__)
# the advisory lock of the pass, one for the cluster ("dorisbkg"); distinct from the journal's locks
LOCK_KEY = 0x646F726973626B67
INTERVAL_KNOB = "vault_gc_interval_second"
GRACE_KNOB = "vault_gc_grace_second"
MARK_LIMIT = 200_000  # unreferenced keys one pass remembers (some 30 MB); more wait for later passes
_ENDED = {str(state) for state in (*BackupJob.TERMINAL, *RestoreJob.TERMINAL)}


class UnknownJobRecord(DorisError):
    """An unfinished job's row of a shape this node can not read: its tablets are unknown, so nothing goes."""


@dataclass
class GcPass:
    """What one pass found and did."""

    listed: int = 0  # rowset objects in the vault
    deleted: int = 0
    deleted_bytes: int = 0
    young: int = 0  # unreferenced, but stored or found unreferenced less than the grace ago: kept for a later pass
    held: int = 0  # of tablets a recycle-bin entry or an unfinished job holds: kept


@dataclass
class GcTotals:
    """What this node's passes did since it started (``/metrics``); written by the pass's thread alone."""

    passes: int = 0  # run, not skipped
    deleted: int = 0
    deleted_bytes: int = 0


class VaultCollector:
    """One node's side of the collection: a pass when the period comes, if no other node is running one."""

    def __init__(
        self, store: MetaStore, vault: StorageVault, grace_s: Callable[[], int], stopping: threading.Event
    ) -> None:
        self.store = store
        self.vault = vault
        self.grace_s = grace_s
        self.stopping = stopping  # the server stops: the pass ends after the page at hand
        # the unreferenced keys this node's last pass found, with when a pass of this node first found each so (at most
        # MARK_LIMIT): a key goes only once found so at least the grace ago, so that a query on another node
        # that planned the version it left has the grace to fetch it
        self._marks: dict[str, float] = {}
        self.totals = GcTotals()

    def run(self) -> GcPass | None:
        """One pass under the cluster's advisory lock; None when another node holds it (that node collects)."""
        # a session lock on a connection outside any transaction: it holds no snapshot while the pass runs
        with self.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock_conn:
            if not lock_conn.execute(select(func.pg_try_advisory_lock(LOCK_KEY))).scalar():
                log.info("vault gc: another node is collecting, pass skipped")
                return None
            try:
                return self._collect()
            finally:
                lock_conn.execute(select(func.pg_advisory_unlock(LOCK_KEY)))

    def _collect(self) -> GcPass:
        """Read every reference in one REPEATABLE READ snapshot of PostgreSQL, then list the vault after it.
        An object stored at least ``grace`` before the snapshot and not referenced in it is garbage: a writer
        that stored it commits within the grace, and only a version's commit makes an object referenced. It is
        deleted once a pass at least ``grace`` earlier found it unreferenced too: a node that lags, or a query
        that planned an older version, may read it until then."""
        grace = self.grace_s()
        outcome = GcPass()
        marks: dict[str, float] = {}
        with self.store.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            started = time.time()  # taken before the snapshot, which the first query below fixes
            cutoff = started - grace
            try:
                held = _held_tablets(conn)
            except UnknownJobRecord as exc:
                log.warning("vault gc: pass skipped: %s", exc.message)
                return outcome
            for page in self.vault.rowset_pages():
                if self.stopping.is_set():
                    break
                outcome.listed += len(page)
                unreferenced: dict[int, dict[str, StoredObject]] = defaultdict(dict)  # by tablet id, then key
                for obj in page:
                    tablet_id = _tablet_of(obj.path)
                    if tablet_id is None:
                        continue
                    if tablet_id in held:
                        outcome.held += 1
                    else:
                        unreferenced[tablet_id][obj.path] = obj
                for path in _referenced(conn, list(unreferenced)):
                    tablet_id = _tablet_of(path)
                    if tablet_id in unreferenced:
                        unreferenced[tablet_id].pop(path, None)
                keys: dict[str, int] = {}
                for found in unreferenced.values():
                    for key, obj in found.items():
                        marked = self._marks.get(key)
                        if obj.modified < cutoff and marked is not None and marked <= cutoff:
                            keys[key] = obj.size
                            continue
                        outcome.young += 1
                        if len(marks) < MARK_LIMIT:  # the rest wait for a later pass, in key order
                            marks[key] = marked if marked is not None else started
                if keys:
                    self.vault.delete(sorted(keys))
                    outcome.deleted += len(keys)
                    outcome.deleted_bytes += sum(keys.values())
        self._marks = marks
        self.totals.passes += 1
        self.totals.deleted += outcome.deleted
        self.totals.deleted_bytes += outcome.deleted_bytes
        log.info(
            "vault gc: %d rowset objects listed, %d deleted (%d bytes), %d unreferenced kept for the grace of %d s, "
            "%d kept for the recycle bin or running jobs",
            outcome.listed,
            outcome.deleted,
            outcome.deleted_bytes,
            outcome.young,
            grace,
            outcome.held,
        )
        return outcome


def _tablet_of(path: str) -> int | None:
    """The tablet id of a rowset object's key (``data/<tablet id>/<file>``); None for a key of another shape,
    which the collection leaves alone."""
    try:
        return int(vault_key(path).split("/", 2)[1])
    except DorisError:
        return None


# Where the rows that hold whole tablets keep their ids, as SQL/JSON paths PostgreSQL evaluates: a job or a
# recycle-bin entry of 300,000 tablets is tens of MB of JSON, which parsed here took 190 MB of heap at 150,000
# tablets (bench/vault_gc.py). The shapes are those of recycle_bin.entry, backup_tablets.encode_targets /
# encode_snapshots (a target row starts with the tablet id) and restore_plan.TabletPlan.to_row (or the dicts of
# a plan written before the rows).
_HELD_PATHS: dict[str, tuple[str, ...]] = {
    recycle_bin.KIND: ('strict $.objects[*] ? (@[0] == "tablet")[1].id',),
    "BACKUP": ("strict $.targets.rows[*][0]", "strict $.snapshots.keyvalue().key"),
    "RESTORE": (
        'strict $.plan.tables[*].partitions[*].tablets[*] ? (@.type() == "array")[0]',
        'strict $.plan.tables[*].partitions[*].tablets[*] ? (@.type() == "object").tablet.id',
    ),
}
_PATHS = [(owner, path) for owner, paths in _HELD_PATHS.items() for path in paths]
# One statement: each recycle-bin entry's and unfinished job's body made jsonb once (MATERIALIZED: a 300,000-tablet
# record takes seconds to cast), a row with no id for an unfinished job whose record has not the shape the paths
# read, then the ids each path finds (silently: a record of another shape yields none, and the row above says so).
_HELD_QUERY = text(
    "WITH r AS MATERIALIZED (SELECT id, kind, body::jsonb AS b FROM dorisbk_objects WHERE kind IN (:recycle, 'job')),"
    " h AS MATERIALIZED (SELECT id, CASE WHEN kind = 'job' THEN b ->> 'type' ELSE kind END AS owner, b FROM r"
    " WHERE kind <> 'job' OR b ->> 'state' NOT IN :ended)"
    " SELECT id, NULL::bigint FROM h WHERE NOT COALESCE(owner = :recycle"
    " OR (owner = 'BACKUP' AND b #>> '{targets,fields,0}' = :target_id"
    " AND jsonb_typeof(b #> '{targets,rows}') = 'array' AND jsonb_typeof(b -> 'snapshots') = 'object')"
    " OR (owner = 'RESTORE' AND jsonb_typeof(b #> '{plan,tables}') = 'array'), false)"
    " UNION ALL SELECT h.id, (jsonb_path_query(h.b, CAST(p.path AS jsonpath), '{}', true) #>> '{}')::bigint"
    " FROM h"
    " JOIN (VALUES "
    + ", ".join(f"(:owner{n}, :path{n})" for n in range(len(_PATHS)))
    + ") AS p(owner, path) ON p.owner = h.owner"
).bindparams(
    bindparam("ended", sorted(_ENDED), expanding=True),
    recycle=recycle_bin.KIND,
    target_id=TARGET_FIELDS[0],
    **{f"owner{n}": owner for n, (owner, _path) in enumerate(_PATHS)},
    **{f"path{n}": path for n, (_owner, path) in enumerate(_PATHS)},
)


def _held_tablets(conn: Connection) -> set[int]:
    """Tablets whose objects all stay: those of recycle-bin entries (RECOVER puts their rowsets back) and those
    an unfinished BACKUP snapshots or reads or an unfinished RESTORE fills (its download stores objects under
    the new tablets' keys before its commit lists them). Only the ids reach this process, a batch at a time."""
    held: set[int] = set()
    for batch in conn.execution_options(yield_per=LOAD_BATCH).execute(_HELD_QUERY).partitions():
        for row_id, tablet_id in batch:
            if tablet_id is None:
                raise UnknownJobRecord(f"unfinished job {row_id} has a record of another shape")
            held.add(tablet_id)
    return held


def _referenced(conn: Connection, tablet_ids: list[int]) -> Iterator[str]:
    """The rowset paths (vault keys) the replicas of these live tablets list (one listing page's tablets)."""
    query = select(objects.c.body).where(objects.c.kind == "tablet", objects.c.id.in_(tablet_ids))
    result = conn.execution_options(yield_per=LOAD_BATCH).execute(query)
    for batch in result.partitions():
        for body in json.loads(f"[{','.join(row[0] for row in batch)}]"):
            for replica in Tablet.from_dict(body).replicas:
                for rowset in replica.rowsets:
                    yield rowset.path
