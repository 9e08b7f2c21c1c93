"""A Doris backup repository on any RemoteFileSystem: its layout, checksummed names and listings.

Backends know nothing of snapshots; this module is the only place that builds repository
paths, so the layout in docs/repository-format.md is implemented once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dorisbk.checksum import md5_bytes, md5_file
from dorisbk.errors import StorageError
from dorisbk.storage.filesystem import (
    NotFoundError,
    RemoteFile,
    RemoteFileSystem,
    remove_stale_tmp,
    tmp_name,
)
from dorisbk.storage.layout import (
    CONTENT_DIR,
    DB_PREFIX,
    INFO_PREFIX,
    META_FILE,
    REPO_INFO_FILE,
    SNAPSHOT_PREFIX,
    RemoteTablet,
    check_id,
    format_create_time,
    info_file_name,
    parse_create_time,
    repo_dir,
    snapshot_dir_name,
    split_checksum,
    strip_checksum,
    with_checksum,
)

# how list_snapshot_timestamps lists an info file whose name has no checksum
INVALID_INFO = "Invalid: "


class NoInfoFileError(NotFoundError):
    """A snapshot has no (matching) ``__info_*`` file; SHOW SNAPSHOT shows ``ERROR: No info file found``."""


class ChecksumMismatchError(StorageError):
    """A file's content does not match the md5 in its name."""


@dataclass(frozen=True)
class UploadResult:
    """Where a file went, its md5, and whether bytes were sent (False: already there)."""

    path: str
    md5: str
    uploaded: bool


