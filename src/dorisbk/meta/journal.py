"""The change journal of shared mode (Doris's edit log, kept by PostgreSQL): one row per committed change.

Every node's ``MetaStore.commit`` appends its change's puts and deletes here in the same transaction as the
objects themselves, under one PostgreSQL advisory lock, and NOTIFYs on commit. A ``JournalFollower`` thread
per node LISTENs on a connection of its own, reads the rows after the last one it applied (on a
notification, and every ``FALLBACK_S`` in case one was lost), skips its own node's rows and hands the others
to the node's appliers in order. ``JournalPosition`` is the last seq the node's memory reflects: a commit is
refused while the journal holds rows past it (``StaleMetadata``), so two nodes' changes serialize.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text, func, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from dorisbk.errors import DorisError

log = logging.getLogger(__name__)

CHANNEL = "dorisbk_journal"
LOCK_KEY = 0x646F726973626B  # the advisory lock every shared-mode commit holds ("dorisbk")
NODE_LOCK_CLASS = 0x646F7269  # the advisory locks held by live nodes' names ("dori"), one per name
LOCK_TIMEOUT = "30s"  # how long a commit waits for another node's commit before it fails
READ_TIMEOUT = "30s"  # a journal read's bound
FALLBACK_S = 1.0  # a read at least this often, woken or not: a lost notification is only a delay
READ_BATCH = 500  # journal rows read at a time
RECONNECT_S = 1.0  # the pause after the LISTEN connection failed

_metadata = MetaData()

journal = Table(
    "dorisbk_journal",
    _metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=True),  # bigserial in PostgreSQL
    Column("node", String(255), nullable=False),
    Column("body", Text, nullable=False),
)


def create(engine: Engine) -> None:
    _metadata.create_all(engine)


@dataclass
class JournalEntry:
    """One committed change of another node, decoded: rows as ``MetaStore.load`` yields them."""

    seq: int
    node: str
    puts: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    deletes: list[tuple[str, int]] = field(default_factory=list)


def encode_entry(puts: list[tuple[str, int, str]], deletes: list[tuple[str, int]]) -> str:
    """A change's journal body from its rows' JSON texts as the store wrote them (no second encoding)."""
    put_text = ",".join(f"[{json.dumps(kind)},{obj_id},{body}]" for kind, obj_id, body in puts)
    delete_text = ",".join(f"[{json.dumps(kind)},{obj_id}]" for kind, obj_id in deletes)
    return f'{{"puts":[{put_text}],"deletes":[{delete_text}]}}'


def serialize(conn: Connection) -> int:
    """Inside a commit's transaction: wait (bounded) for the cluster-wide commit lock, then the journal's last
    seq (0 when empty), which no other node can move until this transaction ends."""
    conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    try:
        conn.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
    except OperationalError as exc:
        if not isinstance(exc.orig, psycopg.errors.LockNotAvailable):
            raise
        raise DorisError(
            f"Timed out after {LOCK_TIMEOUT} waiting for another frontend's metadata commit; nothing was written"
        ) from None
    return last_seq(conn)


def last_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(journal.c.seq), 0))).scalar_one())


def append(conn: Connection, node: str, body: str) -> int:
    """Add a change's row, notified to every follower once the transaction commits; returns its seq."""
    seq = int(conn.execute(insert(journal).values(node=node, body=body).returning(journal.c.seq)).scalar_one())
    conn.execute(select(func.pg_notify(CHANNEL, str(seq))))
    return seq


NameLock = psycopg.Connection


def hold_node_name(engine: Engine, node: str) -> NameLock:
    """A session advisory lock on the node's name, held by the returned connection for the node's life (its
    death, even by kill -9, closes the connection and frees it): two live nodes of one name would both act
    on the same job leases, so the second one's start is refused."""
    conn = psycopg.connect(_libpq_url(engine), autocommit=True, connect_timeout=10)
    row = conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (NODE_LOCK_CLASS, node)).fetchone()
    if row is None or not row[0]:
        conn.close()
        raise DorisError(f"Another live node of this cluster is named {node}: give each node its own --node-name")
    return conn


class JournalPosition:
    """The last journal seq this node's memory reflects."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = 0

    @property
    def seq(self) -> int:
        return self._seq

    def start_at(self, seq: int) -> None:
        with self._lock:
            self._seq = seq

    def committed(self, base: int, seq: int) -> None:
        """This node committed ``seq`` with the journal at ``base``: when its memory was at ``base`` it is at
        ``seq`` once the owner applies its change; otherwise the follower skips the row when it gets there."""
        with self._lock:
            if self._seq >= base:
                self._seq = max(self._seq, seq)

    def advance(self, seq: int) -> None:
        with self._lock:
            self._seq = max(self._seq, seq)


class JournalFollower:
    """Applies the other nodes' journal rows to this node, woken by NOTIFY and at least every FALLBACK_S."""

    def __init__(
        self, engine: Engine, node: str, position: JournalPosition, apply: Callable[[JournalEntry], None]
    ) -> None:
        self.engine = engine
        self.node = node
        self.position = position
        self.apply = apply
        self._lock = threading.Lock()  # one reader applies at a time: the thread or a statement catching up

    def catch_up(self) -> int:
        """Apply every row after the position, in order; returns the position reached. Callers hold no
        owner's lock (each apply takes its owner's)."""
        with self._lock:
            while True:
                rows = self._read(self.position.seq)
                for seq, node, body in rows:
                    if node != self.node:
                        decoded = json.loads(body)
                        entry = JournalEntry(
                            seq,
                            node,
                            [(k, i, b) for k, i, b in decoded["puts"]],
                            [(k, i) for k, i in decoded["deletes"]],
                        )
                        try:
                            self.apply(entry)
                        except Exception:  # one bad row must not stop the node following the others
                            log.exception("applying journal row %d of %s failed", seq, node)
                    self.position.advance(seq)
                if len(rows) < READ_BATCH:
                    return self.position.seq

    def _read(self, after: int) -> list[tuple[int, str, str]]:
        with self.engine.begin() as conn:
            conn.execute(text(f"SET LOCAL statement_timeout = '{READ_TIMEOUT}'"))
            result = conn.execute(
                select(journal.c.seq, journal.c.node, journal.c.body)
                .where(journal.c.seq > after)
                .order_by(journal.c.seq)
                .limit(READ_BATCH)
            )
            return [(int(r[0]), str(r[1]), str(r[2])) for r in result]

    def start(self, stopping: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self._run, args=(stopping,), name="JournalFollower", daemon=True)
        thread.start()
        return thread

    def _run(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            try:
                with psycopg.connect(_libpq_url(self.engine), autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not stopping.is_set():
                        self.catch_up()  # after LISTEN: nothing committed since is missed
                        for _note in conn.notifies(timeout=FALLBACK_S, stop_after=1):
                            pass
            except Exception:  # PostgreSQL gone for a while: keep trying, the reads catch up after
                log.warning("journal follower: PostgreSQL failed, retrying", exc_info=True)
                stopping.wait(RECONNECT_S)


def _libpq_url(engine: Engine) -> str:
    """The store's URL as libpq takes it (no SQLAlchemy driver name)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
