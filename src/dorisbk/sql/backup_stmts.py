"""Statement objects for the backup / restore statements of ``grammar/backup.lark``.

One frozen dataclass per statement, named after it, plus the small values they
share. They only record what the user wrote: names keep their spelling, table
refs keep db qualifiers and aliases even where Doris forbids them, and WHERE
clauses keep their column names, so each handler can reject what Doris rejects
with Doris's own message. ``backup_parser.parse_backup`` builds them.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from dorisbk.errors import DorisError
from dorisbk.jobs.request import TableRef

__all__ = [
    "AddBrokerStmt",
    "AdminCheckSnapshotStmt",
    "AdminSetConfigStmt",
    "AdminShowConfigStmt",
    "AlterRepositoryStmt",
    "BackupStmt",
    "BackupStatement",
    "CancelBackupStmt",
    "CancelRestoreStmt",
    "Condition",
    "CreateJobStmt",
    "CreateRepositoryStmt",
    "DropBrokerStmt",
    "DropJobStmt",
    "DropRepositoryStmt",
    "DropSnapshotStmt",
    "JobWhere",
    "PauseJobStmt",
    "Properties",
    "RepositoryType",
    "RestoreStmt",
    "ResumeJobStmt",
    "ShowBackupStmt",
    "ShowBrokerStmt",
    "ShowCreateRepositoryStmt",
    "ShowRepositoriesStmt",
    "ShowRestoreStmt",
    "ShowSnapshotStmt",
    "TableRef",
    "like_matches",
]


# ---------------------------------------------------------------------------
# shared values
# ---------------------------------------------------------------------------


class Properties(Mapping[str, str]):
    """``PROPERTIES ("k" = "v", ...)`` in the order written.

    Read-only. Looking a key up gives its last value (as Doris's property map
    would); ``pairs`` keeps every pair, so repeated keys stay visible through
    ``duplicates()``. Keys are case-sensitive, as in Doris.
    """

    __slots__ = ("_pairs", "_last")

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._pairs: tuple[tuple[str, str], ...] = tuple((str(k), str(v)) for k, v in pairs)
        self._last: dict[str, str] = dict(self._pairs)

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """Every (key, value) pair as written, duplicates included."""
        return self._pairs

    def duplicates(self) -> tuple[str, ...]:
        """Keys given more than once, in order of their first repetition."""
        seen: set[str] = set()
        repeated: list[str] = []
        for key, _ in self._pairs:
            if key in seen and key not in repeated:
                repeated.append(key)
            seen.add(key)
        return tuple(repeated)

    def __getitem__(self, key: str) -> str:
        return self._last[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._last)

    def __len__(self) -> int:
        return len(self._last)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Properties):
            return self._pairs == other._pairs
        if isinstance(other, Mapping):
            return not self.duplicates() and self._last == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._pairs)

    def __bool__(self) -> bool:
        return bool(self._pairs)

    def __repr__(self) -> str:
        return f"Properties({list(self._pairs)!r})"


def _no_properties() -> Properties:
    return Properties()


class RepositoryType(StrEnum):
    """The storage behind a repository, as ``WITH <type>`` names it (LOCAL is ours)."""

    S3 = "S3"
    HDFS = "HDFS"
    AZURE = "AZURE"
    LOCAL = "LOCAL"
    BROKER = "BROKER"


_LIKE_CACHE: dict[tuple[str, bool], re.Pattern[str]] = {}


def _like_regex(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    key = (pattern, case_sensitive)
    compiled = _LIKE_CACHE.get(key)
    if compiled is None:
        parts: list[str] = []
        chars = iter(pattern)
        for ch in chars:
            if ch == "\\":
                parts.append(re.escape(next(chars, "\\")))
            elif ch == "%":
                parts.append(".*")
            elif ch == "_":
                parts.append(".")
            else:
                parts.append(re.escape(ch))
        flags = re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE
        compiled = re.compile("".join(parts), flags)
        if len(_LIKE_CACHE) < 1024:
            _LIKE_CACHE[key] = compiled
    return compiled


def like_matches(pattern: str, text: str, *, case_sensitive: bool = True) -> bool:
    """MySQL ``LIKE``: ``%`` any run, ``_`` one character, ``\\`` escapes the next one."""
    return _like_regex(pattern, case_sensitive).fullmatch(text) is not None


_COMPARE: dict[str, Callable[[str, str], bool]] = {
    "=": operator.eq,
    "<=>": operator.eq,
    "!=": operator.ne,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``column = 'value'``, ``column LIKE 'pattern'`` or (SHOW SNAPSHOT) ``column < 'value'``
    test of a WHERE clause; ``op`` is the comparison as written (``=``, ``!=``, ``<>``, ``<``,
    ``<=``, ``>``, ``>=``, ``<=>``), ignored when ``like``.

    ``column`` is kept as written; compare it case-insensitively.
    """

    column: str
    value: str
    like: bool = False
    op: str = "="

    def is_on(self, column: str) -> bool:
        """Whether this condition tests ``column`` (case-insensitive)."""
        return self.column.lower() == column.lower()

    @property
    def is_equality(self) -> bool:
        """``column = 'value'`` (or ``<=>``, the same for a string)."""
        return not self.like and _COMPARE[self.op] is operator.eq

    def matches(self, text: str, *, case_sensitive: bool = True) -> bool:
        """Whether ``text`` satisfies this condition (labels are case-sensitive in Doris); the order
        comparisons compare the strings (a backup timestamp ``YYYY-MM-DD-HH-MM-SS`` sorts by time)."""
        if self.like:
            return like_matches(self.value, text, case_sensitive=case_sensitive)
        if case_sensitive:
            return _COMPARE[self.op](text, self.value)
        return _COMPARE[self.op](text.lower(), self.value.lower())


