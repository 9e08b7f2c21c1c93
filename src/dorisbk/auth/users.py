"""Users, roles, mysql_native_password hashes and Doris's privileges at global, catalog, db and table level.

A user holds its own grants and the roles granted to it; a role holds grants only. What a user may do is
its own grants and those of its roles (``User.inherited``, filled in when the manager hands a user out)."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dorisbk.errors import AccessDenied, DorisError
from dorisbk.meta.store import Change, MetaStore

PRIVILEGES = (
    "NODE_PRIV",
    "ADMIN_PRIV",
    "GRANT_PRIV",
    "SELECT_PRIV",
    "LOAD_PRIV",
    "ALTER_PRIV",
    "CREATE_PRIV",
    "DROP_PRIV",
    "USAGE_PRIV",
    "SHOW_VIEW_PRIV",
)
GLOBAL_ONLY = ("NODE_PRIV", "ADMIN_PRIV")
INTERNAL = "internal"
# Doris's built-in accounts and roles: never created, dropped or changed by statements (nor by a restore)
BUILTIN_USERS = ("root", "admin")
BUILTIN_ROLES = ("operator", "admin")


def native_hash(password: str) -> str:
    """MySQL's stored form of a mysql_native_password: ``*`` + upper-case hex SHA1(SHA1(pw))."""
    if not password:
        return ""
    return "*" + hashlib.sha1(hashlib.sha1(password.encode("utf-8")).digest()).hexdigest().upper()


@dataclass
class Grant:
    """Privileges on one object: level is GLOBAL, CATALOG, DATABASE or TABLE."""

    level: str
    ctl: str = "*"
    db: str = "*"
    tbl: str = "*"
    privs: list[str] = field(default_factory=list)

    def covers(self, db: str | None, tbl: str | None) -> bool:
        if self.level == "GLOBAL":
            return True
        if self.ctl != INTERNAL:
            return False
        if self.level == "CATALOG":
            return True
        if db is None or self.db != db:
            return False
        return self.level == "DATABASE" or (tbl is not None and self.tbl == tbl)


@dataclass
class User:
    id: int
    name: str
    host: str = "%"
    password: str = ""
    grants: list[Grant] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    # the grants of the user's custom roles: not stored, filled in by UserManager.get / require
    inherited: list[Grant] = field(default_factory=list, compare=False, repr=False)

    @property
    def identity(self) -> str:
        return f"'{self.name}'@'{self.host}'"

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        del d["inherited"]
        return d

    @staticmethod
    def from_dict(d: dict[str, Any]) -> User:
        return User(**{**d, "grants": [Grant(**g) for g in d["grants"]]})

    def has(self, priv: str, db: str | None = None, tbl: str | None = None) -> bool:
        for grant in (*self.grants, *self.inherited):
            if not grant.covers(db, tbl):
                continue
            if "ADMIN_PRIV" in grant.privs or priv in grant.privs:
                return True
        return False

    def has_any_in_db(self, db: str) -> bool:
        """Whether the user may see a database at all (any privilege on it or below it)."""
        return any(
            g.privs
            and (g.level in ("GLOBAL", "CATALOG") and g.ctl in ("*", INTERNAL) or (g.db == db and g.ctl == INTERNAL))
            for g in (*self.grants, *self.inherited)
        )


@dataclass
class Role:
    """``CREATE ROLE``: a named set of grants that users hold with ``GRANT 'role' TO user``."""

    id: int
    name: str
    grants: list[Grant] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Role:
        return Role(**{**d, "grants": [Grant(**g) for g in d["grants"]]})


