"""Parse backup / restore statements with the Lark grammar in ``grammar/backup.lark``.

``parse_backup`` turns one statement into a frozen dataclass from
``backup_stmts``; ``is_backup_statement`` tells the router, from the first
few tokens only, whether a statement belongs to this grammar at all.
Syntax errors raise ``ParseError`` (MySQL 1064) naming the line, the column,
the offending text and the tokens that would have been accepted there.
"""

from __future__ import annotations

from collections.abc import Iterator

from lark import Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters
from lark.lexer import LexerThread

from dorisbk.sql.backup_stmts import (
    AddBrokerStmt,
    AdminCheckSnapshotStmt,
    AdminSetConfigStmt,
    AdminShowConfigStmt,
    AlterRepositoryStmt,
    BackupStatement,
    BackupStmt,
    CancelBackupStmt,
    CancelRestoreStmt,
    Condition,
    CreateJobStmt,
    CreateRepositoryStmt,
    DropBrokerStmt,
    DropJobStmt,
    DropRepositoryStmt,
    DropSnapshotStmt,
    JobWhere,
    PauseJobStmt,
    Properties,
    RepositoryType,
    RestoreStmt,
    ResumeJobStmt,
    ShowBackupStmt,
    ShowBrokerStmt,
    ShowCreateRepositoryStmt,
    ShowRepositoriesStmt,
    ShowRestoreStmt,
    ShowSnapshotStmt,
    TableRef,
)
from dorisbk.sql.lark_support import LoadedGrammar, load, unquote_name, unquote_string

__all__ = ["is_backup_statement", "parse_backup"]

GRAMMAR = "backup.lark"


def _grammar() -> LoadedGrammar:
    return load(GRAMMAR, maybe_placeholders=True)


# ---------------------------------------------------------------------------
# tree -> statement objects
# ---------------------------------------------------------------------------


