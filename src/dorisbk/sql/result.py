"""Result shaping for SHOW statements: all-text results and MySQL's LIKE on names."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Any

from dorisbk.engine.result import Result


def text_result(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> Result:
    """A result whose columns are all text, as most Doris SHOW statements return."""
    return Result([(n, "VARCHAR") for n in names], [tuple(None if v is None else str(v) for v in r) for r in rows])


def like(pattern: str | None, text: str) -> bool:
    """MySQL's LIKE as SHOW statements match names with it (``%``, ``_``, any case); None matches all."""
    if pattern is None:
        return True
    return fnmatch.fnmatchcase(text.lower(), pattern.replace("%", "*").replace("_", "?").lower())
