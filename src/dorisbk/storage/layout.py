"""Names and paths of Doris's repository layout, as pure functions (see docs/repository-format.md).

Real Doris reads and writes exactly these names, so a repository written by either can be
listed by the other. Names and ids read from a repository (listings, info files, tablet
headers) are data: each passes ``check_name`` or ``check_id`` before it is joined to a path,
so a tampered repository cannot name ``/etc/passwd`` or ``../..``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
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
# Every name of the layout (labels follow Doris's ^[-_A-Za-z0-9:]+$, rowset files are ids, dots and
# underscores) fits; a name cannot hold a '/', be '.' or '..', or exceed NAME_MAX.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,254}")
_ID = re.compile(r"[0-9]{1,19}")


class InvalidNameError(StorageError):
    """A name or id read from a repository that is not one: a path, ``..``, a non-integer id (tampering)."""


def is_name(name: object) -> bool:
    """Whether ``name`` is a plain file name of the layout, safe to join to a directory."""
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def check_name(name: object) -> str:
    """``name`` itself if it is a plain file name of the layout; InvalidNameError otherwise."""
    if not is_name(name):
        raise InvalidNameError(f"invalid file name in repository: {name!r}")
    return str(name)


def check_id(value: object) -> int:
    """An id (of a database, table, partition, index or tablet) read from a repository: digits only."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or _ID.fullmatch(text) is None:
        raise InvalidNameError(f"invalid id in repository: {value!r}")
    return int(text)


def repo_dir(repo_name: str) -> str:
    """The repository's directory under its location."""
    return check_name(f"{REPO_PREFIX}{repo_name}")


def snapshot_dir_name(label: str) -> str:
    return check_name(f"{SNAPSHOT_PREFIX}{label}")


def tablet_path(db_id: object, table_id: object, partition_id: object, index_id: object, tablet_id: object) -> str:
    """A tablet's directory below ``__ss_content``, built from the source cluster's ids (integers only)."""
    return (
        f"{DB_PREFIX}{check_id(db_id)}/{TABLE_PREFIX}{check_id(table_id)}/{PARTITION_PREFIX}{check_id(partition_id)}"
        f"/{INDEX_PREFIX}{check_id(index_id)}/{TABLET_PREFIX}{check_id(tablet_id)}"
    )


@dataclass(frozen=True)
class RemoteTablet:
    """A tablet's place in a snapshot's content: the ids of the cluster that backed it up.

    Ids read from an info file are checked here, when the tablet is named, not when its dir is used."""

    db_id: int
    table_id: int
    partition_id: int
    index_id: int
    tablet_id: int

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, check_id(getattr(self, f.name)))

    @property
    def path(self) -> str:
        return tablet_path(self.db_id, self.table_id, self.partition_id, self.index_id, self.tablet_id)

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


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
    return check_name(f"{INFO_PREFIX}{timestamp}")


def format_info_timestamp(moment: datetime) -> str:
    return moment.strftime(INFO_TIMESTAMP_FORMAT)


def parse_info_timestamp(timestamp: str) -> datetime:
    return datetime.strptime(timestamp, INFO_TIMESTAMP_FORMAT)


def format_create_time(moment: datetime) -> str:
    return moment.strftime(CREATE_TIME_FORMAT)


def parse_create_time(text: str) -> datetime:
    return datetime.strptime(text, CREATE_TIME_FORMAT)
