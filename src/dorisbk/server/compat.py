"""Fixes to mysql-mimic 3.0.5 that real clients need; each names the client it keeps working.

Applied once, at import, by ``server.app``. Only the library's pure-Python modules are
patched (its compiled classes cannot be).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mysql_mimic import connection as connection_module
from mysql_mimic import errors, packets
from mysql_mimic.connection import Connection
from mysql_mimic.errors import ErrorCode
from mysql_mimic.types import ColumnType

# Realistic display lengths per wire type. MariaDB ODBC 3.1 reads every column after a
# BIGINT as NULL when all lengths are the library's fixed 256.
_LENGTHS = {
    ColumnType.TINY: 4,
    ColumnType.SHORT: 6,
    ColumnType.LONG: 11,
    ColumnType.LONGLONG: 20,
    ColumnType.FLOAT: 12,
    ColumnType.DOUBLE: 22,
    ColumnType.NEWDECIMAL: 40,
    ColumnType.DATE: 10,
    ColumnType.DATETIME: 19,
    ColumnType.TIME: 10,
    ColumnType.VAR_STRING: 65533,
}

# SQLSTATEs of the MySQL codes dorisbk sends, so JDBC and ODBC classify errors as MySQL would.
_SQLSTATES = {
    1044: b"42000",
    1045: b"28000",
    1046: b"3D000",
    1049: b"42000",
    1050: b"42S01",
    1051: b"42S02",
    1054: b"42S22",
    1060: b"42S21",
    1064: b"42000",
    1136: b"21S01",
    1142: b"42000",
    1146: b"42S02",
    1227: b"42000",
    1235: b"42000",
}


def _column_definition(server_charset: Any, column_type: ColumnType = ColumnType.VAR_STRING, **kw: Any) -> bytes:
    if column_type in _LENGTHS:
        kw.setdefault("column_length", _LENGTHS[column_type])
    if column_type == ColumnType.NEWDECIMAL:
        kw.setdefault("decimals", 9)
    return _original_column_definition(server_charset=server_charset, column_type=column_type, **kw)


def _ok_or_eof(
    self: Connection, affected_rows: int = 0, last_insert_id: int = 0, warnings: int = 0, flags: int = 0
) -> bytes:
    """MariaDB Connector/J 2.x misreads a result set's closing OK that carries a row count: send 0."""
    return _original_ok_or_eof(self, 0, last_insert_id, warnings, flags)


def _prepare_response(self: Connection, statement: Any) -> Iterator[bytes]:
    """MariaDB Connector/J with useServerPrepStmts: no EOF after parameter defs under DEPRECATE_EOF."""
    yield packets.make_com_stmt_prepare_ok(statement)
    if statement.num_params:
        for _ in range(statement.num_params):
            yield packets.make_column_definition_41(server_charset=self.server_charset, name="?")
        if not self.deprecate_eof():
            yield self.eof()


async def _authenticate(self: Connection, username: str, auth_response: bytes, *args: Any, **kwargs: Any) -> None:
    """Every failed login is MySQL's (and Doris's) 1045 ``Access denied for user 'u'@'host' (using password:
    YES|NO)``; the library sends 3162 "User x does not exist" for an unknown user, which tells a stranger
    which names exist, and a bare "Access denied for user u" for a wrong password (mysql CLI, JDBC, pymysql)."""
    peer = self.stream.writer.get_extra_info("peername") or ("localhost",)
    self._dorisbk_denied = (  # type: ignore[attr-defined]
        f"Access denied for user '{username}'@'{peer[0]}' (using password: {'YES' if auth_response else 'NO'})"
    )
    if await self.identity_provider.get_user(username) is None:
        await self.stream.write(self.error(msg=self._dorisbk_denied, code=ErrorCode.ACCESS_DENIED_ERROR))
        return
    self._dorisbk_login = True  # type: ignore[attr-defined]
    try:
        await _original_authenticate(self, username, auth_response, *args, **kwargs)
    finally:
        self._dorisbk_denied = None  # type: ignore[attr-defined]
        self._dorisbk_login = False  # type: ignore[attr-defined]


def _ok(self: Connection, **kwargs: Any) -> bytes:
    """The OK that ends a successful login: a database named in the handshake must exist and be
    visible to the user, else the login fails with 1049 / 1044 as on MySQL (pymysql ``database=``,
    ``mysql db``, JDBC URLs)."""
    if getattr(self, "_dorisbk_login", False) and self.session.database:
        check = getattr(self.session, "database_error", None)
        failure = check(self.session.database) if check is not None else None
        if failure is not None:
            self.session.database = None
            code, message = failure
            return self.error(msg=message, code=code)
    affected = getattr(self.session, "affected_rows", 0)
    if affected and not kwargs.get("eof"):
        # pymysql's cursor.execute() / JDBC's executeUpdate() return an INSERT's row count
        self.session.affected_rows = 0
        kwargs.setdefault("affected_rows", affected)
    return _original_ok(self, **kwargs)


def _error(self: Connection, **kwargs: Any) -> bytes:
    denied = getattr(self, "_dorisbk_denied", None)
    if denied and kwargs.get("code") == ErrorCode.ACCESS_DENIED_ERROR:
        kwargs["msg"] = denied
    return _original_error(self, **kwargs)


async def _handle_query(self: Connection, data: bytes) -> None:
    """A query that is not valid in the connection's character set gets MySQL's 1300, not a Python
    message (any client sending raw bytes: pymysql ``query(b"...")``, C clients)."""
    try:
        await _original_handle_query(self, data)
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.start + 8].hex().upper()
        raise errors.MysqlError(
            f"Invalid {self.client_charset.name} character string: '{bad}'",
            code=1300,  # type: ignore[arg-type]
        ) from None


_original_handle_query = Connection.handle_query
_original_authenticate = Connection.authenticate
_original_ok = Connection.ok
_original_error = Connection.error
_original_column_definition = packets.make_column_definition_41
_original_ok_or_eof = Connection.ok_or_eof


def apply() -> None:
    if getattr(packets, "_dorisbk_patched", False):
        return
    packets.make_column_definition_41 = _column_definition
    connection_module.make_column_definition_41 = _column_definition
    Connection.ok_or_eof = _ok_or_eof  # type: ignore[method-assign]
    Connection.com_stmt_prepare_response = _prepare_response  # type: ignore[method-assign]
    Connection.authenticate = _authenticate  # type: ignore[method-assign]
    Connection.error = _error  # type: ignore[method-assign]
    Connection.ok = _ok  # type: ignore[method-assign]
    Connection.handle_query = _handle_query  # type: ignore[method-assign]
    errors.SQLSTATES.update(_SQLSTATES)  # type: ignore[arg-type]
    packets._dorisbk_patched = True  # type: ignore[attr-defined]
