-- dorisbk quickstart: pipe into the mysql client
--   mysql -h127.0.0.1 -P9030 -uroot < examples/quickstart.sql

CREATE DATABASE IF NOT EXISTS quickstart;
USE quickstart;

DROP TABLE IF EXISTS sales;
CREATE TABLE sales (
    sale_date DATE NOT NULL COMMENT 'day of the sale',
    shop_id   INT NOT NULL,
    item      VARCHAR(32) NOT NULL,
    amount    DECIMAL(10, 2) NOT NULL DEFAULT "0"
)
DUPLICATE KEY(sale_date, shop_id)
PARTITION BY RANGE(sale_date) (
    PARTITION p2024_01 VALUES LESS THAN ("2024-02-01"),
    PARTITION p2024_02 VALUES LESS THAN ("2024-03-01"),
    PARTITION p2024_03 VALUES LESS THAN ("2024-04-01")
)
DISTRIBUTED BY HASH(shop_id) BUCKETS 4
PROPERTIES ("replication_num" = "1");

INSERT INTO sales VALUES
    ('2024-01-05', 1, 'apple', 3.50),
    ('2024-01-17', 2, 'pear', 2.25),
    ('2024-02-02', 1, 'apple', 7.00),
    ('2024-03-30', 3, 'plum', 1.10);

-- a thousand more rows in one statement, generated the Doris way
INSERT INTO sales
SELECT date_add('2024-01-01', INTERVAL number % 90 DAY), number % 10, 'generated', number / 100
FROM numbers("number" = "1000");

SHOW PARTITIONS FROM sales;
SELECT count(*) AS row_count, sum(amount) AS total FROM sales;
SELECT item, count(*) AS sales, sum(amount) AS amount FROM sales GROUP BY item ORDER BY amount DESC LIMIT 5;
EXPLAIN SELECT sum(amount) FROM sales WHERE sale_date >= '2024-03-01';

CREATE VIEW IF NOT EXISTS sales_per_month AS
SELECT date_format(sale_date, '%Y-%m') AS month, sum(amount) AS amount FROM sales GROUP BY 1;
SELECT * FROM sales_per_month ORDER BY month;
