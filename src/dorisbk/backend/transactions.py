"""Load transactions and their labels (Doris's GlobalTransactionMgr, plus the INSERT load jobs SHOW LOAD lists).

Every INSERT is a load with a label, given (``WITH LABEL l``) or generated as Doris's Nereids does
(``label_<queryid hi>_<queryid lo>`` in hex), and a transaction id. A label is taken by a running or
a VISIBLE load of the same database and refused to any other (Doris's LabelAlreadyUsedException); an
aborted load leaves it free. The VISIBLE record is written in the same metadata commit that publishes
the load's versions, so a crash never keeps a label without its data or data without its label. Aborted
records are written on their own, best effort, for SHOW TRANSACTION. Finished records go after
``streaming_label_keep_max_second`` (INSERT is one of Doris's "short" transactions) and the oldest
beyond ``label_num_threshold`` per database, at each ``label_clean_interval_second``, which bounds memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import threading
import uuid
from collections.abc import Iterable
from typing import Any

from dorisbk.background import start_periodic
from dorisbk.catalog.model import now_ms
from dorisbk.config import FrontendConfig
from dorisbk.errors import DorisError
from dorisbk.meta.store import Change, MetaStore

log = logging.getLogger(__name__)

KIND = "load_txn"
PREPARE, VISIBLE, ABORTED = "PREPARE", "VISIBLE", "ABORTED"
INSERT_TIMEOUT_S = 14_400  # the insert_timeout session variable's default
COORDINATOR = "FE: 127.0.0.1"


class LabelAlreadyUsed(DorisError):
    """Doris's LabelAlreadyUsedException for a label held by a running or a finished load."""


@dataclasses.dataclass
class LoadTxn:
    """One INSERT's transaction and the load job Doris records for it."""

    txn_id: int
    job_id: int
    db_id: int
    table_id: int
    label: str
    user: str
    status: str = PREPARE
    prepare_ms: int = 0
    commit_ms: int = -1
    finish_ms: int = -1
    reason: str = ""
    rows: int = 0
    timeout_ms: int = INSERT_TIMEOUT_S * 1000

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> LoadTxn:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in body.items() if k in names})


def generated_label() -> str:
    """Nereids' ``label_%x_%x`` over the query id's two halves."""
    value = uuid.uuid4().int
    return f"label_{value >> 64:x}_{value & (2**64 - 1):x}"