def _target(parts: tuple[str, ...]) -> Grant:
    """Grant target from ``ctl.db.tbl``, ``db.tbl``, ``db.*`` or a bare ``db`` (every table of it, as Doris
    reads ``ON db``); the catalog defaults to internal."""
    if len(parts) == 1 and parts[0] != "*":
        parts = (parts[0], "*")
    if len(parts) == 2:
        parts = (INTERNAL, *parts)
    if len(parts) != 3:
        raise DorisError("Invalid grant target, expected ctl.db.tbl or db.tbl", code=1064)
    ctl, db, tbl = parts
    if ctl not in ("*", INTERNAL):
        raise DorisError(f"Unknown catalog '{ctl}'")
    if ctl == "*":
        if db != "*" or tbl != "*":
            raise DorisError("Please specify catalog name when granting privileges on a database or table")
        return Grant("GLOBAL")
    if db == "*":
        if tbl != "*":
            raise DorisError("Invalid grant target: table without database")
        return Grant("CATALOG", ctl=ctl)
    if tbl == "*":
        return Grant("DATABASE", ctl=ctl, db=db)
    return Grant("TABLE", ctl=ctl, db=db, tbl=tbl)


class UserManager:
    """Accounts, roles and grants, persisted as ``user`` and ``role`` rows in the meta store."""

    def __init__(self, store: MetaStore) -> None:
        self.store = store
        self.lock = threading.Lock()
        self.users: dict[str, User] = {}
        self.roles: dict[str, Role] = {}

    def replay(self, rows: Iterable[tuple[str, int, dict]]) -> list[tuple[str, int, dict]]:
        rest = []
        for kind, obj_id, body in rows:
            if kind == "user":
                user = User.from_dict(body)
                self.users[user.name] = user
            elif kind == "role":
                role = Role.from_dict(body)
                self.roles[role.name] = role
            else:
                rest.append((kind, obj_id, body))
        if "root" not in self.users:
            root = User(self.store.next_id(), "root", roles=["operator"])
            root.grants.append(Grant("GLOBAL", privs=["NODE_PRIV", "ADMIN_PRIV"]))
            self._save(root)
        if "admin" not in self.users:
            admin = User(self.store.next_id(), "admin", roles=["admin"])
            admin.grants.append(Grant("GLOBAL", privs=["ADMIN_PRIV"]))
            self._save(admin)
        return rest

    def apply(self, kind: str, obj_id: int, body: dict | None) -> bool:
        """Shared mode: a user or role row another node committed (None: deleted); False for other kinds."""
        if kind not in ("user", "role"):
            return False
        with self.lock:
            named: dict = self.users if kind == "user" else self.roles
            for name in [n for n, obj in named.items() if obj.id == obj_id]:
                del named[name]
            if body is not None:
                obj = User.from_dict(body) if kind == "user" else Role.from_dict(body)
                named[obj.name] = obj
        return True

    def _save(self, user: User) -> None:
        self.store.commit(Change().put("user", user.id, user.to_dict()))
        self.users[user.name] = user

    def _save_role(self, role: Role) -> None:
        self.store.commit(Change().put("role", role.id, role.to_dict()))
        self.roles[role.name] = role

    def _effective(self, user: User) -> User:
        inherited = [g for name in user.roles if name in self.roles for g in self.roles[name].grants]
        return dataclasses.replace(user, inherited=inherited) if inherited else user

    def get(self, name: str) -> User | None:
        user = self.users.get(name)
        return self._effective(user) if user is not None else None

    def authenticate(self, name: str, password: str) -> User | None:
        """The user a name and clear-text password log in as (HTTP Basic auth), None when they do not: the
        password's mysql_native_password hash must equal the stored one, as the MySQL handshake checks it."""
        user = self.get(name) if name else None
        if user is None or not hmac.compare_digest(native_hash(password), user.password):
            return None
        return user

    def require(self, name: str) -> User:
        user = self.get(name)
        if user is None:
            raise DorisError(f"user '{name}'@'%' does not exist", code=1105)
        return user

    def _stored(self, name: str) -> User:
        user = self.users.get(name)
        if user is None:
            raise DorisError(f"user '{name}'@'%' does not exist", code=1105)
        return user

    def create(
        self, name: str, host: str, password: str, is_hash: bool, if_not_exists: bool, default_role: str | None = None
    ) -> None:
        with self.lock:
            if name in self.users:
                if if_not_exists:
                    return
                raise DorisError(f"Operation CREATE USER failed for '{name}'@'{host}'", code=1396)
            hashed = password if is_hash else native_hash(password)
            if is_hash:
                check_hash(hashed)
            roles = [self._existing_role(default_role)] if default_role else []
            self._save(User(self.store.next_id(), name, host, hashed, roles=roles))

    def drop(self, name: str, if_exists: bool) -> None:
        with self.lock:
            user = self.users.get(name)
            if user is None:
                if if_exists:
                    return
                raise DorisError(f"Operation DROP USER failed for '{name}'@'%'", code=1396)
            if name in BUILTIN_USERS:
                raise DorisError(f"Can not drop user {name}")
            self.store.commit(Change().delete("user", user.id))
            del self.users[name]

    def set_password(self, name: str, password: str, is_hash: bool) -> None:
        with self.lock:
            user = self._stored(name)
            hashed = password if is_hash else native_hash(password)
            if is_hash:
                check_hash(hashed)
            self._save(dataclasses.replace(user, password=hashed))

    def create_role(self, name: str, if_not_exists: bool) -> None:
        with self.lock:
            if name in self.roles or name in BUILTIN_ROLES:
                if if_not_exists and name not in BUILTIN_ROLES:
                    return
                raise DorisError(f"Role '{name}' already exists", code=1396)
            self._save_role(Role(self.store.next_id(), name))

    def drop_role(self, name: str, if_exists: bool) -> None:
        """The role goes, and with it every user's hold of it."""
        with self.lock:
            role = self.roles.get(name)
            if role is None:
                if if_exists:
                    return
                raise DorisError(f"Role '{name}' does not exist", code=1396)
            change = Change().delete("role", role.id)
            holders = [dataclasses.replace(u, roles=[r for r in u.roles if r != name]) for u in self.users.values()]
            holders = [u for u in holders if u.roles != self.users[u.name].roles]
            for user in holders:
                change.put("user", user.id, user.to_dict())
            self.store.commit(change)
            del self.roles[name]
            self.users.update((u.name, u) for u in holders)

    def grant_roles(self, name: str, roles: tuple[str, ...], revoke: bool) -> None:
        """``GRANT 'r1', 'r2' TO user`` / ``REVOKE ... FROM user``."""
        with self.lock:
            user = self._stored(name)
            if name in BUILTIN_USERS:
                raise DorisError(f"Can not grant or revoke roles of user {name}")
            for role in roles:
                self._existing_role(role)
            held = [r for r in user.roles if r not in roles] if revoke else list(dict.fromkeys([*user.roles, *roles]))
            self._save(dataclasses.replace(user, roles=held))

    def _existing_role(self, name: str) -> str:
        if name not in self.roles:
            raise DorisError(f"Role '{name}' does not exist", code=1396)
        return name

    def grant(
        self, name: str, privs: tuple[str, ...], target: tuple[str, ...], revoke: bool, role: bool = False
    ) -> None:
        """GRANT / REVOKE privileges on an object to a user, or with ``role`` to the role ``name``."""
        with self.lock:
            holder: User | Role = self.roles[self._existing_role(name)] if role else self._stored(name)
            if role and name in BUILTIN_ROLES:
                raise DorisError(f"Can not grant or revoke privileges of role {name}")
            grants = _granted(holder.grants, privs, target, revoke, f"'{name}'@'%'")
            if isinstance(holder, Role):
                self._save_role(dataclasses.replace(holder, grants=grants))
            else:
                self._save(dataclasses.replace(holder, grants=grants))


