"""Rowset files on the backends' storage roots, and their collection once nothing needs them.

A rowset file is written once under ``<root>/data/<tablet_id>/`` and never changed. Files
leave in two ways only: the catalog stops referencing them (DROP, TRUNCATE), or a load
died before its metadata commit. Either way a file is deleted only when no running query
holds a lease on it.

In shared mode (``SharedData``) the files live in the storage vault: every writer hands its new files to
``persist``, which stores them there before the version that lists them commits, and every reader asks
``ensure_local`` for the files it leased, fetched and verified when this node lacks them. The backends'
roots are then this node's own dirs, and the files in them a cache of at most ``capacity()`` bytes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dorisbk.catalog import recycle_bin
from dorisbk.catalog.catalog import Catalog
from dorisbk.catalog.model import Backend, Rowset, Tablet
from dorisbk.durable import sync_written
from dorisbk.errors import DorisError

log = logging.getLogger(__name__)
DATA_DIR = "data"  # <root>/data/<tablet_id>/<rowset files>
# The orphan sweep lists every tablet dir (300,000 in a table Doris allows): threads keep several listings
# in flight, as each mostly waits on the kernel (bench/scale.py restart)
SCAN_WORKERS = 4
SCAN_CHUNK = 512
# file times come from the kernel's coarse clock, up to a tick (at most 10 ms) behind time.time_ns(): a file
# placed just after the start must not look older than it
CTIME_SLACK_NS = 50_000_000
VAULT_WORKERS = 8  # files stored in or fetched from the vault at once: each mostly waits on the network
# a rowset's path below a root, which is also its key in the vault: ids and the file's own plain name
_ROWSET_PATH = re.compile(r"data/[0-9]{1,19}/[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,254}")


class RowsetVault(Protocol):
    """Where the rowset files of a shared cluster live (``storage/vault.py``'s StorageVault, wired by env)."""

    def put(self, local_path: str, key: str) -> None: ...

    def get(self, key: str, local_path: str, size: int, md5: str) -> None: ...


@dataclass(frozen=True)
class SharedData:
    """Shared mode's data side: the vault, this node's dir for the backends' roots (``<local_dir>/<backend
    id>``, whatever root the catalog row names) and the bound in bytes of the rowset copies kept there."""

    vault: RowsetVault
    local_dir: Path
    capacity: Callable[[], int]


@dataclass(frozen=True)
class CacheStats:
    bytes: int  # of the local copies of vault files
    fetched: int  # files fetched from the vault since the start


def vault_key(relative: str) -> str:
    """The vault key of a rowset file, its path below a root (``data/<tablet id>/<file>``); anything else
    is refused, so that a key never is a path that leaves the prefix."""
    if _ROWSET_PATH.fullmatch(relative) is None:
        raise DorisError(f"rowset file {relative!r} has no key in the storage vault")
    return relative


def tablet_file_key(tablet_id: int, name: str) -> str:
    """The vault key of a tablet's file ``name`` (the name a snapshot or a tablet header gives it)."""
    return vault_key(f"{DATA_DIR}/{tablet_id}/{name}")


class TabletStore:
    """Paths of tablets and rowsets per backend, leases held by readers, and the trash."""

    def __init__(self, catalog: Catalog, shared: SharedData | None = None) -> None:
        self.catalog = catalog
        self.shared = shared
        self._lock = threading.Lock()
        self._leases: Counter[str] = Counter()
        self._pending: set[str] = set()
        # shared mode: the local copies of vault files, least recently used first, with their sizes
        self._copies: OrderedDict[str, int] = OrderedDict()
        self._copied = 0
        self._fetched = 0  # files fetched from the vault since the start (/metrics)

    def backend(self, backend_id: int) -> Backend:
        return self.catalog.backends[backend_id]

    def root(self, backend_id: int) -> str:
        """The backend's storage root on this node: the catalog's, or in shared mode this node's own dir."""
        if self.shared is None:
            return self.backend(backend_id).root
        self.backend(backend_id)  # an unknown backend fails alike in both modes
        return os.path.join(self.shared.local_dir, str(backend_id))

    def tablet_dir(self, backend_id: int, tablet_id: int) -> Path:
        return Path(self.root(backend_id)) / DATA_DIR / str(tablet_id)

    def tablet_path(self, backend_id: int, tablet_id: int) -> tuple[str, str]:
        """(absolute path, path relative to the storage root) of a tablet dir; plain string joins, as a
        load into every tablet of a large table asks for each."""
        relative = f"{DATA_DIR}/{tablet_id}"
        return os.path.join(self.root(backend_id), relative), relative

    def staging_dir(self, backend_id: int, name: str) -> Path:
        path = Path(self.root(backend_id)) / "tmp" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def absolute(self, backend_id: int, relative: str) -> str:
        """The path of a rowset file below the backend's root. A path that leaves the root (absolute, or
        through ``..``) is refused: whatever is read, linked or deleted by rowset path stays in the data dir."""
        root = os.path.normpath(self.root(backend_id))
        path = os.path.normpath(os.path.join(root, relative))
        if not path.startswith(root + os.sep):
            raise DorisError(f"rowset file {relative} is outside the storage root of backend {backend_id}")
        return path

    def relative(self, backend_id: int, path: Path) -> str:
        return os.path.relpath(path, self.root(backend_id))

    # ---- new files, and in shared mode the vault
    def persist(self, files: Collection[str], dirs: Collection[str]) -> None:
        """New rowset files (each in one of ``dirs``) are durable, and in shared mode stored in the vault, before
        the version that lists them commits: every writer (load, delete, compaction, restore) comes here."""
        sync_written(files, dirs)
        if self.shared is None:
            return
        by_key: dict[str, str] = {}  # the replicas' copies of a file share its key: stored once
        for path in files:
            by_key.setdefault(self._key_of(path), path)
        put = self.shared.vault.put
        with ThreadPoolExecutor(VAULT_WORKERS) as pool:
            list(pool.map(lambda item: put(item[1], item[0]), by_key.items()))
        self._noted([(path, os.path.getsize(path)) for path in files])

    def ensure_local(self, files: Iterable[tuple[int, Rowset]]) -> None:
        """Shared mode: the leased rowset files ``(backend id, rowset)`` are on this node's disk before anyone
        reads them, those it lacks fetched from the vault and verified against the rowset's size and md5."""
        if self.shared is None:
            return
        missing: dict[str, Rowset] = {}
        with self._lock:
            for backend_id, rowset in files:
                path = self.absolute(backend_id, rowset.path)
                if path in self._copies:
                    self._copies.move_to_end(path)
                else:
                    missing[path] = rowset
        if not missing:
            return
        get = self.shared.vault.get
        with ThreadPoolExecutor(VAULT_WORKERS) as pool:
            list(pool.map(lambda item: get(vault_key(item[1].path), item[0], item[1].size, item[1].md5),
                          missing.items()))  # fmt: skip
        with self._lock:
            self._fetched += len(missing)
        self._noted([(path, rowset.size) for path, rowset in missing.items()])

    def cache_stats(self) -> CacheStats:
        """What this node keeps of the vault (shared mode; /metrics shows it)."""
        with self._lock:
            return CacheStats(self._copied, self._fetched)

    def _key_of(self, path: str) -> str:
        """The vault key of a file below one of this node's roots."""
        assert self.shared is not None
        below = os.path.relpath(path, self.shared.local_dir).split(os.sep, 1)
        return vault_key(below[1].replace(os.sep, "/") if len(below) == 2 else path)

    def _noted(self, copies: Sequence[tuple[str, int]]) -> None:
        """Count new local copies, then evict down to the bound."""
        with self._lock:
            for path, size in copies:
                self._copied += size - self._copies.pop(path, 0)
                self._copies[path] = size
        self._evict()

    def _evict(self) -> None:
        """Delete the least recently used local copies no reader leases until the bound is kept (a file
        leased by a query, compaction or job always stays)."""
        if self.shared is None:
            return
        capacity = self.shared.capacity()
        with self._lock:
            if self._copied <= capacity:
                return
            for path in [p for p in self._copies if self._leases[p] <= 0]:
                if self._copied <= capacity:
                    break
                self._copied -= self._copies.pop(path)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)

    def reset_local_roots(self) -> int:
        """Shared mode, at start: make this node's roots and empty their tablet dirs, which only ever hold
        copies of vault files (the job snapshot dirs stay: a resumed job reads them). Returns the number of
        files deleted."""
        if self.shared is None:
            return 0
        removed = 0
        for backend_id in list(self.catalog.backends):
            root = Path(self.root(backend_id))
            root.mkdir(parents=True, exist_ok=True)
            removed += _empty(root / DATA_DIR)
        return removed

    # ---- leases: files a query or a snapshot is reading
    @contextlib.contextmanager
    def lease(self, files: Iterable[str]) -> Iterator[None]:
        held = list(files)
        self.acquire(held)
        try:
            yield
        finally:
            self.release(held)

    def acquire(self, files: Iterable[str]) -> None:
        """Keep ``files`` on disk until released (a query or snapshot is about to read them)."""
        with self._lock:
            self._leases.update(files)

    def release(self, files: Iterable[str]) -> None:
        with self._lock:
            self._leases.subtract(files)
            self._leases += Counter()  # drop zero counts
        self._collect()
        self._evict()  # copies kept above the bound while leased

    # ---- trash
    def trash(self, tablets: Iterable[Tablet]) -> None:
        """Forget the files of tablets the catalog no longer references."""
        with self._lock:
            for tablet in tablets:
                for replica in tablet.replicas:
                    for rowset in replica.rowsets:
                        self._pending.add(self.absolute(replica.backend_id, rowset.path))
        self._collect()

    def _collect(self) -> None:
        with self._lock:
            ready = [f for f in self._pending if self._leases[f] <= 0]
            self._pending.difference_update(ready)
            for path in ready:
                self._copied -= self._copies.pop(path, 0)
        for path in ready:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            with contextlib.suppress(OSError):
                os.rmdir(os.path.dirname(path))

    def collect_staging(self) -> int:
        """At start: delete the staging dirs of loads that died. Returns the number of files deleted."""
        return sum(_empty(Path(self.root(be_id)) / "tmp") for be_id in list(self.catalog.backends))

    def orphan_sweep(self) -> OrphanSweep:
        """At start, before any client: what the orphan sweep keeps (see OrphanSweep), captured now."""
        with self.catalog.lock:
            tablets = list(self.catalog.tablets.values())
            recycled = recycle_bin.referenced_files(self.catalog)
            backends = list(self.catalog.backends.values())
        return OrphanSweep(self, tablets, recycled, backends, time.time_ns() - CTIME_SLACK_NS)


