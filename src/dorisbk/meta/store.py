"""The metadata store: every catalog, user, repository and job object as a JSON row.

One SQLAlchemy table holds all objects keyed by (kind, id); a change to the catalog is
one transaction that puts and deletes rows, so a crash never leaves half a DDL. At start
the whole table is read back, kind by kind, and replayed into memory. SQLite in the data dir by
default; PostgreSQL or MySQL by URL. In shared mode (``node`` given; PostgreSQL only) every commit also
appends to the change journal under a cluster-wide lock and is refused while this node lags it
(``meta/journal.py``). A change may hold hundreds of thousands of rows (a
load into every tablet of a large table), so its rows go in batches: one upsert executed
over 10,000 puts and one DELETE per 500 ids, never a statement or two per object.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from dorisbk.errors import DorisError, StaleMetadata
from dorisbk.meta import journal

log = logging.getLogger(__name__)
T = TypeVar("T")

_metadata = MetaData()

objects = Table(
    "dorisbk_objects",
    _metadata,
    Column("kind", String(32), primary_key=True),
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),
)

sequences = Table(
    "dorisbk_sequences",
    _metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
    Column("version", Integer, nullable=False, default=0),
)


@dataclass
class Change:
    """Puts and deletes that commit together or not at all."""

    puts: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    deletes: list[tuple[str, int]] = field(default_factory=list)
    # rows already encoded, written after ``puts``: a change of hundreds of thousands of objects (a load
    # into every tablet) holds each as its JSON text, not as a dict of dicts (bench/scale.py)
    encoded: list[tuple[str, int, str]] = field(default_factory=list)
    # shared mode: rows only their writer changes (a job's own record, an ended load's): written even while
    # this node lags the journal, as nothing in them was computed from other nodes' objects
    blind: bool = False

    def put(self, kind: str, obj_id: int, body: dict[str, Any]) -> Change:
        self.puts.append((kind, obj_id, body))
        return self

    def put_encoded(self, kind: str, obj_id: int, body: dict[str, Any]) -> Change:
        self.encoded.append((kind, obj_id, encode(body)))
        return self

    def delete(self, kind: str, obj_id: int) -> Change:
        self.deletes.append((kind, obj_id))
        return self

    def __bool__(self) -> bool:
        return bool(self.puts or self.deletes or self.encoded)


ENCODE_CHUNK = 1024  # entries of a large dict or list encoded by one json.dumps call


class JsonText(str):
    """A part of a row already encoded as JSON, which ``encode`` puts into the row's text as it is: a job's
    per-tablet state, encoded once and written at each of the job's states (AbstractJob.encoded_once). It
    goes as a value of a dict of at most ENCODE_CHUNK entries, which ``encode`` walks key by key."""


def encode(body: dict[str, Any]) -> str:
    """The row's JSON. json's C encoder holds the GIL for the whole call: a job's record at 300,000 tablets
    kept every other thread (a SHOW BACKUP among them) waiting for seconds, so a large dict or list is
    encoded ENCODE_CHUNK entries at a time. The text is the same as one call's. A row of fewer entries (every
    catalog object's) is one call: walking it key by key cost 6x the encoding, at every commit."""
    if not _holds_more(body, ENCODE_CHUNK):
        return _dumps(body)
    return "".join(_encoded(body))


def _holds_more(value: Any, limit: int) -> bool:
    """Whether the dicts and lists in ``value`` hold more than ``limit`` entries in all (stops once they do);
    1.3 us for a tablet's row."""
    stack, seen = [value], 0
    while stack:
        container = stack.pop()
        items = container.values() if type(container) is dict else container
        seen += len(items)
        if seen > limit:
            return True
        for item in items:
            if type(item) is dict or type(item) is list:
                stack.append(item)
            elif type(item) is JsonText:  # only the walk key by key puts it in as it is
                return True
    return False


def _encoded(value: Any) -> Iterator[str]:
    if type(value) is JsonText:
        yield value
    elif isinstance(value, dict) and len(value) > ENCODE_CHUNK:
        items = list(value.items())
        yield "{"
        for start in range(0, len(items), ENCODE_CHUNK):
            yield ("," if start else "") + _dumps(dict(items[start : start + ENCODE_CHUNK]))[1:-1]
        yield "}"
    elif isinstance(value, list) and len(value) > ENCODE_CHUNK:
        yield "["
        for start in range(0, len(value), ENCODE_CHUNK):
            yield ("," if start else "") + _dumps(value[start : start + ENCODE_CHUNK])[1:-1]
        yield "]"
    elif isinstance(value, dict) and value:
        yield "{"
        for n, (key, item) in enumerate(value.items()):
            yield ("," if n else "") + _dumps(key if isinstance(key, str) else _key(key)) + ":"
            yield from _encoded(item)
        yield "}"
    elif isinstance(value, list) and value:
        yield "["
        for n, item in enumerate(value):
            if n:
                yield ","
            yield from _encoded(item)
        yield "]"
    else:
        yield _dumps(value)


