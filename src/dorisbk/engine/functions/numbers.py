"""Doris's numeric and conditional functions: rounding modes, bit operations, conversions."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from dorisbk.engine.functions.catalog import (
    Call,
    Lowered,
    Lowering,
    as_number,
    case,
    cast,
    doris,
    fn,
    lit,
    try_cast,
)
from dorisbk.engine.types import Kind
from dorisbk.errors import DorisError


def _rounding(duck_name: str) -> Lowering:
    """ceil / floor to a whole number (a BIGINT, as Doris answers), or to ``d`` decimal places: a DECIMAL
    exactly (16.025 at 6 places is 16.025, not 16.024999), answered as a DOUBLE."""

    def lower(call: Call) -> Lowered:
        call.arity(1, 2)
        if len(call.args) == 1:
            return try_cast(fn(duck_name, call.number(0)), "BIGINT"), Kind.INT
        if call.kinds[0] == Kind.DECIMAL:
            return fn(f"dbk_{duck_name}_decimal", call.arg(0), _places(call)), Kind.DOUBLE
        value = cast(call.number(0), "DOUBLE")
        scale = fn("pow", lit(10), cast(_places(call), "DOUBLE"))
        shifted = exp.Mul(this=value, expression=scale)
        # past 2**52 a DOUBLE holds no fraction to drop: the value stands (15.75 at 25 places is 15.75)
        whole = exp.GTE(this=fn("abs", shifted.copy()), expression=lit(2**52))
        return case(
            (whole, value.copy()), default=exp.Div(this=fn(duck_name, shifted), expression=scale.copy())
        ), Kind.DOUBLE

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


def _domain(duck_name: str, inside: Callable[[exp.Expression], exp.Expression]) -> Lowering:
    """A function Doris answers NULL for outside its domain (acosh below 1, atanh outside (-1, 1))."""

    def lower(call: Call) -> Lowered:
        call.arity(1)
        value = cast(call.number(0), "DOUBLE")
        return case((inside(value), fn(duck_name, value.copy()))), Kind.DOUBLE

    return lower


doris("acosh")(_domain("acosh", lambda v: exp.GTE(this=v.copy(), expression=lit(1))))
doris("atanh")(_domain("atanh", lambda v: exp.LT(this=fn("abs", v.copy()), expression=lit(1))))


@doris("factorial")
def _factorial(call: Call) -> Lowered:
    """n! as a BIGINT; NULL below 0 and above 20 (21! does not fit)."""
    call.arity(1)
    n = call.integer(0)
    inside = exp.Between(this=n, low=lit(0), high=lit(20))
    return case((inside, cast(fn("factorial", cast(n.copy(), "INTEGER")), "BIGINT"))), Kind.INT


@doris("normal_cdf")
def _normal_cdf(call: Call) -> Lowered:
    """The normal distribution's CDF at x for a mean and standard deviation; NULL unless the deviation is
    positive. Through erf, as Doris computes it, so the last digit agrees."""
    call.arity(3)
    mean, deviation, x = (cast(call.number(i), "DOUBLE") for i in range(3))
    z = exp.Div(this=exp.Paren(this=exp.Sub(this=x, expression=mean)), expression=deviation)
    erf = fn("dbk_erf", exp.Div(this=z, expression=fn("sqrt", lit(2.0))))
    cdf = exp.Mul(this=lit(0.5), expression=exp.Paren(this=exp.Add(this=lit(1), expression=erf)))
    return case((exp.GT(this=deviation.copy(), expression=lit(0)), cdf)), Kind.DOUBLE


def _modulo(call: Call, answer: exp.Expression) -> Lowered:
    """NULL for a zero divisor; for integers, Doris's error for the smallest BIGINT modulo -1."""
    a, b = call.number(0), call.number(1)
    whens = [(exp.EQ(this=b, expression=lit(0)), exp.null())]
    if all(k == Kind.INT for k in call.kinds):
        overflow = exp.and_(
            exp.EQ(this=a, expression=lit(-(2**63))), exp.EQ(this=b.copy(), expression=exp.Neg(this=lit(1)))
        )
        whens.append(
            (overflow, fn("error", lit("Division of minimal signed number by minus one is an undefined behavior")))
        )
    return case(*whens, default=answer), call.kinds[0]


@doris("pmod")
def _pmod(call: Call) -> Lowered:
    call.arity(2)
    a, b = call.number(0), call.number(1)
    inner = exp.Mod(
        this=exp.Paren(this=exp.Add(this=exp.Mod(this=a, expression=b), expression=b.copy())), expression=b.copy()
    )
    return _modulo(call, inner)


@doris("mod", "fmod")
def _mod(call: Call) -> Lowered:
    call.arity(2)
    return _modulo(call, exp.Mod(this=call.number(0), expression=call.number(1)))


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
    bases = [cast(call.integer(i), "INTEGER") for i in (1, 2)]
    return fn("dbk_conv", call.text(0), *bases), Kind.STRING


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


def _places(call: Call) -> exp.Expression:
    """The places argument as the INTEGER Doris casts it to (1.123 is 1, -1.123 is -1; NULL past an
    INTEGER's range, which makes the answer NULL)."""
    if call.kinds[1] in (Kind.DECIMAL, Kind.DOUBLE, Kind.STRING):
        return try_cast(fn("trunc", cast(call.number(1), "DOUBLE")), "INTEGER")
    return try_cast(call.integer(1), "INTEGER")


