"""Snapshot TTL: the daemon that drops snapshots whose time to live has passed, as DROP SNAPSHOT does.

A BACKUP with ``"ttl" = "7 DAY"`` writes ``expire_time`` (the snapshot's timestamp plus the ttl) into its
info file (``job_info``), so every server reading the repository knows it. Each pass lists the writable
repositories and looks at a bounded number of labels, going on where the last pass stopped; a label
whose every backup has expired is dropped through ``BackupHandler.drop_snapshot``, with its checks (a
read-only repository, a job using the snapshot). The first pass runs at start, so what expired while the
server was down goes first. A failure is logged and met again at a later pass.

An info file is named by its backup's timestamp and never rewritten, so each one is read and parsed once:
the daemon keeps the expiry of every info file it has read (an int or None each, dropped with its label). At
300,000 tablets an info file is tens of MB of JSON; parsing each one every pass held the GIL for seconds
and hundreds of MB while a job ran beside it (bench/scale.py).
"""

from __future__ import annotations

import bisect
import logging
import threading
from typing import TYPE_CHECKING

from dorisbk.background import start_periodic
from dorisbk.errors import DorisError
from dorisbk.jobs import snapshot_list
from dorisbk.jobs.abstract_job import now_ms
from dorisbk.jobs.job_info import expire_time
from dorisbk.storage.repository import NoInfoFileError
from dorisbk.timeutil import long_to_time_string

if TYPE_CHECKING:
    from dorisbk.jobs.handler import BackupHandler

log = logging.getLogger(__name__)

# labels one pass reads the info files of (a listing and a read each; requests on S3)
LABELS_PER_PASS = 100


def expires_at(times: list[int | None]) -> int | None:
    """When a snapshot has expired: the latest expire time of its backups; None when one of them never
    expires or can not be read (then it is kept)."""
    if not times or any(t is None for t in times):
        return None
    return max(t for t in times if t is not None)


class SnapshotTtlDaemon:
    def __init__(self, handler: BackupHandler) -> None:
        self.handler = handler
        self._after: tuple[str, str] | None = None  # the last (repository, label) a pass looked at
        # (repository, label, timestamp) -> the expire time in that backup's info file (None: never expires)
        self._expiry: dict[tuple[str, str, str], int | None] = {}

    def start(self, stopping: threading.Event) -> threading.Thread:
        """Pass every ``snapshot_ttl_check_interval_ms``, the first one now, until ``stopping`` is set."""
        config = self.handler.ctx.config
        return start_periodic(
            "SnapshotTtlDaemon",
            stopping,
            lambda: config.int("snapshot_ttl_check_interval_ms") / 1000.0,
            self.run_once,
            first_now=True,
        )

    def run_once(self) -> None:
        """One pass: drop the expired snapshots among this pass's labels."""
        now = now_ms()
        for repo_name, label in self._next_labels():
            expired = self._expired_at(repo_name, label)
            if expired is None or expired > now:
                continue
            try:
                self.handler.drop_snapshot(repo_name, label)
            except DorisError as exc:
                log.warning("snapshot %s of repository %s expired but is kept: %s", label, repo_name, exc.message)
                continue
            log.info(
                "snapshot %s of repository %s expired at %s: dropped", label, repo_name, long_to_time_string(expired)
            )

    def _next_labels(self) -> list[tuple[str, str]]:
        """The labels of this pass: up to LABELS_PER_PASS after where the last pass stopped, in order of
        repository and label; after the last one the next pass starts over."""
        repos = self.handler.ctx.repos
        with repos.lock:
            names = sorted(r.name for r in repos.records.values() if not r.read_only)
        pairs = []
        for name in names:
            try:
                pairs += [(name, label) for label in repos.repository(name).list_snapshots()]
            except DorisError as exc:
                log.warning("snapshot ttl: can not list the snapshots of repository %s: %s", name, exc.message)
        pairs.sort()
        listed = set(pairs)
        self._expiry = {key: value for key, value in self._expiry.items() if key[:2] in listed}
        start = bisect.bisect_right(pairs, self._after) if self._after is not None else 0
        chosen = pairs[start : start + LABELS_PER_PASS]
        self._after = chosen[-1] if len(chosen) == LABELS_PER_PASS else None
        return chosen

    def _expired_at(self, repo_name: str, label: str) -> int | None:
        try:
            repo = self.handler.ctx.repos.repository(repo_name)
            stamps = repo.list_snapshot_timestamps(label)
        except NoInfoFileError:  # a backup still uploading, or one that never finished: not ours to judge
            return None
        except DorisError as exc:
            log.warning("snapshot ttl: can not list snapshot %s of repository %s: %s", label, repo_name, exc.message)
            return None
        times = []
        for stamp in stamps:
            key = (repo_name, label, stamp)
            if key in self._expiry:
                times.append(self._expiry[key])
                continue
            info = snapshot_list.backup(repo, label, stamp).info
            if info is None:  # unreadable now (perhaps for a moment): read again at a later pass
                times.append(None)
                continue
            times.append(self._expiry.setdefault(key, expire_time(info)))
        return expires_at(times)
