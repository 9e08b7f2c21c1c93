"""Planning overhead: what dorisbk adds to a query before DuckDB runs it, against DuckDB running the result.

    python -m bench.planning [--rows 200000] [--runs 30]

In one process: an Env on a temp data dir, the load_query benchmark's table (8 RANGE partitions,
16 buckets) loaded with ``--rows`` rows by its own INSERT. For each query, medians over ``--runs``:

* plan: parse (the DorisBK dialect) + allowlist check + Doris types and functions on the tree
  (``engine/lowering.py``) + scan planning + DuckDB SQL generation, i.e. ``QueryEngine.plan``;
* duckdb: the generated SQL alone on DuckDB (the same shared database and cursor kind, the scans'
  temporary views created once beforehand), fetched.

The ratio plan / duckdb says how much of a query's time is ours. Queries: the load_query
benchmark's aggregate and its derived-column SELECT, and Doris-function-heavy forms.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlglot

from bench.common import machine_line, say, table
from bench.load_query import DORIS_SELECT, create_table_sql
from dorisbk.backend import duck
from dorisbk.engine.dialect import DorisBK
from dorisbk.engine.result import SessionContext
from dorisbk.env import Config, Env
from dorisbk.sql.router import Router

QUERIES = {
    "load_query aggregate": (
        "SELECT c, count(*) AS n, sum(v1) AS s1, sum(v2) AS s2, min(d) AS d0, max(d) AS d1 "
        "FROM bench.t GROUP BY c ORDER BY c"
    ),
    "load_query derived SELECT": DORIS_SELECT.format(rows=1000),
    "pruned point lookup": "SELECT * FROM bench.t WHERE d = '2024-02-03' AND k = 12345",
    "date functions": (
        "SELECT date_format(d, '%Y-%m'), week(d, 1), dayofweek(d), days_add(d, 7), count(*) FROM bench.t "
        "WHERE d >= 20240301 AND d < '2024-05-01' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
    ),
    "string and json functions": (
        "SELECT substr(s, 2, 3), concat(s, '-', c), md5(k), get_json_string(concat('{\"a\":', c, '}'), '$.a') "
        "FROM bench.t WHERE c = '7' LIMIT 100"
    ),
}


def _median_s(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    say(machine_line())
    with tempfile.TemporaryDirectory(prefix="dorisbk-planning-") as tmp:
        env = Env(Config(data_dir=Path(tmp) / "data"))
        try:
            router = Router(env)
            ctx = SessionContext(user="root")
            for sql in ("CREATE DATABASE bench", create_table_sql()):
                router.route(ctx, sql) if router.handles(sql) else router.execute_expression(
                    ctx, sqlglot.parse_one(sql, read=DorisBK)
                )
            load = "INSERT INTO bench.t " + DORIS_SELECT.format(rows=args.rows)
            router.execute_expression(ctx, sqlglot.parse_one(load, read=DorisBK))
            rows = []
            engine = env.engine
            for name, sql in QUERIES.items():

                def plan(sql: str = sql) -> None:
                    planned = engine.plan(ctx, sqlglot.parse_one(sql, read=DorisBK))
                    engine.store.release(planned.files)

                planned = engine.plan(ctx, sqlglot.parse_one(sql, read=DorisBK))
                try:
                    with contextlib.closing(duck.cursor()) as cur:
                        planned.prepare(cur)  # the scans' views, made once as anyone running the SQL would
                        plan_s = _median_s(plan, args.runs)
                        duck_s = _median_s(lambda cur=cur, text=planned.sql: cur.execute(text).fetchall(), args.runs)
                finally:
                    engine.store.release(planned.files)
                rows.append((name, f"{plan_s * 1000:.2f}", f"{duck_s * 1000:.2f}", f"{plan_s / duck_s:.2f}x"))
            say(f"{args.rows} rows, {args.runs} runs each, medians")
            say(table(("query", "plan ms", "duckdb ms", "plan / duckdb"), rows))
        finally:
            env.close()


if __name__ == "__main__":
    main()
