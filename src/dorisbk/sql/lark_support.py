"""What our two Lark grammars share: finding and loading them, SQL literals, and 1064 syntax errors.

A syntax error names the line, the column, the offending text and every token the grammar
would have accepted there, e.g. ``Syntax error at line 1, column 26 near 'FOO': expected one
of TO, '.'``.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

from lark import Lark, Token
from lark.exceptions import UnexpectedInput, UnexpectedToken
from lark.lexer import BasicLexer, PatternStr

from dorisbk.errors import ParseError


def grammar_path(name: str) -> Path:
    """Where a grammar is: ``dorisbk/grammar/`` in a wheel, ``<repo>/grammar/`` in the source tree."""
    here = Path(__file__).resolve().parent  # .../dorisbk/sql
    candidates = (here.parent / "grammar" / name, here.parents[2] / "grammar" / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    searched = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"grammar {name} not found; looked for {searched}")


class LoadedGrammar:
    """The parser, a plain lexer for leading-token checks, and how to name terminals in errors."""

    def __init__(self, name: str, maybe_placeholders: bool) -> None:
        self.parser = Lark(
            grammar_path(name).read_text(encoding="utf-8"),
            parser="lalr",
            lexer="contextual",
            maybe_placeholders=maybe_placeholders,
        )
        self.lexer = BasicLexer(self.parser.lexer_conf)
        ignored = set(self.parser.ignore_tokens)
        self.display: dict[str, str] = {"$END": "end of input"}
        for terminal in self.parser.terminals:
            if terminal.name in ignored:
                continue
            pattern = terminal.pattern
            if isinstance(pattern, PatternStr):
                word = pattern.value
                self.display[terminal.name] = word.upper() if word.replace("_", "").isalnum() else f"'{word}'"
            elif terminal.name == "STRING":
                self.display[terminal.name] = "string"
            elif terminal.name in ("INT", "SIGNED_NUMBER"):
                self.display[terminal.name] = "number"
            else:
                self.display[terminal.name] = "identifier"

    def parse(self, sql: str) -> object:
        """The parse tree; a syntax error raises ParseError (1064)."""
        try:
            return self.parser.parse(sql)
        except UnexpectedInput as err:
            raise syntax_error(sql, err, self) from None


_load_lock = threading.Lock()


@cache
def _load(name: str, maybe_placeholders: bool) -> LoadedGrammar:
    return LoadedGrammar(name, maybe_placeholders)


def load(name: str, maybe_placeholders: bool = False) -> LoadedGrammar:
    """A grammar, built once (building takes tens of milliseconds)."""
    with _load_lock:
        return _load(name, maybe_placeholders)


# ---- literals

# MySQL string escapes; \% and \_ keep their backslash so LIKE still sees it.
_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a", "%": "\\%", "_": "\\_"}


def unquote_string(raw: str) -> str:
    """The value of a SQL string literal in either quote style, escapes and doubled quotes resolved."""
    quote, body = raw[0], raw[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
        elif ch == quote and i + 1 < len(body) and body[i + 1] == quote:
            out.append(quote)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def unquote_name(token: Token | str) -> str:
    """An identifier as written, without back-quotes (doubled back-quotes resolved)."""
    text = str(token)
    if text.startswith("`"):
        return text[1:-1].replace("``", "`")
    return text


def quote_string(value: str) -> str:
    """``value`` as a single-quoted SQL string literal that ``unquote_string`` reads back unchanged."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def quote_name(name: str) -> str:
    """``name`` back-quoted, as ``unquote_name`` reads it back."""
    return "`" + name.replace("`", "``") + "`"


# ---- syntax errors


def _expected_at(loaded: LoadedGrammar, sql: str, pos: int | None) -> set[str] | None:
    """Terminals acceptable just before character ``pos`` (``None``: at the end of ``sql``).

    LALR may reduce on a bad lookahead before noticing it is bad, which leaves too narrow an
    expected set in the exception; replaying the tokens up to the error gives the state the
    parser was really in. Only run on errors.
    """
    interactive = loaded.parser.parse_interactive(sql)
    try:
        for token in interactive.iter_parse():  # yields each token before feeding it
            if pos is not None and token.start_pos is not None and token.start_pos >= pos:
                break
    except UnexpectedInput:
        pass  # the lexer stopped at the error; nothing of it was fed
    try:
        return set(interactive.accepts())
    except UnexpectedInput:  # pragma: no cover - defensive, the replay stops before the error
        return None


_LAST = ("identifier", "number", "string", "end of input")


def _expected_text(names: set[str], loaded: LoadedGrammar) -> str:
    """Keywords first, then punctuation, then identifier / number / string / end of input."""
    shown = {loaded.display[n] for n in names if n in loaded.display}

    def order(text: str) -> tuple[int, str]:
        if text in _LAST:
            return (2 + _LAST.index(text), "")
        return (1 if text.startswith("'") else 0, text)

    return ", ".join(sorted(shown, key=order)) or "nothing"


def syntax_error(sql: str, err: UnexpectedInput, loaded: LoadedGrammar) -> ParseError:
    if isinstance(err, UnexpectedToken) and err.token.type == "$END":
        token = err.token
        line = token.end_line or token.line or 1
        column = token.end_column or token.column or 1
        near, pos = "end of input", None
    elif isinstance(err, UnexpectedToken):
        line, column = err.token.line or 1, err.token.column or 1
        near, pos = f"'{str(err.token)[:40]}'", err.token.start_pos
    else:
        line, column = err.line, err.column
        rest = sql[err.pos_in_stream :].split(None, 1)
        near, pos = f"'{rest[0][:30] if rest else ''}'", err.pos_in_stream
    expected = _expected_at(loaded, sql, pos)
    if expected is None:
        expected = set(getattr(err, "expected", None) or getattr(err, "allowed", None) or ())
    message = f"Syntax error at line {line}, column {column} near {near}: expected one of "
    return ParseError(message + _expected_text(expected, loaded))
