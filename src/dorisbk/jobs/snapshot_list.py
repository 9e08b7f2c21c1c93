"""What SHOW SNAPSHOT reads from a repository: the snapshots, the backups of each, and one backup's
description. An unreadable snapshot or info file is a row that says why, never a failed statement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dorisbk.errors import DorisError, StorageError
from dorisbk.jobs.job_info import brief, parse_info, pretty
from dorisbk.storage.repository import INVALID_INFO, NoInfoFileError, Repository

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
    return (label, timestamp, info["database"], pretty(brief(info)), "OK")