@v_args(inline=True)
class _ToStatement(Transformer[Token, BackupStatement]):
    """Builds the statement dataclasses bottom-up from the parse tree."""

    # shared pieces
    def start(self, statement: BackupStatement) -> BackupStatement:
        return statement

    def name(self, token: Token) -> str:
        return unquote_name(token)

    def string(self, token: Token) -> str:
        return unquote_string(str(token))

    def qualified_name(self, first: str, second: str | None) -> tuple[str | None, str]:
        return (None, first) if second is None else (first, second)

    def key_value(self, key: str, value: str) -> tuple[str, str]:
        return (key, value)

    def key_values(self, *pairs: tuple[str, str]) -> Properties:
        return Properties(pairs)

    def config_value(self, key: str, value: str) -> tuple[str, str]:
        return (key, value)

    def config_values(self, *pairs: tuple[str, str]) -> Properties:
        return Properties(pairs)

    def properties(self, props: Properties) -> Properties:
        return props

    def from_db(self, db: str) -> str:
        return db

    def condition_equal(self, column: str, value: str) -> Condition:
        return Condition(column, value, like=False)

    def condition_like(self, column: str, value: str) -> Condition:
        return Condition(column, value, like=True)

    def condition_compare(self, column: str, op: Token, value: str) -> Condition:
        return Condition(column, value, op=str(op))

    def where_one(self, condition: Condition) -> Condition:
        return condition

    def where_all(self, *conditions: Condition) -> tuple[Condition, ...]:
        return conditions

    # flags: present -> True, absent -> None from the [optional] placeholder
    def read_only(self) -> bool:
        return True

    def brief(self) -> bool:
        return True

    def temporary(self) -> bool:
        return True

    # repositories
    def type_s3(self) -> tuple[RepositoryType, None]:
        return (RepositoryType.S3, None)

    def type_hdfs(self) -> tuple[RepositoryType, None]:
        return (RepositoryType.HDFS, None)

    def type_azure(self) -> tuple[RepositoryType, None]:
        return (RepositoryType.AZURE, None)

    def type_local(self) -> tuple[RepositoryType, None]:
        return (RepositoryType.LOCAL, None)

    def type_broker(self, broker: str) -> tuple[RepositoryType, str]:
        return (RepositoryType.BROKER, broker)

    def create_repository(
        self,
        read_only: bool | None,
        name: str,
        kind: tuple[RepositoryType, str | None],
        location: str,
        props: Properties | None,
    ) -> CreateRepositoryStmt:
        repo_type, broker = kind
        return CreateRepositoryStmt(
            name=name,
            type=repo_type,
            location=location,
            read_only=bool(read_only),
            broker=broker,
            properties=props or Properties(),
        )

    def alter_repository(self, name: str, props: Properties) -> AlterRepositoryStmt:
        return AlterRepositoryStmt(name=name, properties=props)

    def drop_repository(self, name: str) -> DropRepositoryStmt:
        return DropRepositoryStmt(name=name)

    def show_repositories(self) -> ShowRepositoriesStmt:
        return ShowRepositoriesStmt()

    def show_create_repository(self, name: str) -> ShowCreateRepositoryStmt:
        return ShowCreateRepositoryStmt(name=name)

    # backup / restore
    def partition_spec(self, temporary: bool | None, *names: str) -> tuple[bool, tuple[str, ...]]:
        return (bool(temporary), names)

    def alias(self, name: str) -> str:
        return name

    def table_ref(
        self,
        qualified: tuple[str | None, str],
        partitions: tuple[bool, tuple[str, ...]] | None,
        alias: str | None,
    ) -> TableRef:
        db, name = qualified
        temporary, names = partitions if partitions is not None else (False, ())
        return TableRef(name=name, db=db, partitions=names, alias=alias, temporary=temporary)

    def on_tables(self, *refs: TableRef) -> tuple[bool, tuple[TableRef, ...]]:
        return (False, refs)

    def exclude_tables(self, *refs: TableRef) -> tuple[bool, tuple[TableRef, ...]]:
        return (True, refs)

    def backup(
        self,
        qualified: tuple[str | None, str],
        repo: str,
        tables: tuple[bool, tuple[TableRef, ...]] | None,
        props: Properties | None,
    ) -> BackupStmt:
        db, label = qualified
        exclude, refs = tables if tables is not None else (False, ())
        return BackupStmt(label=label, repo=repo, db=db, tables=refs, exclude=exclude, properties=props or Properties())

    def restore(
        self,
        qualified: tuple[str | None, str],
        repo: str,
        tables: tuple[bool, tuple[TableRef, ...]] | None,
        props: Properties | None,
    ) -> RestoreStmt:
        db, label = qualified
        exclude, refs = tables if tables is not None else (False, ())
        return RestoreStmt(
            label=label, repo=repo, db=db, tables=refs, exclude=exclude, properties=props or Properties()
        )

    def backup_global(self, label: str, repo: str, props: Properties | None) -> BackupStmt:
        return BackupStmt(label=label, repo=repo, properties=props or Properties(), is_global=True)

    def restore_global(self, label: str, repo: str, props: Properties | None) -> RestoreStmt:
        return RestoreStmt(label=label, repo=repo, properties=props or Properties(), is_global=True)

    def show_backup(self, db: str | None, where: Condition | None) -> ShowBackupStmt:
        return ShowBackupStmt(db=db, where=where)

    def show_restore(self, brief: bool | None, db: str | None, where: Condition | None) -> ShowRestoreStmt:
        return ShowRestoreStmt(db=db, brief=bool(brief), where=where)

    def show_snapshot(self, repo: str, where: tuple[Condition, ...] | None) -> ShowSnapshotStmt:
        return ShowSnapshotStmt(repo=repo, where=where or ())

    def cancel_backup(self, db: str | None, where: Condition | None) -> CancelBackupStmt:
        return CancelBackupStmt(db=db, where=where)

    def cancel_restore(self, db: str | None, where: Condition | None) -> CancelRestoreStmt:
        return CancelRestoreStmt(db=db, where=where)

    def drop_snapshot(self, label: str, repo: str) -> DropSnapshotStmt:
        return DropSnapshotStmt(label=label, repo=repo)

    def admin_check_snapshot(self, label: str, repo: str, props: Properties | None) -> AdminCheckSnapshotStmt:
        return AdminCheckSnapshotStmt(label=label, repo=repo, properties=props or Properties())

    # brokers
    def add_broker(self, name: str, *addresses: str) -> AddBrokerStmt:
        return AddBrokerStmt(name=name, addresses=addresses)

    def drop_broker(self, name: str, *addresses: str) -> DropBrokerStmt:
        return DropBrokerStmt(name=name, addresses=addresses)

    def drop_all_broker(self, name: str) -> DropBrokerStmt:
        return DropBrokerStmt(name=name, drop_all=True)

    def show_broker(self) -> ShowBrokerStmt:
        return ShowBrokerStmt()

    # frontend configuration
    def one_frontend(self) -> bool:
        return False

    def all_frontends(self) -> bool:
        return True

    def admin_set_config(self, all_frontends: bool, configs: Properties) -> AdminSetConfigStmt:
        return AdminSetConfigStmt(configs=configs, all_frontends=all_frontends)

    def admin_show_config(self, pattern: str | None) -> AdminShowConfigStmt:
        return AdminShowConfigStmt(pattern=pattern)

    # scheduled backups
    def starts(self, text: str) -> str:
        return text

    def ends(self, text: str) -> str:
        return text

    def comment(self, text: str) -> str:
        return text

    def if_exists(self) -> bool:
        return True

    def create_job(
        self,
        name: str,
        interval: Token,
        unit: str,
        starts: str | None,
        ends: str | None,
        comment: str | None,
        backup: BackupStmt,
    ) -> CreateJobStmt:
        return CreateJobStmt(name, int(interval), unit, backup, starts, ends, comment or "")

    def where_job(self, column: str, value: str) -> JobWhere:
        return JobWhere(column, value)

    def pause_job(self, where: JobWhere) -> PauseJobStmt:
        return PauseJobStmt(where)

    def resume_job(self, where: JobWhere) -> ResumeJobStmt:
        return ResumeJobStmt(where)

    def drop_job(self, if_exists: bool | None, where: JobWhere) -> DropJobStmt:
        return DropJobStmt(where, bool(if_exists))


