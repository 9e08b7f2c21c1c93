"""A repository in a local (or mounted) directory, for tests, single machines and NFS.

Below the root no symbolic link is ever followed: every path is walked one directory at a
time from a descriptor of the root (``openat`` with ``O_NOFOLLOW``), and files are opened,
linked, renamed and unlinked relative to their directory's descriptor. A link planted in the
repository (a label dir pointing at ``/etc``, a file pointing at a secret) is refused with
``SymlinkError``, never written, deleted or read through.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dorisbk.checksum import CHUNK, md5_stream
from dorisbk.durable import syncfs
from dorisbk.errors import StorageError
from dorisbk.storage.filesystem import (
    TMP_SUFFIX,
    NotFoundError,
    RemoteFile,
    RemoteFileSystem,
    SymlinkError,
    atomic_local_file,
    clean_path,
    clean_prefix,
    stale_tmp_names,
    tmp_name,
)
from dorisbk.storage.layout import is_name

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO planted in the repository fails the regular-file check instead of blocking the open.
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_COPY_CHUNK = 64 * 1024 * 1024
_LINK_UNSUPPORTED = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP)


def local_root(location: str) -> Path:
    """The directory a ``file:///absolute/path`` location names."""
    parts = urlsplit(location)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
        raise StorageError(f"invalid local location '{location}': expected file:///absolute/path")
    return Path(unquote(parts.path).rstrip("/") or "/")


def _copy(src: int, dst: int) -> None:
    """Copy the rest of ``src`` to ``dst`` in the kernel, as ``shutil.copyfile`` does between paths."""
    while os.sendfile(dst, src, None, _COPY_CHUNK) > 0:
        pass