class Repository:
    """``<location>/__palo_repository_<name>/`` on a file system. Call ``init()`` before use."""

    def __init__(self, fs: RemoteFileSystem, name: str) -> None:
        self.fs = fs
        self.name = name
        self.root = repo_dir(name)
        self.create_time: datetime | None = None

    # -- the repository itself -------------------------------------------------------------

    def init(self, *, delete_if_exists: bool = False) -> datetime:
        """Adopt an existing ``__repo_info`` (same repository seen from another cluster) or write one.

        ``delete_if_exists`` first wipes the repository directory (Doris's S3 test property).
        Returns the repository's create time.
        """
        if delete_if_exists:
            self.fs.delete_prefix(f"{self.root}/")
        path = f"{self.root}/{REPO_INFO_FILE}"
        # A listing, as Doris does: unlike a HEAD request it carries the server's error code
        # (SignatureDoesNotMatch, InvalidAccessKeyId, NoSuchBucket...) into the message.
        if any(f.path == path for f in self.fs.list(path)):
            self.create_time = self._read_repo_info(path)
        else:
            self.create_time = datetime.now().replace(microsecond=0)
            info = {"name": self.name, "create_time": format_create_time(self.create_time)}
            self.fs.put_bytes(path, json.dumps(info).encode())
        return self.create_time

    def _read_repo_info(self, path: str) -> datetime:
        try:
            value = json.loads(self.fs.get_bytes(path))["create_time"]
        except (ValueError, KeyError, TypeError) as e:
            raise StorageError(f"failed to read repo info file: {e}") from e
        try:
            return parse_create_time(str(value))
        except ValueError as e:
            raise StorageError(f"failed to parse create time of repository: {value}") from e

    def ping(self) -> None:
        """Raise StorageError unless the repository is reachable and still has its ``__repo_info``."""
        path = f"{self.root}/{REPO_INFO_FILE}"
        if not self.fs.exists(path):
            raise StorageError(f"repository info file does not exist: {path}")

    # -- paths ---------------------------------------------------------------------------------

    def snapshot_dir(self, label: str) -> str:
        return f"{self.root}/{snapshot_dir_name(label)}"

    def content_dir(self, label: str) -> str:
        return f"{self.snapshot_dir(label)}/{CONTENT_DIR}"

    def tablet_dir(
        self, label: str, db_id: int, table_id: int, partition_id: int, index_id: int, tablet_id: int
    ) -> str:
        return self._tablet_dir(label, RemoteTablet(db_id, table_id, partition_id, index_id, tablet_id))

    def _tablet_dir(self, label: str, tablet: RemoteTablet) -> str:
        return f"{self.content_dir(label)}/{tablet.path}"

    # -- snapshots -----------------------------------------------------------------------------

    def list_snapshots(self) -> list[str]:
        """Labels of every ``__ss_*`` directory, with or without an info file."""
        dirs = self.fs.list_dirs(self.root)
        return [d[len(SNAPSHOT_PREFIX) :] for d in dirs if d.startswith(SNAPSHOT_PREFIX)]

    def list_snapshot_timestamps(self, label: str) -> list[str]:
        """Timestamps of the label's info files, oldest first, then ``Invalid: <name>`` for info
        files without a checksum (shown as such by SHOW SNAPSHOT). Raises NoInfoFileError if none."""
        valid: list[str] = []
        invalid: list[str] = []
        for f in self._direct_files(self.snapshot_dir(label), INFO_PREFIX):
            name = f.path.rpartition("/")[2]
            parsed = split_checksum(name)
            if parsed is None:
                invalid.append(f"{INVALID_INFO}{name}")
            else:
                valid.append(parsed[0][len(INFO_PREFIX) :])
        if not valid and not invalid:
            raise NoInfoFileError("No info file found")
        return sorted(valid) + invalid

    def write_meta(self, label: str, data: bytes) -> str:
        """Store ``__meta.<md5>`` (one per label: an older one is replaced); returns its path."""
        return self._write_checksummed(self.snapshot_dir(label), META_FILE, data)

    def write_info(self, label: str, timestamp: str, data: bytes) -> str:
        """Store ``__info_<timestamp>.<md5>``; write it last, since it makes the snapshot visible."""
        return self._write_checksummed(self.snapshot_dir(label), info_file_name(timestamp), data)

    def read_meta(self, label: str) -> bytes:
        return self._read_checksummed(self.snapshot_dir(label), META_FILE, NotFoundError)

    def read_info(self, label: str, timestamp: str) -> bytes:
        """The info file of one backup run; NoInfoFileError if that label has no such timestamp."""
        return self._read_checksummed(self.snapshot_dir(label), info_file_name(timestamp), NoInfoFileError)

    def drop_snapshot(self, label: str) -> int:
        """Delete ``__ss_<label>/`` and everything in it; returns the number of files removed."""
        deleted = self.fs.delete_prefix(f"{self.snapshot_dir(label)}/")
        if deleted == 0:
            raise NotFoundError(f"snapshot {label} does not exist in repository {self.name}")
        return deleted

    def snapshot_size(self, label: str) -> int:
        """Bytes of every file of ``__ss_<label>/`` (its content, meta and info files): one listing."""
        return sum(f.size for f in self.fs.list(f"{self.snapshot_dir(label)}/"))

    # -- snapshot content ----------------------------------------------------------------------

    def file_names(self, directory: str) -> set[str]:
        """Names of the files directly in ``directory`` (one listing)."""
        return {f.path.rpartition("/")[2] for f in self._direct_files(directory, "")}

    def upload_file_checked(
        self,
        local_path: str | Path,
        remote_dir: str,
        name: str,
        md5: str | None = None,
        existing: Set[str] | None = None,
    ) -> UploadResult:
        """Upload ``local_path`` as ``<remote_dir>/<name>.<md5>`` unless that file is already there.

        ``existing`` holds the names already in ``remote_dir`` (from one listing), which saves a
        request per file; without it each file is checked on its own.
        """
        md5 = md5 or md5_file(local_path)
        stored = with_checksum(name, md5)
        path = f"{remote_dir}/{stored}"
        present = stored in existing if existing is not None else self.fs.exists(path)
        if not present:
            self.fs.upload(local_path, path)
        return UploadResult(path, md5, uploaded=not present)

    def copy_from_previous(self, previous_label: str, label: str, rel_path: str) -> bool:
        """Server-side copy of ``__ss_content/<rel_path>`` from an earlier snapshot of the same data.

        The checksum in the name makes equal names equal content, so nothing is re-uploaded.
        Returns False when the earlier snapshot lacks the file (the caller then uploads it).
        """
        strip_checksum(rel_path.rpartition("/")[2])
        try:
            self.fs.copy(f"{self.content_dir(previous_label)}/{rel_path}", f"{self.content_dir(label)}/{rel_path}")
        except NotFoundError:
            return False
        return True

    def download_file_checked(self, remote_path: str, local_path: str | Path) -> str:
        """Download a checksummed file and verify it before it appears at ``local_path``; returns the md5."""
        local = Path(local_path)
        local.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_tmp(local)
        self.download_checked_files([(remote_path, local)], lambda _index: None)
        return _expected_md5(remote_path)

    def download_checked_files(
        self, files: Sequence[tuple[str, Path]], each: Callable[[int], None], *, in_place: bool = False
    ) -> None:
        """Download ``(remote path, local path)`` pairs of checksummed files, each verified before it appears at
        its local path, calling ``each(i)`` after the i-th.

        With ``in_place`` (the local paths must not exist) each file is written at its local path and verified
        there, and one that fails goes: for a dir nothing reads before the caller has all of it (a restore's
        snapshot dir, whose files a resumed download checks again). The temporary name and the rename per file
        were a tenth of the kernel's time in a restore of many small tablets, in a dir every worker renames in."""
        expected = [_expected_md5(remote_path) for remote_path, _ in files]
        targets = [local if in_place else local.with_name(tmp_name(local.name)) for _, local in files]
        placed = 0  # files verified (and renamed into place) so far, in order

        def fetched(index: int, md5: str | None) -> None:
            nonlocal placed
            target = targets[index]
            actual = md5 or md5_file(target)
            if actual != expected[index]:
                raise ChecksumMismatchError(
                    f"invalid md5 of downloaded file: {files[index][0]}, expected: {expected[index]}, get: {actual}"
                )
            if not in_place:
                os.replace(target, files[index][1])
            placed = index + 1
            each(index)

        try:
            self.fs.download_files(
                [(remote, target) for (remote, _), target in zip(files, targets, strict=True)], fetched
            )
        except BaseException:
            for target in targets[placed:]:
                target.unlink(missing_ok=True)
            raise

    # -- a tablet's files in a snapshot: what backup uploads and restore downloads ----------------

    def tablet_files(self, label: str, tablet: RemoteTablet) -> set[str]:
        """Checksummed names of the tablet's files in the snapshot (one listing)."""
        return self.file_names(self._tablet_dir(label, tablet))

    def snapshot_tablet_files(self, label: str, db_id: int) -> dict[str, set[str]]:
        """Checksummed names of the snapshot's tablet files of database ``db_id``, by tablet path: one listing
        for a whole job instead of one per tablet (a request each on S3)."""
        return {tablet: set(sizes) for tablet, sizes in self.snapshot_tablet_sizes(label, db_id).items()}

    def snapshot_tablet_sizes(self, label: str, db_id: int) -> dict[str, dict[str, int]]:
        """The sizes of the snapshot's tablet files of database ``db_id``, by tablet path and checksummed name
        (one listing)."""
        start = f"{self.content_dir(label)}/"
        found: dict[str, dict[str, int]] = {}
        for f in self.fs.list(f"{start}{DB_PREFIX}{check_id(db_id)}/"):
            tablet, _, name = f.path[len(start) :].rpartition("/")
            found.setdefault(tablet, {})[name] = f.size
        return found

    def tablet_file(self, label: str, tablet: RemoteTablet, stored: str) -> str:
        """The path of the tablet's file ``stored`` (a checksummed name) in the snapshot."""
        return f"{self._tablet_dir(label, tablet)}/{stored}"

    def holds(self, path: str, md5: str) -> bool:
        """Whether a listed file holds the content its checksummed name ``md5`` says: read through where the
        file system does not vouch for names (a local disk after a crash)."""
        return self.fs.names_trusted or self.fs.md5(path) == md5

    def copy_tablet_file(self, previous_label: str, label: str, tablet: RemoteTablet, stored: str) -> bool:
        """Copy the tablet's file ``stored`` from an earlier snapshot (see ``copy_from_previous``)."""
        return self.copy_from_previous(previous_label, label, f"{tablet.path}/{stored}")

    # -- helpers -------------------------------------------------------------------------------

    def _direct_files(self, directory: str, name_prefix: str) -> list[RemoteFile]:
        """Files directly in ``directory`` whose names start with ``name_prefix``."""
        start = f"{directory}/"
        found = self.fs.list(start + name_prefix)
        return [f for f in found if "/" not in f.path[len(start) :]]

    def _checksummed(self, directory: str, base: str) -> list[RemoteFile]:
        """Files ``<directory>/<base>.<md5>`` for any md5."""
        return [
            f
            for f in self._direct_files(directory, base)
            if (parsed := split_checksum(f.path.rpartition("/")[2])) and parsed[0] == base
        ]

    def _write_checksummed(self, directory: str, base: str, data: bytes) -> str:
        path = f"{directory}/{with_checksum(base, md5_bytes(data))}"
        stale = [f.path for f in self._checksummed(directory, base) if f.path != path]
        self.fs.put_bytes(path, data)
        for old in stale:
            self.fs.delete(old)
        return path

    def _read_checksummed(self, directory: str, base: str, missing: type[NotFoundError]) -> bytes:
        path = f"{directory}/{base}"
        found = self._checksummed(directory, base)
        if len(found) != 1:
            error = missing if not found else StorageError
            raise error(f"Expected one file with path: {path}. get: {len(found)}")
        return self.read_checked(found[0].path)

    def read_checked(self, stored: str) -> bytes:
        """A small checksummed file's content, verified against the md5 in its name."""
        expected = _expected_md5(stored)
        data = self.fs.get_bytes(stored)
        actual = md5_bytes(data)
        if actual != expected:
            raise ChecksumMismatchError(f"md5sum does not equal for {stored}. local: {actual}, remote: {expected}")
        return data


def _expected_md5(remote_path: str) -> str:
    """The md5 a checksummed file's name says its content has."""
    parsed = split_checksum(remote_path.rpartition("/")[2])
    if parsed is None:
        raise StorageError(f"file name should contains checksum: {remote_path}")
    return parsed[1]
