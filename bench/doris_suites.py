"""Replay Apache Doris's SQL function regression suites against a real dorisbk server.

Doris keeps, per function family, Groovy suites under
``regression-test/suites/query_p0/sql_functions/<family>/*.groovy`` and the rows each ``qt_<tag>``
check must return under ``regression-test/data/query_p0/sql_functions/<family>/*.out``. This
harness reads a local copy of those files (see bench/README.md: they are never part of this
repository), extracts the SQL each suite runs, runs it on one ``dorisbk serve`` process and
compares the rows of every check with the expected section of the ``.out`` file.

    .venv/bin/python -m bench.doris_suites [--doris-dir DIR] [--family F ...] [--json OUT]

A check is PASS (rows equal), FAIL (rows differ, or a ``test { exception }`` block that did not
raise the expected error), ERROR (the server refused a statement whose rows were expected) or
SKIP (the statement could not be extracted: Groovy loops, closures, branches, dynamic strings, or
no expected section). Cells are compared as text after a per-column canonical form that only
folds spellings of the same value (``1.0`` / ``1`` / ``1.0E10`` in a DOUBLE column,
``2020-01-01T10:00`` / ``2020-01-01 10:00:00`` in a DATETIME column, ``true`` / ``1`` in a
BOOLEAN column); everything else must match character for character.
"""

from __future__ import annotations

import argparse
import contextlib
import decimal
import json
import math
import re
import struct
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.common import ensure_importable

ensure_importable()

import pymysql  # noqa: E402
from pymysql.constants import FIELD_TYPE  # noqa: E402

from tests.dorisbk_server import DorisbkServer  # noqa: E402

DEFAULT_DORIS_DIR = Path("~/.cache/dorisbk/doris-regression").expanduser()
SUITES_ROOT = Path("regression-test/suites/query_p0/sql_functions")
PRELOAD = Path("regression-test/suites/query_p0/load.groovy")
DATA_ROOT = Path("regression-test/data/query_p0/sql_functions")
NULL_CELL = "\\N"

# family name -> the directories under sql_functions/ that hold its suites
FAMILIES: dict[str, tuple[str, ...]] = {
    "datetime_functions": ("datetime_functions",),
    "string_functions": ("string_functions",),
    "json_functions": ("json_function", "json_functions"),
    "array_functions": ("array_functions",),
    "aggregate_functions": ("aggregate_functions",),
    "bitmap_functions": ("bitmap_functions",),
    "hll_functions": ("hll_functions",),
    "math_functions": ("math_functions",),
}

PASS, FAIL, ERROR, SKIP = "PASS", "FAIL", "ERROR", "SKIP"

# Doris's regression test clusters set the frontend's time zone to Asia/Shanghai; the .out files assume it
SUITE_TIME_ZONE = "Asia/Shanghai"


# ---------------------------------------------------------------------------------------------
# Groovy scanning
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str  # "ident", "str", "num", "punct"
    text: str  # identifier / punctuation text, or the raw body of a string literal
    line: int
    quote: str = ""  # for strings: ', ", ''' or \"\"\"


def _string_end(src: str, start: int, quote: str) -> int:
    """Index just past the closing quote of a string whose body starts at ``start``."""
    i = start
    while i < len(src):
        ch = src[i]
        if ch == "\\":
            i += 2
            continue
        if quote[0] == '"' and src.startswith("${", i):
            i = _closing_brace(src, i + 2)
            continue
        if src.startswith(quote, i):
            return i + len(quote)
        if len(quote) == 1 and ch == "\n":
            return i  # unterminated single-line string: stop at the line end
        i += 1
    return len(src)


def _closing_brace(src: str, i: int) -> int:
    """Index just past the ``}`` closing a ``${`` interpolation whose body starts at ``i``."""
    depth = 1
    while i < len(src) and depth:
        if src[i] == "{":
            depth += 1
        elif src[i] == "}":
            depth -= 1
        i += 1
    return i


def tokenize(src: str) -> list[Token]:
    tokens: list[Token] = []
    i, line = 0, 1
    while i < len(src):
        ch = src[i]
        if ch == "\n":
            line += 1
            i += 1
        elif ch.isspace():
            i += 1
        elif src.startswith("//", i):
            i = src.find("\n", i) if "\n" in src[i:] else len(src)
        elif src.startswith("/*", i):
            end = src.find("*/", i + 2)
            end = len(src) if end < 0 else end + 2
            line += src.count("\n", i, end)
            i = end
        elif ch in "\"'":
            quote = ch * 3 if src.startswith(ch * 3, i) else ch
            end = _string_end(src, i + len(quote), quote)
            body_end = end - len(quote) if src.startswith(quote, end - len(quote)) else end
            tokens.append(Token("str", src[i + len(quote) : body_end], line, quote))
            line += src.count("\n", i, end)
            i = end
        elif ch.isalpha() or ch == "_":
            j = i
            while j < len(src) and (src[j].isalnum() or src[j] == "_"):
                j += 1
            tokens.append(Token("ident", src[i:j], line))
            i = j
        elif ch.isdigit():
            j = i
            while j < len(src) and (src[j].isalnum() or src[j] in "._"):
                j += 1
            tokens.append(Token("num", src[i:j], line))
            i = j
        elif src.startswith("->", i):
            tokens.append(Token("punct", "->", line))
            i += 2
        else:
            tokens.append(Token("punct", ch, line))
            i += 1
    return tokens