def _copy_hashed(src: int, dst: int) -> str:
    """Copy the rest of ``src`` to ``dst`` through memory, returning the md5 of the bytes: a download is
    verified by its checksum, and hashing while copying reads the file once, where a kernel copy and a
    checksum pass over the new file read it twice."""
    digest = hashlib.md5(usedforsecurity=False)
    while chunk := os.read(src, CHUNK):
        digest.update(chunk)
        _write_all(dst, chunk)
    return digest.hexdigest()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _new_file(dir_fd: int, name: str, fill: Callable[[int], None], *, durable: bool = True) -> None:
    """Create file ``name`` in an open directory, write it with ``fill(fd)`` and, if ``durable``, flush it to
    disk (else the caller's ``sync()`` does, for a whole batch at once)."""
    fd = os.open(name, _CREATE_FLAGS, 0o666, dir_fd=dir_fd)
    try:
        fill(fd)
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def _copy_from(local_path: str | Path) -> Callable[[int], None]:
    """A ``fill`` that copies a local file in."""

    def fill(fd: int) -> None:
        source = os.open(local_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _copy(source, fd)
        finally:
            os.close(source)

    return fill


class _Walk:
    """Descriptors of the root and of each directory along the last path entered.

    A batch of files in nearby directories (the tablets of one snapshot) reopens only the parts of each
    path that it does not share with the one before: a tablet's dir chain is eight directories deep.
    """

    def __init__(self, fs: LocalFileSystem, create: bool) -> None:
        self.fs = fs
        self.create = create
        try:
            root = os.open(fs.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            if not create:
                raise
            fs.root.mkdir(parents=True, exist_ok=True)  # the location itself is the administrator's choice
            root = os.open(fs.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self.fds = [root]
        self.parts: list[str] = []
        self.fresh = False  # the last directory entered was made by this walk, so it holds nothing else

    def enter(self, parts: Sequence[str]) -> list[int]:
        """Open (with ``create``, make) the directories ``parts`` names; ``fds[i]`` is ``parts[i - 1]``'s. A
        missing part raises FileNotFoundError or NotADirectoryError, a symbolic link SymlinkError."""
        shared = 0
        while shared < min(len(parts), len(self.parts)) and parts[shared] == self.parts[shared]:
            shared += 1
        if shared == len(parts) == len(self.parts):
            return self.fds
        for fd in self.fds[shared + 1 :]:
            os.close(fd)
        del self.fds[shared + 1 :], self.parts[shared:]
        self.fresh = False
        for depth in range(shared, len(parts)):
            self.fresh = False
            if self.create:
                try:
                    os.mkdir(parts[depth], dir_fd=self.fds[-1])
                    self.fresh = True
                except FileExistsError:
                    pass
            self.fds.append(self.fs._open_at(self.fds[-1], parts[depth], _DIR_FLAGS, parts[: depth + 1]))
            self.parts.append(parts[depth])
        return self.fds

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds, self.parts = [], []


def _place_in(parent: int, name: str, make: Callable[[int, str], None], *, fresh: bool, direct: bool = False) -> None:
    """Create file ``name`` in the open directory ``parent`` as ``make(parent, temporary name)``, then rename
    it into place; first remove what a killed writer of the same name left, unless the dir is ``fresh``.

    With ``direct``, a file in a ``fresh`` dir is made under its own name (a snapshot's tablet file: nothing
    reads it before the snapshot's info file is written, and an upload resumed after a crash keeps a file it
    finds only once its content matches its checksummed name, Repository.holds). In a backup of 30,000 small
    tablets the rename was 3% of the server's samples (perf) and making the temporary name 2% more."""
    if fresh and direct:
        try:
            make(parent, name)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(name, dir_fd=parent)
            raise
        return
    if not fresh:
        with os.scandir(parent) as entries:
            stale = stale_tmp_names(name, [e.name for e in entries])
        for old in stale:
            with suppress(OSError):
                os.unlink(old, dir_fd=parent)
    tmp = tmp_name(name)
    try:
        make(parent, tmp)
        os.replace(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=parent)
        raise


class LocalFileSystem(RemoteFileSystem):
    """Files under a root directory given as ``file:///abs/path``.

    Writes go to a temporary name and are renamed into place after an fsync, so a crash
    never leaves a truncated file under its final name.
    """

    kind = "LOCAL"
    names_trusted = False
    remote = False

    def __init__(self, location: str) -> None:
        self.location = location
        self.root = local_root(location)

    # -- walking below the root without following links ------------------------------------

    @contextmanager
    def _walk(self, *, create: bool = False) -> Iterator[_Walk]:
        walk = _Walk(self, create)
        try:
            yield walk
        finally:
            walk.close()

    @contextmanager
    def _dirs(self, parts: Sequence[str], *, create: bool = False) -> Iterator[list[int]]:
        """Descriptors of the root and of each directory ``parts`` names below it (the last one is
        ``parts``' own); ``create`` makes missing ones (see ``_Walk.enter``)."""
        with self._walk(create=create) as walk:
            yield walk.enter(parts)

    def _open_at(self, dir_fd: int, name: str, flags: int, rel: Sequence[str]) -> int:
        """``openat`` that names a symbolic link in its error instead of following it."""
        try:
            return os.open(name, flags, dir_fd=dir_fd)
        except OSError:
            self._refuse_link(dir_fd, name, rel)
            raise

    def _refuse_link(self, dir_fd: int, name: str, rel: Sequence[str]) -> None:
        with suppress(OSError):
            if stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode):
                raise SymlinkError(f"symbolic link in repository refused: {self.root.joinpath(*rel)}")

    def _split(self, path: str) -> tuple[list[str], str]:
        """The directories of a file path and its name."""
        parts = clean_path(path).split("/")
        return parts[:-1], parts[-1]

    def _regular(self, dir_fd: int, name: str, rel: Sequence[str]) -> None:
        """Raise unless ``name`` is a regular file: NotFoundError when it is missing or something else,
        SymlinkError when it is a link."""
        try:
            mode = os.lstat(name, dir_fd=dir_fd).st_mode
        except FileNotFoundError:
            raise NotFoundError(f"file does not exist: {self.root.joinpath(*rel)}") from None
        if stat.S_ISLNK(mode):
            raise SymlinkError(f"symbolic link in repository refused: {self.root.joinpath(*rel)}")
        if not stat.S_ISREG(mode):
            raise NotFoundError(f"file does not exist: {self.root.joinpath(*rel)}")

    def _open_file(self, walk: _Walk, path: str) -> int:
        """A descriptor of the regular file at ``path``, reached through ``walk``."""
        dirs, name = self._split(path)
        try:
            fd = self._open_at(walk.enter(dirs)[-1], name, _READ_FLAGS, [*dirs, name])
        except (FileNotFoundError, NotADirectoryError):
            raise NotFoundError(f"file does not exist: {self.root / path}") from None
        except OSError as e:
            raise StorageError(f"failed to read {self.root / path}: {e}") from e
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise NotFoundError(f"file does not exist: {self.root / path}")
        return fd

    @contextmanager
    def _reader(self, path: str) -> Iterator[int]:
        """A descriptor of the regular file at ``path``."""
        try:
            with self._walk() as walk:
                fd = self._open_file(walk, path)
        except FileNotFoundError:  # the location itself
            raise NotFoundError(f"file does not exist: {self.root / path}") from None
        try:
            yield fd
        finally:
            os.close(fd)

    def _place(self, path: str, make: Callable[[int, str], None]) -> None:
        """Create the file at ``path`` as ``make(dir_fd, temporary name)`` and rename it into place, so that
        a reader never sees part of it."""
        dirs, name = self._split(path)
        with self._walk(create=True) as walk:
            _place_in(walk.enter(dirs)[-1], name, make, fresh=walk.fresh)

    def _fill(self, path: str, fill: Callable[[int], None]) -> None:
        """Write a new file at ``path`` with ``fill(fd)``, flushed to disk before it appears."""
        self._place(path, lambda dir_fd, tmp: _new_file(dir_fd, tmp, fill))

    def _prune(self, fds: Sequence[int], dirs: Sequence[str]) -> None:
        """Remove directories left empty, up to the root, so listings match object stores (``fds[i]`` is
        the descriptor of ``dirs[i]``'s parent)."""
        for depth in reversed(range(len(dirs))):
            try:
                os.rmdir(dirs[depth], dir_fd=fds[depth])
            except OSError:
                return

    # -- the RemoteFileSystem operations ------------------------------------------------------

    def list(self, prefix: str = "") -> list[RemoteFile]:
        found: list[RemoteFile] = []
        self._scan(prefix, found, tmp_only=False)
        return sorted(found, key=lambda f: f.path)

    def _scan(self, prefix: str, found: list[RemoteFile], tmp_only: bool) -> None:
        prefix = clean_prefix(prefix)
        parent, _, stem = prefix.rpartition("/")
        try:
            with self._dirs(parent.split("/") if parent else []) as fds:
                self._collect_dir(fds[-1], parent, stem, found, tmp_only)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as e:
            raise StorageError(f"failed to list {self.root / parent}: {e}") from e

    def _collect_dir(self, dir_fd: int, rel: str, stem: str, found: list[RemoteFile], tmp_only: bool) -> None:
        """Add the files (or with ``tmp_only`` the temporary files) of an open directory whose names start
        with ``stem``, at any depth; entries deleted meanwhile are skipped, links refused."""
        with os.scandir(dir_fd) as scan:
            entries = [e for e in scan if e.name.startswith(stem) and is_name(e.name)]
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            is_tmp = entry.name.endswith(TMP_SUFFIX)
            if is_tmp and not tmp_only:
                continue
            try:
                if entry.is_symlink():
                    raise SymlinkError(f"symbolic link in repository refused: {self.root / path}")
                if entry.is_dir(follow_symlinks=False):
                    child = self._open_at(dir_fd, entry.name, _DIR_FLAGS, path.split("/"))
                    try:
                        self._collect_dir(child, path, "", found, tmp_only)
                    finally:
                        os.close(child)
                elif entry.is_file(follow_symlinks=False) and is_tmp == tmp_only:
                    found.append(RemoteFile(path, entry.stat(follow_symlinks=False).st_size))
            except FileNotFoundError:
                continue

    def list_dirs(self, path: str = "") -> list[str]:
        prefix = clean_prefix(path).rstrip("/")
        try:
            with self._dirs(prefix.split("/") if prefix else []) as fds, os.scandir(fds[-1]) as entries:
                return sorted(e.name for e in entries if is_name(e.name) and e.is_dir(follow_symlinks=False))
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as e:
            raise StorageError(f"failed to list {self.root / prefix}: {e}") from e

    def exists(self, path: str) -> bool:
        dirs, name = self._split(path)
        try:
            with self._dirs(dirs) as fds:
                mode = os.lstat(name, dir_fd=fds[-1]).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as e:
            raise StorageError(f"failed to stat {self.root / path}: {e}") from e
        return stat.S_ISREG(mode)

    def upload(self, local_path: str | Path, remote_path: str) -> None:
        try:
            self._fill(remote_path, _copy_from(local_path))
        except OSError as e:
            raise StorageError(f"failed to upload {local_path} to {self.root / remote_path}: {e}") from e

    def upload_files(self, files: Sequence[tuple[str | Path | bytes, str]], each: Callable[[int], None]) -> None:
        """One walk for the batch, and no fsync per file: ``sync()`` flushes the batch's files at once (an fsync
        each was most of a backup of many small tablets)."""
        remote_path = ""
        try:
            with self._walk(create=True) as walk:
                for index, (source, remote_path) in enumerate(files):
                    dirs, name = self._split(remote_path)
                    fill = partial(_write_all, data=source) if isinstance(source, bytes) else _copy_from(source)
                    make = partial(_new_file, fill=fill, durable=False)
                    _place_in(walk.enter(dirs)[-1], name, make, fresh=walk.fresh, direct=True)
                    each(index)
        except OSError as e:
            raise StorageError(f"failed to write {self.root / remote_path}: {e}") from e

    def sync(self) -> None:
        try:
            syncfs(self.root)
        except OSError as e:
            raise StorageError(f"failed to sync repository directory {self.root}: {e}") from e

    def download(self, remote_path: str, local_path: str | Path) -> str | None:
        with self._reader(remote_path) as src:
            try:
                with atomic_local_file(local_path) as tmp, open(tmp, "wb") as out:
                    return _copy_hashed(src, out.fileno())
            except OSError as e:
                raise StorageError(f"failed to download {self.root / remote_path} to {local_path}: {e}") from e

    def md5(self, remote_path: str) -> str:
        with self._reader(remote_path) as fd:
            try:
                with open(fd, "rb", closefd=False) as f:
                    return md5_stream(f)
            except OSError as e:
                raise StorageError(f"failed to read {self.root / remote_path}: {e}") from e

    def download_files(self, files: Sequence[tuple[str, Path]], each: Callable[[int, str | None], None]) -> None:
        """One walk of the repository for the batch."""
        remote_path, local_path = "", Path()
        try:
            with self._walk() as walk:
                for index, (remote_path, local_path) in enumerate(files):
                    src = self._open_file(walk, remote_path)
                    try:
                        out = os.open(local_path, _CREATE_FLAGS, 0o644)
                        try:
                            md5 = _copy_hashed(src, out)
                        finally:
                            os.close(out)
                    finally:
                        os.close(src)
                    each(index, md5)
        except FileNotFoundError:  # the location itself
            raise NotFoundError(f"file does not exist: {self.root / remote_path}") from None
        except OSError as e:
            raise StorageError(f"failed to download {self.root / remote_path} to {local_path}: {e}") from e

    def put_bytes(self, remote_path: str, data: bytes) -> None:
        try:
            self._fill(remote_path, lambda fd: _write_all(fd, data))
        except OSError as e:
            raise StorageError(f"failed to write {self.root / remote_path}: {e}") from e

    def get_bytes(self, remote_path: str) -> bytes:
        with self._reader(remote_path) as fd:
            try:
                with open(fd, "rb", closefd=False) as f:
                    return f.read()
            except OSError as e:
                raise StorageError(f"failed to read {self.root / remote_path}: {e}") from e

    def delete(self, path: str) -> None:
        """Unlink never follows a link: a link planted in the repository goes, its target stays."""
        dirs, name = self._split(path)
        try:
            with self._dirs(dirs) as fds:
                with suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=fds[-1])
                self._prune(fds, dirs)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as e:
            raise StorageError(f"failed to delete {self.root / path}: {e}") from e

    def delete_prefix(self, prefix: str) -> int:
        files = self.list(prefix)
        for f in files:
            self.delete(f.path)
        # Temporary files of interrupted writes are not listed, but must not keep the directories alive.
        leftovers: list[RemoteFile] = []
        self._scan(prefix, leftovers, tmp_only=True)
        for f in leftovers:
            self.delete(f.path)
        return len(files)

    def rename(self, src: str, dst: str) -> None:
        src_dirs, src_name = self._split(src)
        dst_dirs, dst_name = self._split(dst)
        try:
            with self._dirs(src_dirs) as src_fds:
                self._regular(src_fds[-1], src_name, [*src_dirs, src_name])
                with self._dirs(dst_dirs, create=True) as dst_fds:
                    os.replace(src_name, dst_name, src_dir_fd=src_fds[-1], dst_dir_fd=dst_fds[-1])
                self._prune(src_fds, src_dirs)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFoundError(f"file does not exist: {self.root / src}") from None
        except OSError as e:
            raise StorageError(f"failed to rename {self.root / src} to {self.root / dst}: {e}") from e

    def copy(self, src: str, dst: str) -> None:
        """Hard-link when the file system allows it: snapshots share unchanged files for free.

        Safe because every write here replaces files by rename and never edits one in place.
        """
        src_dirs, src_name = self._split(src)

        def make(src_dir: int, dir_fd: int, tmp: str) -> None:
            try:
                os.link(src_name, tmp, src_dir_fd=src_dir, dst_dir_fd=dir_fd, follow_symlinks=False)
            except OSError as e:
                if e.errno not in _LINK_UNSUPPORTED:
                    raise
                source = os.open(src_name, _READ_FLAGS, dir_fd=src_dir)
                try:
                    _new_file(dir_fd, tmp, lambda fd: _copy(source, fd))
                finally:
                    os.close(source)

        try:
            with self._dirs(src_dirs) as src_fds:
                self._regular(src_fds[-1], src_name, [*src_dirs, src_name])
                self._place(dst, lambda dir_fd, tmp: make(src_fds[-1], dir_fd, tmp))
        except (FileNotFoundError, NotADirectoryError):
            raise NotFoundError(f"file does not exist: {self.root / src}") from None
        except OSError as e:
            raise StorageError(f"failed to copy {self.root / src} to {self.root / dst}: {e}") from e

    def ping(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"repository directory {self.root} is not usable: {e}") from e
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(f"repository directory {self.root} is not writable")
