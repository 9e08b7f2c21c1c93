"""User-variable assignments inside a query (``@v := expr``), turned into plain expressions.

MySQL evaluates a SELECT's items left to right for each row, so an item may assign ``@v`` and a
later item of the same row read it. MariaDB ODBC's SQLColumns / SQLSpecialColumns rely on this::

    CASE DATA_TYPE WHEN 'bit' THEN @dt := IF(...) ... ELSE @dt := (-4) END AS DATA_TYPE,
    ... CAST(CASE @dt WHEN (-7) THEN 1 ... END AS SIGNED) AS BUFFER_LENGTH

:func:`inline` rewrites such a query so that no assignment is left: an assignment stands for the
value it assigns, and a read of ``@v`` for what ``@v`` holds at that point of the row, as an
expression (a ``CASE`` or ``IF`` whose branches assign gives a ``CASE`` / ``IF`` of the values each
branch leaves). A read before any assignment in the row is ``initial(name)``: the value the
connection holds. Subqueries are their own scope. Conditions are taken as evaluated in order
(MySQL stops at the first true ``WHEN``; an assignment inside a ``WHEN`` condition is rare enough
not to be modelled).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

State = dict[str, exp.Expression]


def has_variables(tree: exp.Expression) -> bool:
    """Whether ``tree`` reads or assigns a user variable."""
    return any(isinstance(node, exp.Parameter) for node in tree.walk())


def inline(tree: exp.Expression, initial: Callable[[str], exp.Expression]) -> tuple[exp.Expression, State]:
    """``tree`` without user variables, and what each variable the top-level SELECT assigns holds after
    its last item (as an expression of the row). ``initial(name)`` is the value a variable holds
    before the row assigns it (a literal)."""
    if not has_variables(tree):
        return tree, {}
    inliner = _Inliner(initial)
    return inliner.query(tree)


def _key(node: exp.Parameter) -> str:
    return node.name.lower()


class _Inliner:
    def __init__(self, initial: Callable[[str], exp.Expression]) -> None:
        self.initial = initial

    def held(self, state: State, name: str) -> exp.Expression:
        value = state.get(name)
        return value.copy() if value is not None else self.initial(name)

    def query(self, tree: exp.Expression) -> tuple[exp.Expression, State]:
        """A query (or a statement) as its own scope: a SELECT's items share one row's state, every
        other part reads the variables' initial values."""
        tree = tree.copy()
        final: State = {}
        if isinstance(tree, exp.Select):
            items = []
            for item in tree.expressions:
                items.append(self.value(item, final))
            tree.set("expressions", items)
        for key, child in list(tree.args.items()):
            if key == "expressions" and isinstance(tree, exp.Select):
                continue
            tree.set(key, self._rewrite_arg(child, None))
        return tree, final

    def _rewrite_arg(self, child: object, state: State | None) -> object:
        """One argument of a node: expressions rewritten, each in ``state`` (a fresh one when None)."""
        if isinstance(child, exp.Expression):
            return self.value(child, {} if state is None else state)
        if isinstance(child, list):
            return [self._rewrite_arg(item, state) for item in child]
        return child

    def value(self, node: exp.Expression, state: State) -> exp.Expression:
        """``node`` rewritten; ``state`` becomes what the variables hold after it is evaluated."""
        if not has_variables(node):
            return node
        if isinstance(node, exp.PropertyEQ) and isinstance(node.this, exp.Parameter):
            assigned = self.value(node.expression, state)
            state[_key(node.this)] = assigned
            return assigned.copy()
        if isinstance(node, exp.Parameter):
            return self.held(state, _key(node))
        if isinstance(node, exp.Query):
            return self.query(node)[0]
        if isinstance(node, exp.Case):
            return self._case(node, state)
        if isinstance(node, exp.If) and not isinstance(node.parent, exp.Case):
            return self._if(node, state)
        for key, child in list(node.args.items()):
            node.set(key, self._rewrite_arg(child, state))
        return node

    def _branches(
        self, state: State, values: list[exp.Expression | None]
    ) -> tuple[list[exp.Expression | None], list[State]]:
        """Each branch's value, evaluated from ``state`` on its own, and the state it leaves."""
        out: list[exp.Expression | None] = []
        states: list[State] = []
        for value in values:
            branch = dict(state)
            out.append(None if value is None else self.value(value, branch))
            states.append(branch)
        return out, states

    @staticmethod
    def _changed(state: State, states: list[State]) -> list[str]:
        names = {name for branch in states for name in branch}
        return sorted(name for name in names if any(branch.get(name) is not state.get(name) for branch in states))

    def _case(self, node: exp.Case, state: State) -> exp.Expression:
        subject = self.value(node.this, state) if node.this is not None else None
        ifs = node.args.get("ifs") or []
        conditions = [self.value(branch.this, state) for branch in ifs]
        default = node.args.get("default")
        values, states = self._branches(state, [branch.args.get("true") for branch in ifs] + [default])

        def case(picked: list[exp.Expression | None]) -> exp.Case:
            return exp.Case(
                this=None if subject is None else subject.copy(),
                ifs=[exp.If(this=c.copy(), true=v) for c, v in zip(conditions, picked[:-1], strict=True)],
                default=picked[-1],
            )

        for name in self._changed(state, states):
            state[name] = case([self.held(branch, name) for branch in states])
        return case(values)

    def _if(self, node: exp.If, state: State) -> exp.Expression:
        condition = self.value(node.this, state)
        values, states = self._branches(state, [node.args.get("true"), node.args.get("false")])
        for name in self._changed(state, states):
            state[name] = exp.If(
                this=condition.copy(), true=self.held(states[0], name), false=self.held(states[1], name)
            )
        return exp.If(this=condition, true=values[0], false=values[1])
