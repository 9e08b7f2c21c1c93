"""Routes one statement to its parser and handler.

Order: ``help`` (the mysql CLI's help command), backup statements (backup.lark), catalog /
account / SHOW statements (ddl.lark), EXPLAIN, and everything else to the wire library's
sqlglot session (SET, @@variables, SHOW VARIABLES, USE) which hands SELECT and INSERT back
to ``execute_expression``. Which grammar a statement belongs to is decided from its first
words only.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from dorisbk.dialect import DorisBK
from dorisbk.env import Env
from dorisbk.errors import DorisError, ParseError
from dorisbk.jobs.repositories import is_secret
from dorisbk.sql import ddl_stmts as s
from dorisbk.sql.backup_parser import is_backup_statement, parse_backup
from dorisbk.sql.ddl_parser import parse_ddl
from dorisbk.sql.handlers import account, backup, catalog_ddl, ctas, materialized_view, recycle, show, show_admin
from dorisbk.sql.help import answer as help_answer
from dorisbk.sql.help import parse_help
from dorisbk.sql.result import Result, SessionContext

# First words that send a statement to ddl.lark (SHOW takes a second word to decide).
_DDL_FIRST = {
    *("CREATE", "DROP", "ALTER", "TRUNCATE", "GRANT", "REVOKE", "DESC", "DESCRIBE", "SYNC", "BUILD", "ANALYZE"),
    "RECOVER",  # RECOVER DATABASE / TABLE / PARTITION (the recycle bin)
}
_DDL_SHOW = {
    "DATABASES",
    "SCHEMAS",
    "TABLES",
    "FULL",
    "CREATE",
    "PARTITIONS",
    "TEMPORARY",
    "TABLET",
    "TABLETS",
    "BACKENDS",
    "FRONTENDS",
    "GRANTS",
    "ALL",
    "TABLE",
    "COLUMNS",
    "FIELDS",
    "INDEX",
    "INDEXES",
    "KEYS",
    "ENGINES",
    "STORAGE",
    "PROCESSLIST",
    "VIEW",
    "BUILD",
    "ALTER",
    "PROC",
    "DYNAMIC",
    # handlers/show_admin.py
    "DATA",
    "CATALOGS",
    "CATALOG",
    "DATABASE",
    "PARTITION",
    "ROLES",
    "PROPERTY",
    "TRANSACTION",
    "LOAD",
    "STREAM",
}


def leading_words(sql: str, count: int) -> list[str]:
    """The first ``count`` words of a statement, upper-cased, skipping comments and whitespace."""
    words: list[str] = []
    i, n = 0, len(sql)
    while i < n and len(words) < count:
        ch = sql[i]
        if ch.isspace():
            i += 1
        elif sql.startswith("--", i) or ch == "#":
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif ch.isalnum() or ch in "_@":
            start = i
            while i < n and (sql[i].isalnum() or sql[i] in "_$@"):
                i += 1
            words.append(sql[start:i].upper())
        else:
            words.append(ch)
            i += 1
    return words


_QUOTED = r"""(?>'(?:[^'\\]|\\.|'')*'?|"(?:[^"\\]|\\.|"")*"?)"""
# Scanned left to right, every quoted string, quoted name and comment is consumed whole (atomically:
# never cut short to fit a pattern), so a quote is never read as the start of a string inside another;
# an unterminated string runs to the end.
_SECRETS = re.compile(
    rf"""(?P<key>{_QUOTED})(?P<eq>\s*=\s*)(?P<value>{_QUOTED})"""  # "s3.secret_key" = "..."
    rf"""|(?P<lead>\bIDENTIFIED\s+BY\s+(?:PASSWORD\s+)?|\bPASSWORD\s*\(\s*)(?P<password>{_QUOTED})"""
    rf"""|{_QUOTED}|`[^`]*`?|--[^\n]*|\#[^\n]*|/\*.*?(?:\*/|\Z)""",
    re.IGNORECASE | re.DOTALL,
)


def _mask(match: re.Match[str]) -> str:
    if match["value"] is not None:
        key = match["key"][1:].removesuffix(match["key"][0])
        if not is_secret(key):
            return match[0]
        return match["key"] + match["eq"] + match["value"][0] + "*XXX" + match["value"][0]
    if match["password"] is not None:
        return match["lead"] + match["password"][0] + "*XXX" + match["password"][0]
    return match[0]


def redacted(sql: str) -> str:
    """A statement as others may see it (SHOW PROCESSLIST, logs): the values of secret properties
    (S3 / HDFS / broker keys, tokens, passwords) and passwords in clear text replaced by ``*XXX``,
    as Doris masks them."""
    return _SECRETS.sub(_mask, sql)


def log_text(sql: str) -> str:
    """What a log line shows of a statement: its first 200 characters, secrets masked."""
    return redacted(sql)[:200]


def _is_ddl(words: list[str]) -> bool:
    if not words:
        return False
    if words[0] in _DDL_FIRST:
        return True
    if words[0] == "SHOW" and len(words) > 1:
        return words[1] in _DDL_SHOW
    if words[0] == "SWITCH" or words == ["ADMIN", "SHOW", "REPLICA"]:
        return True
    return words[:2] == ["SET", "PASSWORD"]


