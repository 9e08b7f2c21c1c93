"""Column definitions and schema changes as the catalog applies them; the DDL parser builds them
from what the user wrote (types by name, not yet resolved)."""

from __future__ import annotations

from dataclasses import dataclass

# a column type as written: name, arguments, element types (ARRAY<DECIMAL(10, 2)>), and for a field of a
# STRUCT<name:STRING> its name
TypeSpec = (
    tuple[str, tuple[int, ...], tuple["TypeSpec", ...]] | tuple[str, tuple[int, ...], tuple["TypeSpec", ...], str]
)


@dataclass(frozen=True)
class ColumnDef:
    name: str
    type_name: str
    type_args: tuple[int, ...] = ()
    is_key: bool = False
    type_items: tuple[TypeSpec, ...] = ()  # ARRAY<INT>: the element type; MAP<K, V>: key and value; STRUCT: fields
    aggregation: str | None = None
    nullable: bool | None = None
    default: str | None = None
    has_default: bool = False
    comment: str = ""
    auto_increment: int | None = None  # AUTO_INCREMENT(start): the first value it gives


@dataclass(frozen=True)
class ColumnChange:
    """One clause of a schema change: ``op`` is ADD, DROP, MODIFY, COMMENT (MODIFY COLUMN c COMMENT '..')
    or RENAME."""

    op: str
    column: ColumnDef | None = None
    name: str = ""
    new_name: str = ""
    after: str | None = None
    first: bool = False
    rollup: str | None = None  # TO / FROM an index
    comment: str = ""
