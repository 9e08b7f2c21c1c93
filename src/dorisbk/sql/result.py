"""Result shaping for SHOW statements: all-text results and MySQL's LIKE on names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from dorisbk.engine.result import Result


def text_result(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> Result:
    """A result whose columns are all text, as most Doris SHOW statements return."""
    return Result([(n, "VARCHAR") for n in names], [tuple(None if v is None else str(v) for v in r) for r in rows])


def like(pattern: str | None, text: str) -> bool:
    """MySQL's LIKE as SHOW statements match names with it (``%``, ``_``, ``\\`` escaping the next
    character, any case); None matches all."""
    if pattern is None:
        return True
    return _like_regex(pattern).fullmatch(text) is not None


@lru_cache(maxsize=256)
def _like_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    escaped = False
    for ch in pattern:
        if escaped:
            parts.append(re.escape(ch))
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            parts.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    if escaped:  # a trailing backslash is itself
        parts.append(re.escape("\\"))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)
