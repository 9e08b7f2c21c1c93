"""What SHOW SNAPSHOT reads from a repository: the snapshots, the backups of each, and one backup's
description. An unreadable snapshot or info file is a row that says why, never a failed statement.
The snapshot TTL daemon and information_schema.repository_snapshots read the backups of a label here too."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dorisbk.errors import DorisError, StorageError
from dorisbk.jobs.job_info import EXPIRE_TIME, brief, expire_time, parse_info, pretty
from dorisbk.storage.repository import INVALID_INFO, NoInfoFileError, Repository
from dorisbk.timeutil import long_to_time_string

log = logging.getLogger(__name__)

Test = Callable[[str], bool]
Row = tuple[str | None, ...]
DETAIL_COLUMNS = ("Snapshot", "Timestamp", "Database", "Details", "Status")
LIST_COLUMNS = ("Snapshot", "Timestamp", "Status")


def labels(repo: Repository, repo_name: str) -> list[str]:
    """Every snapshot label of the repository, with Doris's message when it can not be listed."""
    try:
        return repo.list_snapshots()
    except StorageError as exc:
        raise DorisError(f"Failed to list snapshot in repo: {repo_name}, err: {exc.message}") from None


def listed(repo: Repository, repo_name: str, label_test: Test | None) -> list[Row]:
    """One row per snapshot: its backups' timestamps, or why they can not be read."""
    rows: list[Row] = []
    for label in sorted(labels(repo, repo_name)):
        if label_test is not None and not label_test(label):
            continue
        try:
            rows.append((label, "\n".join(repo.list_snapshot_timestamps(label)), "OK"))
        except NoInfoFileError:
            rows.append((label, None, "ERROR: No info file found"))
        except StorageError as exc:
            rows.append((label, None, f"ERROR: Failed to get info: {exc.message}"))
    return rows


def described(repo: Repository, repo_name: str, label_test: Test | None, stamp_test: Test) -> list[Row]:
    """One row per backup whose label and timestamp pass the tests (TIMESTAMP > '...' and the like)."""
    rows: list[Row] = []
    for label in sorted(labels(repo, repo_name)):
        if label_test is not None and not label_test(label):
            continue
        try:
            stamps = repo.list_snapshot_timestamps(label)
        except NoInfoFileError:
            continue
        except StorageError as exc:
            rows.append((label, None, None, None, f"Failed to get info: {exc.message}"))
            continue
        rows += [detail(repo, label, s) for s in stamps if not s.startswith(INVALID_INFO) and stamp_test(s)]
    return rows


def backup_info(repo: Repository, label: str, timestamp: str | None) -> tuple[str, dict[str, Any]]:
    """The timestamp and the info of one backup of ``label``: the one taken at ``timestamp``, or without it the
    newest. A backup that can not be found or read fails with RESTORE's message."""
    try:
        if timestamp is None:
            stamps = [s for s in repo.list_snapshot_timestamps(label) if not s.startswith(INVALID_INFO)]
            if not stamps:
                raise NoInfoFileError("No info file found")
            timestamp = stamps[-1]
        return timestamp, parse_info(repo.read_info(label, timestamp))
    except (StorageError, ValueError) as exc:
        reason = exc.message if isinstance(exc, StorageError) else str(exc)
        raise DorisError(
            f"Failed to get info of snapshot '{label}' because: {reason}. Maybe specified wrong backup timestamp"
        ) from None


def detail(repo: Repository, label: str, timestamp: str) -> Row:
    """One backup as SHOW SNAPSHOT describes it; an unreadable one says why in Status."""
    try:
        info: dict[str, Any] = parse_info(repo.read_info(label, timestamp))
    except (StorageError, ValueError) as exc:
        message = exc.message if isinstance(exc, StorageError) else str(exc)
        return (label, timestamp, None, None, f"Failed to get info: {message}")
    details = brief(info)
    expires = expire_time(info)
    if expires is not None:  # Doris's Details keys stay as they are; a snapshot with a ttl adds its expiry
        details[EXPIRE_TIME] = long_to_time_string(expires)
    return (label, timestamp, info["database"], pretty(details), "OK")


@dataclass(frozen=True)
class Backup:
    """One backup of a snapshot: its timestamp and info file, None when the file can not be read."""

    label: str
    timestamp: str
    info: dict[str, Any] | None


def backups(repo: Repository, label: str) -> list[Backup]:
    """Every backup of the label, readable or not (each unreadable one logged). Raises StorageError when
    the label's info files can not be listed (NoInfoFileError: it has none, e.g. a backup still running)."""
    return [backup(repo, label, stamp) for stamp in repo.list_snapshot_timestamps(label)]


def backup(repo: Repository, label: str, stamp: str) -> Backup:
    """The backup of the label at ``stamp``, its info None (and logged) when the file can not be read."""
    info = None
    if not stamp.startswith(INVALID_INFO):
        try:
            info = parse_info(repo.read_info(label, stamp))
        except (StorageError, ValueError) as exc:
            message = exc.message if isinstance(exc, StorageError) else str(exc)
            log.warning("snapshot %s of repository %s: info %s unreadable: %s", label, repo.name, stamp, message)
    return Backup(label, stamp, info)
