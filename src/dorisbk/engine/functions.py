"""Doris's functions, one entry each: how a call is written for DuckDB and what kind it answers.

The DorisBK dialect parses every name listed here as a plain call (``CALLS``), so the tree keeps
the name the user wrote; :mod:`dorisbk.engine.lowering` then replaces each call, arguments
first, by the DuckDB expression an entry builds. Entries coerce their arguments as Doris does
(a number where a string is wanted is its text, a string where a date is wanted is parsed, and
parses that fail give NULL) and follow Doris's conventions where DuckDB's differ: day numbering,
week modes, MySQL date formats, NULL handling of CONCAT and GREATEST, 0-on-miss positions.
Bitmaps and HLL sketches are evaluated exactly over sorted lists of distinct values.

Calls whose name Doris has and DuckDB answers the same way need no entry (``abs``, ``upper``...).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from dorisbk.engine import formats
from dorisbk.engine.types import Kind
from dorisbk.errors import DorisError
from dorisbk.timeutil import zone_name


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


def _unit(node: exp.Expression) -> str:
    """An interval or TIMESTAMPDIFF unit as DuckDB spells it (DAY, MONTH...)."""
    name = (node.name if isinstance(node, (exp.Var, exp.Column, exp.Literal, exp.Identifier)) else node.sql()).upper()
    name = name.removesuffix("S") if name not in ("MICROSECONDS", "MILLISECONDS") else name
    if name not in _UNITS:
        raise DorisError(f"Unsupported time unit: {name}")
    return name.removesuffix("S")


_UNITS = {
    "YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND", "MILLISECOND", "MICROSECOND",
    "MILLISECONDS", "MICROSECONDS",
}  # fmt: skip
_DATE_UNITS = {"YEAR", "QUARTER", "MONTH", "WEEK", "DAY"}


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
    if call.kinds[base] == Kind.DATE and unit in _DATE_UNITS:
        start: exp.Expression = call.arg(base)
        kind = Kind.DATE
    else:
        start, kind = call.datetime(base), Kind.DATETIME
    moved = exp.Add(this=start, expression=delta) if sign > 0 else exp.Sub(this=start, expression=delta)
    return (cast(moved, "DATE") if kind == Kind.DATE else cast(moved, "TIMESTAMP")), kind


# ---- dates and times


# INTERVAL 'd h:m:s' DAY_SECOND: days, then hours, minutes and seconds; the first sign applies to all
_DAY_SECOND = re.compile(r"\s*(-?)\s*(\d+)\s+-?(\d+)\s*:\s*-?(\d+)\s*:\s*-?(\d+)\s*")


def _day_second(text: str) -> exp.Expression:
    """An ``INTERVAL '...' DAY_SECOND`` value in seconds (a value's text, read here, never SQL); NULL for
    one with anything after the seconds, as Doris answers; Doris's error for one that is not d h:m:s."""
    found = _DAY_SECOND.match(text)
    if found is None:
        raise DorisError(f"Invalid time format: {text}")
    if text[found.end() :].strip():
        return exp.null()
    sign, days, hours, minutes, seconds = found.groups()
    total = int(days) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return lit(-total if sign else total)


def _interval_arg(call: Call, i: int) -> tuple[exp.Expression, str]:
    node = call.args[i]
    if isinstance(node, exp.Interval):
        unit = node.args.get("unit")
        if unit is not None and unit.name.upper() == "DAY_SECOND" and isinstance(node.this, exp.Literal):
            return _day_second(node.this.name), "SECOND"
        return node.this.copy(), _unit(unit) if unit is not None else "DAY"
    return call.arg(i), "DAY"


@doris("date_add", "adddate", "days_add")
def _date_add(call: Call) -> Lowered:
    call.arity(2)
    amount, unit = _interval_arg(call, 1)
    return shift(call, 0, amount, unit, +1)


@doris("date_sub", "subdate", "days_sub")
def _date_sub(call: Call) -> Lowered:
    call.arity(2)
    amount, unit = _interval_arg(call, 1)
    return shift(call, 0, amount, unit, -1)


def _unit_shift(unit: str, sign: int) -> Lowering:
    def lower(call: Call) -> Lowered:
        call.arity(2)
        return shift(call, 0, call.arg(1), unit, sign)

    return lower


for _unit_name in ("year", "quarter", "month", "week", "hour", "minute", "second", "millisecond", "microsecond"):
    doris(f"{_unit_name}s_add")(_unit_shift(_unit_name.upper(), +1))
    doris(f"{_unit_name}s_sub")(_unit_shift(_unit_name.upper(), -1))
doris("add_months")(_unit_shift("MONTH", +1))


def diff(unit: str, start: exp.Expression, end: exp.Expression) -> exp.Expression:
    """Whole ``unit``s from ``start`` to ``end``; months and longer as MySQL counts them, by calendar."""
    months = {"YEAR": 12, "QUARTER": 3, "MONTH": 1}.get(unit)
    if months is None:
        return fn("date_sub", lit(unit.lower()), start, end)
    between = fn("dbk_months_between", start, end)
    return between if months == 1 else cast(fn("trunc", exp.Div(this=between, expression=lit(months))), "BIGINT")


def _unit_diff(unit: str) -> Lowering:
    def lower(call: Call) -> Lowered:
        call.arity(2)
        return diff(unit, call.datetime(1), call.datetime(0)), Kind.INT

    return lower


for _unit_name in ("year", "quarter", "month", "week", "day", "hour", "minute", "second", "millisecond", "microsecond"):
    doris(f"{_unit_name}s_diff")(_unit_diff(_unit_name.upper()))


@doris("timestampdiff")
def _timestampdiff(call: Call) -> Lowered:
    call.arity(3)
    return diff(_unit(call.args[0]), call.datetime(1), call.datetime(2)), Kind.INT


@doris("timestampadd")
def _timestampadd(call: Call) -> Lowered:
    call.arity(3)
    reordered = Call(call.name, [call.args[2], call.args[1]], [call.kinds[2], call.kinds[1]], call.zone)
    return shift(reordered, 0, reordered.arg(1), _unit(call.args[0]), +1)


@doris("datediff")
def _datediff(call: Call) -> Lowered:
    call.arity(2)
    return fn("date_diff", lit("day"), call.date(1), call.date(0)), Kind.INT


@doris("to_date", "date", "datev2", "to_datev2")
def _to_date(call: Call) -> Lowered:
    call.arity(1)
    return call.date(0), Kind.DATE


@doris("timestamp")
def _timestamp(call: Call) -> Lowered:
    call.arity(1)
    return call.datetime(0), Kind.DATETIME


@doris("last_day")
def _last_day(call: Call) -> Lowered:
    call.arity(1)
    return fn("last_day", call.date(0)), Kind.DATE


@doris("to_monday")
def _to_monday(call: Call) -> Lowered:
    call.arity(1)
    return cast(fn("date_trunc", lit("week"), call.date(0)), "DATE"), Kind.DATE


def _part(duck_name: str) -> Lowering:
    def lower(call: Call) -> Lowered:
        call.arity(1)
        return fn(duck_name, call.temporal(0)), Kind.INT

    return lower


for _doris_name, _duck_name in {
    "year": "year", "month": "month", "day": "day", "dayofmonth": "day", "dayofyear": "dayofyear",
    "quarter": "quarter", "hour": "hour", "minute": "minute", "second": "second", "weekofyear": "weekofyear",
}.items():  # fmt: skip
    doris(_doris_name)(_part(_duck_name))


@doris("microsecond")
def _microsecond(call: Call) -> Lowered:
    call.arity(1)
    return exp.Mod(this=fn("microsecond", call.datetime(0)), expression=lit(1_000_000)), Kind.INT


@doris("dayofweek")
def _dayofweek(call: Call) -> Lowered:
    call.arity(1)
    return exp.Add(this=fn("dayofweek", call.temporal(0)), expression=lit(1)), Kind.INT


@doris("weekday")
def _weekday(call: Call) -> Lowered:
    call.arity(1)
    return exp.Sub(this=fn("isodow", call.temporal(0)), expression=lit(1)), Kind.INT


@doris("dayname")
def _dayname(call: Call) -> Lowered:
    call.arity(1)
    return fn("dayname", call.temporal(0)), Kind.STRING


@doris("monthname")
def _monthname(call: Call) -> Lowered:
    call.arity(1)
    return fn("monthname", call.temporal(0)), Kind.STRING


@doris("week")
def _week(call: Call) -> Lowered:
    call.arity(1, 2)
    mode = call.integer(1) if len(call.args) == 2 else lit(0)
    return fn("dbk_week", call.date(0), mode), Kind.INT


@doris("yearweek")
def _yearweek(call: Call) -> Lowered:
    call.arity(1, 2)
    mode = call.integer(1) if len(call.args) == 2 else lit(0)
    return fn("dbk_yearweek", call.date(0), mode), Kind.INT


@doris("makedate")
def _makedate(call: Call) -> Lowered:
    call.arity(2)
    year, day = call.integer(0), call.integer(1)
    start = fn("make_date", cast(year, "BIGINT"), lit(1), lit(1))
    made = cast(exp.Add(this=start, expression=exp.Sub(this=cast(day, "INTEGER"), expression=lit(1))), "DATE")
    out_of_range = fn("error", lit("makedate: the day of the year is out of range"))
    return case((exp.GT(this=day.copy(), expression=lit(0)), made), default=out_of_range), Kind.DATE


# MySQL's day number of 1970-01-01 (TO_DAYS counts from year 0)
_EPOCH_DAY = 719528


@doris("from_days")
def _from_days(call: Call) -> Lowered:
    call.arity(1)
    days = cast(exp.Sub(this=call.integer(0), expression=lit(_EPOCH_DAY)), "INTEGER")
    return cast(exp.Add(this=cast(lit("1970-01-01"), "DATE"), expression=days), "DATE"), Kind.DATE


@doris("to_days")
def _to_days(call: Call) -> Lowered:
    call.arity(1)
    since = fn("date_diff", lit("day"), cast(lit("1970-01-01"), "DATE"), call.date(0))
    return exp.Add(this=since, expression=lit(_EPOCH_DAY)), Kind.INT


def _local(instant: exp.Expression, zone: str) -> exp.Expression:
    """A TIMESTAMPTZ as the wall-clock time of ``zone`` (an IANA name or an offset)."""
    return fn("dbk_from_utc", fn("timezone", lit("UTC"), instant), lit(zone))


def _instant(wall: exp.Expression, zone: str) -> exp.Expression:
    """A wall-clock TIMESTAMP of ``zone`` as the same instant's UTC wall clock (what epoch() counts from)."""
    return fn("dbk_to_utc", wall, lit(zone))


# MySQL's week numbering behind the format specifiers strftime does not have: (macro, mode, digits)
_WEEK_SPECIFIERS = {
    "%U": ("dbk_week", 0), "%u": ("dbk_week", 1), "%V": ("dbk_week", 2), "%v": ("dbk_week", 3),
    "%X": ("dbk_yearweek", 2), "%x": ("dbk_yearweek", 3),
}  # fmt: skip


def formatted(moment: exp.Expression, pattern: str) -> exp.Expression:
    """``moment`` written with a Doris format: strftime for what it has, our macros for the rest."""
    parts: list[exp.Expression] = []
    for piece in formats.pieces(pattern):
        if piece == "%D":
            day = fn("day", moment.copy())
            parts.append(exp.DPipe(this=cast(day, "VARCHAR"), expression=fn("dbk_day_suffix", day.copy()), safe=False))
        elif piece in _WEEK_SPECIFIERS:
            macro, mode = _WEEK_SPECIFIERS[piece]
            number = fn(macro, cast(moment.copy(), "DATE"), lit(mode))
            if macro == "dbk_yearweek":
                number = exp.IntDiv(this=number, expression=lit(100))
            parts.append(fn("lpad", cast(number, "VARCHAR"), lit(4 if macro == "dbk_yearweek" else 2), lit("0")))
        else:
            parts.append(fn("strftime", moment.copy(), lit(piece)))
    if not parts:
        return lit("")
    joined = parts[0]
    for part in parts[1:]:
        joined = exp.DPipe(this=joined, expression=part, safe=False)
    return joined


@doris("from_unixtime")
def _from_unixtime(call: Call) -> Lowered:
    call.arity(1, 2)
    seconds = call.integer(0)
    local = _local(fn("to_timestamp", cast(seconds, "DOUBLE")), call.zone)
    pattern = "%Y-%m-%d %H:%i:%s" if len(call.args) == 1 else call.constant(1)
    if pattern is None:
        raise DorisError("from_unixtime's format must be a constant")
    in_range = exp.Between(this=seconds.copy(), low=lit(0), high=lit(32536771199))
    return case((in_range, formatted(local, pattern))), Kind.STRING


@doris("unix_timestamp")
def _unix_timestamp(call: Call) -> Lowered:
    call.arity(0, 1, 2)
    if not call.args:
        return cast(fn("epoch", exp.CurrentTimestamp()), "BIGINT"), Kind.INT
    if len(call.args) == 2:
        pattern = call.constant(1)
        if pattern is None:
            raise DorisError("unix_timestamp's format must be a constant")
        wall = fn("try_strptime", call.text(0), lit(formats.to_duckdb(pattern, parsing=True)))
    else:
        wall = call.datetime(0)
    seconds = fn("epoch", _instant(wall, call.zone))
    # Doris answers a DECIMAL for a value with fractional seconds, else an INT
    literal = call.args[0].this if isinstance(call.args[0], exp.Cast) else call.args[0]
    fractional = len(call.args) == 2 or (isinstance(literal, exp.Literal) and "." in literal.name)
    value = cast(seconds, "DECIMAL(18, 6)") if fractional else cast(seconds, "BIGINT")
    valid = exp.Between(this=seconds.copy(), low=lit(0), high=lit(32536771199))
    return case((valid, value), default=lit(0)), Kind.DECIMAL if fractional else Kind.INT


@doris("convert_tz")
def _convert_tz(call: Call) -> Lowered:
    call.arity(3)
    zones: list[exp.Expression] = []
    for i in (1, 2):
        name = call.constant(i)
        if name is None:
            zones.append(call.text(i))
            continue
        try:
            zones.append(lit(zone_name(name, strict=True)))
        except ValueError:
            raise DorisError(f"Operation convert_tz invalid timezone: {name}") from None
    return fn("dbk_convert_tz", call.datetime(0), *zones), Kind.DATETIME


@doris("time_format")
def _time_format(call: Call) -> Lowered:
    call.arity(2)
    pattern = call.constant(1)
    if pattern is None:
        raise DorisError("time_format's format must be a constant")
    text = call.text(0)
    time_of_day = exp.Add(this=cast(lit("1970-01-01"), "DATE"), expression=try_cast(text.copy(), "TIME"))
    moment = fn("coalesce", fn("dbk_datetime", text), time_of_day)
    return formatted(moment, pattern), Kind.STRING


@doris("date_format")
def _date_format(call: Call) -> Lowered:
    call.arity(2)
    pattern = call.constant(1)
    if pattern is None:
        raise DorisError(f"{call.name}'s format must be a constant")
    return formatted(call.datetime(0), pattern), Kind.STRING


@doris("str_to_date")
def _str_to_date(call: Call) -> Lowered:
    call.arity(2)
    pattern = call.constant(1)
    if pattern is None:
        raise DorisError("str_to_date's format must be a constant")
    parsed = fn("try_strptime", call.text(0), lit(formats.to_duckdb(pattern, parsing=True)))
    if formats.reads_time(pattern):
        return parsed, Kind.DATETIME
    return cast(parsed, "DATE"), Kind.DATE


@doris("date_trunc")
def _date_trunc(call: Call) -> Lowered:
    call.arity(2)
    first = call.constant(0)
    unit_first = first is not None and first.upper() in _UNITS  # Doris 3 takes either order
    value = 1 if unit_first else 0
    unit = call.constant(1 - value)
    if unit is not None and unit.upper() not in _UNITS:
        raise DorisError("date_trunc's unit must be one of year, quarter, month, week, day, hour, minute, second")
    unit_sql = lit(unit.lower()) if unit is not None else fn("lower", call.text(1 - value))
    kind = Kind.DATE if call.kinds[value] == Kind.DATE else Kind.DATETIME
    truncated = fn("date_trunc", unit_sql, call.temporal(value))
    return cast(truncated, "DATE" if kind == Kind.DATE else "TIMESTAMP"), kind


@doris("year_of_week", "yow")
def _year_of_week(call: Call) -> Lowered:
    call.arity(1)
    return fn("isoyear", call.temporal(0)), Kind.INT


@doris("like")
def _like(call: Call) -> Lowered:
    call.arity(2)
    return exp.Like(this=call.text(0), expression=call.text(1)), Kind.BOOLEAN


@doris("timediff")
def _timediff(call: Call) -> Lowered:
    call.arity(2)
    seconds = exp.Sub(this=fn("epoch", call.datetime(0)), expression=fn("epoch", call.datetime(1)))
    return fn("dbk_sec_to_time", cast(seconds, "BIGINT")), Kind.TIME


@doris("human_readable_seconds")
def _human_readable_seconds(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_human_seconds", cast(call.integer(0), "BIGINT")), Kind.STRING


@doris("time")
def _time(call: Call) -> Lowered:
    call.arity(1)
    return fn("strftime", call.datetime(0), lit("%H:%M:%S")), Kind.TIME


@doris("nan")
def _nan(call: Call) -> Lowered:
    call.arity(0)
    return cast(lit("NaN"), "DOUBLE"), Kind.DOUBLE


@doris("time_to_sec")
def _time_to_sec(call: Call) -> Lowered:
    call.arity(1)
    return cast(fn("epoch", try_cast(call.text(0), "TIME")), "BIGINT"), Kind.INT


@doris("sec_to_time")
def _sec_to_time(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_sec_to_time", call.integer(0)), Kind.STRING


@doris("utc_timestamp")
def _utc_timestamp(call: Call) -> Lowered:
    call.arity(0)
    # a DATETIME of whole seconds, as Doris gives it
    return fn("date_trunc", lit("second"), fn("timezone", lit("UTC"), exp.CurrentTimestamp())), Kind.DATETIME


# the *_floor / *_ceil family counts periods from this origin unless given another
_ORIGIN = "0001-01-01 00:00:00"
_MICROS = {"SECOND": 10**6, "MINUTE": 60 * 10**6, "HOUR": 3600 * 10**6, "DAY": 86400 * 10**6, "WEEK": 604800 * 10**6}
_MONTHS = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}


def _time_round(unit: str, up: bool) -> Lowering:
    """``t`` rounded down (or up) to a whole number of ``period`` units counted from ``origin``:
    ``(t)``, ``(t, period)``, ``(t, origin)`` or ``(t, period, origin)``. A DATE stays a DATE for a day and
    longer; a period that is not positive, or an answer past year 9999, is NULL."""

    def lower(call: Call) -> Lowered:
        call.arity(1, 2, 3)
        has_period = len(call.args) == 3 or (len(call.args) == 2 and call.kinds[1] in (Kind.INT, Kind.LARGEINT))
        period = cast(call.integer(1), "BIGINT") if has_period else lit(1)
        at = 2 if has_period else 1
        origin = call.datetime(at) if len(call.args) > at else cast(lit(_ORIGIN), "TIMESTAMP")
        keep_date = call.kinds[0] == Kind.DATE and unit in _DATE_UNITS
        moment = call.datetime(0)
        if unit in _MONTHS:
            step = exp.Mul(this=period, expression=lit(_MONTHS[unit]))
            rounded = fn("dbk_round_months", moment, step, origin, exp.Boolean(this=up))
        else:
            step = exp.Mul(this=period, expression=lit(_MICROS[unit]))
            rounded = fn("dbk_round_micros", moment, step, origin, exp.Boolean(this=up))
        return (cast(rounded, "DATE"), Kind.DATE) if keep_date else (cast(rounded, "TIMESTAMP"), Kind.DATETIME)

    return lower


for _unit_name in ("year", "quarter", "month", "week", "day", "hour", "minute", "second"):
    doris(f"{_unit_name}_floor")(_time_round(_unit_name.upper(), up=False))
    doris(f"{_unit_name}_ceil")(_time_round(_unit_name.upper(), up=True))


def _from_epoch(micros_per_unit: int) -> Lowering:
    """from_second / from_millisecond / from_microsecond: the session's wall clock at that many units after
    1970-01-01 UTC; NULL before it."""

    def lower(call: Call) -> Lowered:
        call.arity(1)
        units = cast(call.integer(0), "BIGINT")
        utc = fn("make_timestamp", exp.Mul(this=units, expression=lit(micros_per_unit)))
        local = fn("dbk_from_utc", utc, lit(call.zone))
        return case((exp.GTE(this=units.copy(), expression=lit(0)), local)), Kind.DATETIME

    return lower


doris("from_second")(_from_epoch(10**6))
doris("from_millisecond")(_from_epoch(10**3))
doris("from_microsecond")(_from_epoch(1))


def _to_epoch(duck_name: str) -> Lowering:
    """second_timestamp / millisecond_timestamp / microsecond_timestamp: units since 1970-01-01 UTC of a
    wall-clock time of the session's zone."""

    def lower(call: Call) -> Lowered:
        call.arity(1)
        return cast(fn(duck_name, _instant(call.datetime(0), call.zone)), "BIGINT"), Kind.INT

    return lower


doris("second_timestamp")(_to_epoch("epoch"))
doris("millisecond_timestamp")(_to_epoch("epoch_ms"))
doris("microsecond_timestamp")(_to_epoch("epoch_us"))


# ---- strings


@doris("md5sum")
def _md5sum(call: Call) -> Lowered:
    return fn("md5", _concat_all(call)), Kind.STRING


@doris("sha2")
def _sha2(call: Call) -> Lowered:
    call.arity(2)
    bits = call.constant(1)
    if bits != "256":
        raise DorisError("sha2 supports 256 bits here")
    return fn("sha256", call.text(0)), Kind.STRING


@doris("substr", "substring", "mid")
def _substring(call: Call) -> Lowered:
    call.arity(2, 3)
    length = call.integer(2) if len(call.args) == 3 else lit(2**31 - 1)
    return fn("dbk_substr", call.text(0), call.integer(1), length), Kind.STRING


@doris("left", "strleft")
def _left(call: Call) -> Lowered:
    call.arity(2)
    return fn("dbk_left", call.text(0), call.integer(1)), Kind.STRING


@doris("right", "strright")
def _right(call: Call) -> Lowered:
    call.arity(2)
    return fn("dbk_right", call.text(0), call.integer(1)), Kind.STRING


@doris("substring_index")
def _substring_index(call: Call) -> Lowered:
    call.arity(3)
    return fn("dbk_substring_index", call.text(0), call.text(1), call.integer(2)), Kind.STRING


@doris("locate")
def _locate(call: Call) -> Lowered:
    call.arity(2, 3)
    if len(call.args) == 2:
        return fn("instr", call.text(1), call.text(0)), Kind.INT
    return fn("dbk_locate", call.text(0), call.text(1), call.integer(2)), Kind.INT


def _pad(duck_name: str) -> Lowering:
    def lower(call: Call) -> Lowered:
        call.arity(3)
        text, size, filler = call.text(0), call.integer(1), call.text(2)
        padded = fn(duck_name, text, cast(size, "INTEGER"), filler)
        empty_filler = exp.And(
            this=exp.EQ(this=filler.copy(), expression=lit("")),
            expression=exp.GT(this=size.copy(), expression=fn("length", text.copy())),
        )
        return case(
            (exp.LT(this=size.copy(), expression=lit(0)), exp.null()), (empty_filler, exp.null()), default=padded
        ), Kind.STRING

    return lower


doris("lpad")(_pad("lpad"))
doris("rpad")(_pad("rpad"))


def _concat_all(call: Call) -> exp.Expression:
    """The arguments' texts joined, NULL when any is NULL (Doris's CONCAT)."""
    if not call.args:
        return lit("")
    joined = call.text(0)
    for i in range(1, len(call.args)):
        joined = exp.DPipe(this=joined, expression=call.text(i), safe=False)
    return joined


@doris("concat")
def _concat(call: Call) -> Lowered:
    return _concat_all(call), Kind.STRING


@doris("concat_ws")
def _concat_ws(call: Call) -> Lowered:
    if len(call.args) < 2:
        raise DorisError("concat_ws needs a separator and at least one value")
    if len(call.args) == 2 and call.kinds[1] == Kind.ARRAY:
        separator = call.text(0)
        joined = fn("array_to_string", call.arg(1), separator)
        return case((exp.Is(this=separator.copy(), expression=exp.null()), exp.null()), default=joined), Kind.STRING
    return fn("concat_ws", *[call.text(i) for i in range(len(call.args))]), Kind.STRING


@doris("repeat")
def _repeat(call: Call) -> Lowered:
    call.arity(2)
    count = cast(call.integer(1), "BIGINT")
    positive = case((exp.LT(this=count, expression=lit(0)), lit(0)), default=count.copy())
    return fn("repeat", call.text(0), positive), Kind.STRING


@doris("reverse")
def _reverse(call: Call) -> Lowered:
    call.arity(1)
    if call.kinds[0] == Kind.ARRAY:
        return fn("list_reverse", call.arg(0)), Kind.ARRAY
    return fn("reverse", call.text(0)), Kind.STRING


@doris("space")
def _space(call: Call) -> Lowered:
    call.arity(1)
    return fn("repeat", lit(" "), fn("greatest", cast(call.integer(0), "BIGINT"), lit(0))), Kind.STRING


@doris("ascii")
def _ascii(call: Call) -> Lowered:
    call.arity(1)
    text = call.text(0)
    return case((exp.EQ(this=text, expression=lit("")), lit(0)), default=fn("ascii", text.copy())), Kind.INT


@doris("split_part")
def _split_part(call: Call) -> Lowered:
    call.arity(3)
    return fn("dbk_split_part", call.text(0), call.text(1), call.integer(2)), Kind.STRING


@doris("money_format")
def _money_format(call: Call) -> Lowered:
    call.arity(1)
    if call.kinds[0] in (Kind.INT, Kind.LARGEINT):
        return fn("dbk_money", cast(call.arg(0), "HUGEINT")), Kind.STRING
    value = call.arg(0) if call.kinds[0] == Kind.DECIMAL else try_cast(cast(call.number(0), "DOUBLE"), "DECIMAL(38, 4)")
    return fn("dbk_money", fn("round", value, lit(2))), Kind.STRING


def _text_call(duck_name: str, kind: Kind, *counts: int) -> Lowering:
    """A DuckDB function with Doris's meaning, its arguments as text."""

    def lower(call: Call) -> Lowered:
        call.arity(*counts)
        return fn(duck_name, *[call.text(i) for i in range(len(call.args))]), kind

    return lower


# Doris's string functions that are DuckDB's (or one macro of ours) once their arguments are text
for _names, _duck_name, _kind, _counts in (
    (("md5",), "md5", Kind.STRING, (1,)),
    (("sha1", "sha"), "sha1", Kind.STRING, (1,)),
    (("length",), "strlen", Kind.INT, (1,)),  # bytes, as Doris counts them
    (("char_length", "character_length"), "length", Kind.INT, (1,)),
    (("instr",), "instr", Kind.INT, (2,)),
    (("upper", "ucase"), "upper", Kind.STRING, (1,)),
    (("lower", "lcase"), "lower", Kind.STRING, (1,)),
    (("initcap",), "dbk_initcap", Kind.STRING, (1,)),
    (("replace",), "replace", Kind.STRING, (3,)),
    (("split_by_string", "split_by_char"), "dbk_split_by_string", Kind.ARRAY, (2,)),
    (("starts_with",), "starts_with", Kind.BOOLEAN, (2,)),
    (("ends_with",), "ends_with", Kind.BOOLEAN, (2,)),
    (("count_substrings",), "dbk_count_substrings", Kind.INT, (2,)),
    (("unhex",), "dbk_unhex", Kind.STRING, (1,)),
    (("from_base64",), "dbk_from_base64", Kind.STRING, (1,)),
    (("regexp_replace_one",), "regexp_replace", Kind.STRING, (3,)),
    (("regexp", "rlike"), "regexp_matches", Kind.BOOLEAN, (2,)),
    (("trim_in",), "trim", Kind.STRING, (1, 2)),
    (("ltrim_in",), "ltrim", Kind.STRING, (1, 2)),
    (("rtrim_in",), "rtrim", Kind.STRING, (1, 2)),
    (("url_encode",), "dbk_url_encode", Kind.STRING, (1,)),
    (("url_decode",), "url_decode", Kind.STRING, (1,)),
):
    doris(*_names)(_text_call(_duck_name, _kind, *_counts))


@doris("translate")
def _translate(call: Call) -> Lowered:
    call.arity(3)
    texts = [call.text(i) for i in range(3)]
    any_null = exp.or_(*[exp.Is(this=t.copy(), expression=exp.null()) for t in texts])
    return case((any_null, exp.null()), default=fn("translate", *texts)), Kind.STRING


@doris("sub_replace")
def _sub_replace(call: Call) -> Lowered:
    call.arity(3, 4)
    new = call.text(1)
    size = call.integer(3) if len(call.args) == 4 else fn("length", new.copy())
    return fn("dbk_sub_replace", call.text(0), new, call.integer(2), size), Kind.STRING


@doris("to_iso8601")
def _to_iso8601(call: Call) -> Lowered:
    call.arity(1)
    if call.kinds[0] == Kind.DATE:
        return fn("strftime", call.arg(0), lit("%Y-%m-%d")), Kind.STRING
    return fn("strftime", call.datetime(0), lit("%Y-%m-%dT%H:%M:%S.%f")), Kind.STRING


@doris("previous_day")
def _previous_day(call: Call) -> Lowered:
    call.arity(2)
    return fn("dbk_previous_day", call.date(0), call.text(1)), Kind.DATE


@doris("next_day")
def _next_day(call: Call) -> Lowered:
    call.arity(2)
    return fn("dbk_next_day", call.date(0), call.text(1)), Kind.DATE


@doris("null_or_empty")
def _null_or_empty(call: Call) -> Lowered:
    call.arity(1)
    text = call.text(0)
    return exp.Or(
        this=exp.Is(this=text, expression=exp.null()), expression=exp.EQ(this=text.copy(), expression=lit(""))
    ), Kind.BOOLEAN


@doris("not_null_or_empty")
def _not_null_or_empty(call: Call) -> Lowered:
    node, kind = _null_or_empty(call)
    return exp.Not(this=exp.Paren(this=node)), kind


@doris("append_trailing_char_if_absent")
def _append_trailing(call: Call) -> Lowered:
    call.arity(2)
    text, tail = call.text(0), call.text(1)
    appended = case(
        (exp.NEQ(this=fn("length", tail), expression=lit(1)), exp.null()),
        (fn("ends_with", text, tail.copy()), text.copy()),
        default=exp.DPipe(this=text.copy(), expression=tail.copy(), safe=False),
    )
    return appended, Kind.STRING


@doris("strcmp")
def _strcmp(call: Call) -> Lowered:
    call.arity(2)
    a, b = call.text(0), call.text(1)
    return case(
        (exp.LT(this=a, expression=b), lit(-1)), (exp.GT(this=a.copy(), expression=b.copy()), lit(1)), default=lit(0)
    ), Kind.INT


@doris("find_in_set")
def _find_in_set(call: Call) -> Lowered:
    call.arity(2)
    needle, haystack = call.text(0), call.text(1)
    found = fn("coalesce", fn("list_position", fn("string_split", haystack, lit(",")), needle), lit(0))
    unknown = exp.or_(
        exp.Is(this=needle.copy(), expression=exp.null()), exp.Is(this=haystack.copy(), expression=exp.null())
    )
    return case((unknown, exp.null()), default=found), Kind.INT


@doris("elt")
def _elt(call: Call) -> Lowered:
    if len(call.args) < 2:
        raise DorisError("elt needs an index and at least one string")
    items = exp.Array(expressions=[call.text(i) for i in range(1, len(call.args))])
    return fn("list_extract", items, cast(call.integer(0), "BIGINT")), Kind.STRING


@doris("field")
def _field(call: Call) -> Lowered:
    if len(call.args) < 2:
        raise DorisError("field needs a value and at least one candidate")
    items = exp.Array(expressions=[call.arg(i) for i in range(1, len(call.args))])
    return fn("coalesce", fn("list_position", items, call.arg(0)), lit(0)), Kind.INT


@doris("hex")
def _hex(call: Call) -> Lowered:
    call.arity(1)
    value = call.arg(0) if call.kinds[0] in (Kind.INT, Kind.LARGEINT) else call.text(0)
    return fn("upper", fn("hex", value)), Kind.STRING


@doris("to_base64")
def _to_base64(call: Call) -> Lowered:
    call.arity(1)
    return fn("to_base64", fn("encode", call.text(0))), Kind.STRING


@doris("regexp_replace")
def _regexp_replace(call: Call) -> Lowered:
    call.arity(3)
    return fn("regexp_replace", call.text(0), call.text(1), call.text(2), lit("g")), Kind.STRING


@doris("regexp_extract")
def _regexp_extract(call: Call) -> Lowered:
    call.arity(3)
    group = call.constant(2)
    if group is None or not group.isdigit():
        raise DorisError("regexp_extract's group must be a constant")
    return fn("regexp_extract", call.text(0), call.text(1), lit(int(group))), Kind.STRING


@doris("regexp_extract_all")
def _regexp_extract_all(call: Call) -> Lowered:
    call.arity(2, 3)
    group = call.constant(2) if len(call.args) == 3 else "1"
    if group is None or not group.isdigit():
        raise DorisError("regexp_extract_all's group must be a constant")
    found = fn("regexp_extract_all", call.text(0), call.text(1), lit(int(group)))
    return fn("dbk_string_list", found), Kind.STRING


@doris("quote")
def _quote(call: Call) -> Lowered:
    """The text between single quotes, as Doris writes it (nothing inside is escaped)."""
    call.arity(1)
    return exp.DPipe(
        this=exp.DPipe(this=lit("'"), expression=call.text(0), safe=False), expression=lit("'"), safe=False
    ), Kind.STRING


@doris("mask")
def _mask(call: Call) -> Lowered:
    """Upper-case letters as X, lower-case as x, digits as n, or as the first characters of the arguments."""
    call.arity(1, 2, 3, 4)
    chars = [call.text(i) if i < len(call.args) else lit(default) for i, default in ((1, "X"), (2, "x"), (3, "n"))]
    return fn("dbk_mask", call.text(0), *chars), Kind.STRING


def _mask_n(first: bool) -> Lowering:
    """mask_first_n / mask_last_n: the first (last) n characters masked as ``mask`` does, all of them without n."""

    def lower(call: Call) -> Lowered:
        call.arity(1, 2)
        text = call.text(0)
        if len(call.args) == 1:
            return fn("dbk_mask", text, lit("X"), lit("x"), lit("n")), Kind.STRING
        n = fn("greatest", cast(call.integer(1), "BIGINT"), lit(0))
        size = fn("length", text.copy())
        if first:
            head, tail = (
                fn("left", text.copy(), n),
                fn("substr", text.copy(), exp.Add(this=n.copy(), expression=lit(1))),
            )
            masked = exp.DPipe(this=fn("dbk_mask", head, lit("X"), lit("x"), lit("n")), expression=tail, safe=False)
        else:
            cut = fn("greatest", exp.Sub(this=size, expression=n), lit(0))
            head, tail = (
                fn("left", text.copy(), cut),
                fn("substr", text.copy(), exp.Add(this=cut.copy(), expression=lit(1))),
            )
            masked = exp.DPipe(this=head, expression=fn("dbk_mask", tail, lit("X"), lit("x"), lit("n")), safe=False)
        return masked, Kind.STRING

    return lower


doris("mask_first_n")(_mask_n(first=True))
doris("mask_last_n")(_mask_n(first=False))


@doris("digital_masking")
def _digital_masking(call: Call) -> Lowered:
    """Doris's alias function: the first three and last four digits around ``****``."""
    call.arity(1)
    text = call.text(0)
    return fn("concat", fn("left", text, lit(3)), lit("****"), fn("right", text.copy(), lit(4))), Kind.STRING


for _names, _duck_name in (
    (("protocol",), "dbk_url_protocol"),
    (("domain",), "dbk_url_host"),
):
    doris(*_names)(_text_call(_duck_name, Kind.STRING, 1))


@doris("domain_without_www")
def _domain_without_www(call: Call) -> Lowered:
    call.arity(1)
    return fn("regexp_replace", fn("dbk_url_host", call.text(0)), lit("^www\\."), lit("")), Kind.STRING


@doris("extract_url_parameter")
def _extract_url_parameter(call: Call) -> Lowered:
    """The first value of the named parameter of the URL's query string, undecoded; '' when there is none."""
    call.arity(2)
    return fn("dbk_url_parameter", call.text(0), call.text(1)), Kind.STRING


@doris("multi_search_all_positions")
def _multi_search_all_positions(call: Call) -> Lowered:
    """The byte position (from 1) of each needle's first occurrence in the text, 0 where it is absent."""
    call.arity(2)
    text = call.text(0)
    found = exp.Lambda(
        this=case(
            (exp.EQ(this=fn("instr", text, exp.column("__n")), expression=lit(0)), lit(0)),
            default=exp.Add(
                this=fn(
                    "strlen",
                    fn(
                        "left",
                        text.copy(),
                        exp.Sub(this=fn("instr", text.copy(), exp.column("__n")), expression=lit(1)),
                    ),
                ),
                expression=lit(1),
            ),
        ),
        expressions=[exp.to_identifier("__n")],
    )
    return fn("list_transform", call.arg(1), found), Kind.ARRAY


@doris("multi_match_any")
def _multi_match_any(call: Call) -> Lowered:
    """1 when any of the regular expressions matches somewhere in the text, else 0."""
    call.arity(2)
    text = call.text(0)
    matches = fn("list_transform", call.arg(1), _lambda(lambda p: fn("regexp_matches", text, p)))
    return cast(fn("coalesce", fn("list_bool_or", matches), exp.false()), "TINYINT"), Kind.INT


# ---- numbers and conditions


def _rounding(duck_name: str) -> Lowering:
    """ceil / floor to a whole number (a BIGINT, as Doris answers), or to ``d`` decimal places."""

    def lower(call: Call) -> Lowered:
        call.arity(1, 2)
        if len(call.args) == 1:
            return try_cast(fn(duck_name, call.number(0)), "BIGINT"), Kind.INT
        scale = fn("pow", lit(10), cast(call.integer(1), "DOUBLE"))
        scaled = fn(duck_name, exp.Mul(this=cast(call.number(0), "DOUBLE"), expression=scale))
        return exp.Div(this=scaled, expression=scale.copy()), Kind.DOUBLE

    return lower


doris("ceil", "ceiling", "dceil")(_rounding("ceil"))
doris("floor", "dfloor")(_rounding("floor"))


@doris("log")
def _log(call: Call) -> Lowered:
    call.arity(1, 2)
    if len(call.args) == 1:
        return fn("dbk_ln", call.number(0)), Kind.DOUBLE
    return fn("dbk_log", call.number(0), call.number(1)), Kind.DOUBLE


@doris("ln", "dlog1")
def _ln(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_ln", call.number(0)), Kind.DOUBLE


@doris("log10", "dlog10")
def _log10(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_log", lit(10), call.number(0)), Kind.DOUBLE


@doris("log2")
def _log2(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_log", lit(2), call.number(0)), Kind.DOUBLE


@doris("sqrt", "dsqrt")
def _sqrt(call: Call) -> Lowered:
    call.arity(1)
    value = call.number(0)
    return case((exp.GTE(this=value, expression=lit(0)), fn("sqrt", value.copy()))), Kind.DOUBLE


@doris("pow", "power", "fpow", "dpow")
def _pow(call: Call) -> Lowered:
    call.arity(2)
    return fn("pow", cast(call.number(0), "DOUBLE"), cast(call.number(1), "DOUBLE")), Kind.DOUBLE


@doris("truncate")
def _truncate(call: Call) -> Lowered:
    call.arity(1, 2)
    places = call.integer(1) if len(call.args) == 2 else lit(0)
    return fn("dbk_truncate", cast(call.number(0), "DOUBLE"), places), Kind.DOUBLE


def _bounded(duck_name: str) -> Lowering:
    """acos / asin: NULL outside [-1, 1], as Doris answers."""

    def lower(call: Call) -> Lowered:
        call.arity(1)
        value = cast(call.number(0), "DOUBLE")
        inside = exp.Between(this=value, low=lit(-1), high=lit(1))
        return case((inside, fn(duck_name, value.copy()))), Kind.DOUBLE

    return lower


def _numeric(duck_name: str) -> Lowering:
    """A math function of DuckDB's whose arguments Doris casts to numbers ('1' is 1)."""

    def lower(call: Call) -> Lowered:
        return fn(duck_name, *[call.number(i) for i in range(len(call.args))]), Kind.DOUBLE

    return lower


for _name in ("atan", "atan2", "cos", "cosh", "sin", "tan", "tanh", "cbrt", "degrees", "radians", "exp", "dexp"):
    doris(_name)(_numeric("exp" if _name == "dexp" else _name))

doris("acos")(_bounded("acos"))
doris("asin")(_bounded("asin"))


@doris("pmod")
def _pmod(call: Call) -> Lowered:
    call.arity(2)
    a, b = call.number(0), call.number(1)
    inner = exp.Mod(
        this=exp.Paren(this=exp.Add(this=exp.Mod(this=a, expression=b), expression=b.copy())), expression=b.copy()
    )
    return case((exp.EQ(this=b.copy(), expression=lit(0)), exp.null()), default=inner), call.kinds[0]


@doris("mod", "fmod")
def _mod(call: Call) -> Lowered:
    call.arity(2)
    a, b = call.number(0), call.number(1)
    return case(
        (exp.EQ(this=b.copy(), expression=lit(0)), exp.null()), default=exp.Mod(this=a, expression=b)
    ), call.kinds[0]


def _null_propagating(duck_name: str) -> Lowering:
    """GREATEST / LEAST: NULL when any argument is NULL, as in Doris (DuckDB skips NULLs)."""

    def lower(call: Call) -> Lowered:
        if not call.args:
            raise DorisError(f"{call.name} needs at least one argument")
        kinds = {k for k in call.kinds if k not in (Kind.NULL, Kind.UNKNOWN)}
        args = [call.arg(i) for i in range(len(call.args))]
        if Kind.STRING in kinds and kinds & {Kind.INT, Kind.DECIMAL, Kind.DOUBLE}:
            args = [as_number(a, k) for a, k in zip(args, call.kinds, strict=True)]
        any_null = exp.or_(*[exp.Is(this=a.copy(), expression=exp.null()) for a in args])
        kind = next(iter(kinds)) if len(kinds) == 1 else Kind.UNKNOWN
        return case((any_null, exp.null()), default=fn(duck_name, *args)), kind

    return lower


doris("greatest")(_null_propagating("greatest"))
doris("least")(_null_propagating("least"))


@doris("ifnull", "nvl")
def _ifnull(call: Call) -> Lowered:
    call.arity(2)
    return fn("coalesce", call.arg(0), call.arg(1)), call.kinds[0]


@doris("nullable", "non_nullable")
def _nullable(call: Call) -> Lowered:
    call.arity(1)
    return call.arg(0), call.kinds[0]


def _math(duck_name: str) -> Lowering:
    def lower(call: Call) -> Lowered:
        call.arity(1)
        return fn(duck_name, cast(call.number(0), "DOUBLE")), Kind.DOUBLE

    return lower


for _names, _duck_name in ((("gamma",), "gamma"), (("cot",), "cot"), (("is_nan",), "isnan"), (("is_inf",), "isinf")):
    doris(*_names)(_math(_duck_name))


@doris("sec")
def _sec(call: Call) -> Lowered:
    call.arity(1)
    return exp.Div(this=lit(1.0), expression=fn("cos", cast(call.number(0), "DOUBLE"))), Kind.DOUBLE


@doris("csc")
def _csc(call: Call) -> Lowered:
    call.arity(1)
    return exp.Div(this=lit(1.0), expression=fn("sin", cast(call.number(0), "DOUBLE"))), Kind.DOUBLE


@doris("positive")
def _positive(call: Call) -> Lowered:
    call.arity(1)
    return call.arg(0), call.kinds[0]


@doris("negative")
def _negative(call: Call) -> Lowered:
    call.arity(1)
    return exp.Neg(this=exp.Paren(this=call.arg(0))), call.kinds[0]


def _integer_kind(call: Call) -> Kind:
    return Kind.LARGEINT if Kind.LARGEINT in call.kinds else Kind.INT


@doris("bitand")
def _bitand(call: Call) -> Lowered:
    call.arity(2)
    return exp.BitwiseAnd(this=call.integer(0), expression=call.integer(1)), _integer_kind(call)


@doris("bitor")
def _bitor(call: Call) -> Lowered:
    call.arity(2)
    return exp.BitwiseOr(this=call.integer(0), expression=call.integer(1)), _integer_kind(call)


@doris("bitxor")
def _bitxor(call: Call) -> Lowered:
    call.arity(2)
    return fn("xor", call.integer(0), call.integer(1)), _integer_kind(call)


@doris("bitnot")
def _bitnot(call: Call) -> Lowered:
    call.arity(1)
    return exp.BitwiseNot(this=exp.Paren(this=call.integer(0))), _integer_kind(call)


@doris("bit_shift_left")
def _bit_shift_left(call: Call) -> Lowered:
    """As a BIGINT's 64 bits: bits shifted past the top are lost, a shift past 63 or below 0 is 0."""
    call.arity(2)
    return fn("dbk_shift_left", cast(call.integer(0), "BIGINT"), call.integer(1)), Kind.INT


@doris("bit_shift_right")
def _bit_shift_right(call: Call) -> Lowered:
    """A logical shift of a BIGINT's 64 bits (-1 >> 1 is 9223372036854775807)."""
    call.arity(2)
    return fn("dbk_shift_right", cast(call.integer(0), "BIGINT"), call.integer(1)), Kind.INT


@doris("conv")
def _conv(call: Call) -> Lowered:
    """MySQL's CONV: the number the text spells in one base, written in another (upper-case digits)."""
    call.arity(3)
    return fn("dbk_conv", call.text(0), call.integer(1), call.integer(2)), Kind.STRING


@doris("e")
def _e(call: Call) -> Lowered:
    call.arity(0)
    return fn("exp", cast(lit(1), "DOUBLE")), Kind.DOUBLE


@doris("dround")
def _dround(call: Call) -> Lowered:
    """round over a DOUBLE: halves away from zero."""
    call.arity(1, 2)
    places = [cast(call.integer(1), "INTEGER")] if len(call.args) == 2 else []
    return fn("round", cast(call.number(0), "DOUBLE"), *places), Kind.DOUBLE


@doris("round_bankers")
def _round_bankers(call: Call) -> Lowered:
    """Halves to the even neighbour."""
    call.arity(1, 2)
    places = cast(call.integer(1), "INTEGER") if len(call.args) == 2 else lit(0)
    kind = call.kinds[0] if call.kinds[0].numeric else Kind.DOUBLE
    return fn("round_even", call.number(0), places), kind


# ---- JSON


_LAST = re.compile(r"\[\s*last\s*(?:-\s*(\d+)\s*)?\]")
_NEGATIVE = re.compile(r"\[\s*-(\d+)\s*\]")


def check_path(path: str) -> None:
    """Doris refuses ``**`` and a path that ends in a dot, in its own words."""
    if "**" in path or path.strip().endswith("."):
        raise DorisError(f"Json path error: Invalid Json Path for value: {path}")


def json_path(path: str) -> str:
    """A Doris JSON path in DuckDB's spelling: ``$.[1]`` is ``$[1]``; ``[last]``, ``[last-1]`` and ``[-1]``
    count from the end (DuckDB's ``[#-1]``). A path is a value, never SQL: this rewrites data."""
    check_path(path)
    path = path.strip().replace("$.[", "$[")
    path = _LAST.sub(lambda m: f"[#-{int(m.group(1) or 0) + 1}]", path)
    return _NEGATIVE.sub(lambda m: f"[#-{m.group(1)}]", path)


def _json_path(call: Call, i: int) -> exp.Expression:
    constant = call.constant(i)
    return lit(json_path(constant)) if constant is not None else call.text(i)


def _is_wildcard(call: Call, i: int) -> bool:
    constant = call.constant(i)
    return constant is not None and "*" in constant


@doris("get_json_string", "json_extract_string", "jsonb_extract_string")
def _get_json_string(call: Call) -> Lowered:
    call.arity(2)
    return fn("dbk_json_string", call.text(0), _json_path(call, 1)), Kind.STRING


def _json_number(target: str, kind: Kind) -> Lowering:
    def lower(call: Call) -> Lowered:
        call.arity(2)
        return try_cast(fn("dbk_json_scalar", call.text(0), _json_path(call, 1), lit(target)), target), kind

    return lower


for _names, _target, _kind in (
    (("get_json_int", "json_extract_int", "jsonb_extract_int"), "INTEGER", Kind.INT),
    (("get_json_bigint", "json_extract_bigint", "jsonb_extract_bigint"), "BIGINT", Kind.INT),
    (("json_extract_largeint", "jsonb_extract_largeint"), "HUGEINT", Kind.LARGEINT),
    (("get_json_double", "json_extract_double", "jsonb_extract_double"), "DOUBLE", Kind.DOUBLE),
    (("json_extract_bool", "jsonb_extract_bool"), "BOOLEAN", Kind.BOOLEAN),
):
    doris(*_names)(_json_number(_target, _kind))


@doris("json_extract", "jsonb_extract")
def _json_extract(call: Call) -> Lowered:
    if len(call.args) < 2:
        raise DorisError("json_extract needs a document and a path")
    if len(call.args) == 2 and _is_wildcard(call, 1):  # the values a wildcard matches, NULL for none
        matches = fn("json_extract", call.text(0), _json_path(call, 1))
        empty = exp.EQ(this=fn("len", matches), expression=lit(0))
        return case((empty, exp.null()), default=cast(fn("to_json", matches.copy()), "VARCHAR")), Kind.JSON
    if len(call.args) == 2:
        return fn("dbk_json_extract", call.text(0), _json_path(call, 1)), Kind.JSON
    values = [fn("json_extract", call.text(0), _json_path(call, i)) for i in range(1, len(call.args))]
    any_null_path = exp.or_(*[exp.Is(this=call.arg(i), expression=exp.null()) for i in range(1, len(call.args))])
    listed = cast(fn("to_json", exp.Array(expressions=values)), "VARCHAR")
    return case((any_null_path, exp.null()), default=listed), Kind.JSON


@doris("json_extract_no_quotes", "jsonb_extract_no_quotes")
def _json_extract_no_quotes(call: Call) -> Lowered:
    """json_extract of one path, a string value without its quotes."""
    call.arity(2)
    return fn("dbk_json_unquote", fn("dbk_json_extract", call.text(0), _json_path(call, 1))), Kind.STRING


@doris("json_keys", "jsonb_keys")
def _json_keys(call: Call) -> Lowered:
    """The keys of the object at the path (``$`` by default), in document order; NULL for anything else."""
    call.arity(1, 2)
    if len(call.args) == 2 and _is_wildcard(call, 1):
        raise DorisError("In this situation, path expressions may not contain the * and ** tokens or an array range.")
    path = _json_path(call, 1) if len(call.args) == 2 else lit("$")
    is_object = exp.EQ(this=fn("dbk_json_type_raw", call.text(0), path), expression=lit("OBJECT"))
    return case((is_object, fn("json_keys", call.text(0), path.copy()))), Kind.ARRAY


@doris("json_valid", "jsonb_valid")
def _json_valid(call: Call) -> Lowered:
    call.arity(1)
    text = call.text(0)
    return case(
        (exp.Is(this=text, expression=exp.null()), exp.null()), default=cast(fn("json_valid", text.copy()), "INTEGER")
    ), Kind.INT


@doris("json_exists_path", "jsonb_exists_path")
def _json_exists_path(call: Call) -> Lowered:
    call.arity(2)
    if _is_wildcard(call, 1):  # a wildcard path matches a list of values: it exists if any does
        matches = fn("len", fn("json_extract", call.text(0), _json_path(call, 1)))
        return exp.GT(this=matches, expression=lit(0)), Kind.BOOLEAN
    return fn("dbk_json_exists", call.text(0), _json_path(call, 1)), Kind.BOOLEAN


@doris("json_extract_isnull", "jsonb_extract_isnull")
def _json_extract_isnull(call: Call) -> Lowered:
    call.arity(2)
    kind = fn("dbk_json_type", call.text(0), _json_path(call, 1))
    return case(
        (exp.Is(this=kind, expression=exp.null()), exp.null()), default=exp.EQ(this=kind.copy(), expression=lit("null"))
    ), Kind.BOOLEAN


@doris("json_type", "jsonb_type")
def _json_type(call: Call) -> Lowered:
    call.arity(2)
    return fn("dbk_json_type", call.text(0), _json_path(call, 1)), Kind.STRING


@doris("json_length")
def _json_length(call: Call) -> Lowered:
    call.arity(1, 2)
    path = _json_path(call, 1) if len(call.args) == 2 else lit("$")
    return cast(fn("dbk_json_length", call.text(0), path), "INTEGER"), Kind.INT


@doris("json_quote")
def _json_quote(call: Call) -> Lowered:
    call.arity(1)
    return cast(fn("to_json", call.text(0)), "VARCHAR"), Kind.STRING


@doris("json_search")
def _json_search(call: Call) -> Lowered:
    """Doris's three-argument form (it refuses an escape or paths); a one_or_all that is neither fails the
    query, when planned if it is a constant."""
    call.arity(3)
    mode = call.constant(1)
    if mode is not None and mode.lower() not in ("one", "all"):
        raise DorisError(f"[INVALID_ARGUMENT]the one_or_all argument {mode} is not 'one' not 'all'")
    one_or_all = fn("lower", call.text(1))
    message = fn(
        "concat", lit("[INVALID_ARGUMENT]the one_or_all argument "), call.text(1), lit(" is not 'one' not 'all'")
    )
    refused = fn("error", message)
    every = exp.EQ(this=one_or_all.copy(), expression=lit("all"))
    found = fn("dbk_json_search", call.text(0), every, call.text(2))
    unknown = exp.or_(
        exp.Is(this=one_or_all.copy(), expression=exp.null()), exp.Is(this=call.text(2), expression=exp.null())
    )
    invalid = exp.Not(this=exp.In(this=one_or_all, expressions=[lit("one"), lit("all")]))
    return case((unknown, exp.null()), (invalid, refused), default=found), Kind.JSON


@doris("json_unquote")
def _json_unquote(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_json_unquote", call.text(0)), Kind.STRING


@doris("json_contains", "jsonb_contains")
def _json_contains(call: Call) -> Lowered:
    """NULL when the document or the candidate is not JSON, as Doris answers."""
    call.arity(2, 3)
    doc = call.text(0) if len(call.args) == 2 else fn("dbk_json_extract", call.text(0), _json_path(call, 2))
    return fn("json_contains", as_json(doc), as_json(call.text(1))), Kind.BOOLEAN


@doris("json_array")
def _json_array(call: Call) -> Lowered:
    values = [_json_value(call, i) for i in range(len(call.args))]
    return cast(fn("json_array", *values), "VARCHAR"), Kind.JSON


@doris("json_object")
def _json_object(call: Call) -> Lowered:
    if len(call.args) % 2:
        raise DorisError("json_object takes key / value pairs")
    pairs: list[exp.Expression] = []
    for i in range(0, len(call.args), 2):
        pairs += [call.text(i), _json_value(call, i + 1)]
    return cast(fn("json_object", *pairs), "VARCHAR"), Kind.JSON


def _json_value(call: Call, i: int) -> exp.Expression:
    if call.kinds[i] == Kind.JSON:
        return cast(call.arg(i), "JSON")
    return call.arg(i)


def as_json(node: exp.Expression) -> exp.Expression:
    """Text read as a JSON value, printed as Doris prints one: no blanks between tokens
    (``{"a":1,"b":[1,2]}``); NULL when the text is not JSON as Doris reads it."""
    return fn("dbk_json", node)


@doris(
    "json_parse", "jsonb_parse", "json_parse_error_to_null", "jsonb_parse_error_to_null", "json_parse_nullable",
    "jsonb_parse_nullable", "json_parse_error_to_invalid", "jsonb_parse_error_to_invalid", "json_parse_notnull",
    "jsonb_parse_notnull",
)  # fmt: skip
def _json_parse(call: Call) -> Lowered:
    call.arity(1)
    return as_json(call.text(0)), Kind.JSON


@doris("json_parse_error_to_value", "jsonb_parse_error_to_value")
def _json_parse_error_to_value(call: Call) -> Lowered:
    """The text as JSON; the default (``{}`` when none is given) when the text is not JSON."""
    call.arity(1, 2)
    default = as_json(call.text(1)) if len(call.args) == 2 else lit("{}")
    text = call.text(0)
    return case(
        (exp.Is(this=text, expression=exp.null()), exp.null()), default=fn("coalesce", as_json(text.copy()), default)
    ), Kind.JSON


def _modify_path(call: Call, i: int) -> exp.Expression:
    """A path of json_set and its kin: a constant one is checked when the query is planned, one read from
    the data when it is run (``dbk_json_modify``)."""
    constant = call.constant(i)
    if constant is not None:
        check_path(constant)
        if "*" in constant:
            raise DorisError(
                "In this situation, path expressions may not contain the * and ** tokens or an array range."
            )
    return call.text(i)


def _as_json_value(call: Call, i: int) -> exp.Expression:
    """A value as the JSON it becomes in a document: a JSON value stays JSON, a string is a JSON string, a number
    a number, NULL is null."""
    if call.kinds[i] == Kind.JSON:
        value = as_json(call.arg(i))
    elif call.kinds[i] == Kind.DECIMAL:  # with its scale's digits, as Doris prints a decimal (to_json reads a double)
        value = cast(call.arg(i), "VARCHAR")
    else:
        value = cast(fn("to_json", call.arg(i)), "VARCHAR")
    return fn("coalesce", value, lit("null"))


def _json_modify(mode: str) -> Lowering:
    """json_set, json_insert or json_replace: path / value pairs, each applied to the document the pairs before
    it left."""

    def lower(call: Call) -> Lowered:
        if len(call.args) < 3 or len(call.args) % 2 == 0:
            raise DorisError(f"Can not found function '{call.name}' which has {len(call.args)} arity.")
        doc = as_json(call.text(0))
        for i in range(1, len(call.args), 2):
            doc = fn("dbk_json_modify", doc, _modify_path(call, i), _as_json_value(call, i + 1), lit(mode))
        return doc, Kind.JSON

    return lower


for _mode in ("set", "insert", "replace"):
    doris(f"json_{_mode}", f"jsonb_{_mode}")(_json_modify(_mode))


@doris("json_remove")
def _json_remove(call: Call) -> Lowered:
    """The document without what each path finds, path after path."""
    if len(call.args) < 2:
        raise DorisError(f"Can not found function '{call.name}' which has {len(call.args)} arity.")
    doc = as_json(call.text(0))
    for i in range(1, len(call.args)):
        doc = fn("dbk_json_modify", doc, _modify_path(call, i), exp.null(), lit("remove"))
    return doc, Kind.JSON


# ---- arrays


@doris("element_at")
def _element_at(call: Call) -> Lowered:
    call.arity(2)
    if call.kinds[0] == Kind.MAP:
        return fn("dbk_map_get", call.arg(0), call.arg(1)), Kind.UNKNOWN
    return fn("list_extract", call.arg(0), cast(call.integer(1), "BIGINT")), Kind.UNKNOWN


def _simple(duck_name: str, kind: Kind, *counts: int) -> Lowering:
    def lower(call: Call) -> Lowered:
        if counts:
            call.arity(*counts)
        return fn(duck_name, *[call.arg(i) for i in range(len(call.args))]), kind

    return lower


for _names, _duck_name, _kind, _counts in (
    (("array_contains",), "dbk_list_has", Kind.BOOLEAN, (2,)),
    (("array_size", "size", "cardinality"), "len", Kind.INT, (1,)),
    (("array_min",), "list_min", Kind.UNKNOWN, (1,)),
    (("array_max",), "list_max", Kind.UNKNOWN, (1,)),
    (("array_sum",), "list_sum", Kind.UNKNOWN, (1,)),
    (("array_avg",), "list_avg", Kind.DOUBLE, (1,)),
    (("array_product",), "list_product", Kind.DOUBLE, (1,)),
    (("arrays_overlap",), "list_has_any", Kind.BOOLEAN, (2,)),
    (("array_distinct",), "dbk_array_distinct", Kind.ARRAY, (1,)),
    (("array_sort",), "dbk_array_sort", Kind.ARRAY, (1,)),
    (("array_reverse_sort",), "dbk_array_reverse_sort", Kind.ARRAY, (1,)),
    (("array_compact",), "dbk_array_compact", Kind.ARRAY, (1,)),
    (("array_popback",), "dbk_array_popback", Kind.ARRAY, (1,)),
    (("array_popfront",), "dbk_array_popfront", Kind.ARRAY, (1,)),
    (("array_pushback",), "list_append", Kind.ARRAY, (2,)),
    (("array_remove",), "dbk_array_remove", Kind.ARRAY, (2,)),
    (("array_union",), "dbk_array_union", Kind.ARRAY, (2,)),
    (("array_intersect",), "dbk_array_intersect", Kind.ARRAY, (2,)),
    (("array_except",), "dbk_array_except", Kind.ARRAY, (2,)),
    (("array_with_constant", "array_repeat"), "dbk_array_with_constant", Kind.ARRAY, (2,)),
    (("array_cum_sum",), "dbk_array_cum_sum", Kind.ARRAY, (1,)),
    (("array_except_all",), "dbk_array_except_all", Kind.ARRAY, (2,)),
    (("array_enumerate",), "dbk_array_enumerate", Kind.ARRAY, (1,)),
    (("map_keys",), "map_keys", Kind.ARRAY, (1,)),
    (("map_values",), "map_values", Kind.ARRAY, (1,)),
    (("map_size",), "cardinality", Kind.INT, (1,)),
    (("map_contains_key",), "dbk_map_contains_key", Kind.BOOLEAN, (2,)),
):
    doris(*_names)(_simple(_duck_name, _kind, *_counts))


@doris("array_enumerate_uniq")
def _array_enumerate_uniq(call: Call) -> Lowered:
    """With several arrays, the numbering is of the tuples of their elements at each position."""
    if not call.args:
        raise DorisError("Can not found function 'array_enumerate_uniq' which has 0 arity.")
    if len(call.args) == 1:
        return fn("dbk_array_enumerate_uniq", call.arg(0)), Kind.ARRAY
    arrays = [call.arg(i) for i in range(len(call.args))]
    lengths = [fn("len", a.copy()) for a in arrays]
    unequal = exp.or_(*[exp.NEQ(this=lengths[0].copy(), expression=n) for n in lengths[1:]])
    refused = fn("error", lit("lengths of all arrays of function array_enumerate_uniq must be equal."))
    return case((unequal, refused), default=fn("dbk_array_enumerate_uniq", fn("list_zip", *arrays))), Kind.ARRAY


@doris("array_concat")
def _array_concat(call: Call) -> Lowered:
    if not call.args:
        raise DorisError("array_concat needs at least one array")
    node = call.arg(0)
    for i in range(1, len(call.args)):
        node = fn("list_concat", node, call.arg(i))
    return node, Kind.ARRAY


@doris("array_pushfront")
def _array_pushfront(call: Call) -> Lowered:
    call.arity(2)
    return fn("list_prepend", call.arg(1), call.arg(0)), Kind.ARRAY


@doris("array_position")
def _array_position(call: Call) -> Lowered:
    call.arity(2)
    found = fn("coalesce", fn("list_position", call.arg(0), call.arg(1)), lit(0))
    return case((exp.Is(this=call.arg(0), expression=exp.null()), exp.null()), default=found), Kind.INT


@doris("array_join")
def _array_join(call: Call) -> Lowered:
    call.arity(2, 3)
    items = call.arg(0)
    if len(call.args) == 3:
        items = fn("list_transform", items, _lambda(lambda x: fn("coalesce", cast(x, "VARCHAR"), call.text(2))))
    return fn("array_to_string", items, call.text(1)), Kind.STRING


@doris("array_slice")
def _array_slice(call: Call) -> Lowered:
    call.arity(2, 3)
    length = call.integer(2) if len(call.args) == 3 else exp.null()
    return fn("dbk_array_slice", call.arg(0), call.integer(1), length), Kind.ARRAY


@doris("trim_array")
def _trim_array(call: Call) -> Lowered:
    call.arity(2)
    items, size = call.arg(0), call.integer(1)
    too_many = exp.GT(this=size.copy(), expression=fn("len", items.copy()))
    negative = exp.LT(this=size.copy(), expression=lit(0))
    trimmed = fn("list_slice", items, lit(1), exp.Sub(this=fn("len", items.copy()), expression=size))
    refusals = (
        (negative, fn("error", lit("size must not be negative"))),
        (too_many, fn("error", lit("size must not exceed array cardinality"))),
    )
    return case(*refusals, default=trimmed), Kind.ARRAY


@doris("array_range", "sequence")
def _array_range(call: Call) -> Lowered:
    call.arity(1, 2, 3)
    if len(call.args) == 1:
        return fn("range", cast(call.integer(0), "BIGINT")), Kind.ARRAY
    args = [cast(call.integer(i), "BIGINT") for i in range(len(call.args))]
    return fn("range", *args), Kind.ARRAY


@doris("map")
def _map(call: Call) -> Lowered:
    if len(call.args) % 2:
        raise DorisError("map takes key / value pairs")
    keys = exp.Array(expressions=[call.arg(i) for i in range(0, len(call.args), 2)])
    values = exp.Array(expressions=[call.arg(i) for i in range(1, len(call.args), 2)])
    return fn("MAP", keys, values), Kind.MAP


@doris("array")
def _array(call: Call) -> Lowered:
    return exp.Array(expressions=[call.arg(i) for i in range(len(call.args))]), Kind.ARRAY


def _lambda(body: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    var = exp.to_identifier("__x")
    return exp.Lambda(this=body(exp.column("__x")), expressions=[var])


def _higher_order(duck_name: str, kind: Kind) -> Lowering:
    """array_map(lambda, arr) style: Doris puts the lambda first, DuckDB the list."""

    def lower(call: Call) -> Lowered:
        call.arity(2)
        if isinstance(call.args[0], exp.Lambda):
            return fn(duck_name, call.arg(1), call.arg(0)), kind
        if isinstance(call.args[1], exp.Lambda):
            return fn(duck_name, call.arg(0), call.arg(1)), kind
        raise DorisError(f"{call.name} takes a lambda and an array")

    return lower


doris("array_map", "array_apply")(_higher_order("list_transform", Kind.ARRAY))
doris("array_filter")(_higher_order("list_filter", Kind.ARRAY))


@doris("array_count")
def _array_count(call: Call) -> Lowered:
    node, _ = _higher_order("list_filter", Kind.ARRAY)(call) if len(call.args) == 2 else (call.arg(0), Kind.ARRAY)
    if len(call.args) == 1:
        node = fn("list_filter", node, _lambda(lambda x: exp.NEQ(this=x, expression=lit(0))))
    return fn("len", node), Kind.INT


@doris("array_exists")
def _array_exists(call: Call) -> Lowered:
    node, _ = _higher_order("list_transform", Kind.ARRAY)(call)
    return fn("list_transform", node, _lambda(lambda x: cast(cast(x, "BOOLEAN"), "INTEGER"))), Kind.ARRAY


def _flags(call: Call) -> exp.Expression:
    """The lambda's answer for each element, as booleans (Doris's lambda comes first, its array after)."""
    node, _ = _higher_order("list_transform", Kind.ARRAY)(call)
    return fn("list_transform", node, _lambda(lambda x: cast(x, "BOOLEAN")))


@doris("array_first_index")
def _array_first_index(call: Call) -> Lowered:
    return fn("dbk_first_true", _flags(call)), Kind.INT


@doris("array_last_index")
def _array_last_index(call: Call) -> Lowered:
    return fn("dbk_last_true", _flags(call)), Kind.INT


@doris("array_match_any")
def _array_match_any(call: Call) -> Lowered:
    return fn("dbk_any_true", _flags(call)), Kind.BOOLEAN


@doris("array_match_all")
def _array_match_all(call: Call) -> Lowered:
    return fn("dbk_all_true", _flags(call)), Kind.BOOLEAN


@doris("array_sortby")
def _array_sortby(call: Call) -> Lowered:
    """The array in the order of the keys (a second array, or a lambda's answer for each element)."""
    call.arity(2)
    if isinstance(call.args[0], exp.Lambda):
        items = call.arg(1)
        keys = fn("list_transform", call.arg(1), call.arg(0))
    else:
        items, keys = call.arg(0), call.arg(1)
    return fn("dbk_array_sortby", items, keys), Kind.ARRAY


@doris("countequal")
def _countequal(call: Call) -> Lowered:
    """How many elements equal the value (NULL counts the NULLs)."""
    call.arity(2)
    return fn("dbk_countequal", call.arg(0), call.arg(1)), Kind.INT


@doris("array_difference")
def _array_difference(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_array_difference", call.arg(0)), Kind.ARRAY


@doris("array_shuffle", "shuffle")
def _array_shuffle(call: Call) -> Lowered:
    """The elements in a random order; with a seed, the same order for the same seed (not the order Doris's
    generator gives)."""
    call.arity(1, 2)
    items = call.arg(0)
    if len(call.args) == 2:
        seed = cast(call.integer(1), "BIGINT")
        key = exp.Lambda(
            this=fn("hash", seed, exp.column("__i")), expressions=[exp.to_identifier("__x"), exp.to_identifier("__i")]
        )
    else:
        key = exp.Lambda(this=fn("random"), expressions=[exp.to_identifier("__x")])
    return fn("dbk_array_sortby", items, fn("list_transform", items.copy(), key)), Kind.ARRAY


def _vectors(call: Call) -> tuple[exp.Expression, exp.Expression]:
    call.arity(2)
    return cast(call.arg(0), "DOUBLE[]"), cast(call.arg(1), "DOUBLE[]")


@doris("l1_distance")
def _l1_distance(call: Call) -> Lowered:
    return fn("dbk_l1_distance", *_vectors(call)), Kind.DOUBLE


@doris("l2_distance")
def _l2_distance(call: Call) -> Lowered:
    return fn("list_distance", *_vectors(call)), Kind.DOUBLE


@doris("inner_product")
def _inner_product(call: Call) -> Lowered:
    return fn("list_inner_product", *_vectors(call)), Kind.DOUBLE


@doris("cosine_distance")
def _cosine_distance(call: Call) -> Lowered:
    return fn("list_cosine_distance", *_vectors(call)), Kind.DOUBLE


@doris("named_struct")
def _named_struct(call: Call) -> Lowered:
    """A STRUCT of name / value pairs; the names must be constant strings."""
    if not call.args or len(call.args) % 2:
        raise DorisError(f"Can not found function '{call.name}' which has {len(call.args)} arity.")
    fields: list[exp.Expression] = []
    for i in range(0, len(call.args), 2):
        name = call.constant(i)
        if name is None:
            raise DorisError("named_struct's field names must be constant strings")
        fields.append(exp.PropertyEQ(this=exp.to_identifier(name, quoted=True), expression=call.arg(i + 1)))
    return exp.Struct(expressions=fields), Kind.STRUCT


@doris("struct")
def _struct(call: Call) -> Lowered:
    """A STRUCT whose fields Doris names col1, col2, ..."""
    if not call.args:
        raise DorisError("Can not found function 'struct' which has 0 arity.")
    fields = [
        exp.PropertyEQ(this=exp.to_identifier(f"col{i + 1}", quoted=True), expression=call.arg(i))
        for i in range(len(call.args))
    ]
    return exp.Struct(expressions=fields), Kind.STRUCT


@doris("struct_element")
def _struct_element(call: Call) -> Lowered:
    """A field by its name or by its position (from 1); either must be a constant."""
    call.arity(2)
    field = call.constant(1)
    if field is None:
        raise DorisError("struct_element's field must be a constant name or position")
    if call.kinds[1] == Kind.INT:
        return fn("struct_extract_at", call.arg(0), lit(int(field))), Kind.UNKNOWN
    return fn("struct_extract", call.arg(0), lit(field)), Kind.UNKNOWN


# ---- aggregates


@doris("ndv", "approx_count_distinct", "multi_distinct_count")
def _ndv(call: Call) -> Lowered:
    call.arity(1)
    return exp.Count(this=exp.Distinct(expressions=[call.arg(0)])), Kind.INT


@doris("multi_distinct_sum")
def _multi_distinct_sum(call: Call) -> Lowered:
    call.arity(1)
    return exp.Sum(this=exp.Distinct(expressions=[call.arg(0)])), call.kinds[0]


@doris("percentile", "percentile_approx", "percentile_cont")
def _percentile(call: Call) -> Lowered:
    call.arity(2, 3)
    return fn("quantile_cont", call.number(0), cast(call.number(1), "DOUBLE")), Kind.DOUBLE


@doris("percentile_array", "percentile_approx_array")
def _percentile_array(call: Call) -> Lowered:
    call.arity(2, 3)  # percentile_approx_array's compression: the answer here is exact
    return fn("coalesce", fn("quantile_cont", call.number(0), call.arg(1)), exp.Array(expressions=[])), Kind.ARRAY


@doris("median")
def _median(call: Call) -> Lowered:
    call.arity(1)
    return fn("quantile_cont", call.number(0), lit(0.5)), Kind.DOUBLE


def _filtered_list(call: Call, distinct: bool) -> exp.Expression:
    """The group's values that are not NULL (``[]`` when there are none, never NULL); a second argument is
    the most to keep (Doris's max_size)."""
    value = call.arg(0)
    inner: exp.Expression = exp.Distinct(expressions=[value]) if distinct else value
    listed = fn("list", inner)
    kept = exp.Filter(
        this=listed, expression=exp.Where(this=exp.Not(this=exp.Is(this=value.copy(), expression=exp.null())))
    )
    kept = fn("coalesce", kept, exp.Array(expressions=[]))
    return fn("list_slice", kept, lit(1), call.integer(1)) if len(call.args) == 2 else kept


@doris("count_by_enum")
def _count_by_enum(call: Call) -> Lowered:
    """A JSON array with one object per argument: its values' counts (``cbe``), and how many rows were not
    NULL, NULL and in all; ``[]`` over no rows."""
    if not call.args:
        raise DorisError("Can not found function 'count_by_enum' which has 0 arity.")
    objects = [fn("dbk_enum_counts", fn("list", call.text(i))) for i in range(len(call.args))]
    listed = objects[0]
    for node in objects[1:]:
        listed = exp.DPipe(this=exp.DPipe(this=listed, expression=lit(","), safe=False), expression=node, safe=False)
    array = exp.DPipe(this=exp.DPipe(this=lit("["), expression=listed, safe=False), expression=lit("]"), safe=False)
    empty = exp.EQ(this=exp.Count(this=exp.Star()), expression=lit(0))
    return case((empty, lit("[]")), default=array), Kind.STRING


@doris("collect_list", "group_array", "array_agg")
def _collect_list(call: Call) -> Lowered:
    call.arity(1, 2)
    return _filtered_list(call, distinct=False), Kind.ARRAY


@doris("collect_set", "group_uniq_array")
def _collect_set(call: Call) -> Lowered:
    call.arity(1, 2)
    return _filtered_list(call, distinct=True), Kind.ARRAY


@doris("retention")
def _retention(call: Call) -> Lowered:
    """One flag per condition: the first is whether any row of the group met it, each later one whether
    some row met it and some row met the first."""
    if not 1 <= len(call.args) <= 32:
        raise DorisError(f"Can not found function 'retention' which has {len(call.args)} arity.")
    met = [fn("coalesce", fn("bool_or", cast(call.arg(i), "BOOLEAN")), exp.false()) for i in range(len(call.args))]
    flags = [met[0]] + [exp.and_(met[0].copy(), later) for later in met[1:]]
    return exp.Array(expressions=flags), Kind.ARRAY


@doris("max_by")
def _max_by(call: Call) -> Lowered:
    call.arity(2)
    return fn("arg_max", call.arg(0), call.arg(1)), call.kinds[0]


@doris("min_by")
def _min_by(call: Call) -> Lowered:
    call.arity(2)
    return fn("arg_min", call.arg(0), call.arg(1)), call.kinds[0]


@doris("any", "any_value")
def _any(call: Call) -> Lowered:
    call.arity(1)
    return fn("any_value", call.arg(0)), call.kinds[0]


for _names, _duck_name in (
    (("stddev", "std", "stddev_pop"), "stddev_pop"),
    (("stddev_samp",), "stddev_samp"),
    (("variance", "var_pop", "variance_pop"), "var_pop"),
    (("var_samp", "variance_samp"), "var_samp"),
    (("covar", "covar_pop"), "covar_pop"),
    (("covar_samp",), "covar_samp"),
    (("group_bit_and",), "bit_and"),
    (("group_bit_or",), "bit_or"),
    (("group_bit_xor",), "bit_xor"),
    (("bool_and", "booland_agg"), "bool_and"),
    (("bool_or", "boolor_agg"), "bool_or"),
    (("skew", "skewness", "skew_pop"), "skewness"),
    (("kurt", "kurtosis", "kurt_pop"), "kurtosis_pop"),
):
    doris(*_names)(
        _simple(_duck_name, Kind.DOUBLE if "bit" not in _duck_name and "bool" not in _duck_name else Kind.INT)
    )


@doris("sum0")
def _sum0(call: Call) -> Lowered:
    call.arity(1)
    return fn("coalesce", exp.Sum(this=call.arg(0)), lit(0)), call.kinds[0]


@doris("avg_weighted")
def _avg_weighted(call: Call) -> Lowered:
    call.arity(2)
    value, weight = cast(call.number(0), "DOUBLE"), cast(call.number(1), "DOUBLE")
    return exp.Div(
        this=exp.Sum(this=exp.Mul(this=value, expression=weight)), expression=exp.Sum(this=weight.copy())
    ), Kind.DOUBLE


@doris("map_agg")
def _map_agg(call: Call) -> Lowered:
    """A MAP of the group's keys (NULL keys left out) to their values; a key's first value counts."""
    call.arity(2)
    key = call.arg(0)
    entry = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier("k"), expression=key),
            exp.PropertyEQ(this=exp.to_identifier("v"), expression=call.arg(1)),
        ]
    )
    kept = exp.Filter(
        this=fn("list", entry), expression=exp.Where(this=exp.Not(this=exp.Is(this=key.copy(), expression=exp.null())))
    )
    return fn("dbk_map_agg", kept), Kind.MAP


@doris("group_array_union")
def _group_array_union(call: Call) -> Lowered:
    """The distinct elements of the group's arrays (NULL arrays left out)."""
    call.arity(1)
    return fn("dbk_array_distinct", fn("flatten", _filtered_list(call, distinct=False))), Kind.ARRAY


@doris("group_array_intersect")
def _group_array_intersect(call: Call) -> Lowered:
    """The elements every one of the group's arrays holds (NULL arrays left out)."""
    call.arity(1)
    return fn("dbk_intersect_all", _filtered_list(call, distinct=False)), Kind.ARRAY


@doris("multi_distinct_group_concat")
def _multi_distinct_group_concat(call: Call) -> Lowered:
    """group_concat(DISTINCT x[, separator]), ', ' between values by default."""
    call.arity(1, 2)
    separator = call.text(1) if len(call.args) == 2 else lit(", ")
    return fn("string_agg", exp.Distinct(expressions=[call.text(0)]), separator), Kind.STRING


# ---- bitmaps and HLL sketches: sorted lists of distinct values


@doris("to_bitmap", "to_bitmap_with_check", "hll_hash")
def _to_bitmap(call: Call) -> Lowered:
    call.arity(1)
    if call.name == "hll_hash":  # a sketch's values are never shown: any hash of the text counts the same
        text = call.text(0)
        value = case((exp.Not(this=exp.Is(this=text, expression=exp.null())), fn("hash", text.copy())))
    else:
        value = try_cast(call.arg(0), "UBIGINT")
    return fn("dbk_bitmap_of", value), Kind.BITMAP


# Doris's MurmurHash3 seeds: murmur_hash3_32 and bitmap_hash hash with 104729, the 64-bit ones with 0
_MURMUR3_32_SEED = 104729


@doris("bitmap_hash")
def _bitmap_hash(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_of", fn("dbk_murmur3_32", call.text(0), lit(_MURMUR3_32_SEED))), Kind.BITMAP


@doris("bitmap_hash64")
def _bitmap_hash64(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_of", fn("dbk_murmur3_64", call.text(0), lit(0))), Kind.BITMAP


def _murmur(macro: str, seed: int, bits: int) -> Lowering:
    """murmur_hash3_32 / _64: each further argument hashed with the previous hash as its seed, NULL when any
    argument is NULL; the hash as a signed number (INT / BIGINT), as Doris answers."""

    def lower(call: Call) -> Lowered:
        if not call.args:
            raise DorisError(f"Can not found function '{call.name}' which has 0 arity.")
        node: exp.Expression = lit(seed)
        for i in range(len(call.args)):
            node = fn(macro, call.text(i), node)
        signed = exp.Sub(this=cast(node, "HUGEINT"), expression=lit(2**bits))
        wide = exp.GTE(this=node.copy(), expression=lit(2 ** (bits - 1)))
        return cast(case((wide, signed), default=node.copy()), "BIGINT"), Kind.INT

    return lower


doris("murmur_hash3_32")(_murmur("dbk_murmur3_32", _MURMUR3_32_SEED, 32))
doris("murmur_hash3_64")(_murmur("dbk_murmur3_64", 0, 64))


@doris("crc32")
def _crc32(call: Call) -> Lowered:
    call.arity(1)
    return cast(fn("dbk_crc32", call.text(0)), "BIGINT"), Kind.INT


@doris("bitmap_empty", "hll_empty")
def _bitmap_empty(call: Call) -> Lowered:
    call.arity(0)
    return cast(exp.Array(expressions=[]), "UBIGINT[]"), Kind.BITMAP


@doris("bitmap_from_string")
def _bitmap_from_string(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_from_string", call.text(0)), Kind.BITMAP


@doris("bitmap_from_base64", "hll_from_base64")
def _sketch_from_base64(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_from_string", fn("dbk_from_base64", call.text(0))), Kind.BITMAP


@doris("bitmap_from_array")
def _bitmap_from_array(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_from_array", call.arg(0)), Kind.BITMAP


for _names, _duck_name, _kind, _counts in (
    (("bitmap_count", "hll_cardinality"), "dbk_bitmap_count", Kind.INT, (1,)),
    (("bitmap_to_string",), "dbk_bitmap_to_string", Kind.STRING, (1,)),
    (("bitmap_to_array",), "dbk_bitmap_sorted", Kind.ARRAY, (1,)),
    (("bitmap_contains",), "dbk_bitmap_contains", Kind.BOOLEAN, (2,)),
    (("bitmap_has_any",), "list_has_any", Kind.BOOLEAN, (2,)),
    (("bitmap_has_all",), "list_has_all", Kind.BOOLEAN, (2,)),
    (("bitmap_min",), "list_min", Kind.INT, (1,)),
    (("bitmap_max",), "list_max", Kind.INT, (1,)),
    (("bitmap_not", "bitmap_andnot", "bitmap_and_not"), "dbk_bitmap_andnot", Kind.BITMAP, (2,)),
    (("bitmap_and_not_count", "bitmap_andnot_count"), "dbk_bitmap_andnot_count", Kind.INT, (2,)),
    (("bitmap_subset_in_range",), "dbk_bitmap_subset_in_range", Kind.BITMAP, (3,)),
    (("bitmap_subset_limit",), "dbk_bitmap_subset_limit", Kind.BITMAP, (3,)),
    (("sub_bitmap",), "dbk_sub_bitmap", Kind.BITMAP, (3,)),
    (("bitmap_to_base64", "hll_to_base64"), "dbk_sketch_to_base64", Kind.STRING, (1,)),
):
    doris(*_names)(_simple(_duck_name, _kind, *_counts))


def _bitmap_fold(duck_name: str, count: bool) -> Lowering:
    def lower(call: Call) -> Lowered:
        if len(call.args) < 2:
            raise DorisError(f"{call.name} needs at least two bitmaps")
        node = call.arg(0)
        for i in range(1, len(call.args)):
            node = fn(duck_name, node, call.arg(i))
        return (fn("dbk_bitmap_count", node), Kind.INT) if count else (node, Kind.BITMAP)

    return lower


for _op in ("and", "or", "xor"):
    doris(f"bitmap_{_op}")(_bitmap_fold(f"dbk_bitmap_{_op}", count=False))
    doris(f"bitmap_{_op}_count")(_bitmap_fold(f"dbk_bitmap_{_op}", count=True))


@doris("bitmap_union", "hll_union", "hll_raw_agg", "group_bitmap_or")
def _bitmap_union(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_from_array", fn("flatten", fn("list", call.arg(0)))), Kind.BITMAP


@doris("bitmap_union_count", "hll_union_agg", "orthogonal_bitmap_union_count")
def _bitmap_union_count(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_count", _bitmap_union(call)[0]), Kind.INT


@doris("bitmap_union_int")
def _bitmap_union_int(call: Call) -> Lowered:
    call.arity(1)
    return exp.Count(this=exp.Distinct(expressions=[call.arg(0)])), Kind.INT


@doris("group_bitmap_xor")
def _group_bitmap_xor(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_odd_values", fn("flatten", fn("list", call.arg(0)))), Kind.BITMAP


def _intersection(call: Call) -> exp.Expression:
    """intersect_count and orthogonal_bitmap_intersect: the union of the bitmaps of the rows whose filter column
    holds each value, intersected over the values."""
    if len(call.args) < 3:
        raise DorisError(f"{call.name} needs a bitmap, a filter column and at least one filter value")
    node: exp.Expression | None = None
    for i in range(2, len(call.args)):
        rows = exp.Filter(
            this=fn("list", call.arg(0)), expression=exp.Where(this=exp.EQ(this=call.arg(1), expression=call.arg(i)))
        )
        union = fn(
            "dbk_bitmap_from_array", fn("flatten", fn("coalesce", rows, cast(exp.Array(expressions=[]), "UBIGINT[][]")))
        )
        node = union if node is None else fn("dbk_bitmap_and", node, union)
    assert node is not None
    return node


@doris("intersect_count", "orthogonal_bitmap_intersect_count")
def _intersect_count(call: Call) -> Lowered:
    return fn("dbk_bitmap_count", _intersection(call)), Kind.INT


@doris("orthogonal_bitmap_intersect")
def _orthogonal_bitmap_intersect(call: Call) -> Lowered:
    return _intersection(call), Kind.BITMAP


@doris("topn")
def _topn(call: Call) -> Lowered:
    call.arity(2, 3)  # the third argument (space) sizes Doris's sketch; the counts here are exact
    return fn("dbk_topn", fn("histogram", call.arg(0)), cast(call.integer(1), "BIGINT")), Kind.JSON


@doris("bitmap_intersect")
def _bitmap_intersect(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_from_array", fn("list_reduce", fn("list", call.arg(0)), _intersect_lambda())), Kind.BITMAP


@doris("bitmap_agg")
def _bitmap_agg(call: Call) -> Lowered:
    """The bitmap of the group's values (NULLs left out)."""
    call.arity(1)
    return fn(
        "dbk_bitmap_from_array",
        fn("coalesce", fn("list", try_cast(call.arg(0), "UBIGINT")), cast(exp.Array(expressions=[]), "UBIGINT[]")),
    ), Kind.BITMAP


@doris("bitmap_remove")
def _bitmap_remove(call: Call) -> Lowered:
    call.arity(2)
    value = try_cast(call.arg(1), "UBIGINT")
    kept = fn("list_filter", call.arg(0), _lambda(lambda x: exp.NEQ(this=x, expression=value)))
    return case((exp.Is(this=value.copy(), expression=exp.null()), exp.null()), default=kept), Kind.BITMAP


def _intersect_lambda() -> exp.Expression:
    a, b = exp.to_identifier("__a"), exp.to_identifier("__b")
    return exp.Lambda(this=fn("list_intersect", exp.column("__a"), exp.column("__b")), expressions=[a, b])


# ---- IPv4 addresses, UUIDs and other scalars


def _ipv4_parse(on_error: str) -> Lowering:
    """A dotted IPv4 address as its number: ``error`` fails the query on one that is not an address,
    ``null`` answers NULL, ``default`` 0."""

    def lower(call: Call) -> Lowered:
        call.arity(1)
        text = call.text(0)
        number = fn("dbk_ipv4_num", text)
        missing = exp.Is(this=number.copy(), expression=exp.null())
        if on_error == "null":
            return number, Kind.INT
        if on_error == "default":
            return fn("coalesce", number, lit(0)), Kind.INT
        refused = fn("error", fn("concat", lit("Invalid IPv4 value: "), text.copy()))
        unknown = exp.Is(this=text.copy(), expression=exp.null())
        return case((unknown, exp.null()), (missing, refused), default=number), Kind.INT

    return lower


doris("ipv4_string_to_num")(_ipv4_parse("error"))
doris("ipv4_string_to_num_or_null", "inet_aton")(_ipv4_parse("null"))
doris("ipv4_string_to_num_or_default")(_ipv4_parse("default"))


def _to_ipv4(on_error: str) -> Lowering:
    """to_ipv4 and its kin: the address as Doris prints an IPV4 value (its dotted form)."""
    parse = _ipv4_parse(on_error)

    def lower(call: Call) -> Lowered:
        number, _ = parse(call)
        return fn("dbk_ipv4_text", number), Kind.STRING

    return lower


doris("to_ipv4")(_to_ipv4("error"))
doris("to_ipv4_or_null")(_to_ipv4("null"))
doris("to_ipv4_or_default")(_to_ipv4("default"))


@doris("ipv4_num_to_string", "inet_ntoa")
def _ipv4_num_to_string(call: Call) -> Lowered:
    """The dotted form of a number from 0 to 2^32 - 1, NULL for any other."""
    call.arity(1)
    return fn("dbk_ipv4_text", call.integer(0)), Kind.STRING


@doris("is_ipv4_string")
def _is_ipv4_string(call: Call) -> Lowered:
    call.arity(1)
    text = call.text(0)
    valid = cast(exp.Not(this=exp.Is(this=fn("dbk_ipv4_num", text), expression=exp.null())), "TINYINT")
    return case((exp.Is(this=text.copy(), expression=exp.null()), exp.null()), default=valid), Kind.INT


@doris("ipv4_cidr_to_range")
def _ipv4_cidr_to_range(call: Call) -> Lowered:
    """The first and last addresses of the network of an address and a prefix length (0 to 32)."""
    call.arity(2)
    address = fn("dbk_ipv4_num", call.text(0))
    bits = cast(call.integer(1), "BIGINT")
    size = exp.Paren(
        this=exp.BitwiseLeftShift(this=cast(lit(1), "BIGINT"), expression=exp.Sub(this=lit(32), expression=bits))
    )
    low = exp.Mul(this=exp.IntDiv(this=address, expression=size), expression=size.copy())
    high = exp.Sub(this=exp.Add(this=low.copy(), expression=size.copy()), expression=lit(1))
    fields = [
        exp.PropertyEQ(this=exp.to_identifier("min", quoted=True), expression=fn("dbk_ipv4_text", low)),
        exp.PropertyEQ(this=exp.to_identifier("max", quoted=True), expression=fn("dbk_ipv4_text", high)),
    ]
    out_of_range = exp.Not(this=exp.Between(this=bits.copy(), low=lit(0), high=lit(32)))
    refused = fn("error", lit("Illegal cidr value"))
    return case((out_of_range, refused), default=exp.Struct(expressions=fields)), Kind.STRUCT


@doris("uuid_numeric")
def _uuid_numeric(call: Call) -> Lowered:
    """A random 128-bit number (a fresh one each row)."""
    call.arity(0)
    return fn("dbk_uuid_int", cast(fn("uuid"), "VARCHAR")), Kind.LARGEINT


@doris("uuid_to_int")
def _uuid_to_int(call: Call) -> Lowered:
    """The UUID's 16 bytes as a little-endian signed 128-bit number; NULL for a text that is not a UUID."""
    call.arity(1)
    return fn("dbk_uuid_int", call.text(0)), Kind.LARGEINT


@doris("int_to_uuid")
def _int_to_uuid(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_int_uuid", call.arg(0)), Kind.STRING


# the names the dialect leaves as plain calls, for the entries above to lower
CALLS = frozenset(FUNCTIONS)
