"""Errors a client can cause, each carrying the MySQL error code it is sent with.

Every layer raises these; only the server turns them into ERR packets. Doris-side
failures use 1105 and are worded as Doris words them (``errCode = 2, detailMessage = ...``
is added by the server, not here).
"""

from __future__ import annotations


class DorisError(Exception):
    """A failure reported to the client as a MySQL error packet."""

    code: int = 1105

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ParseError(DorisError):
    """Syntax error (1064), with the position and what was expected."""

    code = 1064


class AccessDenied(DorisError):
    """A missing privilege (1227 for global ones such as ADMIN, 1142 for table ones)."""

    code = 1227


class UnknownDatabase(DorisError):
    code = 1049


class UnknownTable(DorisError):
    code = 1146


class DatabaseExists(DorisError):
    code = 1007


class TableExists(DorisError):
    code = 1050


class NoDatabaseSelected(DorisError):
    code = 1046


class StorageError(DorisError):
    """A remote file system failed (unreachable, denied, missing object, checksum mismatch)."""

    code = 1105


class StaleMetadata(DorisError):
    """Shared mode: another frontend committed a change this one had not applied yet, so a change computed
    here may rest on what is no longer true. Nothing was written; the caller catches up and tries again
    (``MetaStore.retry_stale``), or the client gets this message."""