_TRANSFORMER = _ToStatement()


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


def parse_backup(sql: str) -> BackupStatement:
    """Parse one backup / restore / repository / broker / FE-config statement.

    An optional trailing ``;`` and SQL comments are allowed. Raises
    ``ParseError`` (1064) on a syntax error.
    """
    return _TRANSFORMER.transform(_grammar().parse(sql))


def _leading_types(sql: str, limit: int) -> Iterator[str]:
    """Token types of the first ``limit`` tokens, by the grammar's own lexer (comments skipped)."""
    tokens = LexerThread.from_text(_grammar().lexer, sql).lex(None)
    try:
        for _, token in zip(range(limit), tokens, strict=False):
            yield token.type
    except UnexpectedCharacters:
        return


# First keyword -> the keyword sequences that may follow it in this grammar
# (an empty tuple: the first keyword alone decides).
_LEADS: dict[str, tuple[tuple[str, ...], ...]] = {
    "BACKUP": ((),),
    "RESTORE": ((),),
    "CREATE": (("REPOSITORY",), ("READ",), ("JOB",)),
    "ALTER": (
        ("REPOSITORY",),
        ("SYSTEM", "ADD", "BROKER"),
        ("SYSTEM", "DROP", "BROKER"),
        ("SYSTEM", "DROP", "ALL", "BROKER"),
    ),
    "DROP": (("REPOSITORY",), ("SNAPSHOT",), ("JOB",)),
    "PAUSE": (("JOB",),),
    "RESUME": (("JOB",),),
    "SHOW": (
        ("REPOSITORIES",),
        ("CREATE", "REPOSITORY"),
        ("BACKUP",),
        ("RESTORE",),
        ("BRIEF", "RESTORE"),
        ("SNAPSHOT",),
        ("BROKER",),
    ),
    "CANCEL": (("BACKUP",), ("RESTORE",)),
    "ADMIN": (("SET", "FRONTEND"), ("SET", "ALL", "FRONTENDS"), ("SHOW", "FRONTEND"), ("CHECK", "SNAPSHOT")),
}
_LOOKAHEAD = 1 + max(len(seq) for seqs in _LEADS.values() for seq in seqs)


def is_backup_statement(sql: str) -> bool:
    """Whether ``sql`` is one of the statements of ``grammar/backup.lark``.

    Decided from the leading keywords only (comments and whitespace skipped),
    so a malformed backup statement still comes here and gets its syntax error
    from this grammar.
    """
    types = list(_leading_types(sql, _LOOKAHEAD))
    if not types or types[0] not in _LEADS:
        return False
    rest = tuple(types[1:])
    return any(rest[: len(seq)] == seq for seq in _LEADS[types[0]])
