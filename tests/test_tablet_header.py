"""The tablet header a snapshot uploads (``<tablet id>.hdr``): one line of JSON now, indented before 2026-12.
A job whose snapshot was taken with indented headers still uploads them under their recorded checksums, and
a restore reads either form."""

from __future__ import annotations

import json

import pytest

from dorisbk.backend.snapshot import SnapshotFile, SnapshotInfo, header_name
from dorisbk.checksum import md5_bytes
from dorisbk.errors import DorisError
from dorisbk.jobs.dir_move import parse_header
from dorisbk.jobs.transfer import _header

pytestmark = pytest.mark.fast

ROWSET = SnapshotFile("7_0.parquet", "0" * 32, 523, rows=4)


def snapshot() -> SnapshotInfo:
    return SnapshotInfo(10007, 10002, "/unused", version=3, files=[ROWSET], schema_hash=11)


def test_the_header_is_one_line_listing_the_rowsets() -> None:
    data = snapshot().header()
    assert b"\n" not in data
    assert json.loads(data) == {
        "tablet_id": 10007,
        "schema_hash": 11,
        "version": 3,
        "rowsets": [{"file": "7_0.parquet", "rows": 4, "size": 523, "md5": "0" * 32}],
    }


@pytest.mark.parametrize("indented", [False, True])
def test_the_upload_sends_the_header_the_snapshot_recorded(indented: bool) -> None:
    info = snapshot()
    recorded = info.header(indented=indented)
    file = SnapshotFile(header_name(info.tablet_id), md5_bytes(recorded), len(recorded))
    assert _header(info, file) == recorded
    names = [f"7_0.parquet.{'0' * 32}", f"{file.name}.{file.md5}"]
    assert [r.file for r in parse_header(recorded, file.name, file.name, names)] == ["7_0.parquet"]


def test_a_header_the_record_does_not_match_is_never_sent() -> None:
    info = snapshot()
    file = SnapshotFile(header_name(info.tablet_id), md5_bytes(b"other bytes"), 11)
    with pytest.raises(DorisError, match="does not match the snapshot's record"):
        _header(info, file)