class Dynamic(Exception):
    """A Groovy string whose value depends on something the harness does not evaluate."""


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0"}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def groovy_string_value(tok: Token, env: dict[str, str | None]) -> str:
    """The value of a string literal: escapes applied, ``$x`` / ``${x}`` taken from ``env``."""
    body, interpolate = tok.text, tok.quote.startswith('"')
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            if nxt == "\n":  # line continuation
                i += 2
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
        elif ch == "$" and interpolate and body.startswith("${", i):
            end = _closing_brace(body, i + 2)
            out.append(_lookup(body[i + 2 : end - 1].strip(), env))
            i = end
        elif ch == "$" and interpolate and (m := _IDENT.match(body, i + 1)):
            if re.match(r"\.[A-Za-z_]", body[m.end() :]):
                raise Dynamic(f"property access ${m.group(0)}.…")
            out.append(_lookup(m.group(0), env))
            i = m.end()
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _lookup(name: str, env: dict[str, str | None]) -> str:
    value = env.get(name) if _IDENT.fullmatch(name) else None
    if value is None:
        raise Dynamic(f"${{{name}}}")
    return value


# ---------------------------------------------------------------------------------------------
# Suite model
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StreamLoad:
    """A ``streamLoad { table ...; db ...; set 'column_separator', ','; file ... }`` block: the rows of a
    data file (its path relative to the suite's .out file) loaded into a table."""

    table: str
    db: str | None
    file: str
    separator: str


@dataclass
class Step:
    """One thing the suite does, in order: a setup statement, a stream load or a check."""

    kind: str  # "sql" (setup), "load" (streamLoad), "query" (qt_/order_qt_), "exception" (test {...}), "skip"
    line: int
    sql: str = ""
    tag: str = ""
    ordered: bool = False  # order_qt_: sort rows before comparing
    expect_error: str = ""
    reason: str = ""  # why a step is skipped
    is_check: bool = True  # a skipped plain `sql` or load is not a check
    load: StreamLoad | None = None


@dataclass
class Suite:
    family: str
    path: Path
    out_path: Path
    steps: list[Step] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.stem


_CHECK_IDENT = re.compile(r"(order_)?qt_(\w+)")
# blocks whose body the harness cannot run statement by statement
_SKIP_BLOCK_WORDS = {"for", "while", "if", "else", "catch", "switch", "each", "eachWithIndex", "times", "collect"}
_STRING_METHODS = {"stripIndent", "trim", "toString", "stripMargin"}


