"""Everyday Doris statements answered as Doris answers them, through a real server: implicit casts typed
by the table's columns, Doris's functions, session time zones and user variables, and string literals
that reach the data byte for byte. The mysql CLI shows the same answers as text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import expect_error, mysql_cli, one, rows

TRICKY = "moved FROM x PARTITION p1 today; -- not a comment, 'quoted' ? :x"


@pytest.fixture(scope="module")
def conn(server: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    c = pymysql.connect(host="127.0.0.1", port=server.port, user="root", autocommit=True)
    for sql in (
        "CREATE DATABASE fn",
        "USE fn",
        "CREATE TABLE t (k BIGINT, d DATE, ts DATETIME, s VARCHAR(100), j STRING) DUPLICATE KEY(k) "
        "PARTITION BY RANGE(d) (PARTITION p1 VALUES LESS THAN ('2024-03-01'), "
        "PARTITION p2 VALUES LESS THAN MAXVALUE) "
        "DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ('replication_num' = '1')",
        "INSERT INTO t VALUES (1, '2024-03-05', '2024-03-05 10:00:00', '"
        + TRICKY.replace("'", "''")
        + "', '{\"a\": 7}'), (2, '2024-02-01', '2024-02-01 23:59:59', '42', '{\"a\": \"x\"}'), "
        "(NULL, NULL, NULL, NULL, NULL)",
    ):
        rows(c, sql)
    yield c
    c.close()


def test_string_literals_reach_the_data_byte_for_byte(conn: pymysql.connections.Connection) -> None:
    assert one(conn, "SELECT s FROM t WHERE k = 1") == TRICKY


def test_implicit_casts_follow_the_columns_types(conn: pymysql.connections.Connection) -> None:
    assert rows(conn, "SELECT k FROM t WHERE k = '2'") == [(2,)]
    assert rows(conn, "SELECT k FROM t WHERE d >= 20240301") == [(1,)]
    assert rows(conn, "SELECT k FROM t WHERE ts < '2024-02-02'") == [(2,)]
    assert rows(conn, "SELECT s + 1 FROM t WHERE k = 2") == [(43.0,)]
    assert rows(conn, "SELECT md5(k), substr(k * 12345, 2, 2) FROM t WHERE k = 1") == [
        ("c4ca4238a0b923820dcc509a6f75849b", "23")
    ]
    assert one(conn, "SELECT count(*) FROM t WHERE now() - INTERVAL 1 DAY > ts") == 2


def test_date_functions_keep_a_date_a_date(conn: pymysql.connections.Connection) -> None:
    assert rows(conn, "SELECT days_add(d, 1), date_sub(d, INTERVAL 1 DAY), last_day(d) FROM t WHERE k = 2") == [
        (dt.date(2024, 2, 2), dt.date(2024, 1, 31), dt.date(2024, 2, 29))
    ]
    assert rows(conn, "SELECT days_add(ts, 1), hours_add(d, 1) FROM t WHERE k = 2") == [
        (dt.datetime(2024, 2, 2, 23, 59, 59), dt.datetime(2024, 2, 1, 1, 0))
    ]
    assert rows(conn, "SELECT dayofweek(d), weekday(d), week(d, 1), yearweek(d) FROM t WHERE k = 1") == [
        (3, 1, 10, 202409)
    ]


def test_functions_that_doris_has(conn: pymysql.connections.Connection) -> None:
    assert rows(conn, "SELECT get_json_int(j, '$.a'), get_json_string(j, '$.a') FROM t ORDER BY k") == [
        (None, None),
        (7, "7"),
        (None, "x"),
    ]
    assert rows(
        conn, "SELECT ndv(k), percentile(k, 0.5), group_concat(CAST(k AS STRING) ORDER BY k SEPARATOR '|') FROM t"
    ) == [(2, 1.5, "1|2")]
    assert one(conn, "SELECT money_format(1234567.891)") == "1,234,567.89"
    assert one(conn, "SELECT element_at([10, 20, 30], 1)") == 10
    assert one(conn, "SELECT array_distinct([3, 1, 3])") == "[3, 1]"


def test_non_strict_casts_and_null_order(conn: pymysql.connections.Connection) -> None:
    assert rows(  # LARGEINT comes as text, as Doris sends it
        conn, "SELECT CAST('abc' AS INT), CAST('2024-13-45' AS DATE), CAST(k AS LARGEINT) FROM t WHERE k = 2"
    ) == [(None, None, "2")]
    assert [r[0] for r in rows(conn, "SELECT k FROM t ORDER BY k")] == [None, 1, 2]


def test_a_value_its_column_can_not_hold_under_and_without_strict_inserts(
    conn: pymysql.connections.Connection,
) -> None:
    """enable_insert_strict (the default) fails the load at a value its column can not take, in Doris's
    words and with nothing loaded; without it the value is NULL and the row is loaded, as Doris loads it; a
    NOT NULL column still refuses the NULL."""
    rows(conn, "CREATE TABLE scale_readings (k INT, at DATETIME(3), kg DECIMAL(9, 3), n INT NOT NULL) DUPLICATE KEY(k) "
               "DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')")  # fmt: skip
    message = expect_error(conn, "INSERT INTO scale_readings VALUES (1, 'soon', '2.5', 1), (2, NULL, NULL, 2)", 1105)
    assert message.startswith("errCode = 2, detailMessage = Insert has filtered data in strict mode. "), message
    assert "soon" in message
    assert rows(conn, "SELECT count(*) FROM scale_readings") == [(0,)]
    rows(conn, "SET enable_insert_strict = false")
    try:
        rows(
            conn,
            "INSERT INTO scale_readings VALUES (1, 'soon', 'heavy', '7'), (2, '2024-05-01 10:00:00.1234', '2.5', 8)",
        )
        expect_error(
            conn, "INSERT INTO scale_readings VALUES (3, NULL, NULL, 'many')", 1105, "null value for not null column"
        )
    finally:
        rows(conn, "SET enable_insert_strict = true")
    assert rows(conn, "SELECT k, at, kg, n FROM scale_readings ORDER BY k") == [
        (1, None, None, 7),
        (2, dt.datetime(2024, 5, 1, 10, 0, 0, 123000), Decimal("2.500"), 8),
    ]


def test_unknown_function_in_dorises_words(conn: pymysql.connections.Connection) -> None:
    expect_error(conn, "SELECT no_such_function(1)", 1105, "Can not found function 'no_such_function'")
    assert one(conn, "SELECT 1") == 1  # the connection goes on


def test_xpath_string_over_a_column_and_its_errors_in_dorises_words(conn: pymysql.connections.Connection) -> None:
    """Over rows of XML text; a text that is no XML fails the query with Doris's message alone (not the
    words DuckDB puts around an exception of a Python function), and the connection goes on."""
    rows(conn, "CREATE TABLE xml_docs (k INT, doc STRING) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 "
            "PROPERTIES ('replication_num' = '1')")  # fmt: skip
    rows(conn, """INSERT INTO xml_docs VALUES (1, '<o><id>7</id><to>Bergen</to></o>'), (2, '<o><to>Oslo</to></o>'),
               (3, NULL)""")  # fmt: skip
    assert rows(conn, "SELECT k, xpath_string(doc, '/o/to'), xpath_string(doc, 'count(/o/*)') FROM xml_docs "
                      "ORDER BY k") == [(1, "Bergen", "2"), (2, "Oslo", "1"), (3, None, None)]  # fmt: skip
    message = expect_error(conn, "SELECT xpath_string('wrong xml', '//a')", 1105)
    assert message == (
        "errCode = 2, detailMessage = Function xpath_string failed to parse XML string: No document element found"
    )
    assert one(conn, "SELECT 1") == 1


def test_time_zone_drives_unix_time(server: DorisbkServer) -> None:
    c = pymysql.connect(host="127.0.0.1", port=server.port, user="root", autocommit=True)
    try:
        assert one(c, "SELECT from_unixtime(0)") == "1970-01-01 00:00:00"
        rows(c, "SET time_zone = 'Asia/Shanghai'")
        assert one(c, "SELECT from_unixtime(0)") == "1970-01-01 08:00:00"
        assert one(c, "SELECT unix_timestamp('1970-01-01 08:00:01')") == 1
        assert one(c, "SELECT convert_tz('2024-01-01 00:00:00', 'Asia/Shanghai', 'UTC')") == dt.datetime(
            2023, 12, 31, 16
        )
        rows(c, "SET time_zone = '-08:00'")
        assert one(c, "SELECT from_unixtime(0, '%Y-%m-%d %H')") == "1969-12-31 16"
    finally:
        c.close()


def test_user_variables(server: DorisbkServer) -> None:
    c = pymysql.connect(host="127.0.0.1", port=server.port, user="root", database="fn", autocommit=True)
    other = pymysql.connect(host="127.0.0.1", port=server.port, user="root", autocommit=True)
    try:
        rows(c, "SET @a = 1")
        rows(c, "SET @B = (SELECT max(k) FROM t)")
        assert rows(c, "SELECT @a, @b + 1, @unset") == [(1, 3, None)]
        assert rows(c, "SELECT k FROM t WHERE k = @b") == [(2,)]
        assert [r[0] for r in rows(c, "SELECT @last := k FROM t WHERE k IS NOT NULL ORDER BY k")] == [1, 2]
        assert one(c, "SELECT @last") == 2
        assert one(other, "SELECT @a") is None  # each connection has its own
    finally:
        c.close()
        other.close()


def test_mysql_cli_shows_the_same_answers(server: DorisbkServer, conn: pymysql.connections.Connection) -> None:
    sql = "SELECT md5(1), substr(12345, 2, 2), days_add(d, 1), from_unixtime(0, '%Y') FROM t WHERE k = 2;\n"
    out = mysql_cli(server.port, sql, database="fn")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[1].split("\t") == ["c4ca4238a0b923820dcc509a6f75849b", "23", "2024-02-02", "1970"]


def test_array_map_bitmap_and_hll_columns(conn: pymysql.connections.Connection) -> None:
    rows(
        conn,
        "CREATE TABLE nested (k INT, a ARRAY<INT(11)>, m MAP<STRING, INT>) DUPLICATE KEY(k) "
        "DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    )
    rows(conn, "INSERT INTO nested VALUES (1, [1, 2, 3], {'x': 1}), (2, [3, NULL], NULL)")
    assert rows(conn, "SELECT k, a, m, size(a), a[1], element_at(m, 'x') FROM nested ORDER BY k") == [
        (1, "[1, 2, 3]", '{"x":1}', 3, 1, 1),
        (2, "[3, null]", None, 2, 3, None),
    ]
    assert rows(conn, "SELECT k FROM nested WHERE array_contains(a, 2)") == [(1,)]
    assert [(r[0], r[1]) for r in rows(conn, "DESC nested")] == [
        ("k", "INT"),
        ("a", "ARRAY<INT>"),
        ("m", "MAP<STRING, INT>"),
    ]
    rows(
        conn,
        "CREATE TABLE tags (u BIGINT, b BITMAP BITMAP_UNION, h HLL HLL_UNION) AGGREGATE KEY(u) "
        "DISTRIBUTED BY HASH(u) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    )
    rows(
        conn, "INSERT INTO tags VALUES (1, to_bitmap(5), hll_hash('a')), (1, bitmap_from_string('7,9'), hll_hash('b'))"
    )
    rows(conn, "INSERT INTO tags VALUES (2, bitmap_empty(), hll_empty()), (1, to_bitmap(5), hll_hash('a'))")
    assert rows(conn, "SELECT u, bitmap_to_string(b), bitmap_count(b), hll_cardinality(h) FROM tags ORDER BY u") == [
        (1, "5,7,9", 3, 2),
        (2, "", 0, 0),
    ]
    assert rows(conn, "SELECT bitmap_union_count(b), hll_union_agg(h) FROM tags") == [(3, 2)]


def test_collections_print_float_and_millisecond_elements_as_declared(conn: pymysql.connections.Connection) -> None:
    rows(
        conn,
        "CREATE TABLE readings (k INT, f FLOAT) DUPLICATE KEY(k) "
        "DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    )
    rows(conn, "INSERT INTO readings VALUES (1, 0.1), (2, 2.5), (3, NULL)")
    assert one(conn, "SELECT collect_list(f) FROM (SELECT f FROM readings ORDER BY k) AS r") == "[0.1, 2.5]"
    assert one(conn, "SELECT map('x', f) FROM readings WHERE k = 1") == '{"x":0.1}'
    assert one(conn, "SELECT array(CAST('2024-01-01 10:00:00.120' AS DATETIME(3)))") == '["2024-01-01 10:00:00.120"]'


def test_datetime_columns_keep_their_precision(conn: pymysql.connections.Connection) -> None:
    rows(
        conn,
        "CREATE TABLE stamps (k INT, t0 DATETIME, t3 DATETIME(3), t6 DATETIME(6)) DUPLICATE KEY(k) "
        "DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    )
    moment = "'2024-01-01 10:00:00.123756'"
    rows(conn, f"INSERT INTO stamps VALUES (1, {moment}, {moment}, {moment})")
    assert rows(conn, "SELECT t0, t3, t6 FROM stamps") == [
        (
            dt.datetime(2024, 1, 1, 10, 0, 0),
            dt.datetime(2024, 1, 1, 10, 0, 0, 124000),
            dt.datetime(2024, 1, 1, 10, 0, 0, 123756),
        )
    ]


def test_hashes_json_search_and_enumerations(conn: pymysql.connections.Connection) -> None:
    rows(
        conn,
        "CREATE TABLE visits (k INT, city VARCHAR(20), doc STRING) DUPLICATE KEY(k) "
        "DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    )
    rows(
        conn,
        """INSERT INTO visits VALUES (1, 'Oslo', '{"tags": ["red", {"alt": "rose"}], "n": 3}'), """
        """(2, 'Lima', '["ruby", "navy"]'), (3, 'Oslo', NULL), (4, NULL, '{"tags": []}')""",
    )
    assert rows(
        conn,
        "SELECT k, json_search(doc, 'one', 'r%'), json_search(doc, 'all', 'r%'), json_search(doc, 'all', '____') "
        "FROM visits ORDER BY k",
    ) == [
        (1, '"$.tags[0]"', '["$.tags[1].alt","$.tags[0]"]', '"$.tags[1].alt"'),
        (2, '"$[0]"', '"$[0]"', '["$[1]","$[0]"]'),
        (3, None, None, None),
        (4, None, None, None),
    ]
    expect_error(conn, "SELECT json_search(doc, 'some', 'r%') FROM visits", 1105, "is not 'one' not 'all'")
    assert rows(conn, "SELECT count_by_enum(city) FROM visits") == [
        ('[{"cbe":{"Lima":1,"Oslo":2},"notnull":3,"null":1,"all":4}]',)
    ]
    assert rows(
        conn,
        "SELECT crc32(city), murmur_hash3_32(city), murmur_hash3_64(city), bitmap_to_string(bitmap_hash(city)), "
        "bitmap_to_string(bitmap_hash64(city)) FROM visits WHERE k = 2",
    ) == [(1567001618, -1318496624, 243428707173941265, "2976470672", "243428707173941265")]
    assert one(conn, "SELECT array_enumerate_uniq([5, 6, 5, 5], ['x', 'x', 'y', 'x'])") == "[1, 1, 1, 2]"
    rows(
        conn,
        "CREATE TABLE audiences (tag VARCHAR(10), day INT, users BITMAP BITMAP_UNION) AGGREGATE KEY(tag, day) "
        "DISTRIBUTED BY HASH(tag) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    )
    rows(
        conn,
        "INSERT INTO audiences VALUES ('a', 1, bitmap_from_string('1,2,3')), ('a', 2, bitmap_from_string('9')), "
        "('b', 1, bitmap_from_string('2,3,4,9')), ('c', 1, bitmap_from_string('3'))",
    )
    assert rows(
        conn,
        "SELECT intersect_count(users, tag, 'a', 'b'), orthogonal_bitmap_intersect_count(users, tag, 'a', 'b', 'c'), "
        "bitmap_to_string(orthogonal_bitmap_intersect(users, tag, 'a', 'b')), orthogonal_bitmap_union_count(users) "
        "FROM audiences",
    ) == [(3, 1, "2,3,9", 5)]


def test_group_concat_orders_and_separates_as_doris(conn: pymysql.connections.Connection) -> None:
    rows(
        conn,
        "CREATE TABLE stops (k INT, route VARCHAR(5), seq INT, stop VARCHAR(10)) DUPLICATE KEY(k) "
        "DISTRIBUTED BY HASH(k) BUCKETS 3 PROPERTIES ('replication_num' = '1')",
    )
    rows(
        conn,
        "INSERT INTO stops VALUES (1, 'r1', 3, 'Quay'), (2, 'r1', 1, 'Dock'), (3, 'r1', 2, 'Mill'), "
        "(4, 'r2', 2, 'Dock'), (5, 'r2', 1, 'Dock'), (6, 'r2', 3, NULL)",
    )
    assert rows(
        conn,
        "SELECT route, group_concat(stop ORDER BY seq), group_concat(stop, '>' ORDER BY seq DESC), "
        "group_concat(DISTINCT stop ORDER BY stop DESC SEPARATOR '/') FROM stops GROUP BY route ORDER BY route",
    ) == [("r1", "Dock,Mill,Quay", "Quay>Mill>Dock", "Quay/Mill/Dock"), ("r2", "Dock,Dock", "Dock>Dock", "Dock")]


def test_json_columns_keep_dorises_text_and_refuse_what_is_not_json(conn: pymysql.connections.Connection) -> None:
    rows(
        conn,
        "CREATE TABLE parcels (k INT, label JSON, meta JSONB) DUPLICATE KEY(k) "
        "DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ('replication_num' = '1')",
    )
    assert rows(conn, "DESC parcels")[1][:2] == ("label", "JSON")
    assert rows(conn, "DESC parcels")[2][:2] == ("meta", "JSON")
    rows(
        conn,
        """INSERT INTO parcels VALUES (1, ' { "to" : "Bergen", "kg" : 2.50, "via" : [ 3, 1 ] } ', '"fragile"'), """
        """(2, '18446744073709551615', '[true, null, -0.5]'), (3, NULL, 'null')""",
    )
    rows(conn, """INSERT INTO parcels SELECT 4, json_object('to', 'Tromsø', 'kg', 7), 9""")
    # a text that is not JSON as Doris reads it fails the load under enable_insert_strict (the default) ...
    for bad in ("''", "'Bergen'", """'{"kg": 2,}'""", "'[NaN]'"):
        expect_error(
            conn, f"INSERT INTO parcels VALUES (9, {bad}, NULL)", 1105, "Insert has filtered data in strict mode"
        )
    # ... and leaves its row out without it
    rows(conn, "SET enable_insert_strict = false")
    try:
        rows(conn, """INSERT INTO parcels VALUES (5, 'not json', '{}'), (6, '{"to": "Oslo"}', '[1,]')""")
        rows(conn, """INSERT INTO parcels VALUES (7, '[ "ok" ]', NULL)""")
    finally:
        rows(conn, "SET enable_insert_strict = true")
    assert rows(conn, "SELECT k, label, meta FROM parcels ORDER BY k") == [
        (1, '{"to":"Bergen","kg":2.5,"via":[3,1]}', '"fragile"'),
        (2, "18446744073709551615", "[true,null,-0.5]"),
        (3, None, "null"),
        (4, '{"to":"Tromsø","kg":7}', "9"),
        (7, '["ok"]', None),
    ]
    assert rows(conn, "SELECT json_extract(label, '$.via[last]'), jsonb_type(meta, '$') FROM parcels WHERE k = 1") == [
        ("1", "string")
    ]


def test_json_set_insert_replace_and_remove(conn: pymysql.connections.Connection) -> None:
    rows(
        conn,
        "CREATE TABLE carts (k INT, doc JSON, p VARCHAR(20), qty INT, seen DATETIME) DUPLICATE KEY(k) "
        "DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    )
    rows(
        conn,
        """INSERT INTO carts VALUES (1, '{"items": [{"sku": "a1", "n": 1}], "owner": "ida"}', '$.owner', 3, """
        """'2024-05-01 09:30:00'), (2, '[10, 20]', '$[1]', NULL, NULL), (3, NULL, '$.x', 1, NULL)""",
    )
    assert rows(
        conn,
        "SELECT k, json_set(doc, '$.items[0].n', qty, '$.seen', seen), json_insert(doc, '$.items[1]', 'b2', "
        "'$.owner', 'bo'), json_replace(doc, '$.owner', NULL, '$.missing', 1) FROM carts ORDER BY k",
    ) == [
        (
            1,
            '{"items":[{"sku":"a1","n":3}],"owner":"ida","seen":"2024-05-01 09:30:00"}',
            '{"items":[{"sku":"a1","n":1},"b2"],"owner":"ida"}',
            '{"items":[{"sku":"a1","n":1}],"owner":null}',
        ),
        (2, "[10,20]", "[10,20]", "[10,20]"),
        (3, None, None, None),
    ]
    # paths read from a column; each path of json_remove works on what the one before left
    assert rows(conn, "SELECT k, json_remove(doc, p), json_remove(doc, '$[0]', '$[0]') FROM carts ORDER BY k") == [
        (1, '{"items":[{"sku":"a1","n":1}]}', '{"items":[{"sku":"a1","n":1}],"owner":"ida"}'),
        (2, "[10]", "[]"),
        (3, None, None),
    ]
    assert one(conn, """SELECT jsonb_set('{"k": [1]}', '$.k[3]', CAST('{"deep": true}' AS JSON))""") == (
        '{"k":[1,{"deep":true}]}'
    )
    expect_error(conn, "SELECT json_set(doc, '$.items[*]', 1) FROM carts", 1105, "may not contain the * and **")
    expect_error(conn, "SELECT json_remove(doc, concat(p, '.')) FROM carts", 1105, "Invalid Json Path for value: $.")
    expect_error(conn, "SELECT jsonb_remove(doc, p) FROM carts", 1105, "Can not found function 'jsonb_remove'")


def test_newer_functions_over_columns(conn: pymysql.connections.Connection) -> None:
    rows(
        conn,
        "CREATE TABLE hits (k INT, d DATE, ts DATETIME, url VARCHAR(100), ip VARCHAR(20), tags ARRAY<INT>) "
        "DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    )
    rows(
        conn,
        "INSERT INTO hits VALUES (1, '2024-03-06', '2024-03-06 10:47:12', 'https://www.shop.io/cart?item=42&qty=3', "
        "'10.1.2.3', [3, 1, 2]), (2, '2024-03-10', '2024-03-10 23:59:59', 'http://shop.io:8080/?qty=1', 'not an ip', "
        "[5, NULL]), (3, NULL, NULL, NULL, NULL, NULL)",
    )
    assert rows(
        conn,
        "SELECT k, week_floor(d), hour_ceil(ts, 6), domain_without_www(url), extract_url_parameter(url, 'qty'), "
        "inet_aton(ip), countequal(tags, 1), array_first_index(x -> x > 1, tags) FROM hits ORDER BY k",
    ) == [
        (1, dt.date(2024, 3, 4), dt.datetime(2024, 3, 6, 12), "shop.io", "3", 167838211, 1, 1),
        (2, dt.date(2024, 3, 4), dt.datetime(2024, 3, 11), "shop.io", "1", None, 0, 1),
        (3, None, None, None, None, None, None, 0),
    ]
    # a STRUCT prints as Doris prints one: its field names quoted, struct() names them col1, col2...
    assert rows(
        conn,
        "SELECT named_struct('id', k, 'ip', to_ipv4_or_null(ip)), struct(k, 'x'), ipv4_cidr_to_range(ip, 24), "
        "struct_element(named_struct('id', k, 'ip', ip), 'ip') FROM hits WHERE k = 1",
    ) == [('{"id":1, "ip":"10.1.2.3"}', '{"col1":1, "col2":"x"}', '{"min":"10.1.2.0", "max":"10.1.2.255"}', "10.1.2.3")]
    assert rows(conn, "SELECT bitmap_to_string(bitmap_agg(k)), map_agg(k, ip) FROM hits WHERE k < 3") == [
        ("1,2", '{1:"10.1.2.3", 2:"not an ip"}')
    ]
    assert rows(
        conn,
        "SELECT bitand(k, 3), bit_shift_left(k, 62), conv(k * 255, 10, 16), mask(ip), quote(ip) FROM hits ORDER BY k",
    ) == [
        (1, 4611686018427387904, "FF", "nn.n.n.n", "'10.1.2.3'"),
        (2, -9223372036854775808, "1FE", "xxx xx xx", "'not an ip'"),
        (3, -4611686018427387904, "2FD", None, None),
    ]


def test_functions_not_answered_here_fail_as_unknown(conn: pymysql.connections.Connection) -> None:
    for sql, name in (
        ("SELECT st_point(1, 2)", "st_point"),
        ("SELECT sm3('a')", "sm3"),
        ("SELECT aes_encrypt('a', 'k')", "aes_encrypt"),
        ("SELECT window_funnel(10, 'default', ts, k = 1) FROM t", "window_funnel"),
    ):
        expect_error(conn, sql, 1105, f"Can not found function '{name}'")


def test_arrays_order_a_null_element_first_in_max_min_and_by(conn: pymysql.connections.Connection) -> None:
    rows(
        conn,
        "CREATE TABLE arr (id INT, v VARCHAR(8), a ARRAY<INT>) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) "
        "BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    )
    rows(conn, "INSERT INTO arr VALUES (1, 'full', [1, 2, 3]), (2, 'holes', [1, NULL, NULL, 4]), (3, 'none', NULL)")
    assert rows(conn, "SELECT max(a), min(a), max_by(v, a), min_by(v, a) FROM arr") == [
        ("[1, 2, 3]", "[1, null, null, 4]", "full", "holes")
    ]
    assert rows(conn, "SELECT id, max(a) FROM arr GROUP BY id ORDER BY id") == [
        (1, "[1, 2, 3]"),
        (2, "[1, null, null, 4]"),
        (3, None),
    ]


def test_create_table_as_select_names_columns_after_their_expressions(conn: pymysql.connections.Connection) -> None:
    rows(conn, "CREATE TABLE named PROPERTIES ('replication_num' = '1') AS SELECT k, abs(k), upper(s) FROM t")
    assert [r[0] for r in rows(conn, "DESC named")] == ["k", "abs(k)", "upper(s)"]
    assert rows(conn, "SELECT `abs(k)`, `upper(s)` FROM named WHERE k = 2") == [(2, "42")]
    rows(conn, "CREATE TABLE summed PROPERTIES ('replication_num' = '1') AS SELECT hist(k, 2) FROM t")
    assert rows(conn, "SELECT * FROM summed") == [
        (
            '{"num_buckets":2,"buckets":[{"lower":"1","upper":"1","ndv":1,"count":1,"pre_sum":0},'
            '{"lower":"2","upper":"2","ndv":1,"count":1,"pre_sum":1}]}',
        )
    ]
    for name in ("a``b", "concat('(', s)", "x;y"):
        expect_error(conn, f"CREATE TABLE bad (`{name}` INT) DISTRIBUTED BY HASH(`{name}`) BUCKETS 1", 1166)