@dataclass
class OrphanSweep:
    """Doris's path GC: after the start, delete the rowset files in tablet dirs that no replica referenced
    at start (a load killed before its commit). It runs once the server is up, as listing every tablet dir
    took 4.5 s of a 10 s restart at 300,000 tablets with a warm page cache and over 12 s from a cold one
    (bench/scale.py). A file placed since the start (written, renamed or linked in by a load, compaction or
    restore, each of which sets its ctime) is never touched, nor is the dir of a tablet live at start, which
    a load may be about to fill; a file referenced at start and dropped since is the trash's to delete."""

    store: TabletStore
    tablets: list[Tablet]  # catalog objects are replaced, never mutated: this list is the catalog at start
    recycled: list[tuple[int, str]]  # (backend id, relative path) kept by the recycle bin at start
    backends: list[Backend]
    since_ns: int  # files changed at or after this time are new

    def run(self, stopping: threading.Event) -> int:
        """Sweep every backend's tablet dirs, stopping early once ``stopping`` is set; returns the number of
        files deleted."""
        absolute = self.store.absolute
        referenced = {
            absolute(replica.backend_id, rowset.path)
            for tablet in self.tablets
            for replica in tablet.replicas
            for rowset in replica.rowsets
        }
        referenced.update(absolute(be_id, path) for be_id, path in self.recycled)
        live = {str(tablet.id) for tablet in self.tablets}
        removed = 0
        for backend in self.backends:
            tablet_dirs = _subdirs(Path(self.store.root(backend.id)) / DATA_DIR)
            chunks = [tablet_dirs[i : i + SCAN_CHUNK] for i in range(0, len(tablet_dirs), SCAN_CHUNK)]
            pool = ThreadPoolExecutor(SCAN_WORKERS)
            try:
                for listed in pool.map(_list_dirs, chunks):
                    if stopping.is_set():
                        return removed
                    removed += _remove_orphans(listed, referenced, live, self.since_ns)
            finally:
                pool.shutdown(cancel_futures=True)  # a stop leaves the listings not started yet
        if removed:
            log.info("collected %d orphan files", removed)
        return removed