class SuiteParser:
    """Walk the tokens of one Groovy suite and collect its steps."""

    def __init__(self, tokens: list[Token]) -> None:
        self.toks = tokens
        self.i = 0
        self.env: dict[str, str | None] = {}
        self.steps: list[Step] = []
        self.blocks: list[str] = []  # "run", "skip:<why>", "test", "load"
        self.test: dict[str, Any] | None = None
        self.load: dict[str, Any] | None = None

    # -- helpers
    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.toks[j] if 0 <= j < len(self.toks) else None

    def is_punct(self, tok: Token | None, text: str) -> bool:
        return tok is not None and tok.kind == "punct" and tok.text == text

    def skipping(self) -> str:
        for block in reversed(self.blocks):
            if block.startswith("skip:"):
                return block[5:]
        return ""

    def read_string_arg(self) -> tuple[str | None, str, int]:
        """Read the argument after a ``sql`` / ``qt_x`` word: (value or None, why not, tokens used)."""
        k = 1
        paren = self.is_punct(self.peek(k), "(")
        if paren:
            k += 1
        tok = self.peek(k)
        if tok is None:
            return None, "no argument", k
        if tok.kind == "ident":
            value = self.env.get(tok.text)
            if value is None:
                return None, f"argument is variable {tok.text}", k + 1
            k += 1
        elif tok.kind == "str":
            try:
                value = groovy_string_value(tok, self.env)
            except Dynamic as exc:
                return None, f"dynamic string {exc}", k + 1
            k += 1
        else:
            return None, "argument is not a string", k
        while self.is_punct(self.peek(k), ".") and (m := self.peek(k + 1)) and m.text in _STRING_METHODS:
            k += 2
            if self.is_punct(self.peek(k), "(") and self.is_punct(self.peek(k + 1), ")"):
                k += 2
        nxt = self.peek(k)
        if nxt is not None and nxt.kind == "punct" and nxt.text in "+.[":
            return None, "string built by an expression", k
        if paren:
            if not self.is_punct(nxt, ")"):
                return None, "call with several arguments", k
            k += 1
        return value, "", k

    # -- main loop
    def parse(self) -> list[Step]:
        while self.i < len(self.toks):
            tok = self.toks[self.i]
            if tok.kind == "punct" and tok.text == "{":
                self.open_block()
                self.i += 1
            elif tok.kind == "punct" and tok.text == "}":
                self.close_block()
                self.i += 1
            elif tok.kind == "ident":
                self.i += self.word(tok)
            else:
                self.i += 1
        return self.steps

    def open_block(self) -> None:
        self.blocks.append(self.block_kind())
        if self.blocks[-1] == "test":
            self.test = {"sql": None, "exception": None, "unsupported": "", "line": self.toks[self.i].line}
        elif self.blocks[-1] == "load":
            line = self.toks[self.i].line
            self.load = {"table": None, "db": None, "file": None, "separator": "\t", "unsupported": "", "line": line}

    def block_kind(self) -> str:
        prev = self.peek(-1)
        if prev is None:
            return "run"
        if prev.kind == "ident":
            if prev.text == "test":
                return "test"
            if prev.text == "streamLoad":
                return "load"
            if prev.text in ("try", "finally"):
                return "run"
            if prev.text in _SKIP_BLOCK_WORDS:
                return f"skip:inside {prev.text} block"
            return f"skip:inside {prev.text} {{}} block"
        if self.is_punct(prev, "=") or self.is_punct(prev, "("):
            return "skip:inside a closure"
        if self.is_punct(prev, ")"):
            word = self.word_before_parens(self.i - 1)
            if word == "suite":
                return "run"
            if word in _SKIP_BLOCK_WORDS:
                return f"skip:inside {word} block"
            return f"skip:inside {word}(...) {{}} block"
        return "skip:inside a block"

    def word_before_parens(self, close: int) -> str:
        depth = 0
        for j in range(close, -1, -1):
            t = self.toks[j]
            if self.is_punct(t, ")"):
                depth += 1
            elif self.is_punct(t, "("):
                depth -= 1
                if depth == 0:
                    return self.toks[j - 1].text if j > 0 else ""
        return ""

    def close_block(self) -> None:
        if not self.blocks:
            return
        kind = self.blocks.pop()
        if kind == "test" and self.test is not None:
            self.finish_test(self.test)
            self.test = None
        elif kind == "load" and self.load is not None:
            self.finish_load(self.load)
            self.load = None

    def finish_load(self, load: dict[str, Any]) -> None:
        why = self.skipping() or load["unsupported"]
        if not why and (load["table"] is None or load["file"] is None):
            why = "stream load without a literal table or file"
        if why:
            self.steps.append(Step("skip", load["line"], reason=why, is_check=False))
            return
        stream = StreamLoad(load["table"], load["db"], load["file"], load["separator"])
        self.steps.append(Step("load", load["line"], sql=f"stream load of {load['file']}", load=stream, is_check=False))

    def finish_test(self, test: dict[str, Any]) -> None:
        line = test["line"]
        if self.skipping():
            self.steps.append(Step("skip", line, reason=self.skipping()))
        elif test["unsupported"]:
            self.steps.append(Step("skip", line, sql=test["sql"] or "", reason=test["unsupported"]))
        elif test["sql"] is None:
            self.steps.append(Step("skip", line, reason="test block without a literal sql"))
        elif test["exception"] is None:
            self.steps.append(Step("skip", line, sql=test["sql"], reason="test block without exception"))
        else:
            self.steps.append(Step("exception", line, sql=test["sql"], expect_error=test["exception"]))

    def word(self, tok: Token) -> int:
        """Handle an identifier at self.i; returns how many tokens were consumed."""
        if tok.text in ("def", "String") or (tok.text[:1].isupper() and self.peek(2) and self.peek(2).text == "="):
            return self.definition()
        if self.test is not None and self.blocks and self.blocks[-1] == "test":
            return self.test_word(tok)
        if self.load is not None and self.blocks and self.blocks[-1] == "load":
            return self.load_word(tok)
        if tok.text == "sql":
            return self.sql_word(tok)
        if m := _CHECK_IDENT.fullmatch(tok.text):
            return self.check_word(tok, m)
        return 1

    def definition(self) -> int:
        """``def name = <literal>`` (also ``String name = ...``): remember the value, if simple."""
        k = 1
        while (t := self.peek(k)) is not None and (t.kind == "ident" or (t.kind == "punct" and t.text in "<>,[]?")):
            if t.text == "def":
                break
            k += 1
        name_tok = self.peek(k - 1)
        if name_tok is None or name_tok.kind != "ident" or not self.is_punct(self.peek(k), "="):
            if name_tok is not None and name_tok.kind == "ident":
                self.env[name_tok.text] = None
            return k
        name = name_tok.text
        value_tok = self.peek(k + 1)
        after = self.peek(k + 2)
        simple_end = after is None or not (after.kind == "punct" and after.text in "+.[(?")
        self.env[name] = None
        if value_tok is not None and value_tok.kind == "str" and simple_end:
            with contextlib.suppress(Dynamic):
                self.env[name] = groovy_string_value(value_tok, self.env)
            return k + 2
        if value_tok is not None and value_tok.kind == "num" and simple_end:
            self.env[name] = value_tok.text
            return k + 2
        return k + 1  # the value is evaluated by the main loop (`def res = sql "..."` still runs)

    def test_word(self, tok: Token) -> int:
        assert self.test is not None
        if tok.text in ("sql", "exception"):
            value, why, used = self.read_string_arg()
            if value is None:
                self.test["unsupported"] = self.test["unsupported"] or f"test block: {why}"
            else:
                self.test[tok.text] = value
            return used
        if tok.text in ("check", "result", "rowNum", "time", "exceptionCheck"):
            self.test["unsupported"] = self.test["unsupported"] or f"test block uses {tok.text}"
        return 1

    def load_word(self, tok: Token) -> int:
        """``table`` / ``db`` / ``file`` with their value, ``set 'key', 'value'`` (only the column separator
        and a label are understood: other settings, such as derived columns, make the load a skip)."""
        assert self.load is not None
        if tok.text in ("table", "db", "file"):
            value, why, used = self.read_string_arg()
            if value is None:
                self.load["unsupported"] = self.load["unsupported"] or f"stream load: {tok.text} {why}"
            else:
                self.load[tok.text] = value
            return used
        if tok.text == "set":
            key, comma, value = self.peek(1), self.peek(2), self.peek(3)
            if key is None or key.kind != "str" or not self.is_punct(comma, ","):
                return 1
            name = key.text
            if name == "column_separator" and value is not None and value.kind == "str":
                with contextlib.suppress(Dynamic):
                    self.load["separator"] = groovy_string_value(value, self.env)
                    return 4
            if name != "label":
                self.load["unsupported"] = self.load["unsupported"] or f"stream load sets {name}"
            return 1
        return 1

    def sql_word(self, tok: Token) -> int:
        nxt = self.peek(1)
        if nxt is None or not (nxt.kind == "str" or self.is_punct(nxt, "(") or nxt.kind == "ident"):
            return 1
        if self.peek(-1) is not None and self.is_punct(self.peek(-1), "."):
            return 1
        value, why, used = self.read_string_arg()
        skip = self.skipping()
        if skip or value is None:
            self.steps.append(Step("skip", tok.line, reason=skip or why, is_check=False, sql=value or ""))
        else:
            self.steps.append(Step("sql", tok.line, sql=value, is_check=False))
        return used

    def check_word(self, tok: Token, m: re.Match[str]) -> int:
        value, why, used = self.read_string_arg()
        tag = m.group(2)
        skip = self.skipping()
        if skip or value is None:
            self.steps.append(Step("skip", tok.line, sql=value or "", tag=tag, reason=skip or why))
        else:
            self.steps.append(Step("query", tok.line, sql=value, tag=tag, ordered=bool(m.group(1))))
        return used


