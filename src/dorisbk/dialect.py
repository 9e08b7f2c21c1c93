"""Doris's SQL as dorisbk reads it: sqlglot's Doris dialect plus the forms it does not parse.

Every statement that is not for a Lark grammar is parsed here, once, from its tokens: a string
literal or a quoted name is one token, so no rewrite can reach inside it. The forms added:

- ``FROM t PARTITION p``, ``FROM t PARTITION (p1, p2)``, ``FROM t PARTITIONS (p1, p2)`` in SELECT
  and DELETE, and ``INSERT INTO t PARTITION (...)``: an ``exp.Partition`` of identifiers in the
  table's ``partition`` arg;
- ``INSERT ... [PARTITION (...)] WITH LABEL l [(columns)] ...``: the label's identifier in the
  INSERT's ``label`` arg;
- ``GROUP_CONCAT([DISTINCT] x [, sep] [ORDER BY ...] [SEPARATOR sep])``: an ``exp.GroupConcat``;
- ``CAST(x AS LARGEINT)``: the 128-bit integer type;
- ``EXPLAIN [plan type] [level] [PROCESS] query``: an ``exp.Describe`` whose ``style`` holds the words.

A ``--comment`` needs no space after the dashes in Doris; sqlglot's Doris tokenizer already reads it so.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.doris import Doris
from sqlglot.tokens import TokenType

# EXPLAIN's words before the query, in the order Doris takes them (each group at most once).
_EXPLAIN_WORDS = (
    {"PARSED", "ANALYZED", "REWRITTEN", "LOGICAL", "OPTIMIZED", "PHYSICAL", "SHAPE", "MEMO", "DISTRIBUTED", "ALL"},
    {"VERBOSE", "TREE", "GRAPH", "PLAN", "DUMP"},
    {"PROCESS"},
)


class DorisBK(Doris):
    """Registered with sqlglot as ``dorisbk`` (``read="dorisbk"`` or ``read=DorisBK``)."""

    class Tokenizer(Doris.Tokenizer):
        KEYWORDS = {**Doris.Tokenizer.KEYWORDS, "LARGEINT": TokenType.INT128}

    class Parser(Doris.Parser):
        FUNCTION_PARSERS = {**Doris.Parser.FUNCTION_PARSERS, "GROUP_CONCAT": lambda self: self._parse_group_concat()}

        def _parse_table_parts(
            self, schema: bool = False, is_db_reference: bool = False, wildcard: bool = False, fast: bool = False
        ) -> exp.Table | exp.Dot | None:
            """A table name and, right after it, the partitions Doris lets a statement name."""
            table = super()._parse_table_parts(schema, is_db_reference, wildcard, fast)
            if isinstance(table, exp.Table) and not is_db_reference:
                partition = self._parse_partition_names()
                if partition is not None:
                    table.set("partition", partition)
            return table

        def _parse_partition_names(self) -> exp.Partition | None:
            """``PARTITION p``, ``PARTITION (p, ...)`` or ``PARTITIONS (p, ...)``; None when none follows
            (``partitions`` without parentheses stays an alias)."""
            if self._match(TokenType.PARTITION):
                if not self._match(TokenType.L_PAREN):
                    return self.expression(exp.Partition(expressions=[self._parse_partition_name()]))
            elif self._next.token_type == TokenType.L_PAREN and self._match_text_seq("PARTITIONS"):
                self._match(TokenType.L_PAREN)
            else:
                return None
            names = [self._parse_partition_name()]
            while self._match(TokenType.COMMA):
                names.append(self._parse_partition_name())
            self._match_r_paren()
            return self.expression(exp.Partition(expressions=names))

        def _parse_partition_name(self) -> exp.Expr | None:
            """One partition name: a plain or backquoted identifier."""
            name = self._parse_id_var(any_token=False)
            if name is None:
                self.raise_error("Expected a partition name")
            return name

        def _parse_insert(self) -> exp.Insert | exp.MultitableInserts:
            """Doris's INSERT, with the label ``_parse_insert_table`` found moved onto the statement."""
            self._label: exp.Expr | None = None
            insert = super()._parse_insert()
            insert.set("label", self._label)
            return insert

        def _parse_insert_table(self) -> exp.Expr | None:
            """The target of a Doris INSERT: ``t [partitions] [WITH LABEL l] [(columns)]``."""
            table = self._parse_table_parts(schema=True)
            if self._match_text_seq("WITH", "LABEL"):
                self._label = self._parse_id_var(any_token=False)
                if self._label is None:
                    self.raise_error("Expected a label name after WITH LABEL")
            return self._parse_schema(this=table)

        def _parse_group_concat(self) -> exp.Expr | None:
            """Doris's GROUP_CONCAT: the separator is the second argument or follows SEPARATOR."""
            distinct = self._match(TokenType.DISTINCT)
            self._match(TokenType.ALL)
            this = self._parse_disjunction()
            if this is None:
                self.raise_error("Expected an expression in GROUP_CONCAT")
            if distinct:
                this = self.expression(exp.Distinct(expressions=[this]))
            separator = self._parse_disjunction() if self._match(TokenType.COMMA) else None
            this = self._parse_order(this=this)
            if self._match(TokenType.SEPARATOR):
                if separator is not None:
                    self.raise_error("GROUP_CONCAT takes one separator")
                separator = self._parse_disjunction()
                if separator is None:
                    self.raise_error("Expected a separator after SEPARATOR")
            return self.expression(exp.GroupConcat(this=this, separator=separator))

        def _parse_describe(self) -> exp.Describe:
            """``EXPLAIN [plan type] [level] [PROCESS] query``; DESCRIBE as sqlglot reads it."""
            if self._prev.text.upper() != "EXPLAIN":
                return super()._parse_describe()
            words = [self._prev.text.upper() for group in _EXPLAIN_WORDS if self._match_texts(group)]
            if self._index >= len(self._tokens):
                self.raise_error("Expected a query after EXPLAIN")
            describe = super()._parse_describe()
            if words:
                describe.set("style", " ".join(words))
            return describe

    class Generator(Doris.Generator):
        TYPE_MAPPING = {**Doris.Generator.TYPE_MAPPING, exp.DType.INT128: "LARGEINT"}
        TRANSFORMS = {k: v for k, v in Doris.Generator.TRANSFORMS.items() if k is not exp.GroupConcat}

        def groupconcat_sql(self, expression: exp.GroupConcat) -> str:
            """Doris's documented form: ``GROUP_CONCAT([DISTINCT] x[, sep] [ORDER BY ...])``."""
            this = expression.this
            order = ""
            if isinstance(this, exp.Order):
                order = self.sql(exp.Order(expressions=this.expressions))
                this = this.this
            separator = self.sql(expression, "separator")
            separator = f", {separator}" if separator else ""
            return f"GROUP_CONCAT({self.sql(this)}{separator}{order})"

        def table_sql(self, expression: exp.Table, sep: str = " AS ") -> str:
            """A table, and after the target of an INSERT its WITH LABEL."""
            sql = super().table_sql(expression, sep)
            target = expression.parent if isinstance(expression.parent, exp.Schema) else expression
            insert = target.parent
            if isinstance(insert, exp.Insert) and insert.this is target and insert.args.get("label"):
                sql = f"{sql} WITH LABEL {self.sql(insert, 'label')}"
            return sql
