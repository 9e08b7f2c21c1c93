"""Create a partitioned table, load a million rows with numbers(), and query them.

Start a server first (``make serve`` or ``dorisbk serve``), then:

    .venv/bin/python examples/load_and_query.py [--host 127.0.0.1] [--port 9030] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import time

import pymysql

TABLE = """
CREATE TABLE events (
    event_day  DATE NOT NULL COMMENT 'day of the event',
    event_id   BIGINT NOT NULL,
    user_id    INT NOT NULL,
    kind       VARCHAR(16) NOT NULL,
    amount     DECIMAL(12, 2) NULL
)
DUPLICATE KEY(event_day, event_id)
PARTITION BY RANGE(event_day) (
    PARTITION p2024_01 VALUES LESS THAN ("2024-02-01"),
    PARTITION p2024_02 VALUES LESS THAN ("2024-03-01"),
    PARTITION p2024_03 VALUES LESS THAN ("2024-04-01"),
    PARTITION p2024_04 VALUES LESS THAN ("2024-05-01"),
    PARTITION p2024_05 VALUES LESS THAN ("2024-06-01"),
    PARTITION p2024_06 VALUES LESS THAN ("2024-07-01"),
    PARTITION p2024_07 VALUES LESS THAN ("2024-08-01"),
    PARTITION p2024_08 VALUES LESS THAN ("2024-09-01")
)
DISTRIBUTED BY HASH(event_id) BUCKETS 8
PROPERTIES ("replication_num" = "1")
"""

LOAD = """
INSERT INTO events
SELECT date_add('2024-01-01', INTERVAL number % 244 DAY),
       number,
       number % 5000,
       CASE number % 4 WHEN 0 THEN 'view' WHEN 1 THEN 'click' WHEN 2 THEN 'cart' ELSE 'buy' END,
       (number % 10000) / 100
FROM numbers("number" = "{rows}")
"""

QUERIES = [
    ("rows per month", "SELECT date_format(event_day, '%Y-%m') AS month, count(*) AS events "
                       "FROM events GROUP BY month ORDER BY month"),
    ("revenue by kind", "SELECT kind, count(*) AS events, sum(amount) AS revenue FROM events "
                        "GROUP BY kind ORDER BY revenue DESC"),
    ("one day (reads one partition)", "SELECT count(*) AS events, count(DISTINCT user_id) AS users "
                                      "FROM events WHERE event_day = '2024-03-15'"),
    ("top users in June", "SELECT user_id, sum(amount) AS spent FROM events WHERE event_day >= '2024-06-01' "
                          "AND event_day < '2024-07-01' AND kind = 'buy' GROUP BY user_id ORDER BY spent DESC, "
                          "user_id LIMIT 5"),
]  # fmt: skip


def run(cur: pymysql.cursors.Cursor, sql: str) -> list[tuple]:
    cur.execute(sql)
    return list(cur.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9030)
    parser.add_argument("--user", default="root")
    parser.add_argument("--password", default="")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    conn = pymysql.connect(host=args.host, port=args.port, user=args.user, password=args.password, autocommit=True)
    with conn, conn.cursor() as cur:
        run(cur, "CREATE DATABASE IF NOT EXISTS example")
        run(cur, "USE example")
        run(cur, "DROP TABLE IF EXISTS events")
        run(cur, TABLE)

        started = time.monotonic()
        run(cur, LOAD.format(rows=args.rows))
        seconds = time.monotonic() - started
        count = run(cur, "SELECT count(*) FROM events")[0][0]
        print(f"loaded {count} rows in {seconds:.2f} s ({count / max(seconds, 1e-9):,.0f} rows/s)")

        print("\npartitions (name, visible version, rows):")
        cur.execute("SHOW PARTITIONS FROM events")
        names = [d[0] for d in cur.description]
        for row in cur.fetchall():
            part = dict(zip(names, row, strict=True))
            print(f"  {part['PartitionName']:10} v{part['VisibleVersion']}  {part['RowCount']:>8} rows")

        for title, sql in QUERIES:
            started = time.monotonic()
            result = run(cur, sql)
            print(f"\n{title} ({(time.monotonic() - started) * 1000:.0f} ms):")
            for row in result:
                print("  " + "  ".join(str(v) for v in row))

        print("\nEXPLAIN of the one-day query:")
        for (line,) in run(cur, "EXPLAIN " + QUERIES[2][1]):
            if "VOlapScanNode" in line or "partitions=" in line:
                print("  " + line.strip())


if __name__ == "__main__":
    main()
