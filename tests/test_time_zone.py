"""``SET time_zone`` takes every zone Doris takes (IANA names, offsets, SYSTEM, CST) and NOW() / CURDATE()
read the session's zone; a name that is no zone is refused when it is set (1298), and the connection
goes on in the zone it had."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import error, one, rows


def _now_in(conn, zone: str) -> dt.datetime:  # type: ignore[no-untyped-def]
    rows(conn, f"SET time_zone = '{zone}'")
    return dt.datetime.strptime(str(one(conn, "SELECT now()")), "%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize(
    ("zone", "tz"),
    [
        ("Asia/Shanghai", zoneinfo.ZoneInfo("Asia/Shanghai")),
        ("America/Los_Angeles", zoneinfo.ZoneInfo("America/Los_Angeles")),
        ("Etc/UTC", dt.UTC),
        ("+05:30", dt.timezone(dt.timedelta(hours=5, minutes=30))),
        ("-08:00", dt.timezone(dt.timedelta(hours=-8))),
        ("CST", zoneinfo.ZoneInfo("Asia/Shanghai")),  # Doris reads CST as China Standard Time
        ("SYSTEM", dt.datetime.now().astimezone().tzinfo),
    ],
)
def test_now_is_read_in_the_session_zone(server: DorisbkServer, zone: str, tz: dt.tzinfo) -> None:
    with server.connect() as conn:
        before = dt.datetime.now(tz).replace(tzinfo=None, microsecond=0)
        shown = _now_in(conn, zone)
        after = dt.datetime.now(tz).replace(tzinfo=None, microsecond=0)
        assert before <= shown <= after + dt.timedelta(seconds=1)
        assert one(conn, "SELECT @@time_zone") == zone
        assert str(one(conn, "SELECT curdate()")) == shown.date().isoformat()


def test_a_name_that_is_no_zone_is_refused_when_set(server: DorisbkServer) -> None:
    with server.connect() as conn:
        rows(conn, "SET time_zone = 'Asia/Tokyo'")
        for bad in ["Mars/Olympus", "+25:00", "../etc/passwd", ""]:
            code, message = error(conn, f"SET time_zone = '{bad}'")
            assert (code, message) == (1298, f"errCode = 2, detailMessage = Unknown or incorrect time zone: '{bad}'")
        assert one(conn, "SELECT @@time_zone") == "Asia/Tokyo"
        assert one(conn, "SELECT 1") == 1


def test_clock_functions_are_typed_with_their_fraction(server: DorisbkServer) -> None:
    """NOW(p) / CURRENT_TIMESTAMP(p) are DATETIME(p) values (p fraction digits), CURDATE() a DATE, one
    moment for the whole statement; a scale past 6 is refused as Doris refuses it; a view keeps NOW()."""
    with server.connect() as conn:
        now, now3, now6, today, again = rows(
            conn, "SELECT now(), now(3), current_timestamp(6), curdate(), now(6)"
        )[0]  # fmt: skip
        assert isinstance(now, dt.datetime) and now.microsecond == 0
        assert isinstance(now3, dt.datetime) and now3.microsecond % 1000 == 0
        assert now6 == again and now3 == now6.replace(microsecond=now6.microsecond // 1000 * 1000)
        assert now == now6.replace(microsecond=0) and today == now6.date()
        fraction = one(conn, "SELECT date_format(now(3), '%f')")
        assert len(fraction) == 6 and fraction.endswith("000")
        assert error(conn, "SELECT now(7)")[1].endswith(
            "Scale of Datetime/Time must between 0 and 6. Scale was set to: 7"
        )
        assert one(conn, "SELECT utc_timestamp()").microsecond == 0
        rows(conn, "CREATE DATABASE clock_db")
        rows(conn, "CREATE VIEW clock_db.v AS SELECT now() AS n")
        assert "now()" in rows(conn, "SHOW CREATE VIEW clock_db.v")[0][1].lower()


def test_a_column_named_now_is_a_column(server: DorisbkServer) -> None:
    """Without parentheses NOW, CURDATE and CURTIME name columns (only CURRENT_DATE and the like are the
    clock), so a table's column of that name is read, not replaced by the time."""
    with server.connect() as conn:
        rows(conn, "CREATE DATABASE clock_cols")
        rows(conn, "CREATE TABLE clock_cols.t (now INT, curdate INT) DISTRIBUTED BY HASH(now) BUCKETS 1 "
                   "PROPERTIES ('replication_num' = '1')")  # fmt: skip
        rows(conn, "INSERT INTO clock_cols.t VALUES (7, 8)")
        assert rows(conn, "SELECT now, curdate, now() > '2020-01-01' FROM clock_cols.t") == [(7, 8, 1)]
