"""The clock functions of a statement (NOW(), CURRENT_TIMESTAMP(p), CURDATE(), CURTIME(), ...) as typed
literals of the moment it started, in the session's time zone: one value for the whole statement, as
Doris gives, typed DATETIME(p) / DATE as Doris types them, with the fraction ``p`` asks for."""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from dorisbk.errors import DorisError

# what the dialect leaves as a plain call (NOW()) or a bare name (CURRENT_DATE) -> the clock it reads
_BY_NAME = {
    **dict.fromkeys(("NOW", "LOCALTIME", "LOCALTIMESTAMP", "CURRENT_TIMESTAMP"), "now"),
    **dict.fromkeys(("CURDATE", "CURRENT_DATE"), "date"),
    **dict.fromkeys(("CURTIME", "CURRENT_TIME"), "time"),
}
# the ones that read the clock without parentheses; a bare NOW, CURDATE or CURTIME is a column, as in MySQL
_KEYWORDS = {"CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP"}
_MAX_PRECISION = 6


# the UTC clocks: UTC_TIMESTAMP(p), UTC_TIME(p), UTC_DATE()
_UTC = {"utc_now": "UTC_TIMESTAMP", "utc_time": "UTC_TIME"}
_TINYINT_MAX, _SMALLINT_MAX = 127, 32767


def _precision(node: exp.Expression, kind: str) -> int | None:
    """The fraction digits asked for (0 without an argument); None for an argument that is not a number,
    which is left for the engine to refuse. Too many digits get the error of Doris's function."""
    args = [a for a in (node.args.get("this"), *node.args.get("expressions", [])) if isinstance(a, exp.Expression)]
    if not args:
        return 0
    if kind in _UTC and len(args) == 1 and isinstance(args[0], exp.Null):
        raise DorisError(f"{_UTC[kind]} argument cannot be NULL.")
    if len(args) == 1 and isinstance(args[0], exp.Literal) and not args[0].is_string and args[0].this.isdigit():
        digits = int(args[0].this)
        if digits <= _MAX_PRECISION:
            return digits
        if kind in _UTC:
            raise DorisError(f"{_UTC[kind]} scale must be between 0 and 6")
        if kind == "time" and digits > _TINYINT_MAX:  # CURTIME takes a TINYINT
            literal = "SMALLINT" if digits <= _SMALLINT_MAX else "INT"
            raise DorisError(f"Can not find the compatibility function signature: current_time({literal})")
        if kind == "time":
            raise DorisError(f"The precision must be between 0 and {_MAX_PRECISION}")
        raise DorisError(f"Scale of Datetime/Time must between 0 and 6. Scale was set to: {digits}")
    return None


def _text(moment: dt.datetime | dt.time, fmt: str, precision: int) -> str:
    text = moment.strftime(fmt)
    if precision:
        text += "." + f"{moment.microsecond:06d}"[:precision]
    return text


def _kind(node: exp.Expression) -> str | None:
    """Which clock a node reads: ``now``, ``date`` or ``time``."""
    if isinstance(node, (exp.CurrentTimestamp, exp.Localtime, exp.Localtimestamp)):
        return "now"
    if isinstance(node, exp.CurrentDate):
        return "date"
    if isinstance(node, exp.CurrentTime):
        return "time"
    if isinstance(node, exp.UtcTime):
        return "utc_time"
    if isinstance(node, exp.UtcDate):
        return "utc_date"
    if isinstance(node, exp.Anonymous):
        return "utc_now" if node.name.upper() == "UTC_TIMESTAMP" else _BY_NAME.get(node.name.upper())
    if isinstance(node, exp.Column) and not node.table and not node.this.quoted and node.name.upper() in _KEYWORDS:
        return _BY_NAME[node.name.upper()]
    return None


def fix(tree: exp.Expression, started: dt.datetime) -> exp.Expression:
    """``tree`` with every clock call replaced by the literal of ``started`` (tz-aware, the session's zone;
    the UTC clocks read it in UTC)."""
    local = started.replace(tzinfo=None)
    utc = started.astimezone(dt.UTC).replace(tzinfo=None)

    def replace(node: exp.Expression) -> exp.Expression:
        kind = _kind(node)
        if kind is None:
            return node
        precision = 0 if kind in ("date", "utc_date") else _precision(node, kind)
        if precision is None:
            return node
        moment = utc if kind.startswith("utc_") else local
        if kind in ("date", "utc_date"):
            return exp.cast(exp.Literal.string(moment.date().isoformat()), exp.DataType.build("DATE"))
        if kind in ("time", "utc_time"):
            return exp.Literal.string(_text(moment.time(), "%H:%M:%S", precision))
        datatype = exp.DataType.build(f"DATETIME({precision})" if precision else "DATETIME")
        return exp.cast(exp.Literal.string(_text(moment, "%Y-%m-%d %H:%M:%S", precision)), datatype)

    return tree.transform(replace, copy=False)
