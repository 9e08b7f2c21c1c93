"""Doris's math, aggregate and sketch functions as the engine lowers them (in process, no server): each case
is a statement from Doris's function suites with the value its .out file records."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from dorisbk.errors import DorisError
from tests.engine.test_functions import answer, db

pytestmark = pytest.mark.fast

__all__ = ["db"]

CASES: list[tuple[str, Any]] = [
    # math_functions/test_normal_cdf
    ("SELECT normal_cdf(0, 1, 1.96)", 0.9750021048517796),
    ("SELECT normal_cdf(-1.5, 2.1, -7.8)", 0.0013498980316301035),
    ("SELECT normal_cdf(0, -1, 1)", None),
    ("SELECT normal_cdf(0, 1, NULL)", None),
    # math_functions/test_math_unary_always_nullable
    ("SELECT acosh(1.1)", 0.4435682543851154),
    ("SELECT acosh(0.0)", None),
    ("SELECT atanh(1.0)", None),
    ("SELECT atanh(0.0)", 0.0),
    ("SELECT factorial(20)", 2432902008176640000),
    ("SELECT factorial(21)", None),
    ("SELECT factorial(-1)", None),
    ("SELECT factorial(CAST(5 AS BIGINT))", 120),
]


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_answer(db: duckdb.DuckDBPyConnection, sql: str, expected: Any) -> None:
    assert answer(db, sql) == expected


@pytest.mark.parametrize("sql", ["SELECT mod(-9223372036854775808, -1)", "SELECT pmod(-9223372036854775808, -1)"])
def test_smallest_bigint_modulo_minus_one(db: duckdb.DuckDBPyConnection, sql: str) -> None:
    with pytest.raises((DorisError, duckdb.Error), match="Division of minimal signed number by minus one"):
        answer(db, sql)