# ---------------------------------------------------------------------------
# repositories
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateRepositoryStmt:
    """``CREATE [READ ONLY] REPOSITORY name WITH type ON LOCATION "loc" [PROPERTIES (...)]``.

    ``broker`` is set only for ``WITH BROKER broker_name``.
    """

    name: str
    type: RepositoryType
    location: str
    read_only: bool = False
    broker: str | None = None
    properties: Properties = field(default_factory=_no_properties)


@dataclass(frozen=True, slots=True)
class AlterRepositoryStmt:
    """``ALTER REPOSITORY name PROPERTIES (...)``."""

    name: str
    properties: Properties


@dataclass(frozen=True, slots=True)
class DropRepositoryStmt:
    """``DROP REPOSITORY name``."""

    name: str


@dataclass(frozen=True, slots=True)
class ShowRepositoriesStmt:
    """``SHOW REPOSITORIES``."""


@dataclass(frozen=True, slots=True)
class ShowCreateRepositoryStmt:
    """``SHOW CREATE REPOSITORY FOR name``."""

    name: str


# ---------------------------------------------------------------------------
# backup / restore jobs
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BackupStmt:
    """``BACKUP SNAPSHOT [db.]label TO repo [ON (...) | EXCLUDE (...)] [PROPERTIES (...)]``.

    ``tables`` is empty when neither ON nor EXCLUDE was given (the whole
    database); ``exclude`` tells which of the two lists it is. ``is_global``:
    ``BACKUP GLOBAL SNAPSHOT label TO repo [PROPERTIES (...)]``, of no database.
    """

    label: str
    repo: str
    db: str | None = None
    tables: tuple[TableRef, ...] = ()
    exclude: bool = False
    properties: Properties = field(default_factory=_no_properties)
    is_global: bool = False


@dataclass(frozen=True, slots=True)
class RestoreStmt:
    """``RESTORE SNAPSHOT [db.]label FROM repo [ON (...) | EXCLUDE (...)] [PROPERTIES (...)]``, or with
    ``is_global`` ``RESTORE GLOBAL SNAPSHOT label FROM repo PROPERTIES (...)``."""

    label: str
    repo: str
    db: str | None = None
    tables: tuple[TableRef, ...] = ()
    exclude: bool = False
    properties: Properties = field(default_factory=_no_properties)
    is_global: bool = False


@dataclass(frozen=True, slots=True)
class ShowBackupStmt:
    """``SHOW BACKUP [FROM db] [WHERE SnapshotName {= | LIKE} "x"]``.

    The grammar takes any column name; ``where_is_valid`` tells whether it is
    the one Doris allows.
    """

    db: str | None = None
    where: Condition | None = None

    @property
    def where_is_valid(self) -> bool:
        """True without WHERE or when it tests SnapshotName."""
        return self.where is None or self.where.is_on("SnapshotName")


