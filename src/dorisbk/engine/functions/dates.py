"""Doris's date and time functions: units, intervals, week modes, MySQL formats, time zones."""

from __future__ import annotations

import datetime as dt
import re

from sqlglot import exp

from dorisbk.engine import formats
from dorisbk.engine.functions.catalog import (
    DATE_UNITS,
    UNITS,
    Call,
    Lowered,
    Lowering,
    case,
    cast,
    doris,
    fn,
    lit,
    shift,
    try_cast,
    unit_of,
)
from dorisbk.engine.types import Kind
from dorisbk.errors import DorisError
from dorisbk.timeutil import zone_name

# Doris's compound interval units: the separator between fields, and each field's name and length in
# microseconds. The first field's sign applies to the whole value; signs on later fields are ignored.
_COMPOUND_UNITS: dict[str, tuple[str, tuple[tuple[str, int], ...]]] = {
    "DAY_SECOND": (r"\s*:\s*|\s+", (("days", 86_400_000_000), ("hours", 3_600_000_000), ("minutes", 60_000_000),
                               ("seconds", 1_000_000))),
    "DAY_HOUR": (r"\s+", (("days", 86_400_000_000), ("hours", 3_600_000_000))),
    "MINUTE_SECOND": (r"\s*:\s*", (("minutes", 60_000_000), ("seconds", 1_000_000))),
    "SECOND_MICROSECOND": (r"\s*\.\s*", (("seconds", 1_000_000), ("microseconds", 1))),
}  # fmt: skip
_FIELD = re.compile(r"-?\d+")


def _compound(text: str, unit: str, constant_base: bool) -> int:
    """An ``INTERVAL '...' <unit>`` value in microseconds (a value's text, read here, never SQL). Doris
    folds a constant call in its planner, which answers any bad value with 'Invalid time format'; its
    backend names the field it could not read."""
    separator, fields = _COMPOUND_UNITS[unit]
    parts = re.split(separator, text.strip())
    if len(parts) != len(fields):
        raise DorisError(f"Invalid time format: {text}")
    total = 0
    for part, (name, micros) in zip(parts, fields, strict=True):
        if not _FIELD.fullmatch(part):
            raise DorisError(f"Invalid time format: {text}" if constant_base else f"Invalid {name} format: {part}")
        digits = part.lstrip("-")
        if name == "microseconds" and len(digits) <= 6:
            digits = digits.ljust(6, "0")  # '1.1' is a second and a tenth
        total += int(digits) * micros
    return -total if parts[0].startswith("-") else total


def _interval_arg(call: Call, i: int) -> tuple[exp.Expression, str]:
    node = call.args[i]
    if isinstance(node, exp.Interval):
        unit = node.args.get("unit")
        if unit is not None and unit.name.upper() in _COMPOUND_UNITS and isinstance(node.this, exp.Literal):
            constant = call.args[0].find(exp.Column) is None
            return lit(_compound(node.this.name, unit.name.upper(), constant)), "MICROSECOND"
        return node.this.copy(), unit_of(unit) if unit is not None else "DAY"
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
    return diff(unit_of(call.args[0]), call.datetime(1), call.datetime(2)), Kind.INT


@doris("timestampadd")
def _timestampadd(call: Call) -> Lowered:
    call.arity(3)
    reordered = Call(call.name, [call.args[2], call.args[1]], [call.kinds[2], call.kinds[1]], call.zone)
    return shift(reordered, 0, reordered.arg(1), unit_of(call.args[0]), +1)


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
    """Doris answers 1970-01-01 for the days before the first Monday of 1970 (1970-01-05) too."""
    call.arity(1)
    monday = cast(fn("date_trunc", lit("week"), call.date(0)), "DATE")
    epoch = cast(lit("1970-01-01"), "DATE")
    return fn("greatest", monday, epoch), Kind.DATE


def _moment(call: Call, i: int) -> exp.Expression:
    """A DATE or DATETIME argument of a part function: a string that is not a literal is read as a
    DATETIME only (Doris's backend casts it; a time of day alone is no DATETIME there)."""
    if call.kinds[i] == Kind.STRING and not isinstance(call.args[i], exp.Literal):
        return fn("dbk_date_text", call.arg(i))
    return call.temporal(i)


def _part(duck_name: str) -> Lowering:
    def lower(call: Call) -> Lowered:
        call.arity(1)
        return fn(duck_name, _moment(call, 0)), Kind.INT

    return lower


for _doris_name, _duck_name in {
    "year": "year", "month": "month", "day": "day", "dayofmonth": "day", "dayofyear": "dayofyear",
    "quarter": "quarter", "hour": "hour", "minute": "minute", "second": "second", "weekofyear": "weekofyear",
}.items():  # fmt: skip
    doris(_doris_name)(_part(_duck_name))


@doris("microsecond")
def _microsecond(call: Call) -> Lowered:
    call.arity(1)
    moment = _moment(call, 0) if call.kinds[0] != Kind.DATE else call.datetime(0)
    return exp.Mod(this=fn("microsecond", moment), expression=lit(1_000_000)), Kind.INT


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
# MySQL's day number of 0001-01-01: the days before it are Doris's year 0, which has 365 (no February 29)
_YEAR_ONE_DAY = 366