class Router:
    """Executes statements for one Env; every handler runs in a worker thread."""

    def __init__(self, env: Env) -> None:
        self.env = env

    def handles(self, sql: str) -> bool:
        """Whether ``sql`` is for ``route`` (help, backup, Doris DDL and SHOW, EXPLAIN); the rest goes to
        the sqlglot session. Decided from the first words alone, so that it costs nothing on the event
        loop: SET, USE or KILL never wait for a worker thread."""
        words = leading_words(sql, 3)
        return words[:1] in (["HELP"], ["EXPLAIN"]) or is_backup_statement(sql) or _is_ddl(words)

    def route(self, ctx: SessionContext, sql: str) -> Result | None:
        """A statement ``handles`` accepts: its Result, or None for an OK packet."""
        mask = parse_help(sql)
        if mask is not None:
            columns, rows = help_answer(mask)
            return Result([(c, "VARCHAR") for c in columns], rows)
        if is_backup_statement(sql):
            stmt = parse_backup(sql)
            return backup.execute(self.env, ctx, stmt)
        words = leading_words(sql, 3)
        if words[:2] == ["CREATE", "TABLE"] and (parts := ctas.split(sql)) is not None:
            ctas.execute(self.env, ctx, *parts)
            return None
        if words[:1] == ["EXPLAIN"]:
            return self._explain(ctx, sql)
        return self.execute_ddl(ctx, parse_ddl(sql))

    def execute_ddl(self, ctx: SessionContext, stmt: object) -> Result | None:
        if isinstance(stmt, s.ShowStmt):
            return show.execute(self.env, ctx, stmt)
        if isinstance(stmt, s.SyncStmt):
            return None
        if isinstance(stmt, s.ShowMoreStmt):
            return show_admin.execute(self.env, ctx, stmt)
        if isinstance(stmt, (s.RecoverStmt, s.RecycleBinStmt)):
            return recycle.execute(self.env, ctx, stmt)
        if isinstance(stmt, materialized_view.STATEMENTS):
            materialized_view.execute(self.env, ctx, stmt)
            return None
        if isinstance(stmt, (s.CreateUserStmt, s.DropUserStmt, s.SetPasswordStmt, s.GrantStmt)):
            account.execute(self.env, ctx, stmt)
            return None
        catalog_ddl.execute(self.env, ctx, stmt)
        return None

    def _explain(self, ctx: SessionContext, sql: str) -> Result:
        """``EXPLAIN [plan type] [level] query``: the dialect reads it as a DESCRIBE of the query."""
        tree = parse_sql(sql)
        return self.env.engine.explain(ctx, tree.this if isinstance(tree, exp.Describe) else tree)

    def execute_expression(self, ctx: SessionContext, expression: exp.Expression) -> Result | None:
        """A statement parsed by sqlglot that the session did not answer itself."""
        engine = self.env.engine
        if isinstance(expression, exp.Insert):
            engine.insert(ctx, expression)
            return None
        if isinstance(expression, (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)):
            return engine.select(ctx, expression)
        if isinstance(expression, exp.Update):
            engine.update(ctx, expression)
            return None
        if isinstance(expression, exp.Delete):
            engine.delete(ctx, expression)
            return None
        if isinstance(expression, exp.Command):
            raise ParseError(f"Syntax error: unsupported statement '{expression.name}'")
        raise DorisError(f"Unsupported statement: {expression.key.upper()}", code=1235)


def parse_sql(sql: str) -> exp.Expression:
    """One Doris SQL statement through our dialect, with a clean 1064 on failure."""
    try:
        expressions = [e for e in sqlglot.parse(sql, read=DorisBK) if e is not None]
    except sqlglot.errors.ParseError as exc:
        raise clean_parse_error(exc) from None
    if len(expressions) != 1:
        raise ParseError("Syntax error: expected exactly one statement")
    return expressions[0]


_CLASS_REPR = re.compile(r"<class '(?:\w+\.)*(\w+)'>")
_TOKEN_REPR = re.compile(r"<Token token_type: [\w.]+, text: (.*?), line: \d+, col: \d+,[^>]*>")


def clean_parse_error(exc: sqlglot.errors.ParseError) -> ParseError:
    """sqlglot's error without its ANSI underline escapes, with line and column."""
    errors = exc.errors or [{}]
    first = errors[0]
    desc = str(first.get("description") or exc).split("\n", 1)[0]
    desc = _TOKEN_REPR.sub(lambda m: f"'{m.group(1)}'", desc)  # no Python reprs to the client
    desc = _CLASS_REPR.sub(lambda m: m.group(1).upper(), desc)
    line, col = first.get("line"), first.get("col")
    near = str(first.get("highlight") or "")
    where = f" at line {line}, column {col}" if line else ""
    near_text = f" near '{near}'" if near else ""
    return ParseError(f"Syntax error{where}{near_text}: {desc}")
