"""The threads statements run in, shared so that no user can take them all.

Statements block (DuckDB, files, S3, ``sleep``), so they run in worker threads, never on the
event loop. A user without ADMIN runs at most ``per_user`` statements at once, and all such
users together at most ``threads - admin_reserve``: the rest of the pool is kept for ADMIN
users, so an operator can always run statements however busy the others keep their share (a
login needs no worker at all). A statement over its share waits without a thread until one of
its user's ends; the statement's query_timeout bounds that wait, KILL ends it.

A thread is counted as taken until its work really ends, not until the client stops waiting
for it (KILL, query_timeout): a statement that ignores its cancellation for a while keeps its
user's share taken meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    threads: int = 32  # the pool
    admin_reserve: int = 8  # threads only ADMIN users' statements may take
    per_user: int = 4  # statements one user without ADMIN runs at once


class WorkerPool:
    """Runs blocking work in threads, admitting each user within its share (on the event loop)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._executor = ThreadPoolExecutor(limits.threads, thread_name_prefix="statement")
        self._busy = 0  # threads at work
        self._shared = 0  # threads at work for users without ADMIN
        self._by_user: Counter[str] = Counter()  # threads at work per user without ADMIN
        self._waiters: list[asyncio.Future[None]] = []

    async def run(self, user: str, admin: bool, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker thread, once ``user`` (``admin`` or not) may take one."""
        loop = asyncio.get_running_loop()
        while not self._may_start(user, admin):
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                self._waiters.remove(waiter)
        self._take(user, admin)
        context = contextvars.copy_context()  # the thread sees the connection's context, as with to_thread
        future = self._executor.submit(context.run, fn, *args)
        future.add_done_callback(lambda _: _call_soon(loop, self._give_back, user, admin))
        return await asyncio.wrap_future(future)

    def _may_start(self, user: str, admin: bool) -> bool:
        if self._busy >= self.limits.threads:
            return False
        if admin:
            return True
        shared = self.limits.threads - self.limits.admin_reserve
        return self._shared < shared and self._by_user[user] < self.limits.per_user

    def _take(self, user: str, admin: bool) -> None:
        self._busy += 1
        if not admin:
            self._shared += 1
            self._by_user[user] += 1

    def _give_back(self, user: str, admin: bool) -> None:
        self._busy -= 1
        if not admin:
            self._shared -= 1
            self._by_user[user] -= 1
            if not self._by_user[user]:
                del self._by_user[user]
        for waiter in self._waiters:  # each re-checks its own share
            if not waiter.done():
                waiter.set_result(None)


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
    """From a worker thread: ``fn(*args)`` on the event loop (unless it has already closed, at shutdown)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(fn, *args)


# One pool per server process, shared by all its connections.
STATEMENT_WORKERS = WorkerPool(Limits())
