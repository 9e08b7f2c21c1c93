-- dorisbk: scheduled backups with Doris's job scheduler (CREATE JOB ... DO BACKUP ...).
--
-- Run it statement by statement in the mysql client (mysql -h127.0.0.1 -P9030 -uroot),
-- or with `source examples/backup_schedule.sql`. Where a comment says "wait", repeat the
-- statement above it until it shows what the comment says. Every statement here needs
-- the ADMIN privilege (root has it).
--
-- A job runs its BACKUP at STARTS, STARTS + interval, ... (without STARTS: one interval after
-- it is created). Each run backs up to its own snapshot, labelled with the job's label and the
-- run time, <label>_yyyyMMdd_HHmmss, in the server's time zone. A run that finds the database
-- busy with another BACKUP or RESTORE is SKIPPED; runs missed while the server was down become
-- one run when it starts. Jobs survive restarts.

-- 1. Something to back up, and a repository.
CREATE DATABASE IF NOT EXISTS example_sched;

CREATE TABLE example_sched.orders (
    order_day DATE NOT NULL,
    order_id  BIGINT NOT NULL,
    amount    DECIMAL(10, 2) NOT NULL
)
DUPLICATE KEY(order_day, order_id)
DISTRIBUTED BY HASH(order_id) BUCKETS 2
PROPERTIES ("replication_num" = "1");

INSERT INTO example_sched.orders VALUES
    ('2024-05-20', 1, 19.90),
    ('2024-05-21', 2, 5.00);

CREATE REPOSITORY example_sched_repo
WITH LOCAL
ON LOCATION "file:///tmp/dorisbk-schedule-example-repo";

-- 2. A nightly backup at 02:00, the way it is meant to be used.
CREATE JOB example_nightly
ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 02:00:00'
COMMENT 'nightly backup of example_sched'
DO BACKUP SNAPSHOT example_sched.nightly TO example_sched_repo;

-- 3. To see runs now: intervals in seconds are for tests only, as in Doris (the shortest
--    interval is otherwise one minute), so allow them first.
ADMIN SET FRONTEND CONFIG ("enable_job_schedule_second_for_test" = "true");

CREATE JOB example_demo
ON SCHEDULE EVERY 5 SECOND
DO BACKUP SNAPSHOT example_sched.demo TO example_sched_repo ON (orders);

-- The jobs: RecurringStrategy shows when they run, the counters what their runs did.
SELECT Name, Status, RecurringStrategy, ExecuteSql, SucceedTaskCount, FailedTaskCount, CanceledTaskCount
FROM jobs("type" = "backup");

-- wait: a run of example_demo with Status SUCCESS (its label is demo_<run time>)
SELECT Label, Status, ErrorMsg, CreateTime, FinishTime
FROM tasks("type" = "backup")
WHERE JobName = 'example_demo';

-- Each successful run is a snapshot, which RESTORE takes as any other.
SHOW SNAPSHOT ON example_sched_repo;

-- 4. Pause: no run until RESUME (runs missed meanwhile are not made up).
PAUSE JOB WHERE jobName = 'example_demo';

SELECT Name, Status FROM jobs("type" = "backup") WHERE Name = 'example_demo';

RESUME JOB WHERE jobName = 'example_demo';

-- 5. Clean up. The snapshots the runs made stay in the repository's directory.
DROP JOB WHERE jobName = 'example_demo';
DROP JOB WHERE jobName = 'example_nightly';

-- wait: the last backup's State is FINISHED (a run may have been under way)
SHOW BACKUP FROM example_sched;

ADMIN SET FRONTEND CONFIG ("enable_job_schedule_second_for_test" = "false");
DROP REPOSITORY example_sched_repo;
DROP DATABASE example_sched;
