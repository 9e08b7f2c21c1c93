"""User variables (``@name``): a connection's own values, set by ``SET @v = expr`` or ``SELECT @v := expr``
and read back as literals, so that every statement reaching the engine holds values, not names."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from dorisbk.sql.assignments import inline

# MySQL's limit on a user variable's name
MAX_NAME = 64


@dataclass
class UserVariables:
    values: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def key(node: exp.Parameter) -> str:
        """Names compare without case, as MySQL's do."""
        name = node.name.lower()
        if not name or len(name) > MAX_NAME:
            raise ValueError(f"Incorrect user variable name '{node.name}'")
        return name

    def assign(self, node: exp.Parameter, value: Any) -> None:
        self.values[self.key(node)] = value

    def substitute(self, tree: exp.Expression) -> tuple[exp.Expression, list[tuple[int, str]]]:
        """``tree`` with its user variables turned into values (``sql.assignments.inline``): an assignment
        ``@v := expr`` anywhere stands for ``expr``, a read of ``@v`` for what v holds at that point of the
        row (a value an earlier item assigned, else the connection's, NULL when unset); and the top-level
        select items that assign one: (position, name), to be set from the result's last row."""
        parameters = list(tree.find_all(exp.Parameter))
        if not parameters:
            return tree, []
        for node in parameters:
            self.key(node)  # a bad name fails the statement before it runs
        assigned: list[tuple[int, str]] = []
        if isinstance(tree, exp.Select):
            for i, item in enumerate(tree.expressions):
                inner = item.this if isinstance(item, exp.Alias) else item
                if isinstance(inner, exp.PropertyEQ) and isinstance(inner.this, exp.Parameter):
                    assigned.append((i, self.key(inner.this)))
        tree, _ = inline(tree, lambda name: literal(self.values.get(name)))
        return tree, assigned


def literal(value: Any) -> exp.Expression:
    """A value as the SQL literal that reads back as it (dates and times as typed literals)."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Literal.number(int(value))
    if isinstance(value, (int, float, decimal.Decimal)):
        return exp.Literal.number(str(value))
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, bytes):
        return exp.Literal.string(value.decode("utf-8", "replace"))
    return exp.Literal.string(str(value))
