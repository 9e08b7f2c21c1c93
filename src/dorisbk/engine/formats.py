"""Doris's date format strings (MySQL's ``%Y-%m-%d %H:%i:%s``) in DuckDB's strftime / strptime spelling.

A format is a value, not SQL: it is translated one specifier at a time, and text between
specifiers is kept as it is (a ``%`` of its own written as DuckDB's ``%%``).
"""

from __future__ import annotations

import re

# Doris specifier -> DuckDB's; specifiers missing here print the letter itself, as MySQL does
_SPECIFIERS = {
    "a": "%a", "b": "%b", "c": "%-m", "d": "%d", "e": "%-d", "f": "%f", "H": "%H", "h": "%I", "I": "%I",
    "i": "%M", "j": "%j", "k": "%-H", "l": "%-I", "M": "%B", "m": "%m", "p": "%p", "r": "%I:%M:%S %p",
    "S": "%S", "s": "%S", "T": "%H:%M:%S", "W": "%A", "w": "%w", "Y": "%Y", "y": "%y", "%": "%%",
}  # fmt: skip

# specifiers strftime has no equal for (MySQL's week numbering, the day's English suffix): the
# caller computes them (see ``pieces``); when parsing, the nearest strptime reading
SPECIAL = frozenset("DUuVvXx")
_PARSING_SPECIAL = {"D": "%d", "U": "%U", "u": "%W", "V": "%U", "v": "%V", "X": "%Y", "x": "%G"}

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


def pieces(doris_format: str) -> list[str]:
    """A Doris format for strftime, cut where a SPECIAL specifier stands: strftime formats, and the
    specials themselves as ``%U``, ``%D``... for the caller to compute."""
    out: list[str] = [""]
    chars = iter(_JAVA_STYLE.get(doris_format, doris_format))
    for char in chars:
        if char != "%":
            out[-1] += char
            continue
        spec = next(chars, None)
        if spec is None:
            out[-1] += "%%"
        elif spec in SPECIAL:
            out += [f"%{spec}", ""]
        else:
            out[-1] += _SPECIFIERS.get(spec, spec.replace("%", "%%"))
    return [piece for piece in out if piece]


def to_duckdb(doris_format: str, parsing: bool = False) -> str:
    """The DuckDB spelling of a Doris format for strptime (``parsing``), or for strftime when it holds
    no SPECIAL specifier."""
    if not parsing:
        return "".join(pieces(doris_format))
    out: list[str] = []
    chars = iter(_JAVA_STYLE.get(doris_format, doris_format))
    for char in chars:
        if char != "%":
            out.append(char.replace("%", "%%"))
            continue
        spec = next(chars, None)
        if spec is None:
            out.append("%%")
        else:
            out.append(_PARSING.get(spec) or _PARSING_SPECIAL.get(spec) or _SPECIFIERS.get(spec, spec))
    return "".join(out)


# what each specifier reads when parsing, as a regular expression (the text a format reads from the start
# of a value: Doris, as MySQL, ignores what follows it, and digits of a fraction past the sixth)
_READS = {
    "Y": r"\d{4}", "y": r"\d{2}", "m": r"\d{1,2}", "c": r"\d{1,2}", "d": r"\d{1,2}", "e": r"\d{1,2}",
    "H": r"\d{1,2}", "k": r"\d{1,2}", "h": r"\d{1,2}", "I": r"\d{1,2}", "l": r"\d{1,2}", "i": r"\d{1,2}",
    "s": r"\d{1,2}", "S": r"\d{1,2}", "f": r"\d{1,6}", "j": r"\d{1,3}", "p": "[AaPp][Mm]",
    "T": r"\d{1,2}:\d{1,2}:\d{1,2}", "M": "[A-Za-z]+", "W": "[A-Za-z]+", "b": "[A-Za-z]+", "a": "[A-Za-z]+",
    "%": "%",
}  # fmt: skip


def leading(doris_format: str) -> str | None:
    """A regular expression for the start of a value a format reads; None for a format with a specifier
    whose text is not bounded here."""
    out: list[str] = []
    chars = iter(_JAVA_STYLE.get(doris_format, doris_format))
    for char in chars:
        if char != "%":
            out.append(re.escape(char))
            continue
        read = _READS.get(next(chars, ""))
        if read is None:
            return None
        out.append(read)
    return "".join(out)


def reads_time(doris_format: str) -> bool:
    """Whether a STR_TO_DATE format has a time part (Doris then answers a DATETIME, else a DATE)."""
    chars = iter(_JAVA_STYLE.get(doris_format, doris_format))
    return any(char == "%" and next(chars, "") in _TIME_SPECIFIERS for char in chars)