def parse_suite(text: str) -> list[Step]:
    return SuiteParser(tokenize(text)).parse()


# ---------------------------------------------------------------------------------------------
# .out files
# ---------------------------------------------------------------------------------------------
_SECTION = re.compile(r"^-- !(.+?) --$")


def parse_out(text: str) -> dict[str, list[list[list[str]]]]:
    """Sections of a .out file: tag -> the row lists of each section with that tag, in order."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    sections: dict[str, list[list[list[str]]]] = {}
    current: list[str] | None = None
    bodies: list[tuple[str, list[str]]] = []
    for line in lines:
        m = _SECTION.match(line)
        if m:
            current = []
            bodies.append((m.group(1), current))
        elif current is not None:
            current.append(line)
    for tag, body in bodies:
        if body and body[-1] == "":
            body.pop()  # the blank line that separates sections
        sections.setdefault(tag, []).append([row.split("\t") for row in body])
    return sections


# ---------------------------------------------------------------------------------------------
# Comparing cells
# ---------------------------------------------------------------------------------------------
_FLOAT_TYPES = {
    FIELD_TYPE.FLOAT: "float32",
    FIELD_TYPE.DOUBLE: "float64",
    FIELD_TYPE.DECIMAL: "decimal",
    FIELD_TYPE.NEWDECIMAL: "decimal",
}
# The relative error Doris's test framework lets a FLOAT cell (and a DOUBLE or DECIMAL one) differ by
_TOLERANCE = {"float32": 1e-6, "float64": 1e-8, "decimal": 1e-8}
_DATETIME_TYPES = {FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP}
_DT = re.compile(r"^(-?\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$")
_SPECIAL_FLOATS = {"inf": math.inf, "infinity": math.inf, "-inf": -math.inf, "-infinity": -math.inf, "nan": math.nan}


def column_kind(type_code: int) -> str:
    if type_code in _FLOAT_TYPES:
        return _FLOAT_TYPES[type_code]
    if type_code in _DATETIME_TYPES:
        return "datetime"
    if type_code == FIELD_TYPE.TINY:
        return "tiny"
    return "text"


def canonical(cell: str, kind: str) -> str:
    """One spelling per value for the column kinds whose display differs between clients."""
    if cell == NULL_CELL:
        return cell
    if kind in _TOLERANCE:
        value = _parse_float(cell)
        if value is None:
            return cell
        if math.isnan(value):
            return "nan"
        if kind == "float32" and not math.isinf(value):
            value = struct.unpack("f", struct.pack("f", value))[0]
        return cell if kind == "decimal" else repr(value)
    if kind == "datetime" and (m := _DT.match(cell)):
        date, hh, mm, ss, frac = m.groups()
        frac = (frac or "").rstrip("0")
        return f"{date} {hh}:{mm}:{ss or '00'}" + (f".{frac}" if frac else "")
    if kind == "tiny":
        return {"true": "1", "false": "0"}.get(cell, cell)
    return cell


def _parse_float(cell: str) -> float | None:
    special = _SPECIAL_FLOATS.get(cell.strip().lower())
    if special is not None:
        return special
    try:
        return float(cell)
    except ValueError:
        return None


def render_cell(value: Any) -> str:
    """A cell as Doris's test framework writes it into a .out file: NULL as ``\\N``, a backslash doubled
    (``url_decode('%5C')`` is one backslash, its .out line two)."""
    if value is None:
        return NULL_CELL
    text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    return text.replace("\\", "\\\\")


def canonical_rows(rows: Sequence[Sequence[str]], kinds: Sequence[str]) -> list[tuple[str, ...]]:
    out = []
    for row in rows:
        if len(row) != len(kinds):
            out.append(tuple(row))  # a width mismatch is reported as it is
        else:
            out.append(tuple(canonical(cell, kind) for cell, kind in zip(row, kinds, strict=True)))
    return out


def cells_equal(expected: str, got: str, kind: str) -> bool:
    """Equal as Doris's test framework judges: numbers of a FLOAT, DOUBLE or DECIMAL column within its
    relative error, or equal once the more precise is rounded to the other's decimal places."""
    if expected == got:
        return True
    tolerance = _TOLERANCE.get(kind)
    if tolerance is None or NULL_CELL in (expected, got):
        return False
    want, have = _parse_float(expected), _parse_float(got)
    if want is None or have is None or math.isnan(want) or math.isnan(have):
        return False
    if math.isinf(want) or math.isinf(have):
        return want == have
    if want == have or abs(want - have) <= tolerance * abs(have):
        return True
    places = [len(c) - c.index(".") - 1 if "." in c else 0 for c in (expected, got)]
    if places[0] == places[1]:
        return False
    coarse, fine = (want, have) if places[0] < places[1] else (have, want)
    step = decimal.Decimal(1).scaleb(-min(places))
    return float(decimal.Decimal(fine).quantize(step, rounding=decimal.ROUND_HALF_UP)) == coarse