@dataclass(frozen=True, slots=True)
class ShowRestoreStmt:
    """``SHOW [BRIEF] RESTORE [FROM | IN db] [WHERE Label {= | LIKE} "x"]``."""

    db: str | None = None
    brief: bool = False
    where: Condition | None = None

    @property
    def where_is_valid(self) -> bool:
        """True without WHERE or when it tests Label."""
        return self.where is None or self.where.is_on("Label")


@dataclass(frozen=True, slots=True)
class ShowSnapshotStmt:
    """``SHOW SNAPSHOT ON repo [WHERE SNAPSHOT = "x" [AND TIMESTAMP = "t"] [AND SNAPSHOTTYPE = "..."]]``.

    Each condition may also be another comparison (``TIMESTAMP >= "t"``, ``SNAPSHOT != "x"``):
    the rows whose label or backup timestamp satisfy it. ``where`` holds the ANDed conditions in
    the order written; the properties below read them, and ``where_is_valid`` applies Doris's rule.
    """

    repo: str
    where: tuple[Condition, ...] = ()

    def condition(self, column: str) -> Condition | None:
        """The condition on ``column``, if any."""
        return next((cond for cond in self.where if cond.is_on(column)), None)

    def _value(self, column: str) -> str | None:
        cond = self.condition(column)
        return cond.value if cond is not None else None

    @property
    def snapshot(self) -> str | None:
        """The value ``SNAPSHOT`` is compared with, if any."""
        return self._value("SNAPSHOT")

    @property
    def timestamp(self) -> str | None:
        """The value ``TIMESTAMP`` is compared with, if any."""
        return self._value("TIMESTAMP")

    @property
    def snapshot_type(self) -> str | None:
        """``SNAPSHOTTYPE = 'remote' | 'local'``, if given."""
        return self._value("SNAPSHOTTYPE")

    @property
    def one_backup(self) -> bool:
        """``SNAPSHOT = "x" AND TIMESTAMP = "t"``: Doris's form describing one backup, whether or not it exists."""
        snapshot, timestamp = self.condition("SNAPSHOT"), self.condition("TIMESTAMP")
        return snapshot is not None and timestamp is not None and snapshot.is_equality and timestamp.is_equality

    @property
    def where_is_valid(self) -> bool:
        """Only comparisons (no LIKE) on SNAPSHOT / TIMESTAMP / SNAPSHOTTYPE, each once; TIMESTAMP needs SNAPSHOT."""
        seen: set[str] = set()
        for cond in self.where:
            column = cond.column.upper()
            if cond.like or column not in {"SNAPSHOT", "TIMESTAMP", "SNAPSHOTTYPE"} or column in seen:
                return False
            if column == "SNAPSHOTTYPE" and cond.value.lower() not in {"remote", "local"}:
                return False
            seen.add(column)
        return not seen or "SNAPSHOT" in seen


@dataclass(frozen=True, slots=True)
class CancelBackupStmt:
    """``CANCEL BACKUP [FROM db] [WHERE LABEL {= | LIKE} "x"]`` (WHERE from Doris's table-level concurrency)."""

    db: str | None = None
    where: Condition | None = None

    @property
    def where_is_valid(self) -> bool:
        return self.where is None or self.where.is_on("Label")


@dataclass(frozen=True, slots=True)
class CancelRestoreStmt:
    """``CANCEL RESTORE [FROM db] [WHERE LABEL {= | LIKE} "x"]`` (WHERE from Doris's table-level concurrency)."""

    db: str | None = None
    where: Condition | None = None

    @property
    def where_is_valid(self) -> bool:
        return self.where is None or self.where.is_on("Label")


@dataclass(frozen=True, slots=True)
class DropSnapshotStmt:
    """``DROP SNAPSHOT label FROM repo``."""

    label: str
    repo: str


@dataclass(frozen=True, slots=True)
class AdminCheckSnapshotStmt:
    """``ADMIN CHECK SNAPSHOT label FROM repo [PROPERTIES ("backup_timestamp" = "...", "level" = "...")]``."""

    label: str
    repo: str
    properties: Properties = field(default_factory=_no_properties)


# ---------------------------------------------------------------------------
# brokers
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddBrokerStmt:
    """``ALTER SYSTEM ADD BROKER name "host:port"[, ...]``; addresses as written."""

    name: str
    addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DropBrokerStmt:
    """``ALTER SYSTEM DROP BROKER name "host:port"[, ...]`` or ``ALTER SYSTEM DROP ALL BROKER name``.

    ``drop_all`` is true for the second form, whose ``addresses`` is empty.
    """

    name: str
    addresses: tuple[str, ...] = ()
    drop_all: bool = False


