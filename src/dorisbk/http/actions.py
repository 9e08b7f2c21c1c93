"""What each HTTP path answers, and who may ask (Doris's REST actions).

Logins are HTTP Basic with the MySQL accounts; the backup pages and APIs need ADMIN, as Doris's
``/api/show_proc`` does; ``/metrics`` needs no login, as on Doris's FE. JSON answers have Doris's
envelope ``{"msg", "code", "data", "count"}``; a statement's failure is Doris's ``code: 1`` with the
message as data. Unlike Doris (HTTP 200 with the code in the body), a refused login also has its HTTP
status, 401 or 403, so that browsers ask for a password and scripts can tell."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from pathlib import PurePosixPath
from typing import Any

from dorisbk.auth.users import User
from dorisbk.engine.result import Result, SessionContext
from dorisbk.env import Env
from dorisbk.errors import DorisError
from dorisbk.http import backup_view, pages, prometheus
from dorisbk.http.server import Request, Response
from dorisbk.sql.backup_stmts import ShowBackupStmt, ShowRepositoriesStmt, ShowRestoreStmt
from dorisbk.sql.handlers import backup as backup_handlers
from dorisbk.sql.handlers import proc
from dorisbk.sql.handlers import restore as restore_handlers

REALM = 'Basic realm="dorisbk", charset="UTF-8"'
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"
Action = Callable[[Request, SessionContext], Awaitable[Response]]


def envelope(data: Any, code: int = 0, msg: str = "success", status: int = HTTPStatus.OK, count: int = 0) -> Response:
    """Doris's ResponseBody; its ``count`` is 0 but where an endpoint counts its rows (``/rest/v1/system``)."""
    body = json.dumps({"msg": msg, "code": code, "data": data, "count": count}, default=str)
    return Response(status, body.encode(), JSON)


def result_data(result: Result) -> dict[str, Any]:
    """A SHOW's result as JSON: its column names and rows, each value as the statement sends it."""
    return {"columns": [name for name, _kind in result.columns], "rows": [list(row) for row in result.rows]}