def rows_equal(expected: list[list[str]], got: list[list[str]], kinds: list[str], ordered: bool) -> bool:
    """``ordered`` (order_qt_, or a statement without ORDER BY): compare the rows as multisets."""
    exp, act = canonical_rows(expected, kinds), canonical_rows(got, kinds)
    if ordered:
        exp, act = sorted(exp), sorted(act)
    if len(exp) != len(act):
        return False
    for want, have in zip(exp, act, strict=True):
        if len(want) != len(have) or len(want) != len(kinds):
            if want != have:
                return False
            continue
        if not all(cells_equal(w, h, k) for w, h, k in zip(want, have, kinds, strict=True)):
            return False
    return True


def has_order_by(sql: str) -> bool:
    return re.search(r"\border\s+by\b", sql, re.IGNORECASE) is not None


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------
@dataclass
class CheckResult:
    family: str
    file: str
    line: int
    tag: str
    kind: str
    status: str
    sql: str
    expected: list[str] | str | None = None
    got: list[str] | None = None
    error: str | None = None


@dataclass
class FamilyStats:
    checks: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    suites: int = 0
    setup_ok: int = 0
    setup_error: int = 0
    setup_skipped: int = 0

    @property
    def rate(self) -> float | None:
        ran = self.passed + self.failed + self.errors
        return self.passed / ran if ran else None

    def add(self, status: str) -> None:
        self.checks += 1
        if status == PASS:
            self.passed += 1
        elif status == FAIL:
            self.failed += 1
        elif status == ERROR:
            self.errors += 1
        else:
            self.skipped += 1


class Session:
    """One pymysql connection for one suite, reconnected after a timeout or a dropped link."""

    def __init__(self, server: DorisbkServer, database: str, timeout: float) -> None:
        self.server, self.database, self.timeout = server, database, timeout
        self.conn: pymysql.connections.Connection | None = None

    def connect(self) -> pymysql.connections.Connection:
        if self.conn is None:
            self.conn = self.server.connect(
                database=self.database, read_timeout=self.timeout, write_timeout=self.timeout, conv={}
            )
            with self.conn.cursor() as cur:  # the zone Doris's regression clusters run in
                cur.execute(f"SET time_zone = '{SUITE_TIME_ZONE}'")
        return self.conn

    def run(self, sql: str) -> tuple[list[list[str]], list[str]]:
        """Rows as text cells and the column kinds; raises on a server error."""
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                kinds = [column_kind(d[1]) for d in cur.description or ()]
                rows = [[render_cell(v) for v in row] for row in cur.fetchall()]
                return rows, kinds
        except (pymysql.err.OperationalError, pymysql.err.InterfaceError) as exc:
            if _connection_lost(exc):
                self.close()
            raise

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None


def _connection_lost(exc: Exception) -> bool:
    code = exc.args[0] if exc.args else 0
    return isinstance(exc, pymysql.err.InterfaceError) or code in (0, 2006, 2013, 2014)


def error_text(exc: Exception) -> str:
    if isinstance(exc, pymysql.err.MySQLError) and len(exc.args) >= 2:
        return f"({exc.args[0]}) {exc.args[1]}"
    return f"{type(exc).__name__}: {exc}"


def _first_load(path: Path) -> tuple[bool, str]:
    """Doris's framework runs a directory's load.groovy (its shared tables) before the other suites."""
    return path.name != "load.groovy", path.name


