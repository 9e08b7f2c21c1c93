"""What a BACKUP or RESTORE statement asks of BackupHandler: the objects it names (TableRef, built by the
backup grammar) and the request itself. It imports nothing, so the parser's statements stay light."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TableRef:
    """One entry of an ``ON (...)`` / ``EXCLUDE (...)`` list, as written.

    ``partitions`` is empty when no PARTITION clause was given; ``temporary`` is true for
    ``TEMPORARY PARTITION (...)``; ``db`` and ``alias`` are kept so that the checks can refuse
    them with Doris's messages.
    """

    name: str
    db: str | None = None
    partitions: tuple[str, ...] = ()
    alias: str | None = None
    temporary: bool = False


@dataclass(frozen=True)
class JobRequest:
    """A BACKUP or a RESTORE as written (Doris's AbstractBackupStmt). ``db`` is the database the statement
    named, else the session's (None: none selected); it is resolved where Doris checks it, after the
    repository. ``is_global``: BACKUP / RESTORE GLOBAL SNAPSHOT, of no database."""

    label: str
    repo: str
    db: str | None
    tables: tuple[TableRef, ...] = ()
    exclude: bool = False
    properties: dict[str, str] | None = None
    is_global: bool = False

    @property
    def props(self) -> dict[str, str]:
        """A copy of the properties, for checks that fill in defaults."""
        return dict(self.properties or {})