@doris("from_days")
def _from_days(call: Call) -> Lowered:
    call.arity(1)
    number = call.integer(0)
    days = cast(exp.Sub(this=number, expression=lit(_EPOCH_DAY)), "INTEGER")
    date = cast(exp.Add(this=cast(lit("1970-01-01"), "DATE"), expression=days), "DATE")
    counted = exp.Add(
        this=fn("make_date", lit(0), lit(1), lit(1)),
        expression=cast(exp.Sub(this=number.copy(), expression=lit(1)), "INTEGER"),
    )
    in_year_zero = exp.Between(this=number.copy(), low=lit(1), high=lit(_YEAR_ONE_DAY - 1))
    return case((in_year_zero, fn("dbk_year0_day", lit(0), counted)), default=date), Kind.DATE


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


def _parsed(text: exp.Expression, pattern: str) -> exp.Expression:
    """``text`` read with a Doris format; failing that, the start of it the format reads (Doris ignores
    what follows: str_to_date('2022-08-01 00:00:00', '%Y-%m-%d') is 2022-08-01)."""
    duck_format = lit(formats.to_duckdb(pattern, parsing=True))
    whole = fn("try_strptime", text, duck_format)
    start = formats.leading(pattern)
    if start is None:
        return whole
    prefix = fn("regexp_extract", text.copy(), lit(f"^({start})"), lit(1))
    return fn("coalesce", whole, fn("try_strptime", prefix, duck_format.copy()))


# the last second from_unixtime takes: 9999-12-31 23:59:59 at UTC+8 (Doris's bound in any zone)
_LAST_SECOND = 253402271999


@doris("from_unixtime")
def _from_unixtime(call: Call) -> Lowered:
    call.arity(1, 2)
    seconds = call.integer(0)
    local = _local(fn("to_timestamp", cast(seconds, "DOUBLE")), call.zone)
    pattern = "%Y-%m-%d %H:%i:%s" if len(call.args) == 1 else call.format_pattern(1)
    # Doris refuses a value past its last second; a negative one is NULL
    too_late = exp.GT(this=seconds.copy(), expression=lit(_LAST_SECOND))
    refused = fn("error", fn("printf", lit("Operation from_unixtime of %d is invalid"), seconds.copy()))
    in_range = exp.GTE(this=seconds.copy(), expression=lit(0))
    return case((too_late, refused), (in_range, formatted(local, pattern))), Kind.STRING


@doris("unix_timestamp")
def _unix_timestamp(call: Call) -> Lowered:
    call.arity(0, 1, 2)
    if not call.args:
        return cast(fn("epoch", exp.CurrentTimestamp()), "BIGINT"), Kind.INT
    if len(call.args) == 2:
        pattern = call.format_pattern(1)
        wall = _parsed(call.text(0), pattern)
    else:
        wall = call.datetime(0)
    seconds = fn("epoch", _instant(wall, call.zone))
    # Doris answers a DECIMAL for a value with fractional seconds (as many digits as a CAST's scale, else
    # 6), else an INT
    literal = call.args[0].this if isinstance(call.args[0], exp.Cast) else call.args[0]
    scale = min(_scale(call, 0), 6) if len(call.args) == 1 and isinstance(call.args[0], exp.Cast) else 6
    fractional = len(call.args) == 2 or (isinstance(literal, exp.Literal) and "." in literal.name)
    value = cast(seconds, f"DECIMAL(18, {scale})") if fractional else cast(seconds, "BIGINT")
    valid = exp.GTE(this=seconds.copy(), expression=lit(0))  # any DATETIME after 1970, up to 9999
    return case((valid, value), default=lit(0)), Kind.DECIMAL if fractional else Kind.INT


@doris("convert_tz")
def _convert_tz(call: Call) -> Lowered:
    """A row whose time and zones are all given fails on a zone Doris does not know; one with a NULL (or
    a time that is no date, which reads as NULL) is NULL. Doris refuses an answer before year 0."""
    call.arity(3)
    zones: list[exp.Expression] = []
    unknown: str | None = None
    for i in (1, 2):
        name = call.constant(i)
        if name is None:
            zones.append(call.text(i))
            continue
        try:
            zones.append(lit(zone_name(name, strict=True)))
        except ValueError:
            unknown = unknown or name
            zones.append(lit(name))
    moment = call.datetime(0)
    given = exp.and_(*(node.copy().is_(exp.null()).not_() for node in (moment, *zones)))
    if unknown is not None:
        refused = fn("error", lit(f"Operation convert_tz invalid timezone: {unknown}"))
        return case((given, refused), default=cast(exp.null(), "TIMESTAMP")), Kind.DATETIME
    converted = fn("dbk_convert_tz", moment, *zones)
    too_early = exp.LT(this=fn("year", converted.copy()), expression=lit(0))
    refused = fn("error", lit("Cannot convert a time before 0000-01-01 00:00:00 between these zones"))
    return case((too_early, refused), default=converted), Kind.DATETIME


