"""The storage vault: where the rowset files live in shared mode (Doris 3's storage vault), an S3 prefix.

Every node of a shared cluster writes each new rowset file here before the version that lists it commits,
and fetches a file it lacks from here, verified against the size and md5 the catalog recorded for it. Keys
are the rowset's path below a backend root (``data/<tablet id>/<file>``, ids and the file's own name): the
same on every node and for every replica, so a file is stored once. A backup to, or a restore from, a
repository on the same S3 endpoint copies objects on the server; nothing passes through the node.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from dorisbk.checksum import md5_file
from dorisbk.errors import StorageError
from dorisbk.storage.filesystem import RemoteFileSystem, clean_prefix, remove_stale_tmp, tmp_name
from dorisbk.storage.repository import ChecksumMismatchError
from dorisbk.storage.s3 import S3FileSystem, StoredObject

SCHEMES = ("s3", "s3a")
DATA_PREFIX = "data/"  # every rowset object's key starts so (backend/tablet_store.py's vault_key)


def vault_location(url: str) -> str:
    """``s3://bucket/prefix`` for a ``--storage`` URL (``s3a://`` is the same store, as for repositories); the
    bucket must be named and the prefix pass the repository's path rules (no ``..``, no NUL)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES or not parts.netloc or parts.query or parts.fragment:
        raise StorageError(f"invalid storage location '{url}': expected s3://bucket/prefix")
    try:
        prefix = clean_prefix(parts.path).rstrip("/")
    except StorageError as exc:
        raise StorageError(f"invalid storage location '{url}': {exc.message}") from None
    return f"s3://{parts.netloc}/{prefix}" if prefix else f"s3://{parts.netloc}"


class StorageVault:
    """The rowset objects of a shared cluster under ``s3://bucket/prefix``, through the S3 repository's client
    (its timeouts, retries and error messages)."""

    def __init__(self, url: str, properties: Mapping[str, str]) -> None:
        self.location = vault_location(url)
        self.fs = S3FileSystem(self.location, properties)

    def where(self, key: str) -> str:
        return f"{self.location}/{key}"

    def put(self, local_path: str, key: str) -> None:
        """Store a new rowset file under ``key`` (a replaced object has the same bytes: files never change)."""
        self.fs.upload(local_path, key)

    def rowset_pages(self) -> Iterator[list[StoredObject]]:
        """The rowset objects, a listing page at a time in key order, with their sizes and times (the
        vault's garbage collection, jobs/vault_gc.py)."""
        return self.fs.pages(DATA_PREFIX)

    def delete(self, keys: Sequence[str]) -> None:
        """Delete objects no catalog row references any more (the vault's garbage collection only)."""
        self.fs.delete_many(keys)

    def get(self, key: str, local_path: str, size: int, md5: str) -> None:
        """Fetch ``key`` to ``local_path``, which appears only once its size and md5 are the ones given: a
        tampered or truncated object is refused, never read."""
        target = Path(local_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_tmp(target)
        tmp = target.with_name(tmp_name(target.name))
        try:
            streamed = self.fs.download(key, tmp)
            actual_size = os.path.getsize(tmp)
            actual = streamed or md5_file(tmp)
            if actual_size != size or actual != md5:
                raise ChecksumMismatchError(
                    f"rowset object {self.where(key)} does not match the catalog: {actual_size} bytes with md5 "
                    f"{actual}, expected {size} bytes with md5 {md5}; it is not served"
                )
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def copies_with(self, fs: RemoteFileSystem) -> bool:
        """Whether files move between ``fs`` (a repository's) and the vault by server-side copies."""
        return self.fs.same_endpoint(fs)

    def copy_out(self, key: str, fs: RemoteFileSystem, path: str) -> None:
        """Copy the object ``key`` to ``path`` of a repository on the same endpoint, on the server."""
        if not isinstance(fs, S3FileSystem):
            raise StorageError(f"{fs.location} is not on the storage vault's endpoint")
        fs.copy_from(self.fs, key, path)

    def copy_in(self, fs: RemoteFileSystem, path: str, key: str, md5: str) -> None:
        """Copy a repository's file ``path`` (on the same endpoint) to ``key``, on the server; where the copy's
        ETag is an md5 (a single-part object) it must be ``md5``, else the later fetch verifies it."""
        if not isinstance(fs, S3FileSystem):
            raise StorageError(f"{fs.location} is not on the storage vault's endpoint")
        etag = self.fs.copy_from(fs, path, key) or self.fs.etag(key)
        if "-" not in etag and etag != md5:
            self.fs.delete(key)
            raise ChecksumMismatchError(
                f"invalid md5 of file {fs.location}/{path} copied to {self.where(key)}, expected: {md5}, get: {etag}"
            )
