"""Users, mysql_native_password hashes and Doris's privileges at global, catalog, db and table level."""

from __future__ import annotations

import dataclasses
import hashlib
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

    @property
    def identity(self) -> str:
        return f"'{self.name}'@'{self.host}'"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> User:
        return User(**{**d, "grants": [Grant(**g) for g in d["grants"]]})

    def has(self, priv: str, db: str | None = None, tbl: str | None = None) -> bool:
        for grant in self.grants:
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
            for g in self.grants
        )


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
    """Accounts and grants, persisted as ``user`` rows in the meta store."""

    def __init__(self, store: MetaStore) -> None:
        self.store = store
        self.lock = threading.Lock()
        self.users: dict[str, User] = {}

    def replay(self, rows: Iterable[tuple[str, int, dict]]) -> list[tuple[str, int, dict]]:
        rest = []
        for kind, obj_id, body in rows:
            if kind == "user":
                user = User.from_dict(body)
                self.users[user.name] = user
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

    def _save(self, user: User) -> None:
        self.store.commit(Change().put("user", user.id, user.to_dict()))
        self.users[user.name] = user

    def get(self, name: str) -> User | None:
        return self.users.get(name)

    def require(self, name: str) -> User:
        user = self.users.get(name)
        if user is None:
            raise DorisError(f"user '{name}'@'%' does not exist", code=1105)
        return user

    def create(self, name: str, host: str, password: str, is_hash: bool, if_not_exists: bool) -> None:
        with self.lock:
            if name in self.users:
                if if_not_exists:
                    return
                raise DorisError(f"Operation CREATE USER failed for '{name}'@'{host}'", code=1396)
            hashed = password if is_hash else native_hash(password)
            self._save(User(self.store.next_id(), name, host, hashed))

    def drop(self, name: str, if_exists: bool) -> None:
        with self.lock:
            user = self.users.get(name)
            if user is None:
                if if_exists:
                    return
                raise DorisError(f"Operation DROP USER failed for '{name}'@'%'", code=1396)
            if name in ("root", "admin"):
                raise DorisError(f"Can not drop user {name}")
            self.store.commit(Change().delete("user", user.id))
            del self.users[name]

    def set_password(self, name: str, password: str, is_hash: bool) -> None:
        with self.lock:
            user = self.require(name)
            hashed = password if is_hash else native_hash(password)
            if is_hash and hashed and not (hashed.startswith("*") and len(hashed) == 41):
                raise DorisError("Password hash should be a 41-digit hexadecimal number")
            self._save(dataclasses.replace(user, password=hashed))

    def grant(self, name: str, privs: tuple[str, ...], target: tuple[str, ...], revoke: bool) -> None:
        with self.lock:
            user = self.require(name)
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
            grants = [dataclasses.replace(g, privs=list(g.privs)) for g in user.grants]
            same = next(
                (
                    g
                    for g in grants
                    if (g.level, g.ctl, g.db, g.tbl) == (wanted.level, wanted.ctl, wanted.db, wanted.tbl)
                ),
                None,
            )
            if revoke:
                if same is None:
                    raise DorisError(f"There is no such grant defined for '{name}'@'%' on {'.'.join(target)}")
                same.privs = [p for p in same.privs if p not in expanded]
                grants = [g for g in grants if g.privs]
            elif same is None:
                wanted.privs = list(dict.fromkeys(expanded))
                grants.append(wanted)
            else:
                same.privs = list(dict.fromkeys([*same.privs, *expanded]))
            self._save(dataclasses.replace(user, grants=grants))


def _priv_name(priv: str) -> str:
    return priv[0] + priv[1:].lower()


def grants_row(user: User) -> tuple[str | None, ...]:
    """One SHOW GRANTS row in Doris's column order (see SHOW_GRANTS_COLUMNS)."""

    def level(lv: str, fmt: Any) -> str | None:
        parts = [f"{fmt(g)}: {','.join(_priv_name(p) for p in g.privs)}" for g in user.grants if g.level == lv]
        return "; ".join(parts) or None

    global_privs = next((g for g in user.grants if g.level == "GLOBAL"), None)
    return (
        user.identity,
        "",
        "Yes" if user.password else "No",
        ",".join(user.roles),
        ",".join(_priv_name(p) for p in global_privs.privs) if global_privs else None,
        level("CATALOG", lambda g: g.ctl),
        level("DATABASE", lambda g: f"{g.ctl}.{g.db}"),
        level("TABLE", lambda g: f"{g.ctl}.{g.db}.{g.tbl}"),
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
