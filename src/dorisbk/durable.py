"""Making writes durable: what is fsynced before a version, a snapshot or a backup refers to it."""

from __future__ import annotations

import ctypes
import os
from collections.abc import Collection
from pathlib import Path

# Up to this many files (and their dirs), an fsync each; beyond, one syncfs per filesystem: a load into
# every tablet of a large table writes hundreds of thousands of files, and waiting for a journal commit
# per file and per dir is what made it slow (bench/scale.py), while one syncfs flushes them all at once.
FSYNC_EACH_MAX = 64


def fsync_path(path: str | Path) -> None:
    """Flush a file's data, or a directory's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_written(files: Collection[str], dirs: Collection[str]) -> None:
    """Make the data of ``files`` and the entries of ``dirs`` (each file is in one of them) durable: an
    fsync each for a few, else one ``syncfs`` per filesystem the dirs are on (Linux), else an fsync each."""
    if len(files) + len(dirs) > FSYNC_EACH_MAX and _syncfs is not None:
        devices: dict[int, str] = {}
        for directory in dirs:
            devices.setdefault(os.stat(directory).st_dev, directory)
        for directory in devices.values():
            syncfs(directory)
        return
    for path in [*files, *dirs]:
        fsync_path(path)


def syncfs(directory: str | Path) -> None:
    """Flush everything written to the filesystem ``directory`` is on: one journal commit for any number of
    files (``syncfs``, Linux); elsewhere a full ``sync``."""
    if _syncfs is None:
        os.sync()
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if _syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(directory))
    finally:
        os.close(fd)


def _load_syncfs() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    """libc's syncfs(2), where there is one (Linux)."""
    try:
        func = ctypes.CDLL(None, use_errno=True).syncfs
    except (AttributeError, OSError):
        return None
    func.argtypes = [ctypes.c_int]
    func.restype = ctypes.c_int
    return func


_syncfs = _load_syncfs()
