"""Statement objects for Doris catalog, account and SHOW statements (parsed by ddl.lark)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlglot import exp

from dorisbk.catalog.column_def import ColumnChange, ColumnDef
from dorisbk.catalog.model import DistributionDef, PartitionDef


@dataclass(frozen=True)
class TableName:
    name: str
    db: str | None = None


@dataclass(frozen=True)
class UserIdentity:
    name: str
    host: str = "%"

    def __str__(self) -> str:
        return f"'{self.name}'@'{self.host}'"


@dataclass(frozen=True)
class IndexDef:
    """``INDEX name (cols) USING INVERTED|NGRAM_BF|BITMAP PROPERTIES (...) COMMENT '...'``."""

    name: str
    columns: tuple[str, ...]
    using: str = "INVERTED"
    properties: tuple[tuple[str, str], ...] = ()
    comment: str = ""
    if_not_exists: bool = False


@dataclass(frozen=True)
class StepPartitionDef:
    """``FROM (lower) TO (upper) INTERVAL n [unit]``: expanded into partitions once column types are known."""

    lower: str
    upper: str
    interval: int
    unit: str | None = None


@dataclass(frozen=True)
class CreateDatabaseStmt:
    name: str
    if_not_exists: bool = False
    properties: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DropDatabaseStmt:
    name: str
    if_exists: bool = False
    force: bool = False


@dataclass(frozen=True)
class AutoPartition:
    """``AUTO PARTITION BY``: ``func`` / ``unit`` of ``RANGE (date_trunc(col, 'day'))``, empty for LIST."""

    func: str = ""
    unit: str = ""


@dataclass(frozen=True)
class CreateTableStmt:
    table: TableName
    columns: tuple[ColumnDef, ...]
    keys_type: str | None = None
    key_columns: tuple[str, ...] = ()
    comment: str = ""
    partition_type: str | None = None
    partition_columns: tuple[str, ...] = ()
    partitions: tuple[PartitionDef | StepPartitionDef, ...] = ()
    distribution: DistributionDef | None = None
    properties: tuple[tuple[str, str], ...] = ()
    if_not_exists: bool = False
    indexes: tuple[IndexDef, ...] = ()
    auto_partition: AutoPartition | None = None


@dataclass(frozen=True)
class CreateTableAsStmt:
    """``CREATE TABLE t [(names)] [head clauses] AS query``: ``create`` has the head's clauses and no
    columns yet (they come from the query's output, renamed by ``column_names`` when given)."""

    create: CreateTableStmt
    column_names: tuple[str, ...]
    query: str


@dataclass(frozen=True)
class CreateTableLikeStmt:
    table: TableName
    source: TableName
    if_not_exists: bool = False


@dataclass(frozen=True)
class DropTableStmt:
    table: TableName
    if_exists: bool = False
    force: bool = False
    is_view: bool = False


@dataclass(frozen=True)
class TruncateTableStmt:
    table: TableName
    partitions: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddPartitionStmt:
    table: TableName
    partition: PartitionDef
    distribution: DistributionDef | None = None
    temporary: bool = False


@dataclass(frozen=True)
class DropPartitionStmt:
    table: TableName
    name: str
    if_exists: bool = False
    force: bool = False


@dataclass(frozen=True)
class AddIndexStmt:
    """ALTER TABLE ... ADD INDEX or CREATE INDEX ... ON."""

    table: TableName
    index: IndexDef


@dataclass(frozen=True)
class DropIndexStmt:
    table: TableName
    name: str
    if_exists: bool = False


@dataclass(frozen=True)
class BuildIndexStmt:
    table: TableName
    name: str
    partitions: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchemaChangeStmt:
    table: TableName
    changes: tuple[ColumnChange, ...]


@dataclass(frozen=True)
class UnsupportedAlterStmt:
    """An ALTER TABLE clause dorisbk does not carry out (column changes, partition properties):
    it is refused after the checks every ALTER makes."""

    table: TableName
    what: str


@dataclass(frozen=True)
class RenameTableStmt:
    table: TableName
    new_name: str


@dataclass(frozen=True)
class ReplaceTableStmt:
    """``ALTER TABLE t REPLACE WITH TABLE t2 [PROPERTIES ("swap" = "true|false")]``."""

    table: TableName
    other: str
    properties: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SetTablePropertiesStmt:
    table: TableName
    properties: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CreateViewStmt:
    table: TableName
    query: str
    columns: tuple[str, ...] = ()
    comment: str = ""
    if_not_exists: bool = False
    alter: bool = False  # ALTER VIEW: replace the definition of an existing view


class ShowKind(StrEnum):
    """Which SHOW / DESC statement a ShowStmt is; each has its handler in ``handlers/show.py``."""

    DATABASES = "DATABASES"
    TABLES = "TABLES"
    CREATE_DATABASE = "CREATE_DATABASE"
    GRANTS = "GRANTS"
    ALL_GRANTS = "ALL_GRANTS"
    BACKENDS = "BACKENDS"
    PROC = "PROC"
    TABLET_ID = "TABLET_ID"
    DYNAMIC_PARTITION_TABLES = "DYNAMIC_PARTITION_TABLES"
    FRONTENDS = "FRONTENDS"
    ENGINES = "ENGINES"
    PROCESSLIST = "PROCESSLIST"
    TABLE_STATUS = "TABLE_STATUS"
    FUNCTION_STATUS = "FUNCTION_STATUS"
    PROCEDURE_STATUS = "PROCEDURE_STATUS"
    PLUGINS = "PLUGINS"
    BUILD_INDEX = "BUILD_INDEX"
    ALTER_ROLLUP = "ALTER_ROLLUP"
    ALTER_COLUMN = "ALTER_COLUMN"
    VIEWS_OF = "VIEWS_OF"
    CREATE_TABLE = "CREATE_TABLE"
    DESC = "DESC"
    COLUMNS = "COLUMNS"
    INDEX = "INDEX"
    PARTITIONS = "PARTITIONS"
    TEMP_PARTITIONS = "TEMP_PARTITIONS"
    TABLETS = "TABLETS"


@dataclass(frozen=True)
class ShowStmt:
    """A SHOW / DESC statement; ``what`` names it."""

    what: ShowKind
    table: TableName | None = None
    db: str | None = None
    like: str | None = None
    full: bool = False
    user: UserIdentity | None = None
    partitions: tuple[str, ...] = ()
    where: tuple[tuple[str, str, str], ...] = ()  # (column, "=" / "!=" / "LIKE", value), all must hold
    condition: exp.Expression | None = None  # SHOW TABLES / COLUMNS / DATABASES ... WHERE <any condition>
    path: str = ""  # SHOW PROC '<path>'
    tablet_id: int = 0  # SHOW TABLET <id>
    order_by: tuple[tuple[str, bool], ...] = ()  # (column, descending) of SHOW ALTER TABLE COLUMN
    limit: int | None = None


@dataclass(frozen=True)
class CreateUserStmt:
    user: UserIdentity
    password: str | None = None
    password_is_hash: bool = False
    if_not_exists: bool = False
    default_role: str | None = None


@dataclass(frozen=True)
class DropUserStmt:
    user: UserIdentity
    if_exists: bool = False


@dataclass(frozen=True)
class SetPasswordStmt:
    user: UserIdentity | None
    password: str
    password_is_hash: bool = False


@dataclass(frozen=True)
class GrantStmt:
    """``GRANT privs ON target TO user | ROLE 'r'`` (or REVOKE ... FROM); ``role`` names the role grantee."""

    privileges: tuple[str, ...]
    target: tuple[str, ...]
    user: UserIdentity | None
    revoke: bool = False
    role: str | None = None


@dataclass(frozen=True)
class CreateRoleStmt:
    """``CREATE ROLE [IF NOT EXISTS] name [COMMENT '...']``."""

    name: str
    if_not_exists: bool = False


@dataclass(frozen=True)
class DropRoleStmt:
    """``DROP ROLE [IF EXISTS] name``."""

    name: str
    if_exists: bool = False


@dataclass(frozen=True)
class GrantRoleStmt:
    """``GRANT 'role'[, ...] TO user`` (or REVOKE ... FROM user)."""

    roles: tuple[str, ...]
    user: UserIdentity
    revoke: bool = False


@dataclass(frozen=True)
class SyncStmt:
    """``SYNC``: with one frontend the metadata is always current, so it returns at once."""


@dataclass(frozen=True)
class CreateMaterializedViewStmt:
    """``CREATE MATERIALIZED VIEW [IF NOT EXISTS] mv AS SELECT ... FROM t`` (a rollup index of ``t``)."""

    name: TableName
    query: str
    properties: tuple[tuple[str, str], ...] = ()
    if_not_exists: bool = False


@dataclass(frozen=True)
class DropMaterializedViewStmt:
    """``DROP MATERIALIZED VIEW [IF EXISTS] mv [ON t]``."""

    name: TableName
    table: TableName | None = None
    if_exists: bool = False


@dataclass(frozen=True)
class AnalyzeStmt:
    """``ANALYZE TABLE t ...`` / ``ANALYZE DATABASE db ...``: accepted once the object exists."""

    table: TableName | None = None
    db: str | None = None


@dataclass(frozen=True)
class ShowMoreStmt:
    """SHOW DATA / CATALOGS / ROLES / PROPERTY / TRANSACTION / LOAD, SHOW <object> <id>, ADMIN SHOW
    REPLICA ... and SWITCH (answered by handlers/show_admin.py); ``what`` names the statement."""

    what: str
    table: TableName | None = None
    db: str | None = None
    name: str | None = None  # SHOW CATALOG / SWITCH: the catalog; SHOW PROPERTY FOR: the user
    like: str | None = None
    object_id: int = 0
    partitions: tuple[str, ...] = ()
    temporary: bool = False
    where: tuple[tuple[str, str, str], ...] = ()
    order_by: tuple[tuple[str, bool], ...] = ()  # (column, descending)
    all: bool = False
    limit: tuple[int, int] | None = None  # SHOW LOAD's LIMIT: (offset, count)


@dataclass(frozen=True)
class RecoverStmt:
    """RECOVER DATABASE | TABLE | PARTITION (handlers/recycle.py); ``object_id`` picks one of several
    dropped objects of the same name."""

    what: str
    name: str
    table: TableName | None = None
    object_id: int | None = None
    new_name: str | None = None


@dataclass(frozen=True)
class RecycleBinStmt:
    """SHOW CATALOG RECYCLE BIN [WHERE ..] (``key`` None) or DROP CATALOG RECYCLE BIN WHERE 'key' = value."""

    where: tuple[tuple[str, str, str], ...] = ()
    key: str | None = None
    value: int = 0


@dataclass(frozen=True)
class RenamePartitionStmt:
    table: TableName
    name: str
    new_name: str


@dataclass(frozen=True)
class ModifyPartitionStmt:
    """MODIFY PARTITION p | (p1, p2) | (*) SET ("replication_num" = .., "storage_medium" = ..)."""

    table: TableName
    names: tuple[str, ...]  # empty: every partition (``(*)``)
    properties: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class MultiAlterStmt:
    """Several comma-separated ALTER TABLE clauses, carried out in order."""

    stmts: tuple[object, ...]


@dataclass(frozen=True)
class LockTablesStmt:
    """``LOCK TABLES t READ, u WRITE`` (mysqldump): Doris checks each table and its SELECT privilege,
    and locks nothing. ``UNLOCK TABLES`` has no tables."""

    tables: tuple[TableName, ...] = ()
    unlock: bool = False


@dataclass(frozen=True)
class ToggleKeysStmt:
    """``ALTER TABLE t DISABLE | ENABLE KEYS`` (MySQL's, in mysqldump's output): the table is checked,
    nothing else happens (Doris keeps no indexes to switch off)."""

    table: TableName


@dataclass(frozen=True)
class NoOpStmt:
    """A statement MySQL clients send that has nothing to do here: START TRANSACTION [WITH CONSISTENT
    SNAPSHOT], SAVEPOINT, ROLLBACK TO SAVEPOINT, RELEASE SAVEPOINT, FLUSH TABLES [WITH READ LOCK]
    (mysqldump --single-transaction and --lock-all-tables)."""

    what: str
