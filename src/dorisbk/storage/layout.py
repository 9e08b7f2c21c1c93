"""Names and paths of Doris's repository layout, as pure functions (see docs/repository-format.md).

Real Doris reads and writes exactly these names, so a repository written by either can be
listed by the other.
"""

from __future__ import annotations

import re
from datetime import datetime

from dorisbk.errors import StorageError

REPO_PREFIX = "__palo_repository_"
SNAPSHOT_PREFIX = "__ss_"
DB_PREFIX = "__db_"
TABLE_PREFIX = "__tbl_"
PARTITION_PREFIX = "__part_"
INDEX_PREFIX = "__idx_"
TABLET_PREFIX = "__"
INFO_PREFIX = "__info_"
REPO_INFO_FILE = "__repo_info"
META_FILE = "__meta"
CONTENT_DIR = "__ss_content"

# `__info_<timestamp>` names use hyphens only; `__repo_info` and SHOW columns use the usual form.
INFO_TIMESTAMP_FORMAT = "%Y-%m-%d-%H-%M-%S"
CREATE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

_MD5 = re.compile(r"[0-9a-f]{32}")


def repo_dir(repo_name: str) -> str:
    """The repository's directory under its location."""
    return f"{REPO_PREFIX}{repo_name}"


def snapshot_dir_name(label: str) -> str:
    return f"{SNAPSHOT_PREFIX}{label}"


def tablet_path(db_id: int, table_id: int, partition_id: int, index_id: int, tablet_id: int) -> str:
    """A tablet's directory below ``__ss_content``, built from the source cluster's ids."""
    return (
        f"{DB_PREFIX}{db_id}/{TABLE_PREFIX}{table_id}/{PARTITION_PREFIX}{partition_id}"
        f"/{INDEX_PREFIX}{index_id}/{TABLET_PREFIX}{tablet_id}"
    )


def is_md5(text: str) -> bool:
    return _MD5.fullmatch(text) is not None


def with_checksum(name: str, md5: str) -> str:
    """``<name>.<md5hex>``: how every snapshot file is stored."""
    if not is_md5(md5):
        raise ValueError(f"not an md5 hex digest: {md5!r}")
    return f"{name}.{md5}"


def split_checksum(name: str) -> tuple[str, str] | None:
    """``(name, md5)`` from a stored name, or None when it carries no checksum (e.g. a temp file)."""
    base, dot, suffix = name.rpartition(".")
    if not dot or not base or not is_md5(suffix):
        return None
    return base, suffix


def strip_checksum(name: str) -> str:
    """The name without its checksum; a name without one is an error, as in Doris."""
    parsed = split_checksum(name)
    if parsed is None:
        raise StorageError(f"file name should contains checksum: {name}")
    return parsed[0]


def info_file_name(timestamp: str) -> str:
    """The info file's name before its checksum: ``__info_<yyyy-MM-dd-HH-mm-ss>``."""
    return f"{INFO_PREFIX}{timestamp}"


def format_info_timestamp(moment: datetime) -> str:
    return moment.strftime(INFO_TIMESTAMP_FORMAT)


def parse_info_timestamp(timestamp: str) -> datetime:
    return datetime.strptime(timestamp, INFO_TIMESTAMP_FORMAT)


def format_create_time(moment: datetime) -> str:
    return moment.strftime(CREATE_TIME_FORMAT)


def parse_create_time(text: str) -> datetime:
    return datetime.strptime(text, CREATE_TIME_FORMAT)
