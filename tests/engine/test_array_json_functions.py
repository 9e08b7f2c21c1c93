"""Doris's array and JSON functions as the engine lowers them (values from Doris's suites' .out files and
its documentation), and the storage detail they lean on: nested columns that survive compaction."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dorisbk.backend.scan import _top_level
from tests.engine.test_functions import answer, db  # noqa: F401  (db is a fixture)

pytestmark = pytest.mark.fast


def test_nested_columns_are_found_in_rowset_files(tmp_path: Path) -> None:
    """A file's ARRAY / MAP / STRUCT columns are top-level columns of its schema (compaction reads them by
    name; a column it did not find would be rewritten as NULL)."""
    path = str(tmp_path / "rowset.parquet")
    conn = duckdb.connect()
    conn.execute(
        f"COPY (SELECT 1 AS a, [1, 2] AS b, {{'x': 1, 'y': [2]}} AS s, MAP([1], ['a']) AS m, 'z' AS c) TO '{path}'"
    )
    rows = conn.execute(
        f"SELECT file_name, name, num_children, type, converted_type, logical_type FROM parquet_schema('{path}')"
    ).fetchall()
    assert [name for name, _kind in _top_level(rows)[path]] == ["a", "b", "s", "m", "c"]
