"""A small WebHDFS server over a local directory, so the HDFS backend runs in the contract suite.

No real HDFS can run on the test machines (no Hadoop jars, no JVM cluster). This speaks the
subset of the REST protocol the backend uses, including CREATE's 307 redirect to a "DataNode"
(here the same server). It does not model leases, replication, permissions or Kerberos.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

PREFIX = "/webhdfs/v1"


class _Handler(BaseHTTPRequestHandler):
    server: _WebHdfsServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests' output is not the place for an access log."""

    def _target(self) -> tuple[Path, str, dict[str, str]]:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        rel = unquote(parts.path[len(PREFIX) :]).strip("/")
        return self.server.root / rel, query.get("op", "").upper(), query

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _missing(self, path: Path) -> None:
        message = f"File does not exist: /{path.relative_to(self.server.root)}"
        self._json(404, {"RemoteException": {"exception": "FileNotFoundException", "message": message}})

    def _status(self, path: Path) -> dict[str, Any]:
        kind = "DIRECTORY" if path.is_dir() else "FILE"
        size = 0 if path.is_dir() else path.stat().st_size
        return {"pathSuffix": path.name, "type": kind, "length": size}

    def do_GET(self) -> None:
        path, op, query = self._target()
        if not path.exists():
            return self._missing(path)
        if op == "GETFILESTATUS":
            return self._json(200, {"FileStatus": {**self._status(path), "pathSuffix": ""}})
        if op == "LISTSTATUS":
            if path.is_dir():
                statuses = [self._status(c) for c in sorted(path.iterdir())]
            else:
                statuses = [{**self._status(path), "pathSuffix": ""}]
            return self._json(200, {"FileStatuses": {"FileStatus": statuses}})
        if op == "OPEN" and "datanode" not in query:
            return self._redirect()
        if op == "OPEN":
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return None
        return self._json(400, {"RemoteException": {"exception": "IllegalArgumentException", "message": op}})

    def do_PUT(self) -> None:
        path, op, query = self._target()
        if op == "MKDIRS":
            path.mkdir(parents=True, exist_ok=True)
            return self._json(200, {"boolean": True})
        if op == "CREATE" and "datanode" not in query:
            return self._redirect()
        if op == "CREATE":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if op == "RENAME":
            target = self.server.root / query["destination"].strip("/")
            if not path.exists() or target.exists() or not target.parent.is_dir():
                return self._json(200, {"boolean": False})
            path.rename(target)
            return self._json(200, {"boolean": True})
        return self._json(400, {"RemoteException": {"exception": "IllegalArgumentException", "message": op}})

    def do_DELETE(self) -> None:
        path, _, query = self._target()
        if not path.exists():
            return self._json(200, {"boolean": False})
        if path.is_dir() and query.get("recursive", "false").lower() == "true":
            shutil.rmtree(path)
        elif path.is_dir() and any(path.iterdir()):
            message = f"/{path.relative_to(self.server.root)} is non empty"
            return self._json(
                403,
                {"RemoteException": {"exception": "PathIsNotEmptyDirectoryException", "message": message}},
            )
        elif path.is_dir():
            path.rmdir()
        else:
            path.unlink()
        return self._json(200, {"boolean": True})

    def _redirect(self) -> None:
        self.send_response(307)
        self.send_header("Location", f"http://{self.headers['Host']}{self.path}&datanode=true")
        self.send_header("Content-Length", "0")
        self.end_headers()


class _WebHdfsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root


@contextmanager
def webhdfs_server(root: Path) -> Iterator[str]:
    """Serve ``root`` over WebHDFS on a free loopback port; yields ``host:port``."""
    server = _WebHdfsServer(root)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