@dataclass(frozen=True, slots=True)
class ShowBrokerStmt:
    """``SHOW BROKER``."""


# ---------------------------------------------------------------------------
# frontend configuration
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdminSetConfigStmt:
    """``ADMIN SET {FRONTEND | ALL FRONTENDS} CONFIG ("key" = "value")``.

    Doris accepts exactly one pair; ``configs`` keeps all that were written so
    the handler can say so.
    """

    configs: Properties
    all_frontends: bool = False


@dataclass(frozen=True, slots=True)
class AdminShowConfigStmt:
    """``ADMIN SHOW FRONTEND CONFIG [LIKE "pattern"]``."""

    pattern: str | None = None

    def matches(self, name: str) -> bool:
        """Whether config ``name`` is listed (config names match case-insensitively)."""
        return self.pattern is None or like_matches(self.pattern, name, case_sensitive=False)


# ---------------------------------------------------------------------------
# scheduled backups (Doris's job scheduler)
# ---------------------------------------------------------------------------


def _name_sql(name: str) -> str:
    return name if name.replace("_", "").isalnum() else "`" + name.replace("`", "``") + "`"


def _string_sql(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def backup_sql(stmt: BackupStmt) -> str:
    """A BACKUP statement as text that parses back to it: what the jobs() TVF shows as ExecuteSql."""
    db = f"{_name_sql(stmt.db)}." if stmt.db else ""
    text = f"BACKUP SNAPSHOT {db}{_name_sql(stmt.label)} TO {_name_sql(stmt.repo)}"
    if stmt.tables:
        refs = []
        for ref in stmt.tables:
            ref_text = _name_sql(ref.name)
            if ref.partitions:
                temporary = "TEMPORARY " if ref.temporary else ""
                ref_text += f" {temporary}PARTITION ({', '.join(_name_sql(p) for p in ref.partitions)})"
            refs.append(ref_text)
        text += f" {'EXCLUDE' if stmt.exclude else 'ON'} ({', '.join(refs)})"
    if stmt.properties:
        pairs = ", ".join(f"{_string_sql(k)} = {_string_sql(v)}" for k, v in stmt.properties.items())
        text += f" PROPERTIES ({pairs})"
    return text


@dataclass(frozen=True, slots=True)
class CreateJobStmt:
    """``CREATE JOB name ON SCHEDULE EVERY n unit [STARTS 't'] [ENDS 't'] [COMMENT 'c'] DO BACKUP ...``."""

    name: str
    interval: int
    unit: str
    backup: BackupStmt
    starts: str | None = None
    ends: str | None = None
    comment: str = ""


@dataclass(frozen=True, slots=True)
class JobWhere:
    """``WHERE jobName = 'j'``, the only condition Doris takes for PAUSE / RESUME / DROP JOB."""

    column: str
    value: str

    @property
    def job_name(self) -> str:
        """The job's name; Doris's messages for another column or an empty name."""
        if self.column.lower() != "jobname":
            raise DorisError(f"Current not support left child of where: '{self.column}")
        if not self.value:
            raise DorisError("Value can't is null")
        if self.value.startswith("inner_"):
            raise DorisError("Can't alter inner job status")
        return self.value


@dataclass(frozen=True, slots=True)
class PauseJobStmt:
    where: JobWhere


@dataclass(frozen=True, slots=True)
class ResumeJobStmt:
    where: JobWhere


@dataclass(frozen=True, slots=True)
class DropJobStmt:
    where: JobWhere
    if_exists: bool = False


BackupStatement = (
    CreateRepositoryStmt
    | AlterRepositoryStmt
    | DropRepositoryStmt
    | ShowRepositoriesStmt
    | ShowCreateRepositoryStmt
    | BackupStmt
    | RestoreStmt
    | ShowBackupStmt
    | ShowRestoreStmt
    | ShowSnapshotStmt
    | CancelBackupStmt
    | CancelRestoreStmt
    | DropSnapshotStmt
    | AdminCheckSnapshotStmt
    | AddBrokerStmt
    | DropBrokerStmt
    | ShowBrokerStmt
    | AdminSetConfigStmt
    | AdminShowConfigStmt
    | CreateJobStmt
    | PauseJobStmt
    | ResumeJobStmt
    | DropJobStmt
)
"""Any statement ``parse_backup`` returns."""