def _remove_orphans(listed: list[tuple[str, list[str]]], referenced: set[str], live: set[str], since_ns: int) -> int:
    """Delete the files of ``listed`` dirs (dir, names) neither ``referenced`` nor changed since ``since_ns``;
    a dir left empty goes too, unless its tablet is ``live`` or the dir is new (only then: a failing rmdir
    per kept tablet would cost a syscall each). Returns the number deleted."""
    removed = 0
    for tablet_dir, names in listed:
        kept = 0
        for name in names:
            path = os.path.join(tablet_dir, name)
            if path in referenced or not _changed_before(path, since_ns):
                kept += 1
                continue
            try:
                os.unlink(path)
                removed += 1
            except IsADirectoryError:  # not a rowset file: left alone
                kept += 1
            except FileNotFoundError:  # trashed meanwhile
                pass
        if not kept and os.path.basename(tablet_dir) not in live and _changed_before(tablet_dir, since_ns):
            with contextlib.suppress(OSError):
                os.rmdir(tablet_dir)
    return removed


def _changed_before(path: str, since_ns: int) -> bool:
    """Whether ``path``'s inode last changed before ``since_ns`` (a path gone meanwhile did not)."""
    try:
        return os.lstat(path).st_ctime_ns < since_ns
    except FileNotFoundError:
        return False


def _list_dirs(dirs: list[str]) -> list[tuple[str, list[str]]]:
    """Each dir with the names in it, leaving out dirs gone meanwhile (a plain listing: the threads doing it
    hold the GIL little)."""
    listed = []
    for directory in dirs:
        with contextlib.suppress(FileNotFoundError):
            listed.append((directory, os.listdir(directory)))
    return listed


def _subdirs(directory: Path) -> list[str]:
    """The directories in ``directory`` (none if it is missing); links to directories are not."""
    try:
        with os.scandir(directory) as entries:
            return [e.path for e in entries if e.is_dir(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _empty(directory: Path) -> int:
    """Delete what ``directory`` holds (nothing if it is missing) without following a link: a link goes,
    its target stays. Returns the number of files deleted."""
    try:
        with os.scandir(directory) as scan:
            entries = [(e.path, e.is_dir(follow_symlinks=False)) for e in scan]
    except (FileNotFoundError, NotADirectoryError):
        return 0
    removed = 0
    for path, is_dir in entries:
        if is_dir:
            removed += _empty(Path(path))
            os.rmdir(path)
        else:
            os.unlink(path)
            removed += 1
    return removed
