"""CREATE / DROP USER, SET PASSWORD, GRANT and REVOKE."""

from __future__ import annotations

from dorisbk.auth.users import require_admin
from dorisbk.engine.result import SessionContext
from dorisbk.env import Env
from dorisbk.sql import ddl_stmts as s


def execute(env: Env, ctx: SessionContext, stmt: object) -> None:
    user = env.users.require(ctx.user)
    users = env.users
    match stmt:
        case s.CreateUserStmt():
            require_admin(user)
            users.create(stmt.user.name, stmt.user.host, stmt.password or "", stmt.password_is_hash, stmt.if_not_exists)
        case s.DropUserStmt():
            require_admin(user)
            users.drop(stmt.user.name, stmt.if_exists)
        case s.SetPasswordStmt():
            target = stmt.user.name if stmt.user is not None else user.name
            if target != user.name:
                require_admin(user)
            users.set_password(target, stmt.password, stmt.password_is_hash)
        case s.GrantStmt():
            require_admin(user)
            users.grant(stmt.user.name, stmt.privileges, stmt.target, stmt.revoke)
