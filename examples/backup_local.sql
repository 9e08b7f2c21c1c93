-- dorisbk: back up a database to a LOCAL repository, the whole flow.
--
-- Run it statement by statement in the mysql client (mysql -h127.0.0.1 -P9030 -uroot),
-- or with `source examples/backup_local.sql`. A BACKUP runs in the background: where a
-- comment says "wait", repeat the SHOW BACKUP above it until State is FINISHED.
-- Every statement here needs the ADMIN privilege (root has it).
--
-- A LOCAL repository is a directory on this machine (or a mount): dorisbk's own extension,
-- with the same layout as Doris's S3 / HDFS repositories. Change the path to taste; the
-- directory is created if needed.

-- 1. Something to back up: a partitioned table, a plain table and a view.
CREATE DATABASE IF NOT EXISTS example_shop;

CREATE TABLE example_shop.orders (
    order_date DATE NOT NULL,
    order_id   BIGINT NOT NULL,
    customer   VARCHAR(32) NOT NULL,
    amount     DECIMAL(10, 2) NOT NULL
)
DUPLICATE KEY(order_date, order_id)
PARTITION BY RANGE(order_date) (
    PARTITION p2024_01 VALUES LESS THAN ("2024-02-01"),
    PARTITION p2024_02 VALUES LESS THAN ("2024-03-01")
)
DISTRIBUTED BY HASH(order_id) BUCKETS 2
PROPERTIES ("replication_num" = "1");

CREATE TABLE example_shop.customers (
    customer VARCHAR(32) NOT NULL,
    city     VARCHAR(32)
)
DUPLICATE KEY(customer)
DISTRIBUTED BY HASH(customer) BUCKETS 1
PROPERTIES ("replication_num" = "1");

INSERT INTO example_shop.orders VALUES
    ('2024-01-03', 1, 'ada', 12.50),
    ('2024-01-19', 2, 'grace', 7.25),
    ('2024-02-07', 3, 'ada', 30.00);
INSERT INTO example_shop.customers VALUES ('ada', 'London'), ('grace', 'Arlington');

CREATE VIEW example_shop.revenue AS
SELECT customer, sum(amount) AS total FROM example_shop.orders GROUP BY customer;

-- 2. The repository. CreateTime comes from its __repo_info file: creating a repository
--    over a directory that already holds one adopts it, and its snapshots show up.
CREATE REPOSITORY example_repo
WITH LOCAL
ON LOCATION "file:///tmp/dorisbk-example-repo";

SHOW REPOSITORIES;
SHOW CREATE REPOSITORY FOR example_repo;

-- 3. Back up the whole database (tables with their data, the view as metadata).
BACKUP SNAPSHOT example_shop.shop_full
TO example_repo
PROPERTIES ("timeout" = "3600");

-- State goes PENDING, SNAPSHOTING, UPLOAD_SNAPSHOT, UPLOADING, SAVE_META, UPLOAD_INFO, FINISHED.
-- wait
SHOW BACKUP FROM example_shop;

-- 4. The snapshot in the repository. The Timestamp column is what RESTORE asks for
--    ("backup_timestamp"); adding TIMESTAMP = '<that value>' to the WHERE shows the
--    Database and the Details of the snapshot as JSON.
SHOW SNAPSHOT ON example_repo;
SHOW SNAPSHOT ON example_repo WHERE SNAPSHOT = "shop_full";

-- 4b. Check the snapshot without restoring it: one row per partition, then a last row whose
--     Status is the verdict (OK or FAILED; Detail names the first problem). The default level
--     "files" makes sure every file is there with its size; "checksums" reads every file
--     through and verifies its md5; "rows" also reads every data file as Parquet and counts
--     its rows. Without "backup_timestamp" the newest backup of the label is checked.
ADMIN CHECK SNAPSHOT shop_full FROM example_repo;
ADMIN CHECK SNAPSHOT shop_full FROM example_repo PROPERTIES ("level" = "rows");

-- 5. Loads never wait for a backup: a running backup keeps the versions it snapshotted,
--    and rows that commit later go into the next backup.
INSERT INTO example_shop.orders VALUES ('2024-02-20', 4, 'grace', 99.00);

-- 6. Back up one partition of one table. Files that an earlier snapshot in the same
--    repository already holds are linked (LOCAL) or copied on the server (S3) instead of
--    being sent again, so backing up an unchanged table again is quick.
BACKUP SNAPSHOT example_shop.orders_january
TO example_repo
ON (orders PARTITION (p2024_01));

-- wait
SHOW BACKUP FROM example_shop WHERE SnapshotName = "orders_january";

-- Or everything but the customers table, keeping only table definitions:
BACKUP SNAPSHOT example_shop.shop_schema
TO example_repo
EXCLUDE (customers)
PROPERTIES ("content" = "metadata_only");

-- wait
SHOW BACKUP FROM example_shop WHERE SnapshotName LIKE "shop_%";

-- 7. Cancel a running backup. Uploads are throttled here only so that there is time to
--    cancel; the job ends CANCELLED with Status [COMMON_ERROR, msg: user cancelled], its
--    snapshots released. Whatever it had uploaded stays in the repository without an
--    info file: SHOW SNAPSHOT lists such a label as "ERROR: No info file found" (remove
--    it with DROP SNAPSHOT).
ADMIN SET FRONTEND CONFIG ("max_upload_speed_kbps" = "1");
BACKUP SNAPSHOT example_shop.shop_cancelled TO example_repo;
CANCEL BACKUP FROM example_shop;
ADMIN SET FRONTEND CONFIG ("max_upload_speed_kbps" = "0");
SHOW BACKUP FROM example_shop WHERE SnapshotName = "shop_cancelled";

-- 8. Clean up: drop snapshots (their files go) and the repository (its files stay).
DROP SNAPSHOT shop_schema FROM example_repo;
SHOW SNAPSHOT ON example_repo;
DROP REPOSITORY example_repo;
