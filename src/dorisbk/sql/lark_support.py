"""Loading our Lark grammars and turning Lark's errors into MySQL 1064 errors."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from dorisbk.errors import ParseError


def grammar_path(name: str) -> Path:
    """The grammar file in the installed wheel (dorisbk/grammar) or the source tree (grammar/)."""
    package_dir = Path(__file__).resolve().parent.parent
    for candidate in (package_dir / "grammar" / name, package_dir.parent.parent / "grammar" / name):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"grammar {name} not found next to {package_dir}")


@cache
def load_grammar(name: str) -> Lark:
    return Lark(
        grammar_path(name).read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=False,
        maybe_placeholders=False,
    )


def _pretty(expected: set[str], parser: Lark) -> str:
    names = []
    for term in sorted(expected):
        if term.startswith("$END"):
            names.append("end of statement")
            continue
        try:
            pattern = parser.get_terminal(term).pattern
        except KeyError:
            names.append(term)
            continue
        raw = pattern.value
        names.append(f"'{raw}'" if pattern.type == "str" and not raw.isalpha() else term)
    return ", ".join(dict.fromkeys(names))


def syntax_error(exc: UnexpectedInput, sql: str, parser: Lark) -> ParseError:
    """A 1064 error naming the line, column, the offending text and what was expected."""
    line, column = exc.line, exc.column
    if isinstance(exc, UnexpectedToken) and isinstance(exc.token, Token) and exc.token.type != "$END":
        near = str(exc.token)
        expected = _pretty(set(exc.expected), parser)
    elif isinstance(exc, UnexpectedCharacters):
        near = sql[exc.pos_in_stream : exc.pos_in_stream + 20]
        expected = _pretty(set(exc.allowed or ()), parser)
    else:
        near = ""
        expected = _pretty(set(getattr(exc, "expected", ()) or ()), parser)
        line, column = sql.count("\n") + 1, len(sql.rsplit("\n", 1)[-1]) + 1
    where = "at end of input" if isinstance(exc, UnexpectedEOF) or not near else f"near '{near[:40]}'"
    message = f"Syntax error in line {line}, column {column}: {where}"
    if expected:
        message += f", expected: {expected}"
    return ParseError(message)
