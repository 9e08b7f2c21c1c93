"""A bounded local cache of repository files that queries read in place (``FROM snapshot(...)``).

DuckDB reads only under the server's data dir, and a LOCAL repository never lies there (it may not
overlap the data dir), so every snapshot file a query reads is first copied here: from S3 or HDFS by a
download, from a LOCAL repository by a copy that walks the repository without following any link. The
copy is verified against the md5 its checksummed name carries while it is written, under a temporary
name, and appears under its cache name only once it matched: DuckDB never reads a byte that was not
verified, and a file changed in the repository later cannot change what was verified (a hard link would
share it). The cache holds at most ``capacity()`` bytes; files a query is reading are pinned, the least
recently used of the others go first. It is emptied at start: it only ever holds copies.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dorisbk.errors import DorisError
from dorisbk.storage.repository import Repository


@dataclass
class _Entry:
    path: Path
    size: int
    pins: int = 0


@dataclass(frozen=True)
class Wanted:
    """A checksummed repository file a query reads, with the size its tablet header gives."""

    remote_path: str
    size: int


class FileLease:
    """The local copies of the files a query reads, pinned in the cache until ``release``."""

    def __init__(self, cache: FileCache, keys: list[str], paths: list[str]) -> None:
        self._cache = cache
        self._keys = keys
        self.paths = paths
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._cache._unpin(self._keys)


class FileCache:
    """``root`` holds the copies, named by a hash of where each came from; ``capacity()`` is the bound in bytes
    (read at each use: ADMIN SET FRONTEND CONFIG changes it)."""

    def __init__(self, root: Path, capacity: Callable[[], int], knob: str) -> None:
        self.root = root
        self.capacity = capacity
        self.knob = knob  # the config that sets the bound, for the message of a query that needs more
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._used = 0  # bytes of the entries plus the space reserved by fetches under way
        # keys being fetched: a copy of one is not evicted meanwhile, since the fetch writes the same path
        self._fetching: Counter[str] = Counter()

    def fetch(self, repo: Repository, files: Sequence[Wanted], check: Callable[[], None] | None = None) -> FileLease:
        """Local, verified copies of ``files`` of ``repo``, pinned; those not cached yet are fetched, after
        room is made for them. A file whose content does not match its name fails the fetch; so does
        ``check`` raising, called after each file fetched (the statement killed or timed out)."""
        keys = [self._key(repo, f.remote_path) for f in files]
        missing: dict[str, Wanted] = {}
        with self._lock:
            for key, wanted in zip(keys, files, strict=True):
                entry = self._entries.get(key)
                if entry is not None:
                    entry.pins += 1
                    self._entries.move_to_end(key)
                elif key not in missing:
                    missing[key] = wanted
            reserved = sum(max(0, w.size) for w in missing.values())
            try:
                self._make_room(reserved)
            except DorisError:
                self._unpin_locked([k for k in keys if k not in missing])
                raise
            self._used += reserved
            self._fetching.update(list(missing))
        order = list(missing)
        fetched: list[str] = []  # verified and in place, in case a later one fails

        def each(index: int) -> None:
            fetched.append(order[index])
            if check is not None:
                check()

        try:
            repo.download_checked_files([(missing[key].remote_path, self._local(key)) for key in order], each)
        except BaseException:
            with self._lock:
                self._used -= reserved
                self._fetching -= Counter(list(missing))
                for key in fetched:
                    if key not in self._entries:  # not a copy another query fetched meanwhile
                        self._local(key).unlink(missing_ok=True)
                self._unpin_locked([k for k in keys if k not in missing])
            raise
        with self._lock:
            self._used -= reserved
            self._fetching -= Counter(list(missing))
            for key in missing:
                entry = self._entries.get(key)
                if entry is not None:  # another query fetched the same file meanwhile: one copy, pinned by both
                    entry.pins += keys.count(key)
                    continue
                size = self._local(key).stat().st_size
                self._entries[key] = _Entry(self._local(key), size, pins=keys.count(key))
                self._used += size
        return FileLease(self, keys, [str(self._local(k)) for k in keys])

    def _make_room(self, needed: int) -> None:
        """Evict unpinned entries, least recently used first, until ``needed`` more bytes fit the bound."""
        capacity = self.capacity()
        self._evict_until(capacity - needed)
        if self._used + needed > capacity:
            raise DorisError(
                f"the snapshot files this query reads ({needed} bytes) do not fit in the snapshot cache: "
                f"{self._used} of {capacity} bytes are in use, change config `{self.knob}` to raise it"
            )

    def _evict_until(self, used: int) -> None:
        """Evict entries no query pins or fetches, least recently used first, until at most ``used`` bytes are."""
        for key in [k for k, e in self._entries.items() if e.pins == 0 and k not in self._fetching]:
            if self._used <= used:
                return
            entry = self._entries.pop(key)
            entry.path.unlink(missing_ok=True)
            self._used -= entry.size

    def _unpin(self, keys: list[str]) -> None:
        with self._lock:
            self._unpin_locked(keys)
            self._evict_until(self.capacity())  # a bound lowered meanwhile is kept once nothing pins the excess

    def _unpin_locked(self, keys: list[str]) -> None:
        for key in keys:
            entry = self._entries.get(key)
            if entry is not None:
                entry.pins -= 1

    def _local(self, key: str) -> Path:
        return self.root / key

    @staticmethod
    def _key(repo: Repository, remote_path: str) -> str:
        """A file's cache name: a hash of its repository's storage, location and path (the md5 is in the path)."""
        where = f"{repo.fs.kind}\0{repo.fs.location}\0{remote_path}"
        return hashlib.sha256(where.encode()).hexdigest()
