"""The privileges of BACKUP / RESTORE GLOBAL: users, roles and grants written as the statements that recreate
them, and replayed by parsing those statements again, as data.

A backup writes, for every role and user but Doris's built-ins, ``CREATE ROLE IF NOT EXISTS``, ``CREATE USER
IF NOT EXISTS ... IDENTIFIED BY PASSWORD '*hash'`` (the stored hash, never a password), ``GRANT ... TO`` its
grants and ``GRANT 'role' TO`` its roles. A restore therefore merges: a dropped user or role comes back whole,
an existing one keeps its password and gains the snapshot's grants and roles; nothing is revoked, and the
built-in root and admin users and admin and operator roles are never touched.

The statements come from a repository, which anyone with write access to it may edit (and give a matching
checksum). Each is parsed by our own parser and must be one of the kinds above, with a hash for a password and
no built-in as grantee; otherwise the restore fails before anything is replayed. Statements are never logged
nor put in an error message: they hold password hashes.
"""

from __future__ import annotations

from dorisbk.auth.users import BUILTIN_ROLES, BUILTIN_USERS, INTERNAL, Grant, check_hash, granted_privileges
from dorisbk.env import Env
from dorisbk.errors import DorisError
from dorisbk.jobs.global_objects import ForbiddenStatement, GlobalDump
from dorisbk.sql import ddl_stmts as s
from dorisbk.sql.ddl_parser import parse_ddl
from dorisbk.sql.handlers import account
from dorisbk.sql.lark_support import quote_name, quote_string

# what a global restore replays
_REPLAYED = (s.CreateUserStmt, s.CreateRoleStmt, s.GrantStmt, s.GrantRoleStmt)


def _identity(name: str, host: str) -> str:
    return f"{quote_string(name)}@{quote_string(host)}"


def _target(grant: Grant) -> str:
    """The object of a grant, as ``GRANT ... ON`` names it."""
    if grant.level == "GLOBAL":
        return "*.*.*"
    parts = [grant.ctl or INTERNAL, grant.db, grant.tbl]
    return ".".join(p if p == "*" else quote_name(p) for p in parts)


def _grants(grants: list[Grant], grantee: str) -> list[str]:
    return [f"GRANT {', '.join(g.privs)} ON {_target(g)} TO {grantee}" for g in grants if g.privs]


class PrivilegeStatements:
    """The store of privileges (``GlobalObject.PRIVILEGE``) for the global jobs, on the server's accounts."""

    def __init__(self, env: Env) -> None:
        self.env = env

    def dump(self) -> GlobalDump:
        users = self.env.users
        statements: list[str] = []
        roles = sorted(name for name in users.roles if name not in BUILTIN_ROLES)
        for name in roles:
            statements.append(f"CREATE ROLE IF NOT EXISTS {quote_name(name)}")
            statements += _grants(users.roles[name].grants, f"ROLE {quote_string(name)}")
        accounts = sorted(name for name in users.users if name not in BUILTIN_USERS)
        for name in accounts:
            user = users.users[name]
            identity = _identity(user.name, user.host)
            password = f" IDENTIFIED BY PASSWORD {quote_string(user.password)}" if user.password else ""
            statements.append(f"CREATE USER IF NOT EXISTS {identity}{password}")
            statements += _grants(user.grants, identity)
            held = [r for r in user.roles if r in roles]
            if held:
                statements.append(f"GRANT {', '.join(quote_string(r) for r in held)} TO {identity}")
        return GlobalDump(statements, {"users": accounts, "roles": roles})

    def check(self, statements: list[str]) -> None:
        self._parsed(statements)

    def replay(self, statements: list[str]) -> None:
        for stmt in self._parsed(statements):
            account.apply(self.env, stmt)

    def _parsed(self, statements: list[str]) -> list[object]:
        """Every statement parsed and allowed, or ForbiddenStatement naming the first that is not (by its number
        and kind: its text may hold a hash). A grant must be one GRANT accepts, to a user or role the statements
        create or the server has, so that replaying them all succeeds."""
        parsed = []
        users, roles = set(self.env.users.users), set(self.env.users.roles)
        for number, text in enumerate(statements, start=1):
            where = f"statement {number} of the snapshot's privileges"
            try:
                stmt = parse_ddl(text)
            except DorisError:
                raise ForbiddenStatement(f"{where} is not a statement dorisbk replays") from None
            if not isinstance(stmt, _REPLAYED) or getattr(stmt, "revoke", False):
                kind = type(stmt).__name__.removesuffix("Stmt")
                raise ForbiddenStatement(f"{where} is a {kind}: only CREATE USER, CREATE ROLE and GRANT are replayed")
            if isinstance(stmt, s.CreateUserStmt) and stmt.password and not stmt.password_is_hash:
                raise ForbiddenStatement(f"{where} gives a password in clear text: only its hash is replayed")
            touched_users, touched_roles = _touched(stmt)
            if touched_users & set(BUILTIN_USERS) or touched_roles & set(BUILTIN_ROLES):
                raise ForbiddenStatement(f"{where} changes a built-in user or role, which a restore never does")
            if isinstance(stmt, s.CreateUserStmt):
                users.add(stmt.user.name)
            elif isinstance(stmt, s.CreateRoleStmt):
                roles.add(stmt.name)
            unknown = sorted((touched_users - users) | (touched_roles - roles))
            if unknown:
                raise ForbiddenStatement(f"{where} grants to or of {unknown[0]}, which is neither created nor here")
            try:
                _check_values(stmt)
            except DorisError as exc:
                raise ForbiddenStatement(f"{where} is refused: {exc.message}") from None
            parsed.append(stmt)
        return parsed


def _check_values(stmt: object) -> None:
    """What CREATE USER and GRANT would refuse of a statement's values (a malformed hash, an unknown privilege
    or catalog), checked before anything is replayed."""
    if isinstance(stmt, s.CreateUserStmt) and stmt.password:
        check_hash(stmt.password)
    if isinstance(stmt, s.GrantStmt):
        granted_privileges(stmt.privileges, stmt.target)


def _touched(stmt: object) -> tuple[set[str], set[str]]:
    """The users and the roles a replayed statement creates or changes (or, GRANT 'role', hands out)."""
    match stmt:
        case s.CreateUserStmt(user=user, default_role=role):
            return {user.name}, {role} if role else set()
        case s.CreateRoleStmt(name=name):
            return set(), {name}
        case s.GrantStmt(role=str(role)):
            return set(), {role}
        case s.GrantStmt(user=s.UserIdentity() as user):
            return {user.name}, set()
        case s.GrantRoleStmt(user=user, roles=roles):
            return {user.name}, set(roles)
    return set(), set()
