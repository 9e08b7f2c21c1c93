"""The catalog's building blocks: one call being lowered, the registry of entries, and the
small expression builders every family of functions shares."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from dorisbk.engine.types import Kind
from dorisbk.errors import DorisError


@dataclass
class Call:
    """One call being lowered: its arguments (already lowered) with their kinds, and the session."""

    name: str
    args: list[exp.Expression]
    kinds: list[Kind]
    zone: str

    def arg(self, i: int) -> exp.Expression:
        return self.args[i].copy()

    def arity(self, *counts: int) -> None:
        if len(self.args) not in counts:
            raise DorisError(f"Can not found function '{self.name}' which has {len(self.args)} arity.")

    def text(self, i: int) -> exp.Expression:
        return as_text(self.arg(i), self.kinds[i])

    def datetime(self, i: int) -> exp.Expression:
        return as_datetime(self.arg(i), self.kinds[i])

    def date(self, i: int) -> exp.Expression:
        return as_date(self.arg(i), self.kinds[i])

    def temporal(self, i: int) -> exp.Expression:
        """A DATE stays a DATE, anything else becomes a DATETIME."""
        return self.arg(i) if self.kinds[i] == Kind.DATE else self.datetime(i)

    def number(self, i: int) -> exp.Expression:
        return as_number(self.arg(i), self.kinds[i])

    def integer(self, i: int) -> exp.Expression:
        return self.arg(i) if self.kinds[i] == Kind.INT else exp.TryCast(this=self.arg(i), to=_type("BIGINT"))

    def constant(self, i: int) -> str | None:
        """The argument's value when it is a literal, else None."""
        node = self.args[i]
        return node.name if isinstance(node, exp.Literal) else None

    def format_pattern(self, i: int) -> str:
        """A date format argument, which Doris takes only as a constant."""
        pattern = self.constant(i)
        if pattern is None:
            raise DorisError(f"{self.name}'s format must be a constant")
        return pattern


# what GROUP_CONCAT puts between values when no separator is given (Doris's suites: 'a,b', no space)
GROUP_CONCAT_SEPARATOR = ","

Lowered = tuple[exp.Expression, Kind]
Lowering = Callable[[Call], Lowered]
FUNCTIONS: dict[str, Lowering] = {}


def doris(*names: str) -> Callable[[Lowering], Lowering]:
    """Register a lowering under each of Doris's names for the function."""

    def register(fn: Lowering) -> Lowering:
        for name in names:
            FUNCTIONS[name] = fn
        return fn

    return register


# ---- building blocks


def _type(name: str) -> exp.DataType:
    return _parsed_type(name).copy()


@functools.cache
def _parsed_type(name: str) -> exp.DataType:
    return exp.DataType.build(name, dialect="duckdb")


def fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def lit(value: str | int | float) -> exp.Expression:
    if isinstance(value, str):
        return exp.Literal.string(value)
    return exp.Literal.number(value)


def cast(node: exp.Expression, to: str) -> exp.Expression:
    return exp.Cast(this=node, to=_type(to))


def try_cast(node: exp.Expression, to: str) -> exp.Expression:
    return exp.TryCast(this=node, to=_type(to))


def case(*whens: tuple[exp.Expression, exp.Expression], default: exp.Expression | None = None) -> exp.Expression:
    node = exp.Case()
    for condition, value in whens:
        node = node.when(condition, value, copy=False)
    return node.else_(default, copy=False) if default is not None else node


def as_text(node: exp.Expression, kind: Kind) -> exp.Expression:
    if kind == Kind.STRING:
        return node
    if kind == Kind.BOOLEAN:
        return cast(cast(node, "INTEGER"), "VARCHAR")
    return cast(node, "VARCHAR")


def as_datetime(node: exp.Expression, kind: Kind) -> exp.Expression:
    if kind == Kind.DATETIME:
        return node
    if kind == Kind.DATE:
        return cast(node, "TIMESTAMP")
    if kind in (Kind.INT, Kind.LARGEINT):
        return fn("dbk_datetime", cast(node, "VARCHAR"))
    return fn("dbk_datetime", as_text(node, kind))


def as_date(node: exp.Expression, kind: Kind) -> exp.Expression:
    if kind == Kind.DATE:
        return node
    return cast(as_datetime(node, kind), "DATE")


def as_number(node: exp.Expression, kind: Kind) -> exp.Expression:
    if kind in (Kind.STRING, Kind.UNKNOWN, Kind.JSON):
        return try_cast(node, "DOUBLE") if kind != Kind.UNKNOWN else node
    return node


def as_bool(node: exp.Expression) -> exp.Expression:
    return exp.NEQ(this=exp.Paren(this=node), expression=lit(0))


def unit_of(node: exp.Expression) -> str:
    """An interval or TIMESTAMPDIFF unit as DuckDB spells it (DAY, MONTH...)."""
    name = (node.name if isinstance(node, (exp.Var, exp.Column, exp.Literal, exp.Identifier)) else node.sql()).upper()
    name = name.removesuffix("S") if name not in ("MICROSECONDS", "MILLISECONDS") else name
    if name not in UNITS:
        raise DorisError(f"Unsupported time unit: {name}")
    return name.removesuffix("S")


UNITS = {
    "YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND", "MILLISECOND", "MICROSECOND",
    "MILLISECONDS", "MICROSECONDS",
}  # fmt: skip
DATE_UNITS = {"YEAR", "QUARTER", "MONTH", "WEEK", "DAY"}


def interval(amount: exp.Expression, unit: str) -> exp.Expression:
    """``amount`` units as a DuckDB interval (a quarter is three months)."""
    whole = try_cast(amount, "BIGINT")
    if unit == "QUARTER":
        return fn("to_months", exp.Mul(this=whole, expression=lit(3)))
    return fn(f"to_{unit.lower()}s", whole)


def shift(call: Call, base: int, amount: exp.Expression, unit: str, sign: int) -> Lowered:
    """``base`` moved by ``amount`` units: a DATE stays a DATE for whole days and longer (as Doris's
    DATEV2 functions answer), anything else is a DATETIME."""
    delta = interval(amount, unit)
    if call.kinds[base] == Kind.DATE and unit in DATE_UNITS:
        start: exp.Expression = call.arg(base)
        kind = Kind.DATE
    else:
        start, kind = call.datetime(base), Kind.DATETIME
    moved = exp.Add(this=start, expression=delta) if sign > 0 else exp.Sub(this=start, expression=delta)
    return (cast(moved, "DATE") if kind == Kind.DATE else cast(moved, "TIMESTAMP")), kind


def simple(duck_name: str, kind: Kind, *counts: int) -> Lowering:
    def lower(call: Call) -> Lowered:
        if counts:
            call.arity(*counts)
        return fn(duck_name, *[call.arg(i) for i in range(len(call.args))]), kind

    return lower


def lambda_of(body: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    var = exp.to_identifier("__x")
    return exp.Lambda(this=body(exp.column("__x")), expressions=[var])
