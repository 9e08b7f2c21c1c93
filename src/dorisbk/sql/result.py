"""What a statement returns, independent of the wire library: typed columns and rows."""

from __future__ import annotations

import fnmatch
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
)


@dataclass
class Result:
    """A result set; ``columns`` are (name, kind) pairs, kind one of KINDS."""

    columns: list[tuple[str, str]]
    rows: Sequence[Sequence[Any]] = field(default_factory=list)


def text_result(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> Result:
    """A result whose columns are all text, as most Doris SHOW statements return."""
    return Result([(n, "VARCHAR") for n in names], [tuple(None if v is None else str(v) for v in r) for r in rows])


@dataclass
class SessionContext:
    """What a statement needs to know about its connection."""

    user: str
    db: str | None = None
    connection_id: int = 0
    variables: dict[str, Any] = field(default_factory=dict)

    def current_db(self, explicit: str | None = None) -> str:
        name = explicit or self.db
        if not name:
            raise NoDatabaseSelected("No database selected")
        return name


def like(pattern: str | None, text: str) -> bool:
    """MySQL's LIKE as SHOW statements match names with it (``%``, ``_``, any case); None matches all."""
    if pattern is None:
        return True
    return fnmatch.fnmatchcase(text.lower(), pattern.replace("%", "*").replace("_", "?").lower())