@doris("time_format")
def _time_format(call: Call) -> Lowered:
    call.arity(2)
    pattern = call.format_pattern(1)
    text = call.text(0)
    time_of_day = exp.Add(this=cast(lit("1970-01-01"), "DATE"), expression=try_cast(text.copy(), "TIME"))
    moment = fn("coalesce", fn("dbk_datetime", text), time_of_day)
    return formatted(moment, pattern), Kind.STRING


@doris("date_format")
def _date_format(call: Call) -> Lowered:
    call.arity(2)
    pattern = call.format_pattern(1)
    return formatted(call.datetime(0), pattern), Kind.STRING


@doris("str_to_date")
def _str_to_date(call: Call) -> Lowered:
    call.arity(2)
    pattern = call.format_pattern(1)
    parsed = _parsed(call.text(0), pattern)
    if formats.reads_time(pattern):
        return parsed, Kind.DATETIME
    return cast(parsed, "DATE"), Kind.DATE


@doris("date_trunc")
def _date_trunc(call: Call) -> Lowered:
    call.arity(2)
    first = call.constant(0)
    unit_first = first is not None and first.upper() in UNITS  # Doris 3 takes either order
    value = 1 if unit_first else 0
    unit = call.constant(1 - value)
    if unit is not None and unit.upper() not in UNITS:
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


def _scale(call: Call, i: int) -> int:
    """Digits after the second of a DATETIME argument, as Doris types it: a CAST's declared scale, a string
    literal's own digits, 6 for any other string, else 0 (a column's declared scale is not known here)."""
    node = call.args[i]
    if isinstance(node, exp.Cast) and node.to.expressions:
        return int(node.to.expressions[0].name)
    if isinstance(node, exp.Literal) and node.is_string:
        _, dot, fraction = node.name.partition(".")
        return len(fraction.strip()) if dot else 0
    return 6 if call.kinds[i] == Kind.STRING else 0


_SAMPLE = dt.datetime(2000, 1, 1)


def scaled_text(moment: exp.Expression, pattern: str, scale: int) -> exp.Expression:
    """``moment`` written with a strftime ``pattern`` and then exactly ``scale`` digits after the second,
    as Doris prints a DATETIME(p) or TIME(p) (DuckDB's own text drops a fraction's trailing zeros)."""
    if not scale:
        return fn("strftime", moment, lit(pattern))
    written = fn("strftime", moment, lit(pattern + ".%f"))
    width = len(_SAMPLE.strftime(pattern))  # the fixed width of what the pattern writes
    return fn("left", written, lit(width + 1 + min(scale, 6)))


@doris("time")
def _time(call: Call) -> Lowered:
    call.arity(1)
    return scaled_text(call.datetime(0), "%H:%M:%S", _scale(call, 0)), Kind.TIME


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
        keep_date = call.kinds[0] == Kind.DATE and unit in DATE_UNITS
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


def _date_round(up: bool) -> Lowering:
    """date_floor / date_ceil(t, INTERVAL n unit): the <unit>_floor / <unit>_ceil of ``t`` by ``n`` periods
    from 0001-01-01, where Doris refuses a period that is not positive or an answer past year 9999."""

    def lower(call: Call) -> Lowered:
        call.arity(2)
        span = call.args[1]
        if not isinstance(span, exp.Interval) or span.args.get("unit") is None:
            raise DorisError(f"{call.name}'s second argument must be an INTERVAL")
        unit = unit_of(span.args["unit"])
        if unit not in _MONTHS and unit not in _MICROS:
            raise DorisError(f"Unsupported time unit of {call.name}: {unit}")
        period = cast(try_cast(span.this.copy(), "BIGINT"), "BIGINT")
        rounding = Call(call.name, [call.args[0], period], [call.kinds[0], Kind.INT], call.zone)
        rounded, kind = _time_round(unit, up)(rounding)
        refused = fn("error", lit(f"Operation {call.name} of {span.this.name} {unit.lower()} out of range"))
        out_of_range = exp.and_(
            exp.Is(this=rounded.copy(), expression=exp.null()), call.datetime(0).is_(exp.null()).not_()
        )
        return case((out_of_range, refused), default=rounded), kind

    return lower


doris("date_floor")(_date_round(up=False))
doris("date_ceil")(_date_round(up=True))


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


@doris("from_iso8601_date")
def _from_iso8601_date(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_from_iso8601_date", call.text(0)), Kind.DATE


@doris("century")
def _century(call: Call) -> Lowered:
    call.arity(1)
    before = exp.Paren(this=exp.Sub(this=fn("year", call.temporal(0)), expression=lit(1)))
    return exp.Add(this=exp.IntDiv(this=before, expression=lit(100)), expression=lit(1)), Kind.INT


@doris("months_between")
def _months_between(call: Call) -> Lowered:
    call.arity(2, 3)
    rounding = cast(call.arg(2), "BOOLEAN") if len(call.args) == 3 else exp.true()
    return fn("dbk_months_between_doris", call.date(0), call.date(1), rounding), Kind.DOUBLE
