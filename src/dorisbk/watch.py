"""``dorisbk watch``: live progress bars of BACKUP / RESTORE jobs, in a terminal.

A client like any other: it reads ``information_schema.backup_restore_jobs`` over the MySQL
protocol (pymysql), so it watches any dorisbk server, local or remote, with the rights of the
user it logs in as (ADMIN sees the jobs). Each frame is redrawn in place with plain ANSI
escapes; a job seen running stays on the screen once it ends, showing how it ended. Ctrl-C
quits.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass
from typing import TextIO

import pymysql

QUERY = (
    "SELECT JOB_ID, DB_NAME, LABEL, TYPE, STATE, FILES_DONE, FILES_TOTAL, BYTES_DONE, BYTES_TOTAL, "
    "RATE_BYTES_PER_SEC, ETA_SECONDS, ELAPSED_SECONDS FROM information_schema.backup_restore_jobs"
)
ENDED = ("FINISHED", "CANCELLED")
BAR_WIDTH = 30
HOME, ERASE_LINE, ERASE_BELOW = "\x1b[H", "\x1b[K", "\x1b[J"
HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"


@dataclass(frozen=True)
class JobRow:
    """One row of information_schema.backup_restore_jobs, as the view draws it."""

    job_id: int
    db_name: str
    label: str
    type: str
    state: str
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    rate: int
    eta_s: int | None
    elapsed_s: int

    @property
    def fraction(self) -> float:
        """How far the transfer is, by bytes (by files when it has no bytes); an ended job that moved
        nothing (a metadata-only backup) is whole if it finished."""
        if self.bytes_total > 0:
            return min(1.0, self.bytes_done / self.bytes_total)
        if self.files_total > 0:
            return min(1.0, self.files_done / self.files_total)
        return 1.0 if self.state == "FINISHED" else 0.0


def size_text(n: int) -> str:
    """Bytes in binary units, as ``12.3 MiB``."""
    if n < 1024:
        return f"{n} B"
    value, units = n / 1024, ["KiB", "MiB", "GiB", "TiB"]
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{value:.1f} {units[0]}"


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return "--"
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def job_line(row: JobRow) -> str:
    filled = round(row.fraction * BAR_WIDTH)
    bar = "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "]"
    if row.state in ENDED:
        tail = f"took {duration_text(row.elapsed_s)}"
    else:
        tail = f"{size_text(row.rate)}/s  ETA {duration_text(row.eta_s)}"
    return (
        f"{row.type:<7} {row.db_name}.{row.label:<24} {row.state:<15} {bar} {row.fraction:>4.0%}  "
        f"{row.files_done}/{row.files_total} files  {size_text(row.bytes_done)}/{size_text(row.bytes_total)}  {tail}"
    )


def frame(target: str, rows: list[JobRow], error: str | None) -> list[str]:
    """The lines of one screen."""
    lines = [f"dorisbk watch  {target}  {time.strftime('%H:%M:%S')}  (Ctrl-C quits)", ""]
    if error is not None:
        lines.append(f"error: {error}")
    elif not rows:
        lines.append("no running BACKUP or RESTORE job")
    lines += [job_line(row) for row in rows]
    return lines


class Watch:
    """Polls the server every ``interval`` seconds and draws the jobs of ``db`` (all databases when None):
    those running, and those it saw running that have ended since."""

    def __init__(self, connect: dict[str, object], db: str | None, interval: float, out: TextIO) -> None:
        self.connect = connect
        self.db = db
        self.interval = interval
        self.out = out
        self.seen: set[int] = set()
        self._conn: pymysql.connections.Connection | None = None

    def fetch(self) -> list[JobRow]:
        if self._conn is None:
            self._conn = pymysql.connect(autocommit=True, **self.connect)  # type: ignore[arg-type]
        sql, args = (QUERY + " WHERE DB_NAME = %s", (self.db,)) if self.db else (QUERY, ())
        with self._conn.cursor() as cur:
            cur.execute(sql + " ORDER BY JOB_ID", args)
            rows = [JobRow(*r) for r in cur.fetchall()]
        self.seen |= {r.job_id for r in rows if r.state not in ENDED}
        return [r for r in rows if r.job_id in self.seen]

    def draw(self, lines: list[str]) -> None:
        width = _width(self.out)
        text = "".join(line[:width] + ERASE_LINE + "\n" for line in lines)
        self.out.write(HOME + text + ERASE_BELOW)
        self.out.flush()

    def run(self) -> None:
        target = f"{self.connect['host']}:{self.connect['port']}"
        self.out.write(HIDE_CURSOR)
        try:
            while True:
                try:
                    rows, error = self.fetch(), None
                except pymysql.MySQLError as exc:  # the server restarting, a network hiccup: try again
                    self.close()
                    rows, error = [], str(exc)
                self.draw(frame(target, rows, error))
                time.sleep(self.interval)
        except KeyboardInterrupt:
            pass
        finally:
            self.out.write(SHOW_CURSOR)
            self.out.flush()
            self.close()

    def close(self) -> None:
        if self._conn is not None and self._conn.open:
            self._conn.close()
        self._conn = None


def _width(out: TextIO) -> int:
    """The terminal's columns, from the terminal itself (a COLUMNS inherited from elsewhere may be stale)."""
    try:
        return os.get_terminal_size(out.fileno()).columns
    except (OSError, ValueError):
        return shutil.get_terminal_size().columns


def watch(host: str, port: int, user: str, password: str, db: str | None, interval: float) -> None:
    connect: dict[str, object] = {"host": host, "port": port, "user": user, "password": password}
    Watch(connect, db, max(0.1, interval), sys.stdout).run()
