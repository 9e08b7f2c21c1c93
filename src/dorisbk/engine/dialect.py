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
- ``INTERVAL '1 xx' DAY_HOUR``: the whole string before a compound unit is the interval's value;
- ``EXPLAIN [plan type] [level] [PROCESS] query``: an ``exp.Describe`` whose ``style`` holds the words;
- every function the engine's catalog lowers (``dorisbk.engine.functions``): a plain call by its name.

A ``--comment`` needs no space after the dashes in Doris; sqlglot's Doris tokenizer already reads it so.

:func:`lex` gives the same tokens, with their places in the text, to code that reads a statement
without parsing it (where a CTAS query or a view's trailing PROPERTIES start, which values to mask
in logs, where the ``?`` placeholders of a prepared statement are): no SQL text is searched with
regular expressions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.doris import Doris
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from dorisbk.engine.functions import CALLS
from dorisbk.engine.functions.catalog import GROUP_CONCAT_SEPARATOR

# EXPLAIN's words before the query, in the order Doris takes them (each group at most once).
_EXPLAIN_WORDS = (
    {"PARSED", "ANALYZED", "REWRITTEN", "LOGICAL", "OPTIMIZED", "PHYSICAL", "SHAPE", "MEMO", "DISTRIBUTED", "ALL"},
    {"VERBOSE", "TREE", "GRAPH", "PLAN", "DUMP"},
    {"PROCESS"},
)


# Doris's compound interval units (INTERVAL '1 2:03:04' DAY_SECOND)
_COMPOUND = {"DAY_SECOND", "DAY_HOUR", "MINUTE_SECOND", "SECOND_MICROSECOND"}

# calls with a syntax of their own, parsed as sqlglot parses them (SUBSTRING(s FROM 2 FOR 3), CHAR(n USING utf8))
_SYNTAX = {"SUBSTRING", "SUBSTR", "POSITION", "TRIM", "EXTRACT", "CAST", "CONVERT", "TRY_CAST", "CHAR"}


class DorisBK(Doris):
    """Registered with sqlglot as ``dorisbk`` (``read="dorisbk"`` or ``read=DorisBK``)."""

    INDEX_OFFSET = 1  # Doris's arrays count from 1: [10, 20][1] is 10

    class Tokenizer(Doris.Tokenizer):
        KEYWORDS = {
            **Doris.Tokenizer.KEYWORDS,
            "LARGEINT": TokenType.INT128,
            # Doris's versioned type names, as CAST takes them
            "DECIMALV2": TokenType.DECIMAL,
            "DECIMALV3": TokenType.DECIMAL,
            "DATEV2": TokenType.DATE,
            "DATETIMEV2": TokenType.DATETIME,
        }

    class Parser(Doris.Parser):
        # Doris's functions that dorisbk's engine lowers itself stay plain calls under the name the user wrote
        FUNCTIONS = {name: build for name, build in Doris.Parser.FUNCTIONS.items() if name.lower() not in CALLS}
        FUNCTION_PARSERS = {
            **{n: p for n, p in Doris.Parser.FUNCTION_PARSERS.items() if n.lower() not in CALLS or n in _SYNTAX},
            "GROUP_CONCAT": lambda self: self._parse_group_concat(),
            # MID(s FROM p FOR n) as SUBSTRING's syntax
            "MID": Doris.Parser.FUNCTION_PARSERS["SUBSTRING"],
        }

        def _parse_interval_span(self, this: exp.Expression, parse_function_unit: bool = True) -> exp.Interval:
            """``INTERVAL '1 xx' DAY_HOUR``: before a compound unit the whole string is the value, even one
            sqlglot would read as an amount and a unit of its own."""
            if this is not None and this.is_string and self._curr is not None and self._curr.text.upper() in _COMPOUND:
                unit = self._parse_var(any_token=True, upper=True)
                return self.expression(exp.Interval(this=this, unit=unit))
            return super()._parse_interval_span(this, parse_function_unit)

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

        def _parse_escape(self, this: exp.Expr | None) -> exp.Expr | None:
            """``LIKE ... ESCAPE x`` with any primary as x: lowering tells Doris's error for one that is no
            string literal."""
            if not self._match(TokenType.ESCAPE):
                return this
            return self.expression(exp.Escape(this=this, expression=self._parse_primary()))

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
            """Doris's GROUP_CONCAT: the separator is the second argument or follows SEPARATOR; without one,
            Doris joins with ', ' (MySQL with ',')."""
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
            if separator is None:
                separator = exp.Literal.string(GROUP_CONCAT_SEPARATOR)
            return self.expression(exp.GroupConcat(this=this, separator=separator))

        def _parse_set_item_assignment(self, kind: str | None = None) -> exp.Expr | None:
            """A SET item: where it starts, so that its target is not read as an assignment."""
            self._set_item_start = self._index
            try:
                return super()._parse_set_item_assignment(kind)
            finally:
                self._set_item_start = -1

        def _parse_parameter(self) -> exp.Expr:
            """A user variable ``@v``, or its assignment ``@v := expr`` anywhere an expression may stand
            (``CASE ... THEN @dt := 5``, ``IF(c, @v := 1, 0)``), as MySQL reads it: the value assigned
            reaches as far right as an expression does."""
            at = self._index - 1  # the ``@``
            parameter = super()._parse_parameter()
            if at == getattr(self, "_set_item_start", -1) or not self._match(TokenType.COLON_EQ):
                return parameter  # ``SET @v := expr`` is SET's own assignment
            value = self._parse_assignment()
            if value is None:
                self.raise_error("Expected an expression after :=")
            return self.expression(exp.PropertyEQ(this=parameter, expression=value))

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


