"""fe.audit.log: one line per statement, in the shape of Doris's FE audit log.

Doris users grep and ship ``fe.audit.log`` (Client, User, State, Time(ms), Stmt, ... as
``|Key=value`` pairs after a timestamp and the ``[query]`` tag); dorisbk writes the same
lines, so their tools read it. Secrets in the statement and error text are masked as in
SHOW PROCESSLIST (``sql.router.redacted``). The session only puts the event on a queue; a
listener thread masks, formats and writes it, and rolls the file by size
(``audit_log_roll_size_mb``, ``audit_log_roll_num``, read at each write so that ADMIN SET
FRONTEND CONFIG applies at once), so no statement waits on the disk.
"""

from __future__ import annotations

import itertools
import logging
import queue
from dataclasses import dataclass
from enum import StrEnum
from logging.handlers import QueueHandler, QueueListener, RotatingFileHandler
from pathlib import Path

from dorisbk.config import FrontendConfig
from dorisbk.sql.router import leading_words, redacted

AUDIT_FILE = "fe.audit.log"
# statements Doris counts as queries (IsQuery=true): those that return rows of data
_QUERY_WORDS = {"SELECT", "WITH", "EXPLAIN", "VALUES", "TABLE"}


class AuditState(StrEnum):
    """Doris's MysqlStateType as the audit log names it: a result set ends with EOF, other statements OK."""

    OK = "OK"
    EOF = "EOF"
    ERR = "ERR"


@dataclass(frozen=True)
class AuditEvent:
    """What the audit line of one statement says (ScanBytes / ScanRows are not measured: always 0)."""

    client: str
    user: str
    db: str
    state: AuditState
    error_code: int
    error_message: str
    time_ms: int
    return_rows: int
    stmt_id: int
    query_id: str
    stmt: str

    def line(self, max_stmt_length: int) -> str:
        """The ``|Key=value`` part of the line, secrets masked and each text on one line."""
        fields = [
            ("Client", self.client),
            ("User", self.user),
            ("Ctl", "internal"),
            ("Db", self.db),
            ("State", self.state),
            ("ErrorCode", self.error_code),
            ("ErrorMessage", _one_line(redacted(self.error_message))),
            ("Time(ms)", self.time_ms),
            ("ScanBytes", 0),
            ("ScanRows", 0),
            ("ReturnRows", self.return_rows),
            ("StmtId", self.stmt_id),
            ("QueryId", self.query_id),
            ("IsQuery", "true" if _is_query(self.stmt) else "false"),
            ("Stmt", _one_line(redacted(self.stmt, max(1, max_stmt_length)))),
        ]
        return "".join(f"|{key}={value}" for key, value in fields)


def _is_query(stmt: str) -> bool:
    words = leading_words(stmt, 1)
    return bool(words) and words[0] in _QUERY_WORDS


def _one_line(text: str) -> str:
    """A text on one line of the log: its line breaks written as ``\\n``."""
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


class _RollingAuditFile(RotatingFileHandler):
    """The audit file, rolled to ``fe.audit.log.1`` ... ``.N`` by the frontend config's current size and count."""

    def __init__(self, path: Path, config: FrontendConfig) -> None:
        super().__init__(path, encoding="utf-8")
        self.config = config

    def shouldRollover(self, record: logging.LogRecord) -> int:  # noqa: N802 - logging's name
        self.maxBytes = max(1, self.config.int("audit_log_roll_size_mb")) * 1024 * 1024
        self.backupCount = max(1, self.config.int("audit_log_roll_num"))
        return super().shouldRollover(record)


class _Queued(QueueHandler):
    """Queues the record as it is: its message is an AuditEvent, which the listener formats."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


class _AuditFormatter(logging.Formatter):
    """``<time>,<ms> [query] |Client=...``, as Doris's audit lines start."""

    def __init__(self, config: FrontendConfig) -> None:
        super().__init__()
        self.config = config

    def format(self, record: logging.LogRecord) -> str:
        line = record.__dict__.get("audit_line")
        if line is None:  # the handler formats each record twice: to measure it for rolling, then to write it
            event: AuditEvent = record.msg  # type: ignore[assignment]
            line = f"{self.formatTime(record)} [query] {event.line(self.config.int('audit_log_max_stmt_length'))}"
            record.audit_line = line
        return line


class AuditLog:
    """The server's audit log in ``log_dir``: ``write`` queues a line, a listener thread writes it."""

    def __init__(self, log_dir: Path, config: FrontendConfig) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.path = log_dir / AUDIT_FILE
        self._file = _RollingAuditFile(self.path, config)
        self._file.setFormatter(_AuditFormatter(config))
        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._listener = QueueListener(records, self._file)
        # a logger of its own, outside logging's tree: audit lines never reach the server log
        self._logger = logging.Logger("audit.query", logging.INFO)
        self._logger.addHandler(_Queued(records))
        self._stmt_ids = itertools.count(1)  # Doris's StmtId: one sequence for the whole frontend
        self._listener.start()

    def next_stmt_id(self) -> int:
        return next(self._stmt_ids)

    def write(self, event: AuditEvent) -> None:
        self._logger.info(event)

    def close(self) -> None:
        """Write what is queued, then close the file."""
        self._listener.stop()
        self._file.close()
