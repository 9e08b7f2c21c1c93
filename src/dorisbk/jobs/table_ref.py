"""TableRef: one object a BACKUP or RESTORE names; the backup grammar builds it and the jobs check it.
It imports nothing, so the parser's statements stay light."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TableRef:
    """One entry of an ``ON (...)`` / ``EXCLUDE (...)`` list, as written.

    ``partitions`` is empty when no PARTITION clause was given; ``temporary`` is true for
    ``TEMPORARY PARTITION (...)``; ``db`` and ``alias`` are kept so that the checks can refuse
    them with Doris's messages.
    """

    name: str
    db: str | None = None
    partitions: tuple[str, ...] = ()
    alias: str | None = None
    temporary: bool = False
