"""What a statement returns, independent of the wire library (typed columns and rows), and what it
needs to know about its connection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dorisbk.errors import NoDatabaseSelected

# Column kinds the server maps onto MySQL wire types.
KINDS = (
    "TINYINT",
    "SMALLINT",
    "INT",
    "BIGINT",
    "LARGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "DATE",
    "DATETIME",
    "VARCHAR",
    "BOOLEAN",
    "BLOB",
    "NULL",
    "ARRAY",  # ARRAY / MAP / STRUCT values: text as Doris prints them
)


@dataclass
class Result:
    """A result set; ``columns`` are (name, kind) pairs, kind one of KINDS."""

    columns: list[tuple[str, str]]
    rows: Sequence[Sequence[Any]] = field(default_factory=list)


@dataclass
class SessionContext:
    """What a statement needs to know about its connection."""

    user: str
    db: str | None = None
    connection_id: int = 0
    variables: dict[str, Any] = field(default_factory=dict)
    time_zone: str = "UTC"  # the session's time_zone variable, as the client set it
    user_variables: dict[str, Any] = field(default_factory=dict)  # @name -> value, the connection's own
    insert_strict: bool = True  # enable_insert_strict: a value a column cannot take fails the load

    def current_db(self, explicit: str | None = None) -> str:
        name = explicit or self.db
        if not name:
            raise NoDatabaseSelected("No database selected")
        return name
