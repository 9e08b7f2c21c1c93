"""A repository in a local (or mounted) directory, for tests, single machines and NFS."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dorisbk.errors import StorageError
from dorisbk.storage.filesystem import (
    TMP_SUFFIX,
    NotFoundError,
    RemoteFile,
    RemoteFileSystem,
    atomic_local_file,
    clean_path,
    clean_prefix,
)


class LocalFileSystem(RemoteFileSystem):
    """Files under a root directory given as ``file:///abs/path``.

    Writes go to a temporary name and are renamed into place after an fsync, so a crash
    never leaves a truncated file under its final name.
    """

    kind = "LOCAL"

    def __init__(self, location: str) -> None:
        parts = urlsplit(location)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise StorageError(f"invalid local location '{location}': expected file:///absolute/path")
        self.location = location
        self.root = Path(unquote(parts.path).rstrip("/") or "/")

    def _abs(self, path: str) -> Path:
        return self.root / clean_path(path)

    def list(self, prefix: str = "") -> list[RemoteFile]:
        found: list[RemoteFile] = []
        self._scan(prefix, found, tmp_only=False)
        return sorted(found, key=lambda f: f.path)

    def _scan(self, prefix: str, found: list[RemoteFile], tmp_only: bool) -> None:
        prefix = clean_prefix(prefix)
        parent, _, stem = prefix.rpartition("/")
        start = self.root / parent if parent else self.root
        try:
            for entry in list(os.scandir(start)):
                if entry.name.startswith(stem):
                    self._collect(entry, f"{parent}/{entry.name}" if parent else entry.name, found, tmp_only)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as e:
            raise StorageError(f"failed to list {start}: {e}") from e

    def _collect(self, entry: os.DirEntry[str], rel: str, found: list[RemoteFile], tmp_only: bool) -> None:
        """Add the files (or with ``tmp_only`` the temporary files) at or below ``entry``; entries deleted
        meanwhile are skipped, not errors."""
        is_tmp = entry.name.endswith(TMP_SUFFIX)
        if is_tmp and not tmp_only:
            return
        try:
            if entry.is_dir(follow_symlinks=False):
                for child in os.scandir(entry.path):
                    self._collect(child, f"{rel}/{child.name}", found, tmp_only)
            elif entry.is_file() and is_tmp == tmp_only:
                found.append(RemoteFile(rel, entry.stat().st_size))
        except FileNotFoundError:
            return

    def list_dirs(self, path: str = "") -> list[str]:
        prefix = clean_prefix(path)
        try:
            entries = os.scandir(self.root / prefix)
            return sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as e:
            raise StorageError(f"failed to list {self.root / prefix}: {e}") from e

    def exists(self, path: str) -> bool:
        return self._abs(path).is_file()

    def upload(self, local_path: str | Path, remote_path: str) -> None:
        target = self._abs(remote_path)
        try:
            with atomic_local_file(target, durable=True) as tmp:
                shutil.copyfile(local_path, tmp)
        except OSError as e:
            raise StorageError(f"failed to upload {local_path} to {target}: {e}") from e

    def download(self, remote_path: str, local_path: str | Path) -> str | None:
        source = self._abs(remote_path)
        self._require(source)
        try:
            with atomic_local_file(local_path) as tmp:
                shutil.copyfile(source, tmp)  # kernel copy; the page cache makes a checksum pass cheap
        except OSError as e:
            raise StorageError(f"failed to download {source} to {local_path}: {e}") from e
        return None

    def put_bytes(self, remote_path: str, data: bytes) -> None:
        target = self._abs(remote_path)
        try:
            with atomic_local_file(target, durable=True) as tmp:
                tmp.write_bytes(data)
        except OSError as e:
            raise StorageError(f"failed to write {target}: {e}") from e

    def get_bytes(self, remote_path: str) -> bytes:
        source = self._abs(remote_path)
        self._require(source)
        try:
            return source.read_bytes()
        except OSError as e:
            raise StorageError(f"failed to read {source}: {e}") from e

    def delete(self, path: str) -> None:
        target = self._abs(path)
        try:
            target.unlink(missing_ok=True)
        except OSError as e:
            raise StorageError(f"failed to delete {target}: {e}") from e
        self._prune(target.parent)

    def delete_prefix(self, prefix: str) -> int:
        files = self.list(prefix)
        for f in files:
            self.delete(f.path)
        # Temporary files of interrupted writes are not listed, but must not keep the directories alive.
        leftovers: list[RemoteFile] = []
        self._scan(prefix, leftovers, tmp_only=True)
        for f in leftovers:
            target = self._abs(f.path)
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            self._prune(target.parent)
        return len(files)

    def rename(self, src: str, dst: str) -> None:
        source, target = self._abs(src), self._abs(dst)
        self._require(source)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
        except OSError as e:
            raise StorageError(f"failed to rename {source} to {target}: {e}") from e
        self._prune(source.parent)

    def copy(self, src: str, dst: str) -> None:
        """Hard-link when the file system allows it: snapshots share unchanged files for free.

        Safe because every write here replaces files by rename and never edits one in place.
        """
        source, target = self._abs(src), self._abs(dst)
        self._require(source)
        try:
            with atomic_local_file(target, durable=True) as tmp:
                try:
                    os.link(source, tmp)
                except OSError as e:
                    if e.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                        raise
                    shutil.copyfile(source, tmp)
        except OSError as e:
            raise StorageError(f"failed to copy {source} to {target}: {e}") from e

    def ping(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"repository directory {self.root} is not usable: {e}") from e
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(f"repository directory {self.root} is not writable")

    def _require(self, path: Path) -> None:
        if not path.is_file():
            raise NotFoundError(f"file does not exist: {path}")

    def _prune(self, directory: Path) -> None:
        """Remove directories left empty, up to the root, so listings match object stores."""
        while directory != self.root and self.root in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent
