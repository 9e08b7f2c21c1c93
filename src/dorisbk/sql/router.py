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
from sqlglot.tokens import Token, TokenType

from dorisbk.engine.dialect import DorisBK, Lexed, is_word, lex
from dorisbk.engine.result import Result, SessionContext
from dorisbk.env import Env
from dorisbk.errors import DorisError, ParseError
from dorisbk.jobs.global_objects import GlobalObject
from dorisbk.jobs.repositories import SECRET_KEYS, is_secret
from dorisbk.sql import ddl_stmts as s
from dorisbk.sql.backup_parser import is_backup_statement, parse_backup
from dorisbk.sql.ddl_parser import parse_ddl
from dorisbk.sql.global_privileges import PrivilegeStatements
from dorisbk.sql.handlers import account, backup, catalog_ddl, ctas, materialized_view, recycle, show, show_admin
from dorisbk.sql.help import answer as help_answer
from dorisbk.sql.help import parse_help

# First words that send a statement to ddl.lark (SHOW takes a second word to decide).
_DDL_FIRST = {
    *("CREATE", "DROP", "ALTER", "TRUNCATE", "GRANT", "REVOKE", "DESC", "DESCRIBE", "SYNC", "BUILD", "ANALYZE"),
    "RECOVER",  # RECOVER DATABASE / TABLE / PARTITION (the recycle bin)
    *("LOCK", "UNLOCK"),  # LOCK TABLES / UNLOCK TABLES (mysqldump)
    *("SAVEPOINT", "RELEASE", "FLUSH"),  # mysqldump --single-transaction / --lock-all-tables
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
    *("FUNCTION", "PROCEDURE", "PLUGINS"),  # SHOW FUNCTION | PROCEDURE STATUS, SHOW PLUGINS
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


# The server version a client's executable comment ``/*!NNNNN ... */`` is compared with (5.7.99).
MYSQL_VERSION_ID = 50799


def executable_comments(sql: str, inside: bool = False) -> tuple[str, bool]:
    """The statement as MySQL reads its executable comments: the text of ``/*! ... */`` and of
    ``/*!NNNNN ... */`` with NNNNN at most this server's version is part of the statement; a newer one,
    MariaDB's ``/*M! ... */`` and every other comment stay comments. mysqldump writes its SET,
    CREATE VIEW and DISABLE KEYS statements this way. Quoted text is never looked into.

    Also whether the text ends inside such a comment. The mysql client splits statements at a ``;``
    even there (mysqldump's ``/*!50001 CREATE VIEW ... AS SELECT ...; */`` of Doris's SHOW CREATE
    VIEW text): with ``inside``, a next statement that starts with ``*/`` ends that comment."""
    inside = inside and sql.lstrip().startswith("*/")
    if "/*!" not in sql and not inside:
        return sql, False
    out: list[str] = []
    i, n = 0, len(sql)  # inside: within an executable comment whose text is kept
    while i < n:
        ch = sql[i]
        if ch in "'\"`":
            end = _quoted_end(sql, i)
            out.append(sql[i:end])
            i = end
        elif inside and sql.startswith("*/", i):
            out.append(" ")
            inside, i = False, i + 2
        elif sql.startswith("/*!", i):
            j = i + 3
            while j < n and j < i + 9 and sql[j].isdigit():
                j += 1
            digits = sql[i + 3 : j]
            if len(digits) in (5, 6) and int(digits) > MYSQL_VERSION_ID:  # for a newer server: a comment
                end = sql.find("*/", j)
                end = n if end < 0 else end + 2
                out.append(sql[i:end])
                i = end
            else:
                out.append(" ")
                inside, i = True, i + 3 + (len(digits) if len(digits) in (5, 6) else 0)
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(sql[i:end])
            i = end
        elif ch == "#" or (sql.startswith("--", i) and (i + 2 == n or sql[i + 2].isspace())):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end])
            i = end
        else:
            out.append(ch)
            i += 1
    return "".join(out), inside


# ODBC escapes (MySQL reads them; MariaDB ODBC and JDBC tools send them): ``{d 'x'}``, ``{t 'x'}``,
# ``{ts 'x'}`` are typed literals, ``{fn f(...)}`` and ``{oj t LEFT OUTER JOIN u ON ...}`` their contents
_ODBC_LITERALS = {"d": "DATE", "t": "TIME", "ts": "TIMESTAMP"}
_MAY_ESCAPE = re.compile(r"\{\s*(?:d|t|ts|fn|oj)\b", re.I)  # only a cheap test of whether to read the tokens


def odbc_escapes(sql: str) -> str:
    """The statement with its ODBC escape sequences read as MySQL reads them, found by its tokens."""
    if "{" not in sql or not _MAY_ESCAPE.search(sql):
        return sql
    tokens = lex(sql).tokens
    edits: list[tuple[int, int, str]] = []  # (start, end inclusive, replacement)
    open_braces: list[bool] = []  # for each ``{`` open: whether it is an escape's
    for i, token in enumerate(tokens):
        if token.token_type == TokenType.L_BRACE:
            word = tokens[i + 1] if i + 1 < len(tokens) else None
            kind = word.text.lower() if word is not None and word.token_type == TokenType.VAR else ""
            literal = kind in _ODBC_LITERALS and i + 2 < len(tokens) and tokens[i + 2].token_type == TokenType.STRING
            escape = literal or kind in ("fn", "oj")
            open_braces.append(escape)
            if escape and word is not None:
                edits.append((token.start, word.end, _ODBC_LITERALS[kind] if literal else " "))
        elif token.token_type == TokenType.R_BRACE and open_braces and open_braces.pop():
            edits.append((token.start, token.end, " "))
    if not edits:
        return sql
    out, done = [], 0
    for start, end, text in sorted(edits):
        out.extend((sql[done:start], text))
        done = end + 1
    out.append(sql[done:])
    return "".join(out)


def _quoted_end(sql: str, start: int) -> int:
    """Where the string or quoted name opening at ``start`` ends (after its closing quote)."""
    quote, i, n = sql[start], start + 1, len(sql)
    while i < n:
        if sql[i] == "\\" and quote != "`":
            i += 2
        elif sql[i] == quote:
            if i + 1 < n and sql[i + 1] == quote:  # a doubled quote stands for itself
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return n


_MASK = "*XXX"
# Words that a secret follows or a secret property's key holds (see _secret_follows and is_secret).
_SECRET_WORDS = ("identified", "password", "secret", "token", *SECRET_KEYS)


def _may_hold_secret(sql: str) -> bool:
    """False when no string of ``sql`` can be a secret, so that it need not be read token by token:
    none of the words a secret follows or a secret key holds is anywhere in it. A backslash escape
    could spell one inside a key, so a text with a backslash is always read."""
    if "\\" in sql:
        return True
    lowered = sql.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _secret_follows(tokens: list[Token], i: int) -> bool:
    """Whether a string at ``tokens[i]`` would be a secret, from the tokens before it: the value of a
    secret property (``"s3.secret_key" = ...``), a password after ``IDENTIFIED BY [PASSWORD]``, the
    argument of ``PASSWORD(...)``, or the password hash ``SET PASSWORD [FOR user] = '*...'`` sets."""
    before = tokens[max(0, i - 3) : i]
    if len(before) >= 2 and before[-1].token_type == TokenType.EQ:
        key = before[-2]
        if key.token_type == TokenType.STRING and is_secret(key.text):
            return True
        return len(tokens) >= 2 and is_word(tokens[0], "SET") and is_word(tokens[1], "PASSWORD")
    if before and is_word(before[-1], "BY"):
        return len(before) >= 2 and is_word(before[-2], "IDENTIFIED")
    if len(before) >= 3 and is_word(before[-1], "PASSWORD") and is_word(before[-2], "BY"):
        return is_word(before[-3], "IDENTIFIED")
    if len(before) >= 2 and before[-1].token_type == TokenType.L_PAREN:
        return is_word(before[-2], "PASSWORD")
    return False


def _masked(lexed: Lexed) -> tuple[str, int]:
    """The text with every secret string replaced by ``*XXX`` in the same quotes, and how much of the
    result is final whatever text follows (up to the last token or the unterminated tail)."""
    sql, tokens = lexed.text, lexed.tokens
    out: list[str] = []
    written = 0  # characters in out
    done = 0  # text before this position is copied or masked
    final = 0

    def mask(start: int, end: int) -> None:
        nonlocal written, done
        quote = sql[start]
        out.extend((sql[done:start], quote, _MASK, quote))
        written += start - done + len(_MASK) + 2
        done = end

    for i, token in enumerate(tokens):
        final = written + token.start - done
        if token.token_type == TokenType.STRING and _secret_follows(tokens, i):
            mask(token.start, token.end + 1)
    if not lexed.complete:  # an unterminated string runs to the end: masked too when it is a secret
        final = written + lexed.end - done
        if sql[lexed.end] in "'\"" and _secret_follows(tokens, len(tokens)):
            mask(lexed.end, len(sql))
    out.append(sql[done:])
    return "".join(out), final


