"""A metadata row's JSON is the same text whether a large container is encoded in chunks or at once, so a
row written before the chunking (or read by another tool) parses to the same object."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dorisbk.meta.store import ENCODE_CHUNK, encode

BIG = ENCODE_CHUNK * 3 + 7


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"empty": [], "none": None, "nested": {}},
        {"keys": {2: "int", True: "bool", None: "null", 1.5: [1, {"x": None}]}},
        {"ids": list(range(BIG)), "keys": {2: "int", True: "bool", None: "null", 1.5: [1, {"x": None}]}},
        {"snapshots": {str(10_000 + i): [["1_0.parquet", "0" * 32, 700, 1]] for i in range(BIG)}},
        {"ids": list(range(BIG)), "deep": {"deeper": {"rows": [[i, str(i)] for i in range(BIG)]}}},
        {"by_int": {i: {"v": i} for i in range(BIG)}, "text": 'quote " and \\ and é'},
    ],
)
def test_chunked_encoding_is_the_one_call_text(body: dict[str, Any]) -> None:
    assert encode(body) == json.dumps(body, separators=(",", ":"), default=str)
    assert json.loads(encode(body)) == json.loads(json.dumps(body, default=str))