def check_hash(hashed: str) -> None:
    """``IDENTIFIED BY PASSWORD '*...'``: the stored form of a password, never the password itself."""
    if hashed and not (hashed.startswith("*") and len(hashed) == 41 and _is_hex(hashed[1:])):
        raise DorisError("Password hash should be a 41-digit hexadecimal number")


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def granted_privileges(privs: tuple[str, ...], target: tuple[str, ...]) -> tuple[Grant, list[str]]:
    """What ``GRANT privs ON target`` grants: the object (an empty Grant) and the privileges, Doris's checks
    of both passed."""
    wanted = _target(target)
    expanded: list[str] = []
    for p in privs:
        if p == "ALL":
            expanded.extend(x for x in PRIVILEGES if x not in GLOBAL_ONLY)
            continue
        priv = p if p.endswith("_PRIV") else f"{p}_PRIV"
        if priv not in PRIVILEGES:
            raise DorisError(f"Unknown privilege type {p}", code=1064)
        if priv in GLOBAL_ONLY and wanted.level != "GLOBAL":
            raise DorisError("ADMIN_PRIV and NODE_PRIV can only be granted/revoke on/from global level")
        expanded.append(priv)
    return wanted, expanded


def _granted(
    current: list[Grant], privs: tuple[str, ...], target: tuple[str, ...], revoke: bool, grantee: str
) -> list[Grant]:
    """A holder's grants after GRANT (or REVOKE) of ``privs`` on ``target``."""
    wanted, expanded = granted_privileges(privs, target)
    grants = [dataclasses.replace(g, privs=list(g.privs)) for g in current]
    same = next(
        (g for g in grants if (g.level, g.ctl, g.db, g.tbl) == (wanted.level, wanted.ctl, wanted.db, wanted.tbl)),
        None,
    )
    if revoke:
        if same is None:
            raise DorisError(f"There is no such grant defined for {grantee} on {'.'.join(target)}")
        same.privs = [p for p in same.privs if p not in expanded]
        return [g for g in grants if g.privs]
    if same is None:
        wanted.privs = list(dict.fromkeys(expanded))
        grants.append(wanted)
    else:
        same.privs = list(dict.fromkeys([*same.privs, *expanded]))
    return grants


