-- dorisbk: snapshots that delete themselves, with BACKUP's "ttl" property.
--
-- Run it statement by statement in the mysql client (mysql -h127.0.0.1 -P9030 -uroot),
-- or with `source examples/backup_ttl.sql`. Where a comment says "wait", repeat the
-- statement above it until it shows what the comment says. Every statement here needs
-- the ADMIN privilege (root has it).
--
-- A snapshot backed up with "ttl" = "<n> <unit>" (SECOND, MINUTE, HOUR, DAY or WEEK,
-- singular or plural) expires at its timestamp plus n units. The expiry is written into the
-- snapshot's info file, so any server that reads the repository knows it; once it has
-- passed, the server deletes the snapshot in the background exactly as DROP SNAPSHOT does
-- (never while a restore is reading it, never in a READ ONLY repository). Snapshots
-- without a ttl stay until DROP SNAPSHOT.

-- 1. Something to back up, and a repository.
CREATE DATABASE IF NOT EXISTS example_ttl;

CREATE TABLE example_ttl.events (
    event_day DATE NOT NULL,
    event_id  BIGINT NOT NULL,
    kind      VARCHAR(16) NOT NULL
)
DUPLICATE KEY(event_day, event_id)
DISTRIBUTED BY HASH(event_id) BUCKETS 2
PROPERTIES ("replication_num" = "1");

INSERT INTO example_ttl.events VALUES
    ('2024-05-20', 1, 'login'),
    ('2024-05-20', 2, 'purchase'),
    ('2024-05-21', 3, 'login');

CREATE REPOSITORY example_ttl_repo
WITH LOCAL
ON LOCATION "file:///tmp/dorisbk-ttl-example-repo";

-- 2. A nightly backup kept for two weeks, and a baseline kept until dropped.
BACKUP SNAPSHOT example_ttl.events_20240521
TO example_ttl_repo
PROPERTIES ("ttl" = "14 DAYS");

-- wait: State FINISHED
SHOW BACKUP FROM example_ttl WHERE SnapshotName = "events_20240521";

BACKUP SNAPSHOT example_ttl.events_baseline
TO example_ttl_repo;

-- wait: State FINISHED
SHOW BACKUP FROM example_ttl WHERE SnapshotName = "events_baseline";

-- 3. When each snapshot expires (EXPIRE_TIME is NULL for the baseline: it never does).
--    SHOW SNAPSHOT ON example_ttl_repo WHERE SNAPSHOT = "events_20240521" AND
--    TIMESTAMP = "<its Timestamp>" shows the same time as "expire_time" in Details.
SELECT SNAPSHOT, TIMESTAMP, EXPIRE_TIME
FROM information_schema.repository_snapshots
WHERE REPOSITORY = 'example_ttl_repo'
ORDER BY SNAPSHOT;

-- 4. A scratch snapshot that lives one second. The server looks for expired snapshots every
--    snapshot_ttl_check_interval_ms (one minute by default) and once at start; check every
--    second here, to see it go.
ADMIN SET FRONTEND CONFIG ("snapshot_ttl_check_interval_ms" = "1000");

BACKUP SNAPSHOT example_ttl.events_scratch
TO example_ttl_repo
PROPERTIES ("ttl" = "1 SECOND");

-- wait: events_scratch is no longer listed (its directory in the repository is gone too)
SHOW SNAPSHOT ON example_ttl_repo;

-- A ttl that is not a positive integer and a unit is refused, e.g. "ttl" = "soon":
--   ERROR 1105 (HY000): errCode = 2, detailMessage = Invalid backup job ttl: soon. It should
--   be a positive integer and a unit (SECOND, MINUTE, HOUR, DAY or WEEK), e.g. "7 DAY"

-- 5. Clean up.
ADMIN SET FRONTEND CONFIG ("snapshot_ttl_check_interval_ms" = "60000");
DROP SNAPSHOT events_20240521 FROM example_ttl_repo;
DROP SNAPSHOT events_baseline FROM example_ttl_repo;
DROP REPOSITORY example_ttl_repo;
DROP DATABASE example_ttl;