def _key(key: Any) -> str:
    """A dict key as json writes it: its own JSON (ints, floats, true/false/null) unless it is text."""
    return _dumps(key) if isinstance(key, (bool, int, float)) or key is None else str(key)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


LOAD_BATCH = 2000  # rows fetched at a time at start
PUT_BATCH = 10_000  # rows per executed upsert: bounds the parameter dicts held at once
DELETE_BATCH = 500  # ids per DELETE ... IN (...): below every backend's bound on bound parameters
STALE_RETRIES = 10  # times a change refused as stale is computed again after catching up
# the most a retry waits before catching up, at random below it: a node whose change keeps losing to another
# node's stream of commits falls out of step with it instead of losing each time by the same margin
STALE_BACKOFF_S = 0.05


class MetaStore:
    """Durable object rows plus an id allocator (Doris's ``getNextId``)."""

    ID_BLOCK = 1000

    def __init__(self, url: str, node: str | None = None) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, future=True, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        _metadata.create_all(self.engine)
        self._lock = threading.Lock()
        self._next_id = 0
        self._id_limit = 0
        # shared mode: this node's name in the journal, and how far its memory has applied the journal
        self.node = node
        self.position = journal.JournalPosition()
        # applies the other nodes' changes up to the journal's end (the node's JournalFollower sets it)
        self.catch_up: Callable[[], object] = lambda: None
        # shared mode: checks and writes another layer adds to every commit's transaction, which may refuse
        # the change by raising (jobs/job_lease.py: a job row only from its lease holder)
        self.guards: list[Callable[[Connection, Change], None]] = []
        self._name_lock: journal.NameLock | None = None
        if node is not None:
            if self.engine.dialect.name != "postgresql":
                raise DorisError("shared mode keeps its metadata in PostgreSQL: --meta-url postgresql+psycopg://...")
            journal.create(self.engine)
            self._name_lock = journal.hold_node_name(self.engine, node)

    @property
    def shared(self) -> bool:
        return self.node is not None

    def load(self) -> Iterator[tuple[str, int, dict[str, Any]]]:
        """Every stored object, kind by kind and each kind in id order: the primary key's order, so no
        database sorts the whole table first (SQLite did, at 300,000 tablets). Fetched a batch at a time
        (PostgreSQL and MySQL drivers would otherwise hold every row of a large catalog at once), and each
        batch's bodies decoded by one ``json.loads`` of their JSON array rather than one call per row."""
        options: dict[str, Any] = {"yield_per": LOAD_BATCH}
        if self.shared:  # the objects as of one journal seq: the follower goes on from there
            options["isolation_level"] = "REPEATABLE READ"
        with self.engine.connect().execution_options(**options) as conn:
            if self.shared:
                self.position.start_at(journal.last_seq(conn))
            result = conn.execute(
                select(objects.c.kind, objects.c.id, objects.c.body).order_by(objects.c.kind, objects.c.id)
            )
            for batch in result.partitions():
                bodies = json.loads(f"[{','.join(row[2] for row in batch)}]")
                for (kind, obj_id, _text), body in zip(batch, bodies, strict=True):
                    yield kind, obj_id, body

    def commit(self, change: Change) -> int:
        """Write all puts and deletes of ``change`` in one transaction. Shared mode: one at a time across
        the cluster, journaled, and refused with StaleMetadata (nothing written) when another node committed
        a change this one has not applied, unless the change is ``blind``. Returns the change's journal seq
        (0 in single-node mode or for an empty change)."""
        if not change:
            return 0
        doomed: dict[str, list[int]] = {}
        for kind, obj_id in change.deletes:
            doomed.setdefault(kind, []).append(obj_id)
        # a key put twice keeps its last body, as writing the puts one by one would
        rows = {(kind, obj_id): encode(body) for kind, obj_id, body in change.puts}
        rows.update(((kind, obj_id), text) for kind, obj_id, text in change.encoded)
        items = list(rows.items())
        base = seq = 0
        with self.engine.begin() as conn:
            if self.shared:
                base = journal.serialize(conn)
                if base > self.position.seq and not change.blind:
                    raise StaleMetadata(
                        "This frontend has not yet applied every metadata change of the cluster "
                        f"(journal {self.position.seq} of {base}); the statement was not applied, retry it"
                    )
            for kind, ids in doomed.items():
                for start in range(0, len(ids), DELETE_BATCH):
                    chunk = ids[start : start + DELETE_BATCH]
                    conn.execute(delete(objects).where(objects.c.kind == kind, objects.c.id.in_(chunk)))
            for start in range(0, len(items), PUT_BATCH):
                params = [{"kind": k, "id": i, "body": text} for (k, i), text in items[start : start + PUT_BATCH]]
                self._put_rows(conn, params)
            for guard in self.guards:
                guard(conn, change)
            if self.shared:
                body = journal.encode_entry([(k, i, text) for (k, i), text in items], change.deletes)
                seq = journal.append(conn, self.node or "", body)
        if self.shared:
            self.position.committed(base, seq)
        return seq

    def retry_stale(self, attempt: Callable[[], T]) -> T:
        """``attempt()``, computed again after catching up each time its commit was refused as stale (shared
        mode); the last refusal goes to the caller. ``attempt`` must hold no owner's lock when it returns or
        raises, and write nothing before its commit that a second run would not redo."""
        for tried in range(STALE_RETRIES):
            try:
                return attempt()
            except StaleMetadata as exc:
                log.debug("%s: catching up", exc.message)
                time.sleep(random.uniform(0, min(STALE_BACKOFF_S, 0.002 * 2**tried)))
                self.catch_up()
        return attempt()

    def _put_rows(self, conn: Connection, params: list[dict[str, Any]]) -> None:
        """Insert or replace rows with one upsert executed over all of them (SQLite, PostgreSQL, MySQL);
        another database gets an UPDATE, then an INSERT where nothing was updated, per row."""
        name = self.engine.dialect.name
        if name in ("sqlite", "postgresql"):
            dialect_insert = sqlite.insert if name == "sqlite" else postgresql.insert
            stmt = dialect_insert(objects)
            conn.execute(
                stmt.on_conflict_do_update(index_elements=["kind", "id"], set_={"body": stmt.excluded.body}), params
            )
            return
        if name in ("mysql", "mariadb"):
            stmt = mysql.insert(objects)
            conn.execute(stmt.on_duplicate_key_update(body=stmt.inserted.body), params)
            return
        for row in params:
            where = (objects.c.kind == row["kind"], objects.c.id == row["id"])
            if conn.execute(update(objects).where(*where).values(body=row["body"])).rowcount == 0:
                conn.execute(insert(objects).values(**row))

    def next_id(self) -> int:
        """A fresh object id, unique across restarts; ids are reserved a block at a time."""
        with self._lock:
            if self._next_id >= self._id_limit:
                self._next_id, self._id_limit = self._reserve(self.ID_BLOCK)
            value = self._next_id
            self._next_id += 1
            return value

    def next_ids(self, count: int) -> list[int]:
        self.reserve_ids(count)
        return [self.next_id() for _ in range(count)]

    def reserve_ids(self, count: int) -> None:
        """Make sure the next ``count`` ids come from memory: a statement about to make thousands of objects
        reserves them in one metadata transaction (one fsync), not one per ``ID_BLOCK``."""
        with self._lock:
            if self._id_limit - self._next_id < count:
                self._next_id, self._id_limit = self._reserve(count + self.ID_BLOCK)

    def _reserve(self, count: int) -> tuple[int, int]:
        """A block of ids from the sequence row, locked for the transaction: unique across restarts and, with
        several nodes over one PostgreSQL, across the cluster (the row is made first if missing, so that two
        nodes starting on an empty store do not both insert it)."""
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                conn.execute(
                    postgresql.insert(sequences)
                    .values(name="object_id", value=10000, version=0)
                    .on_conflict_do_nothing()
                )
            row = conn.execute(
                select(sequences.c.value).where(sequences.c.name == "object_id").with_for_update()
            ).first()
            start = row[0] if row else 10000
            if row:
                conn.execute(update(sequences).where(sequences.c.name == "object_id").values(value=start + count))
            else:
                conn.execute(insert(sequences).values(name="object_id", value=start + count, version=0))
        return start, start + count

    def close(self) -> None:
        if self._name_lock is not None:
            self._name_lock.close()
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()
