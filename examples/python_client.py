"""Back up and restore a table from Python with PyMySQL, the way a Doris user would.

Start a server first (``make serve`` or ``dorisbk serve``), then:

    .venv/bin/python examples/python_client.py [--host 127.0.0.1] [--port 9030] [--repo-dir /tmp/dorisbk_py_repo]

It creates ``py_example.orders``, loads a few rows with parameters (PyMySQL escapes them),
creates a local repository, backs the table up, waits for the job, restores the snapshot
as ``orders_restored`` and compares the two tables.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pymysql

DB = "py_example"
REPO = "py_example_repo"


def wait(cur: pymysql.cursors.DictCursor, show: str, label_column: str, label: str, timeout: float = 120.0) -> dict:
    """Poll SHOW BACKUP / SHOW RESTORE until the job with this label has ended."""
    deadline = time.monotonic() + timeout
    while True:
        cur.execute(f'{show} FROM {DB} WHERE {label_column} = "{label}"')
        job = cur.fetchall()[-1]
        if job["State"] in ("FINISHED", "CANCELLED"):
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"{show} {label}: still {job['State']}")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9030)
    parser.add_argument("--user", default="root")
    parser.add_argument("--password", default="")
    parser.add_argument("--repo-dir", type=Path, default=Path("/tmp/dorisbk_py_repo"))
    args = parser.parse_args()

    conn = pymysql.connect(host=args.host, port=args.port, user=args.user, password=args.password, autocommit=True)
    with conn, conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute("SELECT @@version_comment AS server")
        print("connected to", cur.fetchone()["server"])

        cur.execute(f"DROP DATABASE IF EXISTS {DB} FORCE")
        cur.execute(f"CREATE DATABASE {DB}")
        cur.execute(
            f"CREATE TABLE {DB}.orders (order_id BIGINT, customer VARCHAR(64), amount DECIMAL(10, 2)) "
            "UNIQUE KEY(order_id) DISTRIBUTED BY HASH(order_id) BUCKETS 2"
        )
        rows = [(1, "Alice", "12.50"), (2, "Bob's Burgers", "7.25"), (3, 'Carol "CJ" Jones', "100.00")]
        cur.executemany(f"INSERT INTO {DB}.orders VALUES (%s, %s, %s)", rows)

        cur.execute("SHOW REPOSITORIES")
        if REPO not in {r["RepoName"] for r in cur.fetchall()}:
            cur.execute(f'CREATE REPOSITORY {REPO} WITH LOCAL ON LOCATION "file://{args.repo_dir.resolve()}"')

        label = f"orders_{int(time.time())}"
        cur.execute(f"BACKUP SNAPSHOT {DB}.{label} TO {REPO} ON (orders)")
        job = wait(cur, "SHOW BACKUP", "SnapshotName", label)
        print("backup", label, job["State"], job["Status"])

        cur.execute(f'SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT = "{label}"')
        timestamp = cur.fetchone()["Timestamp"]
        cur.execute(
            f"RESTORE SNAPSHOT {DB}.{label} FROM {REPO} ON (orders AS orders_restored) "
            f'PROPERTIES ("backup_timestamp" = "{timestamp}", "replication_num" = "1")'
        )
        job = wait(cur, "SHOW RESTORE", "Label", label)
        print("restore", label, job["State"], job["Status"])

        cur.execute(f"SELECT * FROM {DB}.orders ORDER BY order_id")
        original = cur.fetchall()
        cur.execute(f"SELECT * FROM {DB}.orders_restored ORDER BY order_id")
        restored = cur.fetchall()
        for row in restored:
            print(row)
        print("restored table matches:", original == restored)


if __name__ == "__main__":
    main()