def _priv_name(priv: str) -> str:
    return priv[0] + priv[1:].lower()


def privilege_texts(grants: list[Grant]) -> tuple[str | None, str | None, str | None, str | None]:
    """SHOW GRANTS' and SHOW ROLES' GlobalPrivs, CatalogPrivs, DatabasePrivs and TablePrivs of some grants."""

    def level(lv: str, fmt: Any) -> str | None:
        parts = [f"{fmt(g)}: {','.join(_priv_name(p) for p in g.privs)}" for g in grants if g.level == lv]
        return "; ".join(parts) or None

    global_privs = next((g for g in grants if g.level == "GLOBAL"), None)
    return (
        ",".join(_priv_name(p) for p in global_privs.privs) if global_privs else None,
        level("CATALOG", lambda g: g.ctl),
        level("DATABASE", lambda g: f"{g.ctl}.{g.db}"),
        level("TABLE", lambda g: f"{g.ctl}.{g.db}.{g.tbl}"),
    )


def grants_row(user: User) -> tuple[str | None, ...]:
    """One SHOW GRANTS row in Doris's column order (see SHOW_GRANTS_COLUMNS)."""
    return (
        user.identity,
        "",
        "Yes" if user.password else "No",
        ",".join(user.roles),
        *privilege_texts(user.grants),
        None,
        None,
        None,
    )


SHOW_GRANTS_COLUMNS = (
    "UserIdentity",
    "Comment",
    "Password",
    "Roles",
    "GlobalPrivs",
    "CatalogPrivs",
    "DatabasePrivs",
    "TablePrivs",
    "ColPrivs",
    "ResourcePrivs",
    "WorkloadGroupPrivs",
)


def require_admin(user: User) -> None:
    if not user.has("ADMIN_PRIV"):
        raise AccessDenied(
            "Access denied; you need (at least one of) the (ADMIN) privilege(s) for this operation", code=1227
        )


def require(user: User, priv: str, db: str, tbl: str | None = None) -> None:
    """Raise Doris's denial (1142 for a table, 1044 for a database) unless ``user`` holds ``priv``."""
    if user.has(priv, db, tbl):
        return
    verb = {
        "SELECT_PRIV": "SELECT",
        "LOAD_PRIV": "LOAD",
        "ALTER_PRIV": "ALTER",
        "CREATE_PRIV": "CREATE",
        "DROP_PRIV": "DROP",
    }.get(priv, priv)
    if tbl is not None:
        raise AccessDenied(f"{verb} command denied to user {user.identity} for table '{db}.{tbl}'", code=1142)
    raise AccessDenied(
        f"Access denied for user {user.identity} to database '{db}'; you need ({_priv_name(priv)}) privilege",
        code=1044,
    )
