"""Doris's functions, one entry each: how a call is written for DuckDB and what kind it answers.

The DorisBK dialect parses every name listed here as a plain call (``CALLS``), so the tree keeps
the name the user wrote; :mod:`dorisbk.engine.lowering` then replaces each call, arguments
first, by the DuckDB expression an entry builds. Entries coerce their arguments as Doris does
(a number where a string is wanted is its text, a string where a date is wanted is parsed, and
parses that fail give NULL) and follow Doris's conventions where DuckDB's differ: day numbering,
week modes, MySQL date formats, NULL handling of CONCAT and GREATEST, 0-on-miss positions.
Bitmaps and HLL sketches are evaluated exactly over sorted lists of distinct values.

Calls whose name Doris has and DuckDB answers the same way need no entry (``abs``, ``upper``...).
"""

from __future__ import annotations

from dorisbk.engine.functions import aggregates, arrays, dates, jsonb, numbers, scalars, sketches, strings
from dorisbk.engine.functions.catalog import FUNCTIONS, Call, Lowered, Lowering

__all__ = ["CALLS", "FUNCTIONS", "Call", "Lowered", "Lowering"]

# the families register their entries when imported
_FAMILIES = (aggregates, arrays, dates, jsonb, numbers, scalars, sketches, strings)

# the names the dialect leaves as plain calls, for the entries above to lower
CALLS = frozenset(FUNCTIONS)