def discover(doris_dir: Path, families: Sequence[str]) -> list[Suite]:
    """The families' suites, after ``query_p0/load.groovy`` where the copy has it (it makes the
    ``test_query_db`` tables suites of every family read): that one counts in no family."""
    suites = []
    shared = doris_dir / PRELOAD
    if shared.is_file():
        suites.append(Suite("", shared, shared.with_suffix(".out"), parse_suite(shared.read_text(encoding="utf-8"))))
    for family in families:
        for sub in FAMILIES[family]:
            folder = doris_dir / SUITES_ROOT / sub
            for path in sorted(folder.glob("*.groovy"), key=_first_load):
                out = doris_dir / DATA_ROOT / sub / (path.stem + ".out")
                suites.append(Suite(family, path, out, parse_suite(path.read_text(encoding="utf-8"))))
    return suites


class Runner:
    def __init__(self, server: DorisbkServer, doris_dir: Path, timeout: float, deadline: float) -> None:
        self.server, self.doris_dir, self.timeout, self.deadline = server, doris_dir, timeout, deadline
        self.results: list[CheckResult] = []
        self.setup_errors: list[CheckResult] = []
        self.stats: dict[str, FamilyStats] = {}

    def run_suite(self, suite: Suite) -> None:
        doris_dir = self.doris_dir
        stats = self.stats.setdefault(suite.family, FamilyStats())
        stats.suites += 1
        expected = parse_out(suite.out_path.read_text(encoding="utf-8")) if suite.out_path.exists() else {}
        # as Doris's framework names it: one database per directory of suites, shared by its suites
        folder = suite.path.parent.relative_to(doris_dir / "regression-test" / "suites")
        database = "regression_test_" + re.sub(r"[^0-9a-zA-Z_]", "_", str(folder))
        rel = str(suite.path.relative_to(doris_dir))
        self.ensure_server()
        try:
            with self.server.connect() as admin, admin.cursor() as cur:
                cur.execute(f"CREATE DATABASE IF NOT EXISTS `{database}`")
        except pymysql.err.MySQLError as exc:
            print(f"  could not create database {database}: {error_text(exc)}", file=sys.stderr)
        session = Session(self.server, database, self.timeout)
        seen: Counter[str] = Counter()
        try:
            for step in suite.steps:
                result = self.run_step(step, suite, rel, expected, seen, session, stats)
                if result is not None:
                    stats.add(result.status)
                    self.results.append(result)
        finally:
            session.close()

    def ensure_server(self) -> None:
        """Start the server again if a statement brought it down (its data dir is kept)."""
        proc = self.server.proc
        if proc is None or proc.poll() is not None:
            print("  dorisbk is down; starting it again", file=sys.stderr)
            self.server.proc = None
            self.server.start()

    def run_step(
        self,
        step: Step,
        suite: Suite,
        rel: str,
        expected: dict[str, list[list[list[str]]]],
        seen: Counter[str],
        session: Session,
        stats: FamilyStats,
    ) -> CheckResult | None:
        base = {"family": suite.family, "file": rel, "line": step.line, "tag": step.tag, "sql": step.sql}
        if step.kind == "skip":
            if step.tag:
                seen[step.tag] += 1
            if not step.is_check:
                stats.setup_skipped += 1
                return None
            return CheckResult(kind="query" if step.tag else "exception", status=SKIP, error=step.reason, **base)
        if time.monotonic() > self.deadline:
            if step.kind == "sql":
                stats.setup_skipped += 1
                return None
            return CheckResult(kind=step.kind, status=SKIP, error="run deadline reached", **base)
        if step.kind == "sql":
            try:
                session.run(step.sql)
                stats.setup_ok += 1
            except Exception as exc:
                stats.setup_error += 1
                self.setup_errors.append(CheckResult(kind="setup", status=ERROR, error=error_text(exc), **base))
            return None
        if step.kind == "load" and step.load is not None:
            try:
                stream_load(step.load, suite, self.doris_dir, session)
                stats.setup_ok += 1
            except Exception as exc:
                stats.setup_error += 1
                self.setup_errors.append(CheckResult(kind="setup", status=ERROR, error=error_text(exc), **base))
            return None
        if step.kind == "exception":
            return self.exception_check(step, session, base)
        return self.query_check(step, session, expected, seen, base)

    def query_check(
        self,
        step: Step,
        session: Session,
        expected: dict[str, list[list[list[str]]]],
        seen: Counter[str],
        base: dict[str, Any],
    ) -> CheckResult:
        occurrence = seen[step.tag]
        seen[step.tag] += 1
        sections = expected.get(step.tag, [])
        want = sections[occurrence] if occurrence < len(sections) else None
        try:
            got, kinds = session.run(step.sql)
        except Exception as exc:
            status = ERROR if want is not None else SKIP
            return CheckResult(kind="query", status=status, error=error_text(exc), expected=_lines(want), **base)
        if want is None:
            return CheckResult(
                kind="query", status=SKIP, error="no expected section for this tag", got=_lines(got), **base
            )
        # Doris returns rows in storage order when the statement has no ORDER BY; that order is no
        # part of the function under test, so such rows are compared as a multiset too.
        unordered = step.ordered or not has_order_by(step.sql)
        status = PASS if rows_equal(want, got, kinds, unordered) else FAIL
        return CheckResult(kind="query", status=status, expected=_lines(want), got=_lines(got), **base)

    def exception_check(self, step: Step, session: Session, base: dict[str, Any]) -> CheckResult:
        try:
            got, _ = session.run(step.sql)
        except Exception as exc:
            message = error_text(exc)
            ok = step.expect_error.lower() in message.lower()
            return CheckResult(
                kind="exception",
                status=PASS if ok else FAIL,
                expected=f"error containing: {step.expect_error}",
                error=None if ok else f"different error: {message}",
                **base,
            )
        return CheckResult(
            kind="exception",
            status=FAIL,
            expected=f"error containing: {step.expect_error}",
            got=_lines(got),
            error="no error raised",
            **base,
        )


