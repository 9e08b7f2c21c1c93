"""Doris's date format strings (MySQL's ``%Y-%m-%d %H:%i:%s``) in DuckDB's strftime / strptime spelling.

A format is a value, not SQL: it is translated one specifier at a time, and text between
specifiers is kept as it is (a ``%`` of its own written as DuckDB's ``%%``).
"""

from __future__ import annotations

# Doris specifier -> DuckDB's; specifiers missing here print the letter itself, as MySQL does
_SPECIFIERS = {
    "a": "%a", "b": "%b", "c": "%-m", "d": "%d", "e": "%-d", "f": "%f", "H": "%H", "h": "%I", "I": "%I",
    "i": "%M", "j": "%j", "k": "%-H", "l": "%-I", "M": "%B", "m": "%m", "p": "%p", "r": "%I:%M:%S %p",
    "S": "%S", "s": "%S", "T": "%H:%M:%S", "U": "%U", "u": "%W", "V": "%U", "v": "%V", "W": "%A", "w": "%w",
    "X": "%Y", "x": "%G", "Y": "%Y", "y": "%y", "%": "%%",
}  # fmt: skip

# What each specifier says about the value it reads: a format with any of these reads a time of day.
_TIME_SPECIFIERS = frozenset("fHhIiklprSsT")


# what the unpadded specifiers read when parsing: DuckDB's strptime takes one or two digits for these
_PARSING = {"c": "%m", "e": "%d", "k": "%H", "l": "%I"}

# the Java-style patterns Doris also takes, whole
_JAVA_STYLE = {
    "yyyy-MM-dd HH:mm:ss": "%Y-%m-%d %H:%i:%s",
    "yyyy-MM-dd": "%Y-%m-%d",
    "yyyyMMdd": "%Y%m%d",
    "yyyy-MM": "%Y-%m",
    "yyyy": "%Y",
}


def to_duckdb(doris_format: str, parsing: bool = False) -> str:
    """The DuckDB spelling of a Doris format, for strftime or (``parsing``) strptime."""
    doris_format = _JAVA_STYLE.get(doris_format, doris_format)
    out: list[str] = []
    chars = iter(doris_format)
    for char in chars:
        if char != "%":
            out.append(char.replace("%", "%%"))
            continue
        spec = next(chars, None)
        if spec is None:
            out.append("%%")
        elif parsing and spec in _PARSING:
            out.append(_PARSING[spec])
        else:
            out.append(_SPECIFIERS.get(spec, spec.replace("%", "%%")))
    return "".join(out)


def reads_time(doris_format: str) -> bool:
    """Whether a STR_TO_DATE format has a time part (Doris then answers a DATETIME, else a DATE)."""
    chars = iter(_JAVA_STYLE.get(doris_format, doris_format))
    return any(char == "%" and next(chars, "") in _TIME_SPECIFIERS for char in chars)
