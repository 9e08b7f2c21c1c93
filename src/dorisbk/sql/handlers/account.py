"""CREATE / DROP USER, SET PASSWORD, CREATE / DROP ROLE, GRANT and REVOKE (of privileges and of roles)."""

from __future__ import annotations

from dorisbk.auth.users import require_admin
from dorisbk.engine.result import SessionContext
from dorisbk.env import Env
from dorisbk.sql import ddl_stmts as s

STATEMENTS = (
    s.CreateUserStmt,
    s.DropUserStmt,
    s.SetPasswordStmt,
    s.GrantStmt,
    s.CreateRoleStmt,
    s.DropRoleStmt,
    s.GrantRoleStmt,
)


def execute(env: Env, ctx: SessionContext, stmt: object) -> None:
    user = env.users.require(ctx.user)
    if isinstance(stmt, s.SetPasswordStmt):
        target = stmt.user.name if stmt.user is not None else user.name
        if target != user.name:
            require_admin(user)
        env.users.set_password(target, stmt.password, stmt.password_is_hash)
        return
    require_admin(user)
    apply(env, stmt)


def apply(env: Env, stmt: object) -> None:
    """Carry out an account statement whose issuer may (an ADMIN's, or a global restore's replay)."""
    users = env.users
    match stmt:
        case s.CreateUserStmt():
            users.create(
                stmt.user.name,
                stmt.user.host,
                stmt.password or "",
                stmt.password_is_hash,
                stmt.if_not_exists,
                stmt.default_role,
            )
        case s.DropUserStmt():
            users.drop(stmt.user.name, stmt.if_exists)
        case s.GrantStmt(role=str(role)):
            users.grant(role, stmt.privileges, stmt.target, stmt.revoke, role=True)
        case s.GrantStmt(user=s.UserIdentity() as grantee):
            users.grant(grantee.name, stmt.privileges, stmt.target, stmt.revoke)
        case s.CreateRoleStmt():
            users.create_role(stmt.name, stmt.if_not_exists)
        case s.DropRoleStmt():
            users.drop_role(stmt.name, stmt.if_exists)
        case s.GrantRoleStmt():
            users.grant_roles(stmt.user.name, stmt.roles, stmt.revoke)