LOAD_BATCH = 500  # rows per INSERT of a stream load


def stream_load(load: StreamLoad, suite: Suite, doris_dir: Path, session: Session) -> None:
    """A stream load as INSERTs of its file's rows, each value a string literal that the column converts
    (``\\N`` is NULL); with strict inserts off, as a stream load without strict mode turns a value the
    column can not hold into NULL. The file must lie beside the suite's data, under the copy's root."""
    suites = doris_dir / "regression-test" / "suites"
    data = doris_dir / "regression-test" / "data" / suite.path.parent.relative_to(suites)
    path = (data / load.file).resolve()
    if not path.is_relative_to(doris_dir.resolve()) or not path.is_file():
        raise FileNotFoundError(f"stream load file {load.file} is not in the copy of Doris's files")
    rows = [line.split(load.separator) for line in path.read_text(encoding="utf-8").splitlines() if line]
    target = f"`{load.db}`.`{load.table}`" if load.db else f"`{load.table}`"
    rows_was, _kinds = session.run("SELECT @@enable_insert_strict")
    was = rows_was[0][0]
    session.run("SET enable_insert_strict = false")
    try:
        for start in range(0, len(rows), LOAD_BATCH):
            values = ", ".join(
                "(" + ", ".join("NULL" if c == NULL_CELL else _sql_string(c) for c in row) + ")"
                for row in rows[start : start + LOAD_BATCH]
            )
            session.run(f"INSERT INTO {target} VALUES {values}")
    finally:  # the session's own setting back, as the suite left it
        session.run(f"SET enable_insert_strict = {was}")


def _sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _lines(rows: list[list[str]] | None) -> list[str] | None:
    return None if rows is None else ["\t".join(row) for row in rows]


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------
_LITERALS = [
    (re.compile(r"'(?:[^'\\]|\\.)*'"), "'?'"),
    (re.compile(r'"(?:[^"\\]|\\.)*"'), '"?"'),
    (re.compile(r"`[^`]*`"), "`?`"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "N"),
    (re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?!\w)"), "N"),
    (re.compile(r"\s+"), " "),
]
_NOT_FUNCTIONS = {
    "select", "from", "where", "and", "or", "not", "in", "values", "as", "on", "using", "exists", "if", "into",
    "table", "over", "by", "interval", "when", "then", "else", "case", "join", "union", "all", "with", "set",
    "decimal", "decimalv3", "decimalv2", "datetime", "datetimev2", "datev2", "varchar", "char", "int",
    "bigint", "tinyint", "smallint", "largeint", "float", "double", "string", "boolean", "text", "key", "hash",
    "properties", "buckets", "distributed", "jsonb", "variant",
    "insert", "create", "duplicate", "unique", "aggregate", "partition", "range", "list", "less", "than", "limit",
    "group", "order", "having", "ipv4", "ipv6", "time", "bitmap", "hll", "set_var", "count_distinct",
}  # fmt: skip


def error_pattern(message: str) -> str:
    for regex, repl in _LITERALS:
        message = regex.sub(repl, message)
    return message.strip()[:160]


def functions_in(sql: str) -> set[str]:
    names = set(re.findall(r"\b([a-z_][a-z0-9_]*)\s*\(", sql.lower()))
    return {n for n in names if n not in _NOT_FUNCTIONS}


def family_table(stats: dict[str, FamilyStats], families: Sequence[str]) -> str:
    header = f"{'family':<22}{'suites':>7}{'checks':>8}{'pass':>7}{'fail':>7}{'error':>7}{'skip':>7}{'pass rate':>11}"
    header += "   setup ok/err/skip"
    lines = [header, "-" * len(header)]
    total = FamilyStats()
    for family in families:
        s = stats.get(family, FamilyStats())
        lines.append(_table_row(family, s))
        for name in ("checks", "passed", "failed", "errors", "skipped", "suites", "setup_ok", "setup_error"):
            setattr(total, name, getattr(total, name) + getattr(s, name))
        total.setup_skipped += s.setup_skipped
    lines.append("-" * len(header))
    lines.append(_table_row("total", total))
    return "\n".join(lines)


def _table_row(name: str, s: FamilyStats) -> str:
    rate = "n/a" if s.rate is None else f"{100 * s.rate:.1f}%"
    return (
        f"{name:<22}{s.suites:>7}{s.checks:>8}{s.passed:>7}{s.failed:>7}{s.errors:>7}{s.skipped:>7}{rate:>11}"
        f"   {s.setup_ok}/{s.setup_error}/{s.setup_skipped}"
    )


@dataclass
class ErrorGroup:
    pattern: str
    count: int
    example: str
    quoted: list[tuple[str, int]]  # the names quoted in the messages (functions, tables, types)


_CASCADE = re.compile(r"does not exist in database|doesn't exist|Unknown database", re.IGNORECASE)
_QUOTED_NAME = re.compile(r"['`\[]([A-Za-z_][\w.]*)['`\]]")


