-- dorisbk: query a backup in place with the snapshot(...) table function, without restoring it.
--
-- Run it statement by statement in the mysql client (mysql -h127.0.0.1 -P9030 -uroot),
-- or with `source examples/query_snapshot.sql`. A BACKUP runs in the background: where a
-- comment says "wait", repeat the SHOW BACKUP above it until State is FINISHED. snapshot(...)
-- needs the ADMIN privilege, as every backup statement (root has it).
--
-- snapshot("repository" = ..., "label" = ..., "table" = ...) answers as the table was at
-- backup time: its columns from the backup's metadata, its rows merged by its key model. Add
-- "backup_timestamp" to pick one backup of the label (default: the newest) and "partitions"
-- to read only some. Files are copied into a cache in the server's data dir and verified
-- against their md5 before they are read; snapshot_cache_capacity_bytes bounds the cache.

-- 1. A UNIQUE KEY table of accounts, backed up.
CREATE DATABASE IF NOT EXISTS example_bank;

CREATE TABLE example_bank.accounts (
    account_id BIGINT NOT NULL,
    owner      VARCHAR(32) NOT NULL,
    balance    DECIMAL(12, 2) NOT NULL
)
UNIQUE KEY(account_id)
DISTRIBUTED BY HASH(account_id) BUCKETS 2
PROPERTIES ("replication_num" = "1");

INSERT INTO example_bank.accounts VALUES (1, 'ada', 100.00), (2, 'grace', 250.00), (3, 'alan', 75.50);
-- an update before the backup: the backup holds both versions, and the query merges them
INSERT INTO example_bank.accounts VALUES (2, 'grace', 300.00);

CREATE REPOSITORY example_query_repo
WITH LOCAL
ON LOCATION "file:///tmp/dorisbk-query-example-repo";

BACKUP SNAPSHOT example_bank.accounts_nightly
TO example_query_repo;

-- wait: State FINISHED
SHOW BACKUP FROM example_bank WHERE SnapshotName = "accounts_nightly";

-- 2. Later, by mistake: an account deleted and a balance overwritten.
DELETE FROM example_bank.accounts WHERE account_id = 3;
INSERT INTO example_bank.accounts VALUES (1, 'ada', 0.00);

-- 3. The table as it was backed up: (1, ada, 100.00), (2, grace, 300.00), (3, alan, 75.50).
SELECT * FROM snapshot(
    "repository" = "example_query_repo",
    "label" = "accounts_nightly",
    "table" = "accounts"
) ORDER BY account_id;

-- 4. What changed since, next to the live table: account 1's balance, account 3 gone.
SELECT s.account_id, s.balance AS backed_up, a.balance AS now
FROM snapshot("repository" = "example_query_repo", "label" = "accounts_nightly", "table" = "accounts") s
LEFT JOIN example_bank.accounts a ON s.account_id = a.account_id
WHERE a.account_id IS NULL OR a.balance <> s.balance
ORDER BY s.account_id;

-- 5. Take back only those rows, no RESTORE needed.
INSERT INTO example_bank.accounts
SELECT s.*
FROM snapshot("repository" = "example_query_repo", "label" = "accounts_nightly", "table" = "accounts") s
LEFT JOIN example_bank.accounts a ON s.account_id = a.account_id
WHERE a.account_id IS NULL OR a.balance <> s.balance;

SELECT * FROM example_bank.accounts ORDER BY account_id;

-- A table the backup does not hold is refused with RESTORE's message, e.g. "table" = "loans":
--   ERROR 1105 (HY000): errCode = 2, detailMessage = Table loans does not exist in snapshot
--   accounts_nightly

-- 6. Clean up.
DROP SNAPSHOT accounts_nightly FROM example_query_repo;
DROP REPOSITORY example_query_repo;
DROP DATABASE example_bank;
