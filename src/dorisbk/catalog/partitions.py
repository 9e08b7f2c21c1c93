"""Partition bounds: typing the literals of RANGE and LIST partitions and checking overlaps."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from dorisbk.catalog.model import Partition, Table
from dorisbk.catalog.types import INTEGER_RANGES, ColumnType
from dorisbk.errors import DorisError

# Sort keys: (0, None) is MIN, (2, None) is MAXVALUE, (1, value) a value.
MIN = (0, None)
MAX = (2, None)


def column_types(table: Table) -> list[ColumnType]:
    types = []
    for name in table.partition_columns:
        col = table.column(name)
        if col is None:
            raise DorisError(f"Partition column[{name}] does not exist in column list.")
        types.append(col.type)
    return types


def range_key(types: Sequence[ColumnType], bound: Sequence[str | None] | None, is_upper: bool) -> tuple:
    """A comparable key for a range bound; missing trailing values count as MIN."""
    if bound is None:
        return tuple(MAX if is_upper else MIN for _ in types)
    key = []
    for i, ctype in enumerate(types):
        if i >= len(bound):
            key.append(MIN)
        elif bound[i] is None:
            key.append(MAX)
        else:
            key.append((1, ctype.coerce(bound[i])))
    return tuple(key)


def row_key(types: Sequence[ColumnType], values: Sequence[Any]) -> tuple:
    return tuple((1, v) for v, _t in zip(values, types, strict=False))


def format_bound(key: tuple) -> str:
    parts = []
    for kind, value in key:
        parts.append("MIN_VALUE" if kind == 0 else "MAXVALUE" if kind == 2 else str(value))
    return "(" + ", ".join(parts) + ")"


# Doris prints partition keys with its storage type names: DATE and DATETIME columns are v2 types
_KEY_TYPE_NAMES = {"DATE": "DATEV2", "DATETIME": "DATETIMEV2"}


def _key_types(types: Sequence[ColumnType]) -> str:
    return ", ".join(_KEY_TYPE_NAMES.get(t.name, t.name) for t in types)


def format_range(types: Sequence[ColumnType], part: Partition) -> str:
    """Doris's SHOW PARTITIONS Range text: ``[types: [DATEV2]; keys: [2024-01-01]; ..types: [...]; keys: [...]; )``."""
    type_names = _key_types(types)
    low = range_key(types, part.lower, False)
    high = range_key(types, part.upper, True)

    def keys(key: tuple) -> str:
        out = []
        for (kind, value), ctype in zip(key, types, strict=False):
            if kind == 0:
                out.append(_min_literal(ctype))
            elif kind == 2:
                out.append(_max_literal(ctype))
            else:
                out.append(str(value))
        return ", ".join(out)

    return f"[types: [{type_names}]; keys: [{keys(low)}]; ..types: [{type_names}]; keys: [{keys(high)}]; )"


def format_list(types: Sequence[ColumnType], part: Partition) -> str:
    """Doris's SHOW PARTITIONS Range text of a LIST partition:
    ``[types: [VARCHAR]; keys: [a]; , types: [VARCHAR]; keys: [b]; ]``."""
    type_names = _key_types(types)
    items = [f"types: [{type_names}]; keys: [{', '.join(v)}]; " for v in part.values or []]
    return "[" + ", ".join(items) + "]"


def _min_literal(ctype: ColumnType) -> str:
    if ctype.is_integer:
        return str(INTEGER_RANGES[ctype.name][0])
    if ctype.name.startswith("DATETIME"):
        return "0000-01-01 00:00:00"
    if ctype.name.startswith("DATE"):
        return "0000-01-01"
    return ""


def _max_literal(ctype: ColumnType) -> str:
    if ctype.is_integer:
        return str(INTEGER_RANGES[ctype.name][1])
    if ctype.name.startswith("DATETIME"):
        return "9999-12-31 23:59:59"
    if ctype.name.startswith("DATE"):
        return "9999-12-31"
    return "MAXVALUE"


def place_range(
    types: Sequence[ColumnType],
    existing: Sequence[Partition],
    less_than: Sequence[str | None] | None,
    lower: Sequence[str] | None,
    upper: Sequence[str] | None,
) -> tuple[list[str] | None, list[str] | None]:
    """Lower and upper bound literals of a new range partition, refusing any overlap as Doris does."""
    return RangePlacer(types, existing).place(less_than, lower, upper)


class RangePlacer:
    """The ranges of one set of partitions (formal or temporary: never overlapping), sorted with their keys
    computed once, so that placing a new range is a bisect: a CREATE TABLE of thousands of partitions
    places each against all those before it, which a scan would make quadratic."""

    def __init__(self, types: Sequence[ColumnType], existing: Sequence[Partition]) -> None:
        self.types = types
        self._ranges: list[tuple[tuple, tuple, Partition]] = []  # (high, low, partition), sorted by high
        for part in existing:
            self.add(part)

    def add(self, part: Partition) -> None:
        entry = (range_key(self.types, part.upper, True), range_key(self.types, part.lower, False), part)
        bisect.insort(self._ranges, entry, key=lambda e: e[0])

    def place(
        self, less_than: Sequence[str | None] | None, lower: Sequence[str] | None, upper: Sequence[str] | None
    ) -> tuple[list[str] | None, list[str] | None]:
        """Bounds of a new range: ``less_than`` starts it at the highest upper bound not above its own."""
        types = self.types
        if less_than is not None:
            upper_lits = None if all(v is None for v in less_than) else list(less_than)
            high = range_key(types, upper_lits, True)
            below = bisect.bisect_right(self._ranges, high, key=lambda e: e[0])
            lower_lits = self._ranges[below - 1][2].upper if below else None
        else:
            lower_lits = list(lower or [])
            upper_lits = None if upper is None or all(v is None for v in upper) else list(upper)
        low = range_key(types, lower_lits, False)
        high = range_key(types, upper_lits, True)
        if not low < high:
            raise DorisError(
                f"Range {format_bound(low)} to {format_bound(high)} is empty: lower bound must be below upper bound"
            )
        # the first range ending above the new one's start is the only one that can overlap it
        first = bisect.bisect_right(self._ranges, low, key=lambda e: e[0])
        if first < len(self._ranges):
            p_high, p_low, part = self._ranges[first]
            if p_low < high:
                raise DorisError(
                    f"Range [{format_bound(low)}, {format_bound(high)}) is intersected with range: "
                    f"[{format_bound(p_low)}, {format_bound(p_high)}) of partition {part.name}"
                )
        return lower_lits, upper_lits


def check_list_values(
    types: Sequence[ColumnType], existing: Sequence[Partition], values: Sequence[Sequence[str]]
) -> list[list[str]]:
    """Typed-checked list values; a value already in another partition is refused."""
    taken = {}
    for p in existing:
        for v in p.values or []:
            taken[tuple(t.coerce(x) for t, x in zip(types, v, strict=False))] = p.name
    out = []
    for value in values:
        if len(value) != len(types):
            raise DorisError(f"partition item's size {len(value)} is not equal to partition column size {len(types)}")
        key = tuple(t.coerce(x) for t, x in zip(types, value, strict=False))
        if key in taken:
            raise DorisError(f"The partition key[{', '.join(map(str, value))}] is conflict with partition {taken[key]}")
        taken[key] = "(new)"
        out.append(list(value))
    return out
