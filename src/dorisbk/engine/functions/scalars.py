"""Doris's IPv4, UUID and other scalar functions."""

from __future__ import annotations

from sqlglot import exp

from dorisbk.engine.functions.catalog import Call, Lowered, Lowering, case, cast, doris, fn, lit
from dorisbk.engine.types import Kind


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