class FrontendActions:
    """The request handler of the HTTP server: routes, logins, and the answer of each path."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.routes: dict[str, Action] = {
            "/": self.jobs_page,
            "/repositories": self.repositories_page,
            "/snapshots": self.snapshots_page,
            "/api/show_proc": self.show_proc,
            "/rest/v1/system": self.system,
            "/api/dorisbk/jobs": self.jobs,
            "/api/dorisbk/backup": self.show_backup,
            "/api/dorisbk/restore": self.show_restore,
            "/api/dorisbk/repositories": self.repositories,
            "/api/dorisbk/snapshots": self.snapshots,
        }

    async def __call__(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response(HTTPStatus.METHOD_NOT_ALLOWED, b"only GET", headers={"Allow": "GET, HEAD"})
        if request.path == "/metrics":
            return Response(HTTPStatus.OK, prometheus.render(self.env).encode(), prometheus.CONTENT_TYPE)
        action = self.routes.get(request.path.rstrip("/") or "/")
        if action is None:
            return Response(HTTPStatus.NOT_FOUND, b"not found")
        user = self.login(request)
        is_api = request.path.startswith(("/api/", "/rest/"))
        if user is None:
            return self.refused(is_api, HTTPStatus.UNAUTHORIZED, "Need auth information.")
        if not user.has("ADMIN_PRIV"):
            return self.refused(
                is_api,
                HTTPStatus.FORBIDDEN,
                "Access denied; you need (at least one of) the (ADMIN) privilege(s) for this operation",
            )
        try:
            return await action(request, SessionContext(user=user.name))
        except DorisError as exc:
            return envelope(exc.message, code=1, msg="Error")

    def login(self, request: Request) -> User | None:
        """The account of the request's Basic credentials, checked as the MySQL login checks them."""
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            name, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return self.env.users.authenticate(name, password) if sep else None

    @staticmethod
    def refused(is_api: bool, status: HTTPStatus, message: str) -> Response:
        headers = {"WWW-Authenticate": REALM} if status == HTTPStatus.UNAUTHORIZED else {}
        if is_api:
            response = envelope(message, code=401, msg="Unauthorized", status=status)
        else:
            response = Response(status, pages.page(status.phrase, f"<p>{message}</p>"), HTML)
        response.headers.update(headers)
        return response

    # ---- Doris's REST API
    async def show_proc(self, request: Request, _ctx: SessionContext) -> Response:
        """``/api/show_proc?path=/dbs``: SHOW PROC's rows (no column names, as Doris answers)."""
        result = await asyncio.to_thread(proc.show_proc, self.env, request.param("path") or "/")
        return envelope([[None if v is None else str(v) for v in row] for row in result.rows])

    async def system(self, request: Request, _ctx: SessionContext) -> Response:
        """``/rest/v1/system?path=/dbs``: SHOW PROC as Doris's web UI browses it, each row a map of column to
        value, with links: a directory's first column to its child, a URL value to itself (shown "URL")."""
        path = request.param("path") or "/"
        try:
            node = proc.open_node(self.env, path)
        except DorisError:
            return envelope(f"No such proc path[{path}]", code=404, msg="Not Found")
        result = await asyncio.to_thread(node.fetch)
        columns = [name for name, _kind in result.columns]
        is_dir = node.lookup is not None
        href_columns = columns[:1] if is_dir else []
        rows = []
        for row in result.rows:
            shown: dict[str, Any] = {}
            links = []
            for i, (column, value) in enumerate(zip(columns, row, strict=True)):
                text = None if value is None else str(value)
                if is_dir and i == 0:
                    links.append(f"/rest/v1/system?path={path.rstrip('/')}/{(text or '').replace('%', '%25')}")
                elif text is not None and text.startswith(("http://", "https://")):
                    links.append(text)
                    text = "URL"
                    href_columns += [] if column in href_columns else [column]
                shown[column] = text
            if links:
                shown["__hrefPaths"] = links
            rows.append(shown)
        data: dict[str, Any] = {"column_names": columns, "rows": rows}
        if href_columns:
            data["href_columns"] = href_columns
        parent = PurePosixPath(path).parent
        data["parent_url"] = "/rest/v1/system" if parent == PurePosixPath(path) else f"/rest/v1/system?path={parent}"
        return envelope(data, count=len(rows))

    # ---- ours
    async def jobs(self, _request: Request, _ctx: SessionContext) -> Response:
        views = backup_view.job_views(self.env, int(time.time() * 1000))
        return envelope([v.to_json() for v in views])

    async def show_backup(self, request: Request, ctx: SessionContext) -> Response:
        result = backup_handlers.show_backup(self.env, ctx, ShowBackupStmt(request.param("db")))
        return envelope(result_data(result))

    async def show_restore(self, request: Request, ctx: SessionContext) -> Response:
        brief = request.param("brief", "false") == "true"
        result = restore_handlers.show_restore(self.env, ctx, ShowRestoreStmt(request.param("db"), brief))
        return envelope(result_data(result))

    async def repositories(self, _request: Request, ctx: SessionContext) -> Response:
        return envelope(result_data(backup_handlers.show_repositories(self.env, ctx, ShowRepositoriesStmt())))

    async def snapshots(self, request: Request, ctx: SessionContext) -> Response:
        repo = request.param("repo")
        if not repo:
            return envelope("Missing repo parameter", code=403, msg="Bad Request")
        columns, rows, sizes = await asyncio.to_thread(backup_view.snapshot_listing, self.env, ctx, repo)
        return envelope({"columns": list(columns), "rows": [list(r) for r in rows], "size_bytes": sizes})

    # ---- pages
    async def jobs_page(self, _request: Request, ctx: SessionContext) -> Response:
        views = backup_view.job_views(self.env, int(time.time() * 1000))
        sizes = await asyncio.to_thread(self._job_sizes, [v for v in views if not v.running])
        return Response(HTTPStatus.OK, pages.jobs_page(views, sizes), HTML)

    def _job_sizes(self, views: list[backup_view.JobView]) -> dict[tuple[str, str], int | None]:
        """The size of each ended job's snapshot, for its throughput (None where it is not known)."""
        sizes: dict[tuple[str, str], int | None] = {}
        for view in views:
            key = (view.repo, view.label)
            if key in sizes or view.repo not in self.env.repos.records:
                continue
            try:
                sizes[key] = self.env.repos.repository(view.repo).snapshot_size(view.label)
            except DorisError:
                sizes[key] = None
        return sizes

    async def repositories_page(self, _request: Request, ctx: SessionContext) -> Response:
        result = backup_handlers.show_repositories(self.env, ctx, ShowRepositoriesStmt())
        return Response(HTTPStatus.OK, pages.repositories_page([n for n, _k in result.columns], result.rows), HTML)

    async def snapshots_page(self, _request: Request, ctx: SessionContext) -> Response:
        snapshots = await asyncio.to_thread(backup_view.snapshot_views, self.env, ctx)
        return Response(HTTPStatus.OK, pages.snapshots_page(snapshots), HTML)
