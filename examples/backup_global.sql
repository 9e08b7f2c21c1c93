-- dorisbk: users, roles and grants into a repository and back, with BACKUP GLOBAL (Doris 4).
--
-- Run it statement by statement in the mysql client (mysql -h127.0.0.1 -P9030 -uroot),
-- or with `source examples/backup_global.sql`. Where a comment says "wait", repeat the
-- statement above it until it shows what the comment says; where it says "use", put the
-- value it names in the next statement. Every statement here needs the ADMIN privilege
-- (root has it).
--
-- BACKUP GLOBAL saves, for every user and role but the built-in root, admin and operator,
-- the statements that recreate it (passwords as their hashes) in the snapshot's __meta file.
-- RESTORE GLOBAL parses them again and replays only CREATE USER, CREATE ROLE and GRANT:
-- a missing user comes back whole, an existing one keeps its password and gains the grants.
-- The jobs are listed under the database __internal_schema.

-- 1. A database, a role that reads it, and a user that loads it and holds the role.
CREATE DATABASE IF NOT EXISTS example_global;

CREATE TABLE example_global.orders (
    order_id BIGINT NOT NULL,
    amount   DECIMAL(10, 2) NOT NULL
)
DUPLICATE KEY(order_id)
DISTRIBUTED BY HASH(order_id) BUCKETS 1
PROPERTIES ("replication_num" = "1");

CREATE ROLE example_reader;
GRANT SELECT_PRIV ON example_global.* TO ROLE 'example_reader';
CREATE USER 'example_loader'@'%' IDENTIFIED BY 'loader-password';
GRANT LOAD_PRIV ON example_global.* TO 'example_loader'@'%';
GRANT 'example_reader' TO 'example_loader'@'%';

CREATE REPOSITORY example_global_repo
WITH LOCAL
ON LOCATION "file:///tmp/dorisbk-global-example-repo";

-- 2. Save the users, roles and grants.
BACKUP GLOBAL SNAPSHOT accounts_20240521
TO example_global_repo
PROPERTIES ("backup_privilege" = "true");

-- wait: State FINISHED (DbName __internal_schema, BackupObjs [privilege])
SHOW BACKUP FROM __internal_schema WHERE SnapshotName = "accounts_20240521";

-- use: the Timestamp, as backup_timestamp below
SHOW SNAPSHOT ON example_global_repo WHERE SNAPSHOT = "accounts_20240521";

-- 3. An accident: the user and the role are dropped; example_loader can no longer log in.
DROP USER 'example_loader'@'%';
DROP ROLE example_reader;

-- 4. Bring them back.
RESTORE GLOBAL SNAPSHOT accounts_20240521
FROM example_global_repo
PROPERTIES
(
    "backup_timestamp" = "2024-05-21-10-00-00",
    "reserve_privilege" = "true"
);

-- wait: State FINISHED, Status [OK]
SHOW RESTORE FROM __internal_schema WHERE Label = "accounts_20240521";

-- example_loader logs in with loader-password again, loads and (through the role) reads:
-- Roles example_reader, DatabasePrivs internal.example_global: Load_priv
SHOW GRANTS FOR 'example_loader'@'%';

-- 5. Clean up.
DROP USER 'example_loader'@'%';
DROP ROLE example_reader;
DROP SNAPSHOT accounts_20240521 FROM example_global_repo;
DROP REPOSITORY example_global_repo;
DROP DATABASE example_global;
