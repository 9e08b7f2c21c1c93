"""Rowset files on the backends' storage roots, and their collection once nothing needs them.

A rowset file is written once under ``<root>/data/<tablet_id>/`` and never changed. Files
leave in two ways only: the catalog stops referencing them (DROP, TRUNCATE), or a load
died before its metadata commit. Either way a file is deleted only when no running query
holds a lease on it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dorisbk.catalog import recycle_bin
from dorisbk.catalog.catalog import Catalog
from dorisbk.catalog.model import Backend, Tablet
from dorisbk.errors import DorisError

log = logging.getLogger(__name__)
DATA_DIR = "data"  # <root>/data/<tablet_id>/<rowset files>
# The start lists every tablet dir (300,000 in a table Doris allows): threads keep several listings in
# flight, as each mostly waits on the kernel (bench/scale.py restart)
SCAN_WORKERS = 4
SCAN_CHUNK = 512


class TabletStore:
    """Paths of tablets and rowsets per backend, leases held by readers, and the trash."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._lock = threading.Lock()
        self._leases: Counter[str] = Counter()
        self._pending: set[str] = set()

    def backend(self, backend_id: int) -> Backend:
        return self.catalog.backends[backend_id]

    def tablet_dir(self, backend_id: int, tablet_id: int) -> Path:
        return Path(self.backend(backend_id).root) / DATA_DIR / str(tablet_id)

    def tablet_path(self, backend_id: int, tablet_id: int) -> tuple[str, str]:
        """(absolute path, path relative to the storage root) of a tablet dir; plain string joins, as a
        load into every tablet of a large table asks for each."""
        relative = f"{DATA_DIR}/{tablet_id}"
        return os.path.join(self.backend(backend_id).root, relative), relative

    def staging_dir(self, backend_id: int, name: str) -> Path:
        path = Path(self.backend(backend_id).root) / "tmp" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def absolute(self, backend_id: int, relative: str) -> str:
        """The path of a rowset file below the backend's root. A path that leaves the root (absolute, or
        through ``..``) is refused: whatever is read, linked or deleted by rowset path stays in the data dir."""
        root = os.path.normpath(self.backend(backend_id).root)
        path = os.path.normpath(os.path.join(root, relative))
        if not path.startswith(root + os.sep):
            raise DorisError(f"rowset file {relative} is outside the storage root of backend {backend_id}")
        return path

    def relative(self, backend_id: int, path: Path) -> str:
        return os.path.relpath(path, self.backend(backend_id).root)

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
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            with contextlib.suppress(OSError):
                os.rmdir(os.path.dirname(path))

    def collect_orphans(self) -> int:
        """At start: delete rowset files no replica references (a load killed before commit) and staging dirs."""
        referenced = {
            self.absolute(replica.backend_id, rowset.path)
            for tablet in self.catalog.tablets.values()
            for replica in tablet.replicas
            for rowset in replica.rowsets
        }
        # objects in the recycle bin keep their files until erased
        referenced.update(self.absolute(be_id, path) for be_id, path in recycle_bin.referenced_files(self.catalog))
        removed = 0
        for backend in self.catalog.backends.values():
            root = Path(backend.root)
            removed += _empty(root / "tmp")
            tablet_dirs = _subdirs(root / DATA_DIR)
            chunks = [tablet_dirs[i : i + SCAN_CHUNK] for i in range(0, len(tablet_dirs), SCAN_CHUNK)]
            with ThreadPoolExecutor(SCAN_WORKERS) as pool:
                for listed in pool.map(_list_dirs, chunks):
                    removed += _remove_orphans(listed, referenced)
        if removed:
            log.info("collected %d orphan files", removed)
        return removed


def _remove_orphans(listed: list[tuple[str, list[str]]], referenced: set[str]) -> int:
    """Delete the files of ``listed`` dirs (dir, names) not ``referenced``; a dir left empty goes too (only
    then: a failing rmdir per kept tablet would cost a syscall each). Returns the number deleted."""
    removed = 0
    for tablet_dir, names in listed:
        kept = 0
        for name in names:
            path = os.path.join(tablet_dir, name)
            if path in referenced:
                kept += 1
                continue
            try:
                os.unlink(path)
                removed += 1
            except IsADirectoryError:  # not a rowset file: left alone
                kept += 1
        if not kept:
            with contextlib.suppress(OSError):
                os.rmdir(tablet_dir)
    return removed


def _list_dirs(dirs: list[str]) -> list[tuple[str, list[str]]]:
    """Each dir with the names in it (a plain listing: the threads doing it hold the GIL little)."""
    return [(directory, os.listdir(directory)) for directory in dirs]


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
