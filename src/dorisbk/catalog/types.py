"""Doris column types: their spelling in DDL, their DuckDB storage type, and value coercion."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass

from dorisbk.errors import DorisError

# Doris type name -> DuckDB type used in rowset files.
_DUCK = {
    "BOOLEAN": "BOOLEAN",
    "TINYINT": "TINYINT",
    "SMALLINT": "SMALLINT",
    "INT": "INTEGER",
    "BIGINT": "BIGINT",
    "LARGEINT": "HUGEINT",
    "FLOAT": "FLOAT",
    "DOUBLE": "DOUBLE",
    "DATE": "DATE",
    "DATEV2": "DATE",
    "DATETIME": "TIMESTAMP",
    "DATETIMEV2": "TIMESTAMP",
    "CHAR": "VARCHAR",
    "VARCHAR": "VARCHAR",
    "STRING": "VARCHAR",
    "TEXT": "VARCHAR",
    "DECIMAL": "DECIMAL",
    "DECIMALV3": "DECIMAL",
    "JSON": "VARCHAR",
    # nested types: DuckDB's lists, maps and structs of their element types (see ColumnType.duck)
    "ARRAY": "LIST",
    "MAP": "MAP",
    "STRUCT": "STRUCT",
    # bitmaps and HLL sketches hold the exact set of their values: a sorted list of distinct integers
    "BITMAP": "UBIGINT[]",
    "HLL": "UBIGINT[]",
}

# how many element types each nested type takes
_ITEMS = {"ARRAY": 1, "MAP": 2}

ALIASES = {"INTEGER": "INT", "BOOL": "BOOLEAN", "DECIMALV2": "DECIMAL", "NUMERIC": "DECIMAL", "JSONB": "JSON"}

INTEGER_RANGES = {
    "TINYINT": (-(2**7), 2**7 - 1),
    "SMALLINT": (-(2**15), 2**15 - 1),
    "INT": (-(2**31), 2**31 - 1),
    "BIGINT": (-(2**63), 2**63 - 1),
    "LARGEINT": (-(2**127), 2**127 - 1),
}


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def is_type_name(name: str) -> bool:
    """Whether ``name`` is a Doris column type dorisbk knows (``INT``, ``varchar``, ``DECIMALV3``...)."""
    return ALIASES.get(name.upper(), name.upper()) in _DUCK


@dataclass(frozen=True)
class ColumnType:
    """A Doris column type such as ``DECIMAL(10, 2)`` or ``VARCHAR(32)``."""

    name: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    items: tuple[ColumnType, ...] = ()  # ARRAY: its element type; MAP: key and value types; STRUCT: its fields
    field: str = ""  # a STRUCT's field: its name

    @staticmethod
    def of(name: str, args: tuple[int, ...] = (), items: tuple[tuple, ...] = (), field: str = "") -> ColumnType:
        """A type from its DDL spelling; ``items`` are the element types as (name, args, items) triples, a
        STRUCT's fields as (name, args, items, field name)."""
        base = ALIASES.get(name.upper(), name.upper())
        if base not in _DUCK:
            raise DorisError(f"Unknown type: {name}", code=1064)
        if base == "STRUCT":
            if not items or any(len(item) != 4 for item in items):
                raise DorisError(f"Invalid type: {name} takes named fields (STRUCT<name:type, ...>)", code=1064)
            return ColumnType(base, items=tuple(ColumnType.of(*item) for item in items), field=field)
        if base in _ITEMS or items:
            if len(items) != _ITEMS.get(base, 0) or any(len(item) != 3 for item in items):
                raise DorisError(f"Invalid type: {name} takes {_ITEMS.get(base, 0)} element types", code=1064)
            return ColumnType(base, items=tuple(ColumnType.of(*item) for item in items), field=field)
        if base in ("DECIMAL", "DECIMALV3"):
            # Doris's DECIMAL / DECIMALV3 with no arguments is DECIMAL(38, 9)
            precision = args[0] if args else 38
            scale = args[1] if len(args) > 1 else (0 if args else 9)
            if not 1 <= precision <= 38 or not 0 <= scale <= precision:
                raise DorisError(f"Invalid decimal type: DECIMAL({precision}, {scale})")
            return ColumnType(base, precision=precision, scale=scale, field=field)
        if base in ("CHAR", "VARCHAR"):
            default = 1 if base == "CHAR" else 65533
            length = args[0] if args else default
            limit = 255 if base == "CHAR" else 65533
            if not 1 <= length <= limit:
                raise DorisError(f"{base} length must be between 1 and {limit}: {length}")
            return ColumnType(base, length=length, field=field)
        if base in ("DATETIME", "DATETIMEV2") and args:
            return ColumnType(base, scale=args[0], field=field)
        return ColumnType(base, field=field)

    def check(self) -> None:
        """Raise unless this is a type ``of`` could have made: a known name, integer parameters in range, the
        element types its kind takes. A type read from a repository (a snapshot's meta) is data: its
        parameters become SQL (``DECIMAL(p, s)``) only once checked."""

        def fits(value: object, low: int, high: int) -> bool:
            return value is None or (type(value) is int and low <= value <= high)

        items = {"STRUCT": len(self.items), **_ITEMS}.get(self.name, 0) if isinstance(self.name, str) else -1
        known = (
            self.name in _DUCK
            and isinstance(self.field, str)
            and fits(self.length, 1, 65533)
            and fits(self.precision, 1, 38)
            and fits(self.scale, 0, 38)
            and (self.name not in ("DECIMAL", "DECIMALV3") or None not in (self.precision, self.scale))
            and len(self.items) == items
        )
        if not known:
            raise DorisError(f"invalid column type: {self.name!r}")
        for item in self.items:
            item.check()

    def sql(self) -> str:
        """The type as SHOW CREATE TABLE and DESC print it."""
        if self.name == "STRUCT":
            return f"STRUCT<{', '.join(f'{item.field}:{item.sql()}' for item in self.items)}>"
        if self.items:
            return f"{self.name}<{', '.join(item.sql() for item in self.items)}>"
        if self.precision is not None:
            return f"{self.name}({self.precision}, {self.scale})"
        if self.length is not None:
            return f"{self.name}({self.length})"
        if self.scale is not None:
            return f"{self.name}({self.scale})"
        return self.name

    def duck(self) -> str:
        base = _DUCK[self.name]
        if base == "LIST":
            return f"{self.items[0].item_duck()}[]"
        if base == "MAP":
            return f"MAP({self.items[0].item_duck()}, {self.items[1].item_duck()})"
        if base == "STRUCT":
            return "STRUCT(" + ", ".join(f"{_quoted(item.field)} {item.item_duck()}" for item in self.items) + ")"
        if base == "DECIMAL":
            return f"DECIMAL({self.precision}, {self.scale})"
        return base

    def item_duck(self) -> str:
        """The DuckDB type of an ARRAY's or MAP's element: a DATETIME(1..3) is a TIMESTAMP_MS, so that its
        values keep (and print with) their 3 digits as Doris's do; a column's own type reaches the client
        with the column, an element's only as its DuckDB type."""
        if self.name in ("DATETIME", "DATETIMEV2") and self.scale in (1, 2, 3):
            return "TIMESTAMP_MS"
        return self.duck()

    def storage(self) -> str:
        """The DuckDB type of the column inside rowset (Parquet) files.

        Parquet has no 128-bit integer (DuckDB would write HUGEINT as DOUBLE and lose
        digits), so LARGEINT is kept as its decimal text and cast back on read.
        """
        if self.name == "LARGEINT":
            return "VARCHAR"
        if self.name == "ARRAY":
            return f"{self.items[0].item_storage()}[]"
        if self.name == "MAP":
            return f"MAP({self.items[0].item_storage()}, {self.items[1].item_storage()})"
        if self.name == "STRUCT":
            return "STRUCT(" + ", ".join(f"{_quoted(item.field)} {item.item_storage()}" for item in self.items) + ")"
        return self.duck()

    def item_storage(self) -> str:
        return self.storage() if self.items or self.name == "LARGEINT" else self.item_duck()

    def read_expr(self, column_sql: str) -> str:
        """SQL turning a stored column back into the column's type (see ``storage``; Parquet reads a
        TIMESTAMP_MS back as a TIMESTAMP)."""
        if self.storage() != self.duck() or "TIMESTAMP_MS" in self.duck():
            return f"CAST({column_sql} AS {self.duck()})"
        return column_sql

    @property
    def is_string(self) -> bool:
        return _DUCK[self.name] == "VARCHAR"

    @property
    def is_integer(self) -> bool:
        return self.name in INTEGER_RANGES

    @property
    def is_float(self) -> bool:
        return self.name in ("FLOAT", "DOUBLE")

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            "name": self.name,
            "length": self.length,
            "precision": self.precision,
            "scale": self.scale,
        }
        if self.items:
            d["items"] = [item.to_dict() for item in self.items]
        if self.field:
            d["field"] = self.field
        return d

    @staticmethod
    def from_dict(d: dict) -> ColumnType:
        items = tuple(ColumnType.from_dict(item) for item in d.get("items") or ())
        return ColumnType(d["name"], d.get("length"), d.get("precision"), d.get("scale"), items, d.get("field", ""))

    def coerce(self, value: object) -> object:
        """Turn a literal (as written in DDL: partition bounds, defaults) into a typed value."""
        if value is None:
            return None
        text = str(value)
        try:
            if self.is_integer:
                number = int(text)
                low, high = INTEGER_RANGES[self.name]
                if not low <= number <= high:
                    raise ValueError(text)
                return number
            if self.name in ("DATE", "DATEV2"):
                return dt.date.fromisoformat(text[:10])
            if self.name in ("DATETIME", "DATETIMEV2"):
                return dt.datetime.fromisoformat(text)
            if self.name.startswith("DECIMAL"):
                return decimal.Decimal(text)
            if self.is_float:
                return float(text)
            if self.name == "BOOLEAN":
                return text.lower() in ("1", "true")
        except ValueError as exc:
            raise DorisError(f"Invalid value '{text}' for type {self.sql()}") from exc
        return text
