"""The snapshot's two repository files: ``__info_<ts>`` (BackupJobInfo JSON) and ``__meta``.

``__info`` follows Doris's JSON keys (reference §4), plus ``expire_time`` for a snapshot backed up
with a ``ttl``; ``__meta`` is our JSON form of
BackupMeta: the full definition of every backed-up table (only its backed-up partitions)
and view, enough to recreate them on another server.
"""

from __future__ import annotations

import json
import logging
import zlib
from typing import Any

from dorisbk.catalog.model import Partition, Table, Tablet

log = logging.getLogger(__name__)

MAJOR, MINOR, PATCH = 2, 1, 8
META_VERSION = 1
# When the snapshot expires: the backup's create time (its timestamp) plus the BACKUP's ttl, in ms since
# the epoch as ``backup_time``. Readers that do not know the key (Doris, older dorisbk) ignore it.
EXPIRE_TIME = "expire_time"
_LAST_MS = 253_402_300_799_999  # 9999-12-31 23:59:59.999 UTC: later is no time a reader can show


def schema_hash(table: Table) -> int:
    """A stable 31-bit hash of the table's columns (Doris keeps one per index)."""
    text = json.dumps([c.to_dict() for c in table.columns], sort_keys=True)
    return zlib.crc32(text.encode()) & 0x7FFFFFFF


def table_meta(table: Table, parts: list[Partition], tablets: dict[int, list[Tablet]]) -> dict[str, Any]:
    """One table of ``__meta``: its definition plus the chosen partitions with their tablet order."""
    body = table.to_dict()
    body["partitions"] = [
        {**p.to_dict(), "tablets": [{"id": t.id, "bucket": t.bucket} for t in tablets[p.id]]} for p in parts
    ]
    return body


def encode(obj: Any) -> bytes:
    return json.dumps(obj, indent=1, sort_keys=False).encode("utf-8")


def parse_info(data: bytes) -> dict[str, Any]:
    """An ``__info`` file, read from a repository as data: JSON of the shape every reader relies on
    (SHOW SNAPSHOT, RESTORE and its job), else ValueError saying what is wrong. Names and ids inside
    are checked again where they become paths (``storage/layout.py``)."""
    info = json.loads(data)
    _expect(info, dict, "the info file")
    for key in ("name", "database", "content"):
        _expect(info.get(key), str, key)
    _expect(info.get("backup_time"), int, "backup_time")
    _expect(info.get("backup_objects"), dict, "backup_objects")
    for name, table in info["backup_objects"].items():
        _expect(table, dict, f"table {name}")
        _expect(table.get("partitions"), dict, f"partitions of table {name}")
        for part_name, part in table["partitions"].items():
            _expect(part, dict, f"partition {part_name} of table {name}")
            _expect(part.get("indexes"), dict, f"indexes of partition {part_name}")
            for index_name, index in part["indexes"].items():
                _expect(index, dict, f"index {index_name}")
                _expect(index.get("tablets"), dict, f"tablets of index {index_name}")
                for tablet, files in index["tablets"].items():
                    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
                        raise ValueError(f"the info file is malformed: files of tablet {tablet}")
    extra = info.get("new_backup_objects", {})
    _expect(extra, dict, "new_backup_objects")
    views = extra.get("views", [])
    if not isinstance(views, list) or not all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in views):
        raise ValueError("the info file is malformed: views")
    # BACKUP GLOBAL: kind -> object type -> names
    _expect(info.get("global_objects", {}), dict, "global_objects")
    for kind, names in info.get("global_objects", {}).items():
        _expect(names, dict, f"global objects {kind}")
        for what, listed in names.items():
            if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
                raise ValueError(f"the info file is malformed: global objects {kind} {what}")
    return info


def _expect(value: object, kind: type, what: str) -> None:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"the info file is malformed: {what}")


def expire_fields(backup_time: int, ttl_seconds: int) -> dict[str, int]:
    """The info file's expiry key for a backup with ``ttl_seconds`` to live (none without a ttl)."""
    return {EXPIRE_TIME: backup_time + ttl_seconds * 1000} if ttl_seconds > 0 else {}


def expire_time(info: dict[str, Any]) -> int | None:
    """When the backup an info file describes expires; None when it never does. The file is data from a
    repository: a value that is not a time (edited by hand, written by something else) is ignored with a
    warning, and that backup never expires."""
    value = info.get(EXPIRE_TIME)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _LAST_MS:
        return value
    log.warning(
        "snapshot %s: %s %s in its info file is not a time, ignored", info.get("name"), EXPIRE_TIME, repr(value)[:80]
    )
    return None


def brief(info: dict[str, Any]) -> dict[str, Any]:
    """The brief info of SHOW SNAPSHOT Details and SHOW RESTORE RestoreObjs."""
    return {
        "name": info["name"],
        "database": info["database"],
        "backup_time": info["backup_time"],
        "content": info["content"],
        "olap_table_list": [
            {"name": name, "partition_names": list(tbl["partitions"])} for name, tbl in info["backup_objects"].items()
        ],
        "view_list": info["new_backup_objects"].get("views", []),
        "odbc_table_list": [],
        "odbc_resource_list": [],
        **({"global_objects": info["global_objects"]} if "global_objects" in info else {}),
    }


def outline(info: dict[str, Any]) -> dict[str, Any]:
    """What ``brief`` reads of an info: its names, the tables with their partitions' names (no indexes,
    tablets or files) and the views; an empty info stays empty."""
    if not info:
        return {}
    return {
        **{key: info[key] for key in ("name", "database", "backup_time", "content")},
        "backup_objects": {
            name: {"partitions": {part: {} for part in table["partitions"]}}
            for name, table in info["backup_objects"].items()
        },
        "new_backup_objects": {"views": info["new_backup_objects"].get("views", [])},
        **({"global_objects": info["global_objects"]} if "global_objects" in info else {}),
    }


def pretty(obj: Any) -> str:
    return json.dumps(obj, indent=2)
