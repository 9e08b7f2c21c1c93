"""A repository on HDFS, spoken to over the NameNode's WebHDFS REST API with the standard library.

WebHDFS needs no JVM or libhdfs, which this project cannot ship. Only simple authentication
(``user.name``) is supported; a Kerberos cluster is refused with a clear error.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urlsplit
from urllib.request import Request, urlopen

from dorisbk.errors import StorageError
from dorisbk.storage.filesystem import (
    NotFoundError,
    RemoteFile,
    RemoteFileSystem,
    atomic_local_file,
    clean_path,
    clean_prefix,
)
from dorisbk.storage.layout import is_name

DEFAULT_HTTP_PORT = 9870
TIMEOUT_S = 30
STREAM_CHUNK = 1024 * 1024


class HdfsFileSystem(RemoteFileSystem):
    """Files under ``hdfs://host:port/path``; the NameNode's HTTP address comes from
    ``dfs.namenode.http-address`` or is the location's host on port 9870."""

    kind = "HDFS"

    def __init__(self, location: str, properties: Mapping[str, str]) -> None:
        parts = urlsplit(location)
        if parts.scheme != "hdfs":
            raise StorageError(f"invalid HDFS location '{location}': expected hdfs://host:port/path")
        if (properties.get("hadoop.security.authentication") or "simple").lower() != "simple":
            raise StorageError("HDFS repositories support only simple authentication (hadoop.username), not Kerberos")
        host = parts.hostname or urlsplit(properties.get("fs.defaultFS", "")).hostname
        http_address = properties.get("dfs.namenode.http-address") or (host and f"{host}:{DEFAULT_HTTP_PORT}")
        if not http_address:
            raise StorageError(f"HDFS location '{location}' names no NameNode; set fs.defaultFS")
        self.location = location
        self.base_url = f"http://{http_address}/webhdfs/v1"
        self.user = properties.get("hadoop.username")
        root = clean_prefix(parts.path).rstrip("/")
        self.root = f"/{root}" if root else ""

    def _abs(self, path: str) -> str:
        return f"{self.root}/{clean_path(path)}"

    def _url(self, abs_path: str, op: str, **params: str) -> str:
        query = {"op": op, **params}
        if self.user:
            query["user.name"] = self.user
        return f"{self.base_url}{quote(abs_path or '/')}?{urlencode(query)}"

    def _call(self, method: str, abs_path: str, op: str, params: Mapping[str, str] | None = None) -> Any:
        """One JSON WebHDFS call; 404 becomes NotFoundError, connection failures a clear StorageError."""
        request = Request(self._url(abs_path, op, **(params or {})), method=method)
        try:
            with urlopen(request, timeout=TIMEOUT_S) as response:
                body = response.read()
        except HTTPError as e:
            raise self._error(e, f"{op} {abs_path}") from e
        except (URLError, OSError) as e:
            raise self._unreachable(e) from e
        return json.loads(body) if body else None

    def _unreachable(self, e: Exception) -> StorageError:
        reason = getattr(e, "reason", e)
        return StorageError(f"cannot reach HDFS NameNode at {self.base_url}: {reason}")

    @staticmethod
    def _error(e: HTTPError, action: str) -> StorageError:
        try:
            remote = json.loads(e.read() or b"{}").get("RemoteException", {})
        except ValueError:
            remote = {}
        detail = remote.get("message") or e.reason
        if e.code == 404 or remote.get("exception") == "FileNotFoundException":
            return NotFoundError(f"failed to {action}: file does not exist")
        return StorageError(f"failed to {action} on HDFS: {e.code} {detail}")

    def _status(self, abs_path: str) -> dict[str, Any] | None:
        try:
            return dict(self._call("GET", abs_path, "GETFILESTATUS")["FileStatus"])
        except NotFoundError:
            return None

    def _children(self, abs_path: str) -> list[dict[str, Any]]:
        """Files and directories in a directory; none for a missing path or a file (which lists as itself,
        unnamed). Names come from the server: one that is not a plain name (``..``, ``a/b``) is left out, and so
        are symbolic links, which repository code never follows."""
        try:
            statuses = self._call("GET", abs_path, "LISTSTATUS")["FileStatuses"]["FileStatus"]
        except NotFoundError:
            return []
        return [s for s in statuses if is_name(s.get("pathSuffix")) and s.get("type") in ("FILE", "DIRECTORY")]

    def list(self, prefix: str = "") -> list[RemoteFile]:
        prefix = clean_prefix(prefix)
        parent, _, stem = prefix.rpartition("/")
        found: list[RemoteFile] = []
        for child in self._children(f"{self.root}/{parent}" if parent else self.root):
            if child["pathSuffix"].startswith(stem):
                self._collect(child, f"{parent}/{child['pathSuffix']}" if parent else child["pathSuffix"], found)
        return sorted(found, key=lambda f: f.path)

    def _collect(self, status: dict[str, Any], rel: str, found: list[RemoteFile]) -> None:
        if status["type"] == "DIRECTORY":
            for child in self._children(f"{self.root}/{rel}"):
                self._collect(child, f"{rel}/{child['pathSuffix']}", found)
        else:
            found.append(RemoteFile(rel, int(status["length"])))

    def list_dirs(self, path: str = "") -> list[str]:
        directory = clean_prefix(path).rstrip("/")
        children = self._children(f"{self.root}/{directory}" if directory else self.root)
        return sorted(c["pathSuffix"] for c in children if c["type"] == "DIRECTORY")

    def exists(self, path: str) -> bool:
        status = self._status(self._abs(path))
        return status is not None and status["type"] == "FILE"

    def upload(self, local_path: str | Path, remote_path: str) -> None:
        try:
            with open(local_path, "rb") as f:
                self._create(self._abs(remote_path), f, os.fstat(f.fileno()).st_size)
        except OSError as e:
            raise StorageError(f"failed to upload {local_path}: {e}") from e

    def _create(self, abs_path: str, data: BinaryIO | bytes, size: int) -> None:
        """CREATE is two steps: the NameNode answers 307 with the DataNode URL that takes the bytes."""
        request = Request(self._url(abs_path, "CREATE", overwrite="true"), method="PUT")
        try:
            with urlopen(request, timeout=TIMEOUT_S) as response:
                raise StorageError(f"failed to create {abs_path}: NameNode answered {response.status}, not a redirect")
        except HTTPError as e:
            if e.code != 307:
                raise self._error(e, f"create {abs_path}") from e
            datanode_url = e.headers["Location"]
        except URLError as e:
            raise self._unreachable(e) from e
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        put = Request(datanode_url, data=data, headers=headers, method="PUT")
        try:
            with urlopen(put, timeout=TIMEOUT_S):
                pass
        except HTTPError as e:
            raise self._error(e, f"write {abs_path}") from e
        except URLError as e:
            raise StorageError(f"failed to write {abs_path}: cannot reach DataNode {datanode_url}: {e.reason}") from e

    def _open(self, abs_path: str) -> Any:
        try:
            return urlopen(Request(self._url(abs_path, "OPEN"), method="GET"), timeout=TIMEOUT_S)
        except HTTPError as e:
            raise self._error(e, f"read {abs_path}") from e
        except URLError as e:
            raise self._unreachable(e) from e

    def download(self, remote_path: str, local_path: str | Path) -> str | None:
        abs_path = self._abs(remote_path)
        digest = hashlib.md5(usedforsecurity=False)
        try:
            with (
                self._open(abs_path) as response,
                atomic_local_file(local_path) as tmp,
                open(tmp, "wb") as out,
            ):
                while chunk := response.read(STREAM_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        except (OSError, http.client.HTTPException) as e:
            raise StorageError(f"failed to download {abs_path} to {local_path}: {e}") from e
        return digest.hexdigest()

    def put_bytes(self, remote_path: str, data: bytes) -> None:
        self._create(self._abs(remote_path), data, len(data))

    def get_bytes(self, remote_path: str) -> bytes:
        abs_path = self._abs(remote_path)
        try:
            with self._open(abs_path) as response:
                return bytes(response.read())
        except (OSError, http.client.HTTPException) as e:
            raise StorageError(f"failed to read {abs_path}: {e}") from e

    def delete(self, path: str) -> None:
        abs_path = self._abs(path)
        self._call("DELETE", abs_path, "DELETE", {"recursive": "false"})
        self._prune(abs_path.rpartition("/")[0])

    def delete_prefix(self, prefix: str) -> int:
        prefix = clean_prefix(prefix)
        files = self.list(prefix)
        parent, _, stem = prefix.rpartition("/")
        parent_path = f"{self.root}/{parent}" if parent else self.root
        for child in self._children(parent_path):
            if child["pathSuffix"].startswith(stem):
                self._call("DELETE", f"{parent_path}/{child['pathSuffix']}", "DELETE", {"recursive": "true"})
        if parent:
            self._prune(parent_path)
        return len(files)

    def rename(self, src: str, dst: str) -> None:
        source, target = self._abs(src), self._abs(dst)
        if not self.exists(src):
            raise NotFoundError(f"failed to rename {source}: file does not exist")
        if source == target:
            return
        self._call("PUT", target.rpartition("/")[0] or "/", "MKDIRS")
        self._call("DELETE", target, "DELETE", {"recursive": "false"})
        if not self._call("PUT", source, "RENAME", {"destination": target})["boolean"]:
            raise StorageError(f"failed to rename {source} to {target} on HDFS")
        self._prune(source.rpartition("/")[0])

    def copy(self, src: str, dst: str) -> None:
        """WebHDFS has no server-side copy, so the bytes pass through a local temporary file."""
        with tempfile.TemporaryDirectory(prefix="dorisbk-hdfs-copy-") as tmp_dir:
            tmp = Path(tmp_dir) / "data"
            self.download(src, tmp)
            self.upload(tmp, dst)

    def ping(self) -> None:
        self._status(self.root or "/")

    def _prune(self, abs_dir: str) -> None:
        """Remove directories left empty, up to the root, so listings match object stores."""
        while abs_dir.startswith(f"{self.root}/") and not self._children(abs_dir):
            try:
                self._call("DELETE", abs_dir, "DELETE", {"recursive": "false"})
            except StorageError:
                return  # a writer filled it meanwhile
            abs_dir = abs_dir.rpartition("/")[0]
