"""The remote file system contract every repository backend implements.

Paths are relative to the repository location, ``/``-separated, with no leading slash.
Listing takes a *string* prefix, as S3 does, so ``list("__ss_x/__info_")`` finds the info
files of a snapshot without listing its content. Directories exist only as long as they
hold files: deleting the last file of a directory removes the directory, on every backend,
so that local and HDFS repositories list like S3 ones.
"""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from dorisbk.checksum import md5_file
from dorisbk.errors import StorageError

# Suffix of partly written local files; listings hide them.
TMP_SUFFIX = ".dorisbk-tmp"


class NotFoundError(StorageError):
    """The remote file (or the source of a rename or copy) does not exist."""


class SymlinkError(StorageError):
    """A path inside a repository goes through a symbolic link, which repository code never follows."""


@dataclass(frozen=True)
class RemoteFile:
    """A file found by ``list``: its path relative to the location, and its size in bytes."""

    path: str
    size: int


class RemoteFileSystem(ABC):
    """One repository location on one kind of storage (Litestream's ReplicaClient shape).

    Writes replace what is there. ``delete`` of a missing file is not an error; reading,
    renaming or copying a missing file raises ``NotFoundError``. Every other failure raises
    ``StorageError`` with a message that says what was tried and where.
    """

    kind: ClassVar[str]
    location: str
    # Whether a file found under its checksummed name holds that content: false where ``upload_files`` defers
    # durability to ``sync()`` (a local disk), so that a file listed after a crash is checked before it is kept.
    names_trusted: ClassVar[bool] = True
    remote: ClassVar[bool] = True  # behind a network (S3, HDFS), not a local or mounted directory

    @abstractmethod
    def list(self, prefix: str = "") -> list[RemoteFile]:
        """Every file whose path starts with ``prefix``, at any depth, sorted by path."""

    @abstractmethod
    def list_dirs(self, path: str = "") -> list[str]:
        """Names of the immediate subdirectories of directory ``path``, sorted."""

    @abstractmethod
    def exists(self, path: str) -> bool:
        """Whether a file exists at ``path``."""

    @abstractmethod
    def upload(self, local_path: str | Path, remote_path: str) -> None:
        """Copy a local file to ``remote_path``."""

    def upload_files(self, files: Sequence[tuple[str | Path | bytes, str]], each: Callable[[int], None]) -> None:
        """Upload ``(source, remote path)`` pairs in order, a source being a local file's path or the bytes
        themselves, calling ``each(i)`` after the i-th (the caller's cancel check and throttle). The files are
        durable once ``sync()`` returns: until then, a crash of the machine may leave one under its name with
        other content (see ``names_trusted``)."""
        for index, (source, remote_path) in enumerate(files):
            if isinstance(source, bytes):
                self.put_bytes(remote_path, source)
            else:
                self.upload(source, remote_path)
            each(index)

    def sync(self) -> None:
        """Make every file ``upload_files`` wrote durable."""
        return None  # object stores and HDFS: each file already was when its write returned

    @abstractmethod
    def download(self, remote_path: str, local_path: str | Path) -> str | None:
        """Copy ``remote_path`` to a local file; a reader never sees a partial file.

        Returns the md5 of the bytes written when the backend computed it while streaming (so the
        caller need not read the file again), else None.
        """

    def download_files(self, files: Sequence[tuple[str, Path]], each: Callable[[int, str | None], None]) -> None:
        """Download ``(remote path, local path)`` pairs in order, each to a new local file that nothing else reads
        (the caller verifies it, then renames it into place), calling ``each(i, md5)`` after the i-th with the
        md5 of the bytes written when computed while streaming, else None."""
        for index, (remote_path, local_path) in enumerate(files):
            each(index, self.download(remote_path, local_path))

    def md5(self, remote_path: str) -> str:
        """The md5 of a file's content, read through (to check a file whose name is not trusted)."""
        with tempfile.TemporaryDirectory(prefix="dorisbk-md5-") as tmp:
            local = Path(tmp) / "file"
            return self.download(remote_path, local) or md5_file(local)

    @abstractmethod
    def put_bytes(self, remote_path: str, data: bytes) -> None:
        """Write a small file from memory."""

    @abstractmethod
    def get_bytes(self, remote_path: str) -> bytes:
        """Read a small file into memory."""

    @abstractmethod
    def delete(self, path: str) -> None:
        """Remove one file if it exists."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Remove every file whose path starts with ``prefix``; returns how many."""

    @abstractmethod
    def rename(self, src: str, dst: str) -> None:
        """Move a file, replacing ``dst``."""

    @abstractmethod
    def copy(self, src: str, dst: str) -> None:
        """Copy a file without passing its bytes through this process where the backend allows."""

    @abstractmethod
    def ping(self) -> None:
        """Raise ``StorageError`` unless the location is reachable with the current credentials."""

    def update_properties(self, properties: Mapping[str, str]) -> None:
        """Merge new properties (rotated credentials); only backends with credentials support it."""
        raise StorageError(f"{self.kind} file system does not support changing its properties")


def clean_path(path: str) -> str:
    """Normalise a file path: ``//`` and ``.`` parts go (S3 SDKs break on ``//``), ``..`` and NUL are refused."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if not parts or ".." in parts or "\0" in path:
        raise StorageError(f"invalid remote path: '{path}'")
    return "/".join(parts)


def clean_prefix(prefix: str) -> str:
    """Normalise a listing prefix, keeping a trailing ``/`` (it makes ``a/`` differ from ``ab``)."""
    if prefix.strip("/.") == "":
        return ""
    cleaned = clean_path(prefix)
    return cleaned + "/" if prefix.endswith("/") else cleaned


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def tmp_name(name: str) -> str:
    """A temporary name for writing file ``name``: it carries this host and process, so that leftovers of
    a killed process are recognised and removed by the next write of the same file."""
    return f"{name}.{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(6)}{TMP_SUFFIX}"


def stale_tmp_names(name: str, entries: Iterable[str]) -> list[str]:
    """The temporary names among ``entries`` that a process of this host left when it died writing
    ``name`` (kill -9 in the middle of a write); a live process's files are not stale."""
    prefix = f"{name}.{socket.gethostname()}-"
    stale = []
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(TMP_SUFFIX)):
            continue
        pid = entry[len(prefix) : -len(TMP_SUFFIX)].split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            stale.append(entry)
    return stale


def remove_stale_tmp(target: Path) -> None:
    """Delete the temporary siblings of ``target`` that dead processes left."""
    try:
        entries = [e.name for e in os.scandir(target.parent)]
    except OSError:
        return
    for name in stale_tmp_names(target.name, entries):
        with suppress(OSError):
            os.unlink(target.parent / name)


@contextmanager
def atomic_local_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary name next to ``path`` and move it into place only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(target)
    tmp = target.with_name(tmp_name(target.name))
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def open_filesystem(kind: str, location: str, properties: Mapping[str, str]) -> RemoteFileSystem:
    """Build the file system of a repository from its CREATE REPOSITORY type, location and properties.

    Backends are imported on demand so that a server without S3 repositories never loads boto3.
    """
    match kind.upper():
        case "LOCAL":
            from dorisbk.storage.local import LocalFileSystem

            return LocalFileSystem(location)
        case "S3":
            from dorisbk.storage.s3 import S3FileSystem

            return S3FileSystem(location, properties)
        case "HDFS":
            from dorisbk.storage.hdfs import HdfsFileSystem

            return HdfsFileSystem(location, properties)
    raise StorageError(f"unsupported repository storage type: {kind}")