def _to_places(duck_name: str, keeping_scale: str) -> Lowering:
    """round (halves away from zero), round_bankers (halves to even) and truncate, to d places (0 without
    d). A DECIMAL stays a DECIMAL: at a constant d its scale becomes min(scale, d), as DuckDB's own
    functions answer; at any other d it keeps its scale, as Doris answers. An integer at d >= 0 is
    itself; the rest is rounded as a DOUBLE."""

    def lower(call: Call) -> Lowered:
        call.arity(1, 2)
        kind = call.kinds[0]
        places = _constant_integer(call, 1) if len(call.args) == 2 else 0
        if duck_name == "trunc" and len(call.args) == 1:  # Doris has truncate(x) for a DOUBLE only
            return fn("trunc", cast(call.number(0), "DOUBLE")), Kind.DOUBLE
        if kind == Kind.DECIMAL:
            if places is not None:
                return fn(duck_name, call.arg(0), lit(places)), Kind.DECIMAL
            return fn(keeping_scale, call.arg(0), _places(call)), Kind.DECIMAL
        if kind in (Kind.INT, Kind.LARGEINT) and places is not None:
            return (call.arg(0) if places >= 0 else fn(duck_name, call.arg(0), lit(places))), kind
        digits = lit(places) if places is not None else _places(call)
        return fn(duck_name, cast(call.number(0), "DOUBLE"), digits), Kind.DOUBLE

    return lower


doris("round")(_to_places("round", "dbk_round_keeping_scale"))
doris("round_bankers")(_to_places("round_even", "dbk_round_even_keeping_scale"))
doris("truncate")(_to_places("trunc", "dbk_trunc_keeping_scale"))


def _grouped_decimal(value: exp.Expression, places: int) -> exp.Expression:
    """A DECIMAL rounded half away from zero to ``places`` decimals (DuckDB's exact round; to a whole
    number Doris truncates: 9876.54321 is 9,876), its whole part with thousands separators and its
    fraction padded with zeros."""
    rounded = fn("round", value, lit(places)) if places else fn("trunc", value)
    whole = fn("format", lit("{:,}"), cast(fn("trunc", fn("abs", rounded)), "HUGEINT"))
    sign = case((exp.LT(this=rounded.copy(), expression=lit(0)), lit("-")), default=lit(""))
    text = exp.DPipe(this=sign, expression=whole, safe=False)
    if places == 0:
        return text
    fraction = fn("split_part", cast(fn("abs", rounded.copy()), "VARCHAR"), lit("."), lit(2))
    padded = fn("rpad", fraction, lit(places), lit("0"))
    return exp.DPipe(this=exp.DPipe(this=text, expression=lit("."), safe=False), expression=padded, safe=False)


def _constant_integer(call: Call, i: int) -> int | None:
    """Argument ``i`` when it is an integer literal (``-1`` too), else None."""
    node = call.args[i]
    negative = isinstance(node, exp.Neg)
    literal = node.this if negative else node
    if not (isinstance(literal, exp.Literal) and not literal.is_string and literal.name.isdigit()):
        return None
    return -int(literal.name) if negative else int(literal.name)


def _wide_literal(node: exp.Expression) -> bool:
    """A decimal literal with more digits than a DECIMAL holds, which Doris (and DuckDB) read as a DOUBLE."""
    return isinstance(node, exp.Literal) and sum(ch.isdigit() for ch in node.name) > 38


@doris("format_round")
def _format_round(call: Call) -> Lowered:
    """The number rounded to d decimals (0 to 1024) with thousands separators: integers exactly with d
    zeros, DECIMALs exactly, DOUBLEs by their exact binary value."""
    call.arity(2)
    places = _constant_integer(call, 1)
    if places is not None and not 0 <= places <= 1024:
        raise DorisError(f"The second argument is {places}, it should be in range [0, 1024].")
    kind = call.kinds[0]
    if kind in (Kind.INT, Kind.LARGEINT, Kind.BOOLEAN):
        zeros = case(
            (
                exp.GT(this=call.integer(1), expression=lit(0)),
                exp.DPipe(this=lit("."), expression=fn("repeat", lit("0"), call.integer(1)), safe=False),
            ),
            default=lit(""),
        )
        whole = fn("format", lit("{:,}"), cast(call.arg(0), "HUGEINT"))
        return exp.DPipe(this=whole, expression=zeros, safe=False), Kind.STRING
    if kind == Kind.DECIMAL and places is not None and not _wide_literal(call.args[0]):
        return _grouped_decimal(call.arg(0), places), Kind.STRING
    return fn("dbk_grouped_double", cast(call.number(0), "DOUBLE"), cast(call.integer(1), "INTEGER")), Kind.STRING


@doris("format_number")
def _format_number(call: Call) -> Lowered:
    """A short form with a unit: 12345 is 12.3K, 1234567890.1 is 1.23B."""
    call.arity(1)
    return fn("dbk_short_number", cast(call.number(0), "DOUBLE")), Kind.STRING


@doris("format")
def _format(call: Call) -> Lowered:
    """The fmt library's format(pattern, args...); NULL when any argument is."""
    if not call.args:
        raise DorisError("Can not found function 'format' which has 0 arity.")
    values = [cast(fn("to_json", call.arg(i)), "VARCHAR") for i in range(1, len(call.args))]
    return fn("dbk_fmt", call.text(0), cast(exp.Array(expressions=values), "VARCHAR[]")), Kind.STRING