def group_errors(results: Sequence[CheckResult], limit: int = 25) -> list[ErrorGroup]:
    counts: Counter[str] = Counter()
    example: dict[str, str] = {}
    names: dict[str, Counter[str]] = {}
    for r in results:
        if r.status == ERROR and r.error:
            key = error_pattern(r.error)
            counts[key] += 1
            example.setdefault(key, _one_line(r.sql))
            names.setdefault(key, Counter()).update(_QUOTED_NAME.findall(r.error))
    return [ErrorGroup(k, n, example[k], names[k].most_common(8)) for k, n in counts.most_common(limit)]


def top_functions(results: Sequence[CheckResult], limit: int = 25) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for r in results:
        if r.status in (FAIL, ERROR):
            counts.update(functions_in(r.sql))
    return counts.most_common(limit)


def skip_reasons(results: Sequence[CheckResult], limit: int = 10) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter(
        re.sub(r"\$\{[^}]*\}|\$\w+", "${…}", r.error or "") for r in results if r.status == SKIP
    )
    return counts.most_common(limit)


def report(runner: Runner, families: Sequence[str], elapsed: float) -> str:
    parts = ["Doris SQL function suites on dorisbk", "", family_table(runner.stats, families), ""]
    parts.append("pass rate = pass / (pass + fail + error); setup = plain `sql` statements (ok/error/skipped)")
    parts.append(f"elapsed {elapsed:.1f}s")
    parts += ["", "Top error messages of checks (literals stripped; quoted names in brackets):"]
    parts += _error_lines(group_errors(runner.results))
    parts += ["", "Top errors of setup statements, not counting 'table does not exist' after a failed CREATE:"]
    parts += _error_lines(group_errors([r for r in runner.setup_errors if not _CASCADE.search(r.error or "")], 12))
    parts += ["", "Functions in failing / erroring checks:"]
    parts.append("  " + ", ".join(f"{name} {n}" for name, n in top_functions(runner.results)))
    parts += ["", "Skip reasons:"]
    for reason, n in skip_reasons(runner.results):
        parts.append(f"  {n:>5}  {reason}")
    return "\n".join(parts)


def _error_lines(groups: Sequence[ErrorGroup]) -> list[str]:
    lines = []
    for g in groups:
        lines.append(f"  {g.count:>5}  {g.pattern}")
        if g.quoted:
            lines.append("         [" + ", ".join(f"{name} {n}" for name, n in g.quoted) + "]")
        lines.append(f"         e.g. {g.example[:150]}")
    return lines


def _one_line(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def write_json(path: Path, runner: Runner, families: Sequence[str], elapsed: float) -> None:
    data = {
        "summary": {
            f: {**asdict(runner.stats.get(f, FamilyStats())), "pass_rate": runner.stats.get(f, FamilyStats()).rate}
            for f in families
        },
        "elapsed_seconds": round(elapsed, 1),
        "top_errors": [asdict(g) for g in group_errors(runner.results)],
        "setup_errors": [asdict(r) for r in runner.setup_errors],
        "top_functions": dict(top_functions(runner.results)),
        "non_passing": [asdict(r) for r in runner.results if r.status != PASS],
    }
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--doris-dir", type=Path, default=DEFAULT_DORIS_DIR, help="root of the Doris files (default %(default)s)"
    )
    p.add_argument(
        "--family", action="append", choices=sorted(FAMILIES), help="family to run (repeatable; default all)"
    )
    p.add_argument("--suite", action="append", default=[], help="only suites whose file name contains this")
    p.add_argument("--json", type=Path, help="write every non-passing check here")
    p.add_argument("--stmt-timeout", type=float, default=30.0, help="seconds per statement (pymysql read timeout)")
    p.add_argument("--max-seconds", type=float, default=1800.0, help="bound of the whole run; later checks are SKIP")
    p.add_argument("--work-dir", type=Path, help="where the server's data dir goes (default: a temp dir)")
    return p.parse_args(argv)


def selected_suites(args: argparse.Namespace, families: Sequence[str]) -> Iterator[Suite]:
    for suite in discover(args.doris_dir, families):
        shared = not suite.family or suite.path.name == "load.groovy"  # tables the chosen suites read
        if not args.suite or shared or any(s in suite.path.name for s in args.suite):
            yield suite


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    families = args.family or list(FAMILIES)
    if not (args.doris_dir / SUITES_ROOT).is_dir():
        print(f"no Doris suites under {args.doris_dir / SUITES_ROOT}; see bench/README.md", file=sys.stderr)
        return 2
    suites = list(selected_suites(args, families))
    start = time.monotonic()
    with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
        server = DorisbkServer(Path(tmp) / "data").start()
        runner = Runner(server, args.doris_dir, args.stmt_timeout, start + args.max_seconds)
        try:
            for index, suite in enumerate(suites):
                print(f"[{index + 1}/{len(suites)}] {suite.family}/{suite.path.name}", file=sys.stderr, flush=True)
                runner.run_suite(suite)
        finally:
            server.stop()
    elapsed = time.monotonic() - start
    print(report(runner, families, elapsed))
    if args.json:
        write_json(args.json, runner, families, elapsed)
        print(f"\nnon-passing checks written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