class LoadTransactionMgr:
    """Labels and transactions of loads, per database; thread-safe."""

    def __init__(self, store: MetaStore, config: FrontendConfig | None = None) -> None:
        self.store = store
        self.config = config or FrontendConfig()
        self._lock = threading.Lock()
        self._txns: dict[int, LoadTxn] = {}
        self._labels: dict[tuple[int, str], list[int]] = {}

    # ---- persistence
    def replay(self, rows: Iterable[tuple[str, int, dict]]) -> list[tuple[str, int, dict]]:
        rest = []
        for kind, obj_id, body in rows:
            if kind != KIND:
                rest.append((kind, obj_id, body))
                continue
            txn = LoadTxn.from_dict(body)
            if txn.status in (VISIBLE, ABORTED):  # only final states are ever written
                self._add(txn)
        return rest

    def apply(self, kind: str, obj_id: int, body: dict | None) -> bool:
        """Shared mode: another node's ended load (None: forgotten); False for other kinds."""
        if kind != KIND:
            return False
        with self._lock:
            held = self._txns.get(obj_id)
            if held is not None:
                self._remove(held)
            if body is not None:
                self._add(LoadTxn.from_dict(body))
        return True

    def _add(self, txn: LoadTxn) -> None:
        self._txns[txn.txn_id] = txn
        self._labels.setdefault((txn.db_id, txn.label), []).append(txn.txn_id)

    def _remove(self, txn: LoadTxn) -> None:
        self._txns.pop(txn.txn_id, None)
        key = (txn.db_id, txn.label)
        ids = [i for i in self._labels.get(key, []) if i != txn.txn_id]
        if ids:
            self._labels[key] = ids
        else:
            self._labels.pop(key, None)

    # ---- the load's life
    def begin(self, db_id: int, table_id: int, label: str | None, user: str) -> LoadTxn:
        """A PREPARE transaction holding ``label``, or LabelAlreadyUsed."""
        if label is not None:
            self.check_label(label)
        label = label or generated_label()
        with self._lock:
            for txn_id in self._labels.get((db_id, label), []):
                held = self._txns[txn_id]
                if held.status != ABORTED:
                    raise LabelAlreadyUsed(f"Label [{label}] has already been used, relate to txn [{held.txn_id}]")
            txn = LoadTxn(self.store.next_id(), self.store.next_id(), db_id, table_id, label, user,
                          prepare_ms=now_ms())  # fmt: skip
            self._add(txn)
        return txn

    def check_label(self, label: str) -> None:
        limit = self.config.int("label_regex_length")
        if not re.fullmatch(rf"[-_A-Za-z0-9:]{{1,{limit}}}", label):
            raise DorisError(f"Label format error. regex: ^[-_A-Za-z0-9:]{{1,{limit}}}$, label: {label}")

    def visible_change(self, txn_id: int, rows: int, change: Change | None = None) -> Change:
        """``change`` plus the VISIBLE record of ``txn_id``, for the commit that publishes its load."""
        change = change if change is not None else Change()
        txn = self._txns.get(txn_id)
        if txn is None:  # not begun through this manager
            return change
        done = now_ms()
        record = dataclasses.replace(txn, status=VISIBLE, commit_ms=done, finish_ms=done, rows=rows)
        return change.put(KIND, txn_id, record.to_dict())

    def published(self, txn_id: int, rows: int) -> None:
        """The publishing commit (with :meth:`visible_change`) is durable: the label is now the load's."""
        with self._lock:
            txn = self._txns.get(txn_id)
            if txn is not None and txn.status == PREPARE:
                done = now_ms()
                txn.status, txn.commit_ms, txn.finish_ms, txn.rows = VISIBLE, done, done, rows

    def finish(self, txn_id: int, rows: int) -> LoadTxn | None:
        """After a load returned: one that published nothing (no rows) is made VISIBLE by its own commit."""
        txn = self._txns.get(txn_id)
        if txn is not None and txn.status == PREPARE:
            self.store.commit(self.visible_change(txn_id, rows, Change(blind=True)))
            self.published(txn_id, rows)
        return txn

    def abort(self, txn_id: int, reason: str) -> None:
        """The load failed before its commit: the label is free again; the ABORTED record is kept for SHOW
        TRANSACTION (written best effort: a failing disk must not hide the load's own error)."""
        with self._lock:
            txn = self._txns.get(txn_id)
            if txn is None or txn.status != PREPARE:
                return
            txn.status, txn.finish_ms, txn.reason = ABORTED, now_ms(), reason or "unknown reason"
            body = txn.to_dict()
        try:
            self.store.commit(Change(blind=True).put(KIND, txn_id, body))
        except Exception:  # noqa: BLE001 - see docstring
            log.warning("could not record aborted txn %s", txn_id, exc_info=True)

    # ---- reading
    def txns(self, db_id: int) -> list[LoadTxn]:
        with self._lock:
            return sorted((t for t in self._txns.values() if t.db_id == db_id), key=lambda t: t.txn_id)

    # ---- cleaning
    def clean(self, now: int | None = None) -> int:
        """Forget finished transactions past their keep time, then the oldest beyond the per-database
        threshold; their rows go in one commit. Returns how many went."""
        now = now_ms() if now is None else now
        keep_s = self.config.int("streaming_label_keep_max_second")
        threshold = self.config.int("label_num_threshold")
        gone: list[LoadTxn] = []
        with self._lock:
            finished: dict[int, list[LoadTxn]] = {}
            for txn in self._txns.values():
                if txn.status == PREPARE:
                    continue
                if (now - txn.finish_ms) / 1000 > keep_s:
                    gone.append(txn)
                else:
                    finished.setdefault(txn.db_id, []).append(txn)
            if threshold > 0:
                for txns in finished.values():
                    txns.sort(key=lambda t: (t.finish_ms, t.txn_id))
                    gone.extend(txns[: max(0, len(txns) - threshold)])
            for txn in gone:
                self._remove(txn)
        if gone:
            change = Change(blind=True)  # shared mode: forgetting ended loads rests on nothing other nodes change
            for txn in gone:
                change.delete(KIND, txn.txn_id)
            with contextlib.suppress(Exception):  # rows left behind are dropped at the next start
                self.store.commit(change)
        return len(gone)

    def start(self, stopping: threading.Event) -> threading.Thread:
        return start_periodic(
            "LabelCleaner", stopping, lambda: max(1, self.config.int("label_clean_interval_second")), self.clean, 0.2
        )
