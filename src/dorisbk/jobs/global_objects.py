"""BACKUP GLOBAL / RESTORE GLOBAL (Doris 4): objects that belong to no database, backed up as statements.

A global job is listed under the pseudo database ``__internal_schema``, as Doris lists it (so SHOW BACKUP
FROM __internal_schema shows it, and one global job runs at a time, as one job per database does). What
it backs up is a list of replayable statements per kind of object, kept in the snapshot's ``__meta``
(checksummed like every file of the layout). The jobs neither write nor parse those statements: a
``GlobalObjectStore`` of the sql layer does, given to the jobs through ``JobContext.global_objects``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from dorisbk.catalog.model import Database
from dorisbk.errors import DorisError

GLOBAL_DB_NAME = "__internal_schema"
GLOBAL_DB_ID = -1  # no database of the catalog has it: ids are positive
GLOBAL_DB = Database(GLOBAL_DB_ID, GLOBAL_DB_NAME)


class GlobalObject(StrEnum):
    """Doris's kinds of global objects; the value names the properties (``backup_<v>``, ``reserve_<v>``)."""

    PRIVILEGE = "privilege"
    CATALOG = "catalog"
    WORKLOAD_GROUP = "workload_group"


# what dorisbk has of them, and why it has not the others
SUPPORTED = (GlobalObject.PRIVILEGE,)
_ABSENT = {
    GlobalObject.CATALOG: "dorisbk has no catalogs but internal",
    GlobalObject.WORKLOAD_GROUP: "dorisbk has no workload groups",
}


class ForbiddenStatement(DorisError):
    """A statement of a snapshot's global objects that a restore does not replay (the job ends BAD_FILE)."""


@dataclass(frozen=True)
class GlobalDump:
    """The statements that recreate one kind of object, and the names of what they recreate (by type)."""

    statements: list[str]
    names: dict[str, list[str]] = field(default_factory=dict)


class GlobalObjectStore(Protocol):
    """Writes and replays the statements of one kind of global object."""

    def dump(self) -> GlobalDump: ...

    def check(self, statements: list[str]) -> None:
        """Raise ForbiddenStatement unless every statement is one the store replays."""

    def replay(self, statements: list[str]) -> None:
        """Carry the statements out (after ``check``); doing it twice changes nothing more."""


def chosen(props: Mapping[str, str], prefix: str) -> list[GlobalObject]:
    """The kinds a BACKUP GLOBAL (``backup_*``) or RESTORE GLOBAL (``reserve_*``) asks for: those set true,
    or without any set true every kind not set false. Asking for a kind dorisbk does not have is refused;
    by default only the kinds it has are taken."""
    flags: dict[GlobalObject, bool] = {}
    for kind in GlobalObject:
        key = f"{prefix}{kind}"
        if key in props:
            value = props[key].lower()
            if value not in ("true", "false"):
                raise DorisError(f"Invalid boolean property {key} value: {props[key]}")
            flags[kind] = value == "true"
    asked = [kind for kind, on in flags.items() if on]
    for kind in asked:
        if kind not in SUPPORTED:
            raise DorisError(f"Property {prefix}{kind} is not supported: {_ABSENT[kind]}")
    kinds = asked or [kind for kind in SUPPORTED if flags.get(kind, True)]
    if not kinds:
        raise DorisError(f"Nothing to {'backup' if prefix == 'backup_' else 'restore'}: every {prefix}* is false")
    return kinds


def describe(info: Mapping[str, Any]) -> dict[str, Any] | None:
    """A global snapshot's info file lists its objects' names by kind; None for a database's snapshot."""
    objects = info.get("global_objects")
    return objects if isinstance(objects, dict) else None