# ---------------------------------------------------------------------- reading text by its tokens

# Tokens whose text is quoted: a string literal or a back-quoted name, never a keyword.
QUOTED_TOKENS = frozenset(
    {
        TokenType.STRING,
        TokenType.NATIONAL_STRING,
        TokenType.IDENTIFIER,
        TokenType.RAW_STRING,
        TokenType.BYTE_STRING,
        TokenType.HEX_STRING,
        TokenType.BIT_STRING,
        TokenType.HEREDOC_STRING,
        TokenType.UNICODE_STRING,
    }
)


class _Lexer(DorisBK.Tokenizer):
    """DorisBK's tokenizer for reading text: no statement is swallowed whole as a command (``REPLACE``,
    ``CALL``: their tokens are wanted too), every ``?`` is a token of its own, and ``X'..'`` / ``0x..``
    / ``b'..'`` are not checked as numbers (an ``X`` and a string here; a bad one is the parser's error
    to report)."""

    COMMANDS: set[TokenType] = set()  # noqa: RUF012 - sqlglot's class-level setting
    KEYWORDS = {word: kind for word, kind in DorisBK.Tokenizer.KEYWORDS.items() if "?" not in word}
    HEX_STRINGS: list[str | tuple[str, str]] = []  # noqa: RUF012
    BIT_STRINGS: list[str | tuple[str, str]] = []  # noqa: RUF012


@dataclass(frozen=True)
class Lexed:
    """A text's tokens; each knows its place (``start`` and ``end``, inclusive, index the text).

    ``end`` is where the tokens stop: the length of the text, or where a string, a quoted name or
    a ``/*`` comment that is never closed begins (it runs to the end of the text)."""

    text: str
    tokens: list[Token]
    end: int

    @property
    def complete(self) -> bool:
        """Whether every quote and comment of the text is closed."""
        return self.end == len(self.text)


def lex(text: str) -> Lexed:
    """``text`` split into DorisBK's tokens: strings, quoted names and comments are read as the
    parser reads them, so nothing inside them is ever taken for a word, a ``?`` or a parenthesis."""
    tokenizer = _Lexer()
    try:
        return Lexed(text, tokenizer.tokenize(text), len(text))
    except TokenError:
        tokens = list(tokenizer.tokens)
        last = tokens[-1].end + 1 if tokens else 0
        # the tokenizer failed on the token it began at _start: an unterminated quote or comment
        begun = getattr(tokenizer._core, "_start", last)  # noqa: SLF001 - no public accessor
        return Lexed(text, tokens, max(last, min(begun, len(text))))


def is_word(token: Token, *words: str) -> bool:
    """Whether ``token`` is one of ``words`` written bare (case-insensitive), not a string or quoted name."""
    return token.token_type not in QUOTED_TOKENS and token.text.upper() in words


def statement_span(lexed: Lexed) -> tuple[int, int]:
    """Where the statement of ``lexed`` starts and ends in its text (end exclusive): from its first
    token to its last one, leaving out leading comments and trailing ``;`` and comments. An
    unterminated quote at the end stays in, to be reported by the parser."""
    tokens = lexed.tokens
    last = len(tokens)
    while last and tokens[last - 1].token_type == TokenType.SEMICOLON:
        last -= 1
    if not lexed.complete:
        start = tokens[0].start if tokens else lexed.end
        return start, len(lexed.text)
    if not last:
        return lexed.end, lexed.end
    return tokens[0].start, tokens[last - 1].end + 1