def redacted(sql: str, limit: int | None = None) -> str:
    """A statement as others may see it (SHOW PROCESSLIST, logs): the values of secret properties
    (S3 / HDFS / broker keys, tokens, passwords) and passwords in clear text replaced by ``*XXX``,
    as Doris masks them. Found by the statement's tokens, so a string that only looks like one of
    them (inside another string, a quoted name or a comment) is left as it is.

    With ``limit``, only the first ``limit`` characters of the result, reading no more of a long
    statement than they need."""
    if not _may_hold_secret(sql):
        return sql if limit is None else sql[:limit]
    if limit is None:
        return _masked(lex(sql))[0]
    size = max(4 * limit, 1024)
    while size < len(sql):
        text, final = _masked(lex(sql[:size]))  # tokens before the last are those of the whole text
        if final >= limit:
            return text[:limit]
        size *= 4
    return _masked(lex(sql))[0][:limit]


def log_text(sql: str) -> str:
    """What a log line shows of a statement: its first 200 characters, secrets masked."""
    return redacted(sql, 200)


def _is_ddl(words: list[str]) -> bool:
    if not words:
        return False
    if words[0] in _DDL_FIRST:
        return True
    if words[0] == "SHOW" and len(words) > 1:
        return words[1] in _DDL_SHOW
    if words[0] == "SWITCH" or words == ["ADMIN", "SHOW", "REPLICA"]:
        return True
    if words[:2] in (["START", "TRANSACTION"], ["ROLLBACK", "TO"]) or words == ["ROLLBACK", "WORK", "TO"]:
        return True
    return words[:2] == ["SET", "PASSWORD"]


class Router:
    """Executes statements for one Env; every handler runs in a worker thread."""

    def __init__(self, env: Env) -> None:
        self.env = env
        # the global jobs write and replay privileges as statements, which only this layer parses
        env.jobs.ctx.global_objects[GlobalObject.PRIVILEGE] = PrivilegeStatements(env)

    def handles(self, sql: str) -> bool:
        """Whether ``sql`` is for ``route`` (help, backup, Doris DDL and SHOW, EXPLAIN); the rest goes to
        the sqlglot session. Decided from the first words alone, so that it costs nothing on the event
        loop: SET, USE or KILL never wait for a worker thread."""
        words = leading_words(sql, 3)
        return words[:1] in (["HELP"], ["EXPLAIN"]) or is_backup_statement(sql) or _is_ddl(words)

    def route(self, ctx: SessionContext, sql: str) -> Result | None:
        """A statement ``handles`` accepts: its Result, or None for an OK packet. In shared mode a statement
        whose commit was refused as stale runs again once this node has caught up (``MetaStore.retry_stale``):
        its checks then see what the other node committed."""
        return self.env.store.retry_stale(lambda: self._route(ctx, sql))

    def _route(self, ctx: SessionContext, sql: str) -> Result | None:
        mask = parse_help(sql)
        if mask is not None:
            columns, rows = help_answer(mask)
            return Result([(c, "VARCHAR") for c in columns], rows)
        if is_backup_statement(sql):
            stmt = parse_backup(sql)
            return backup.execute(self.env, ctx, stmt)
        if leading_words(sql, 1) == ["EXPLAIN"]:
            return self._explain(ctx, sql)
        return self.execute_ddl(ctx, parse_ddl(sql))

    def execute_ddl(self, ctx: SessionContext, stmt: object) -> Result | None:
        if isinstance(stmt, s.ShowStmt):
            return show.execute(self.env, ctx, stmt)
        if isinstance(stmt, (s.SyncStmt, s.NoOpStmt)):
            return None
        if isinstance(stmt, s.CreateTableAsStmt):
            ctas.execute(self.env, ctx, stmt)
            return None
        if isinstance(stmt, s.ShowMoreStmt):
            return show_admin.execute(self.env, ctx, stmt)
        if isinstance(stmt, (s.RecoverStmt, s.RecycleBinStmt)):
            return recycle.execute(self.env, ctx, stmt)
        if isinstance(stmt, materialized_view.STATEMENTS):
            materialized_view.execute(self.env, ctx, stmt)
            return None
        if isinstance(stmt, account.STATEMENTS):
            account.execute(self.env, ctx, stmt)
            return None
        catalog_ddl.execute(self.env, ctx, stmt)
        return None

    def _explain(self, ctx: SessionContext, sql: str) -> Result:
        """``EXPLAIN [plan type] [level] query``: the dialect reads it as a DESCRIBE of the query."""
        tree = parse_sql(sql)
        return self.env.engine.explain(ctx, tree.this if isinstance(tree, exp.Describe) else tree)

    def execute_expression(self, ctx: SessionContext, expression: exp.Expression) -> Result | None:
        """A statement parsed by sqlglot that the session did not answer itself (run again after catching up
        when its commit was refused as stale, as ``route``)."""
        return self.env.store.retry_stale(lambda: self._execute_expression(ctx, expression))

    def _execute_expression(self, ctx: SessionContext, expression: exp.Expression) -> Result | None:
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
