"""The WHERE of SHOW TABLES / COLUMNS / DATABASES, evaluated over the rows the statement shows.

Doris answers these statements by rewriting them into a SELECT over information_schema with the
WHERE kept as written, so any condition on the shown columns works there: DBeaver's navigator filters
send ``SHOW FULL TABLES FROM db WHERE Table_type = 'VIEW' OR Tables_in_db LIKE 'x%'`` and
``... WHERE NOT (Field LIKE 'a%')``. The condition is read by the sqlglot Doris dialect and
evaluated here with SQL's three-valued logic (a NULL compares as unknown, and only rows whose
condition is true are kept); values compare as text without case, as the SHOW ... LIKE of the same
statements does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlglot
from sqlglot import exp

from dorisbk.engine.dialect import DorisBK, lex, statement_span
from dorisbk.errors import DorisError, ParseError
from dorisbk.sql.result import like

_CONDITIONS = (exp.And, exp.Or, exp.Not, exp.Paren, exp.EQ, exp.NEQ, exp.Like, exp.In, exp.Is, exp.Boolean)


def parse_condition(text: str) -> exp.Expression:
    """The condition after WHERE (its trailing ``;`` and comments left out); a syntax error, or text that
    is not a condition, is a 1064."""
    lexed = lex(text)
    start, end = statement_span(lexed)
    body = text[start:end]
    try:
        condition = sqlglot.parse_one(body, read=DorisBK)
    except sqlglot.errors.SqlglotError:
        raise ParseError(f"Syntax error in WHERE near '{body[:40]}'") from None
    if not isinstance(condition, _CONDITIONS):
        raise ParseError(f"Syntax error in WHERE near '{body[:40]}'")
    return condition


def keep(names: Sequence[str], rows: list[tuple], condition: exp.Expression | None) -> list[tuple]:
    """The rows for which ``condition`` holds; columns are the result's, named in any case."""
    if condition is None:
        return rows
    positions = {name.lower(): i for i, name in enumerate(names)}
    return [row for row in rows if _value(condition, positions, row) is True]


def _value(node: exp.Expression, positions: dict[str, int], row: tuple) -> Any:
    """A node's value for one row: text, a number, True / False, or None for NULL / unknown."""
    if isinstance(node, exp.Paren):
        return _value(node.this, positions, row)
    if isinstance(node, exp.And):
        left, right = _value(node.this, positions, row), _value(node.expression, positions, row)
        return False if left is False or right is False else (None if left is None or right is None else True)
    if isinstance(node, exp.Or):
        left, right = _value(node.this, positions, row), _value(node.expression, positions, row)
        return True if left is True or right is True else (None if left is None or right is None else False)
    if isinstance(node, exp.Not):
        inner = _value(node.this, positions, row)
        return None if inner is None else not inner
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        return _value(node.this, positions, row) is None
    if isinstance(node, (exp.EQ, exp.NEQ)):
        left, right = _value(node.this, positions, row), _value(node.expression, positions, row)
        if left is None or right is None:
            return None
        return (_text(left) == _text(right)) == isinstance(node, exp.EQ)
    if isinstance(node, exp.Like):
        text, pattern = _value(node.this, positions, row), _value(node.expression, positions, row)
        if text is None or pattern is None:
            return None
        return like(str(pattern), str(text)) != bool(node.args.get("negate"))  # NOT LIKE
    if isinstance(node, exp.In):
        value = _value(node.this, positions, row)
        options = [_value(option, positions, row) for option in node.expressions]
        if value is None:
            return None
        if any(option is not None and _text(option) == _text(value) for option in options):
            return True
        return None if None in options else False
    if isinstance(node, exp.Column):
        position = positions.get(node.name.lower())
        if position is None:
            raise DorisError(f"Unknown column '{node.name}' in 'where clause'", code=1054)
        return row[position]
    if isinstance(node, exp.Literal):
        return node.this
    if isinstance(node, exp.Boolean):
        return node.this
    if isinstance(node, exp.Null):
        return None
    raise DorisError(f"Unsupported expression in the WHERE of a SHOW statement: {node.sql(dialect=DorisBK)}")


def _text(value: Any) -> str:
    return str(value).lower()
