"""Stopping a running statement: KILL and query_timeout reach the worker thread that runs it.

The session makes one :class:`Statement` per statement and runs the statement's work in its
worker thread through :meth:`Statement.run`. What the work does there takes part: a DuckDB
cursor it opens registers (``backend/duck.py``) and is interrupted when the statement is
cancelled, and its waits (``sleep(n)``) end at once. A cancelled statement raises its reason
as a :class:`~dorisbk.errors.DorisError` at the next point it reaches. Work outside any
statement (jobs, compaction) is never affected.

A leaf module (nothing of ours but errors) so that the server, which cancels, and the backend,
whose cursors are interrupted, both reach it without importing each other.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import duckdb

from dorisbk.errors import DorisError

T = TypeVar("T")

# An interrupt reaches only a query already running on the cursor: one that lands between a
# cursor's registration and its query would be lost, so a cancel is repeated a few times.
REPEAT_EVERY_S = 0.2
REPEATS = 10


class Cancel(enum.Enum):
    """Why a statement was stopped, worded as Doris reports it."""

    TIMEOUT = "query is timeout, killed by timeout checker"
    KILLED = "cancel query by user"


class Statement:
    """One client statement's cancellation: a flag, its reason, and the DuckDB cursors it opened."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._reason: Cancel | None = None
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._workers = 0  # threads running work of this statement

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` as work of this statement (called in the worker thread)."""
        with self._lock:
            self._workers += 1
        token = _current.set(self)
        try:
            self.check()
            return fn(*args)
        finally:
            _current.reset(token)
            with self._lock:
                self._workers -= 1
                if not self._workers:
                    self._cursors.clear()

    def cancel(self, reason: Cancel) -> None:
        """Stop the statement (any thread); the first reason given is the one reported."""
        with self._lock:
            if self._reason is None:
                self._reason = reason
            self._stopped.set()
        self._interrupt(REPEATS)

    def error(self) -> DorisError:
        """What the statement reports once cancelled."""
        reason = self._reason or Cancel.KILLED
        return DorisError(reason.value)

    def check(self) -> None:
        """Raise the cancellation, if any: the work stops at this point."""
        if self._stopped.is_set():
            raise self.error()

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds``, ending early (with the cancellation) if the statement is stopped."""
        if self._stopped.wait(seconds):
            raise self.error()

    def add(self, cursor: duckdb.DuckDBPyConnection) -> None:
        """A cursor the statement's work opened, to interrupt on cancel."""
        with self._lock:
            self._cursors.append(cursor)
        self.check()

    def _interrupt(self, repeats: int) -> None:
        with self._lock:
            cursors = list(self._cursors)
            running = self._workers > 0
        for cursor in cursors:
            with contextlib.suppress(duckdb.Error):  # a cursor already closed
                cursor.interrupt()
        if running and repeats > 1:
            again = threading.Timer(REPEAT_EVERY_S, self._interrupt, (repeats - 1,))
            again.daemon = True
            again.start()


_current: contextvars.ContextVar[Statement | None] = contextvars.ContextVar("dorisbk_statement", default=None)


def register(cursor: duckdb.DuckDBPyConnection) -> None:
    """Make ``cursor`` interruptible by the running statement, if the caller works for one."""
    statement = _current.get()
    if statement is not None:
        try:
            statement.add(cursor)
        except DorisError:
            cursor.close()
            raise


def check() -> None:
    """Raise the running statement's cancellation, if it has been cancelled."""
    statement = _current.get()
    if statement is not None:
        statement.check()


def sleep(seconds: float) -> None:
    """``time.sleep`` that KILL and query_timeout end early."""
    statement = _current.get()
    if statement is None:
        time.sleep(seconds)
    else:
        statement.wait(seconds)
