"""Attacks on the MySQL wire: malformed logins and commands, stalled and oversized packets, 16 MiB
framing, failed logins that went on being served. Raw sockets say exactly what goes on the wire;
pymysql checks that real clients keep working alongside."""

from __future__ import annotations

import hashlib
import re
import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import pymysql
import pytest
from mysql_mimic.charset import CharacterSet
from mysql_mimic.stream import MysqlStream
from mysql_mimic.types import Capabilities

from dorisbk.server import wire
from tests.clientkit import require_module
from tests.dorisbk_server import DorisbkServer

MAX_FRAME = 0xFFFFFF
REPLY_TIMEOUT = 20.0  # for a reply that must come; generous, the 2 cores are shared

PROTOCOL_41 = 0x200
CONNECT_WITH_DB = 0x8
SSL = 0x800
SECURE_CONNECTION = 0x8000
PLUGIN_AUTH = 0x80000
CONNECT_ATTRS = 0x100000
LENENC_AUTH = 0x200000
DEPRECATE_EOF = 0x1000000
QUERY_ATTRIBUTES = 0x8000000
CLIENT_CAPS = PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH | LENENC_AUTH | DEPRECATE_EOF
UTF8MB4 = 45

COM_INIT_DB, COM_QUERY, COM_FIELD_LIST = 0x02, 0x03, 0x04
COM_CHANGE_USER, COM_STMT_PREPARE, COM_STMT_EXECUTE, COM_STMT_SEND_LONG_DATA, COM_STMT_FETCH = (
    0x11,
    0x16,
    0x17,
    0x18,
    0x1C,
)


@dataclass(frozen=True)
class Reply:
    """One packet from the server, all its frames joined."""

    seq: int
    payload: bytes

    @property
    def is_error(self) -> bool:
        return self.payload[:1] == b"\xff"

    @property
    def is_ok(self) -> bool:
        return self.payload[:1] == b"\x00"

    @property
    def code(self) -> int:
        assert self.is_error, self.payload[:80]
        return int.from_bytes(self.payload[1:3], "little")

    @property
    def message(self) -> str:
        assert self.is_error, self.payload[:80]
        body = self.payload[3:]
        return (body[6:] if body[:1] == b"#" else body).decode("utf-8", "replace")


class ClientGone(Exception):
    """The server closed the connection."""


class RawClient:
    """A MySQL client on a bare socket: it frames what it is told and reads what comes back."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=REPLY_TIMEOUT)
        self.sock.settimeout(REPLY_TIMEOUT)
        self.greeting = self.read()
        self.nonce = _nonce(self.greeting.payload)

    @property
    def connection_id(self) -> int:
        """The id the greeting announced (SHOW PROCESSLIST's Id)."""
        greeting = self.greeting.payload
        return int.from_bytes(greeting[greeting.index(b"\0", 1) + 1 :][:4], "little")

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, payload: bytes, seq: int = 0) -> None:
        """One packet, in as many frames as it takes."""
        for start in range(0, len(payload) + 1, MAX_FRAME):
            self.sock.sendall(frame(payload[start : start + MAX_FRAME], seq))
            seq = (seq + 1) % 256

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            try:
                chunk = self.sock.recv(size - len(data))
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise ClientGone
            data += chunk
        return data

    def read(self) -> Reply:
        """The next packet (all frames of it); ClientGone if the server closed the connection."""
        payload, seq = b"", 0
        while True:
            header = self._exactly(4)
            length, seq = int.from_bytes(header[:3], "little"), header[3]
            payload += self._exactly(length)
            if length < MAX_FRAME:
                return Reply(seq, payload)

    def read_until_closed(self) -> list[Reply]:
        """Every packet until the server closes; the socket timeout fails the test if it never does."""
        replies: list[Reply] = []
        while True:
            try:
                replies.append(self.read())
            except ClientGone:
                return replies

    def login(self, user: bytes = b"root", password: str = "", caps: int = CLIENT_CAPS) -> Reply:
        auth = scramble(password, self.nonce) if password else b""
        self.send(handshake_response(user, auth, caps), seq=1)
        return self.read()

    def command(self, command: int, body: bytes = b"") -> Reply:
        self.send(bytes([command]) + body)
        return self.read()

    def query(self, sql: str) -> list[Reply]:
        """A COM_QUERY's reply packets: one OK / ERR, or a whole result set up to its closing OK."""
        replies = [self.command(COM_QUERY, sql.encode())]
        if replies[0].is_error or replies[0].is_ok:
            return replies
        while replies[-1].payload[:1] != b"\xfe":  # the OK that ends it (CLIENT_DEPRECATE_EOF)
            replies.append(self.read())
        return replies


def column_name(definition: bytes) -> bytes:
    """The name in a ColumnDefinition41 (its fifth length-prefixed string; short ones only)."""
    pos = 0
    for _ in range(4):
        pos += 1 + definition[pos]
    return definition[pos + 1 : pos + 1 + definition[pos]]


def frame(payload: bytes, seq: int) -> bytes:
    return struct.pack("<I", len(payload) | seq << 24) + payload


def handshake_response(user: bytes, auth: bytes = b"", caps: int = CLIENT_CAPS, tail: bytes | None = None) -> bytes:
    """HandshakeResponse41; ``tail`` replaces everything after the user name's NUL when given."""
    head = struct.pack("<IIB23x", caps, 1 << 24, UTF8MB4)
    if tail is None:
        tail = bytes([len(auth)]) + auth + b"mysql_native_password\0"
    return head + user + b"\0" + tail


def scramble(password: str, nonce: bytes) -> bytes:
    """mysql_native_password: SHA1(pw) XOR SHA1(nonce + SHA1(SHA1(pw)))."""
    stage1 = hashlib.sha1(password.encode()).digest()
    mask = hashlib.sha1(nonce + hashlib.sha1(stage1).digest()).digest()
    return bytes(a ^ b for a, b in zip(stage1, mask, strict=True))


def _nonce(greeting: bytes) -> bytes:
    """The 20 bytes of the server's challenge, from its HandshakeV10."""
    rest = greeting[greeting.index(b"\0", 1) + 1 :]
    part1 = rest[4:12]
    part2 = rest[12 + 1 + 2 + 1 + 2 + 2 + 1 + 10 :][:12]
    return part1 + part2


@contextmanager
def raw(server: DorisbkServer) -> Iterator[RawClient]:
    client = RawClient(server.port)
    try:
        yield client
    finally:
        client.close()


def logged_in(server: DorisbkServer) -> RawClient:
    client = RawClient(server.port)
    reply = client.login()
    assert reply.is_ok, reply
    return client


def select_one(server: DorisbkServer) -> None:
    """Another client is served meanwhile (bounded: a frozen server fails, never hangs the test)."""
    with server.connect(connect_timeout=REPLY_TIMEOUT, read_timeout=REPLY_TIMEOUT) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchall() == ((1,),)


def assert_error_then_closed(client: RawClient, code: int, message: str | None = None) -> None:
    """One error packet, then the server closes."""
    replies = client.read_until_closed()
    assert replies, "closed without an error"
    assert replies[0].code == code, replies[0].message
    if message is not None:
        assert replies[0].message == message
    assert len(replies) == 1, replies


PYTHON_TEXT = re.compile(
    r"\b[A-Z]\w*(Error|Exception)\b|Traceback|struct\.error|unpack requires|mysql_mimic|dorisbk\.|sqlglot\.|"
    r"NoneType|object has no attribute|codec can't"
)


def assert_plain(message: str) -> None:
    """No Python type, module or traceback in what a client reads."""
    assert not PYTHON_TEXT.search(message), message


# ---------------------------------------------------------------------- the handshake

PLUGIN = b"mysql_native_password"
BAD_HANDSHAKES = {
    # the user name runs to the end of the packet: the library looped forever on the event loop
    "user without NUL": struct.pack("<IIB23x", CLIENT_CAPS, 1 << 24, UTF8MB4) + b"root",
    "database without NUL": handshake_response(b"root", caps=CLIENT_CAPS | CONNECT_WITH_DB, tail=b"\0nodb"),
    "plugin without NUL": handshake_response(b"root", tail=b"\0" + PLUGIN),
    "auth longer than the packet": handshake_response(b"root", tail=b"\x14abc"),
    "auth length 0xFF": handshake_response(b"root", tail=b"\xff\xff"),
    "attributes longer than the packet": handshake_response(
        b"root", caps=CLIENT_CAPS | CONNECT_ATTRS, tail=b"\0" + PLUGIN + b"\0" + b"\xfc\xff\x7f\x03key"
    ),
    "attribute value past its list": handshake_response(
        b"root", caps=CLIENT_CAPS | CONNECT_ATTRS, tail=b"\0" + PLUGIN + b"\0" + b"\x05\x03key\x09value"
    ),
    "user name not UTF-8": handshake_response(b"\xff\xfe"),
    "pre-4.1 client": struct.pack("<HI", 0x8000, 1 << 24) + b"root\0",
    "SSL request without TLS": struct.pack("<IIB23x", CLIENT_CAPS | SSL, 1 << 24, UTF8MB4),
    "nothing but a header": b"",
}


@pytest.mark.parametrize("packet", BAD_HANDSHAKES.values(), ids=BAD_HANDSHAKES.keys())
def test_malformed_handshake_is_bad_handshake(server: DorisbkServer, packet: bytes) -> None:
    with raw(server) as client:
        client.send(packet, seq=1)
        assert_error_then_closed(client, 1043, "Bad handshake")
    select_one(server)


def test_handshake_with_attributes_database_and_plugin_logs_in(server: DorisbkServer) -> None:
    attrs = b"\x03key\x05value\x04_pid\x0212"
    caps = CLIENT_CAPS | CONNECT_WITH_DB | CONNECT_ATTRS
    tail = b"\0information_schema\0" + PLUGIN + b"\0" + bytes([len(attrs)]) + attrs
    with raw(server) as client:
        client.send(handshake_response(b"root", caps=caps, tail=tail), seq=1)
        assert client.read().is_ok
        rows = client.query("SELECT DATABASE()")
        assert b"information_schema" in rows[2].payload


def test_auth_switch_answer_is_read_and_bounded(server: DorisbkServer) -> None:
    """A client that starts with another plugin is asked to switch; its answer is a login packet too."""
    for answer, expected in ((frame(b"", 3), None), (struct.pack("<I", 2 * 1024 * 1024 | 3 << 24), 1153)):
        with raw(server) as client:
            client.send(handshake_response(b"root", tail=b"\0caching_sha2_password\0"), seq=1)
            switch = client.read()
            assert switch.payload.startswith(b"\xfe" + PLUGIN + b"\0"), switch
            client.send_raw(answer)
            if expected is None:
                assert client.read().is_ok
            else:
                assert_error_then_closed(client, expected)


@contextmanager
def connect_timeout(server: DorisbkServer, seconds: int) -> Iterator[None]:
    """MySQL's global ``connect_timeout`` (10 s by default) set for a while."""
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SET GLOBAL connect_timeout = {seconds}")
        try:
            yield
        finally:
            cur.execute("SET GLOBAL connect_timeout = DEFAULT")


def test_silent_client_is_closed_by_the_handshake_deadline(server: DorisbkServer) -> None:
    with connect_timeout(server, 2), raw(server) as client:  # reads the greeting, then says nothing
        assert client.read_until_closed() == []


def test_half_sent_handshake_is_closed_by_the_handshake_deadline(server: DorisbkServer) -> None:
    with connect_timeout(server, 2), raw(server) as client:
        client.send_raw(b"\x40\x00")
        assert client.read_until_closed() == []


def test_connect_timeout_is_mysqls(server: DorisbkServer) -> None:
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@connect_timeout")
        assert cur.fetchall() == ((10,),)


def test_oversized_handshake_is_refused_before_it_is_read(server: DorisbkServer) -> None:
    with raw(server) as client:
        client.send_raw(struct.pack("<I", MAX_FRAME | 1 << 24))  # announces 16 MiB, sends none of it
        assert_error_then_closed(client, 1153)


# ---------------------------------------------------------------------- failed logins end the connection

LOGINS = {
    "empty user": (b"", ""),
    "unknown user": (b"nobody", ""),
    "wrong password": (b"root", "not-the-password"),
}


@pytest.mark.parametrize(("user", "password"), LOGINS.values(), ids=LOGINS.keys())
def test_failed_login_is_refused_and_never_served(server: DorisbkServer, user: bytes, password: str) -> None:
    """The library sent the 1045 and then served the connection's commands as root."""
    with raw(server) as client:
        reply = client.login(user, password)
        assert reply.code == 1045
        using = "YES" if password else "NO"
        assert reply.message == f"Access denied for user '{user.decode()}'@'127.0.0.1' (using password: {using})"
        with suppress(BrokenPipeError, ConnectionResetError):  # closed already, as it should be
            client.send(bytes([COM_QUERY]) + b"CREATE DATABASE pwned_by_failed_login")
        assert client.read_until_closed() == []
    assert ("pwned_by_failed_login",) not in server.query("SHOW DATABASES")


def test_login_to_an_unknown_database_is_refused_and_not_served(server: DorisbkServer) -> None:
    caps = CLIENT_CAPS | CONNECT_WITH_DB
    with raw(server) as client:
        client.send(handshake_response(b"root", caps=caps, tail=b"\0no_such_db\0" + PLUGIN + b"\0"), seq=1)
        assert client.read().code == 1049
        assert client.read_until_closed() == []


# ---------------------------------------------------------------------- commands after login


def test_field_list_without_nul_is_malformed_and_the_connection_stays(server: DorisbkServer) -> None:
    client = logged_in(server)
    try:
        reply = client.command(COM_FIELD_LIST, b"some_table")  # the library looped forever here
        assert reply.code == 1835
        assert reply.message == "Malformed communication packet."
        assert client.query("SELECT 1")[-2].payload == b"\x011"
    finally:
        client.close()
    select_one(server)


def test_field_list_lists_columns(server: DorisbkServer) -> None:
    server.query("CREATE DATABASE IF NOT EXISTS fl")
    server.query(
        "CREATE TABLE IF NOT EXISTS fl.t (k INT, v VARCHAR(10)) DUPLICATE KEY(k) "
        "DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')"
    )
    client = logged_in(server)
    try:
        assert client.command(COM_INIT_DB, b"fl").is_ok
        first = client.command(COM_FIELD_LIST, b"t\0")
        replies = [first, client.read(), client.read()]
        assert [column_name(r.payload) for r in replies[:2]] == [b"k", b"v"]
        assert replies[2].payload[:1] == b"\xfe"
    finally:
        client.close()


def test_init_db_not_in_the_charset_is_malformed(server: DorisbkServer) -> None:
    client = logged_in(server)
    try:
        reply = client.command(COM_INIT_DB, b"\xff\xfe")
        assert reply.code == 1835
        assert client.query("SELECT 1")[-2].payload == b"\x011"
    finally:
        client.close()


CHANGE_USERS = {
    "user without NUL": b"root",
    "auth longer than the packet": b"root\0\x14ab",
    "database without NUL": b"root\0\x00information_schema",
}


@pytest.mark.parametrize("body", CHANGE_USERS.values(), ids=CHANGE_USERS.keys())
def test_malformed_change_user_is_refused_and_closes(server: DorisbkServer, body: bytes) -> None:
    client = logged_in(server)
    try:
        client.send(bytes([COM_CHANGE_USER]) + body)
        assert_error_then_closed(client, 1835)
    finally:
        client.close()
    select_one(server)


def test_change_user_to_root_works(server: DorisbkServer) -> None:
    client = logged_in(server)
    try:
        body = b"root\0\x00information_schema\0" + struct.pack("<H", UTF8MB4) + PLUGIN + b"\0"
        reply = client.command(COM_CHANGE_USER, body)
        assert reply.is_ok, reply
        assert b"information_schema" in client.query("SELECT DATABASE()")[2].payload
    finally:
        client.close()


def test_change_user_with_mysql_connector(server: DorisbkServer) -> None:
    connector = require_module("mysql.connector")
    conn = connector.connect(host="127.0.0.1", port=server.port, user="root", password="", use_pure=True)
    try:
        conn.cmd_change_user(username="root", password="", database="information_schema")
        cur = conn.cursor()
        cur.execute("SELECT DATABASE(), CURRENT_USER()")
        assert cur.fetchall() == [("information_schema", "root")]
        with pytest.raises(connector.errors.ProgrammingError, match="1045"):
            conn.cmd_change_user(username="nobody", password="x")
    finally:
        conn.close()


def test_failed_change_user_closes_the_connection(server: DorisbkServer) -> None:
    """The library kept the previous user, with the database the failed change named."""
    client = logged_in(server)
    try:
        reply = client.command(COM_CHANGE_USER, b"nobody\0\x00\0")
        assert reply.code == 1045
        assert client.read_until_closed() == []
    finally:
        client.close()


SHORT_COMMANDS = {"COM_STMT_FETCH without its fields": bytes([COM_STMT_FETCH]) + b"\x01\x00", "empty packet": b""}


@pytest.mark.parametrize("payload", SHORT_COMMANDS.values(), ids=SHORT_COMMANDS.keys())
def test_short_command_is_malformed_and_the_connection_stays(server: DorisbkServer, payload: bytes) -> None:
    client = logged_in(server)
    try:
        client.send(payload)
        reply = client.read()
        assert reply.code == 1835
        assert_plain(reply.message)
        assert client.query("SELECT 1")[-2].payload == b"\x011"
    finally:
        client.close()


def test_bad_query_attributes_are_malformed(server: DorisbkServer) -> None:
    client = RawClient(server.port)
    try:
        assert client.login(caps=CLIENT_CAPS | QUERY_ATTRIBUTES).is_ok
        reply = client.command(COM_QUERY, b"\x02\x01\x00\x01")  # two attributes promised, types missing
        assert reply.code == 1835, reply.message
        assert client.command(COM_QUERY, b"\x00\x01SELECT 1").payload == b"\x01"
    finally:
        client.close()


def test_long_data_beyond_max_allowed_packet_is_dropped(server: DorisbkServer) -> None:
    """COM_STMT_SEND_LONG_DATA has no reply; what a statement piles up past 64 MiB is dropped and its
    EXECUTE fails, as on MySQL (the library kept every byte)."""
    client = logged_in(server)
    try:
        prepared = client.command(COM_STMT_PREPARE, b"SELECT ?")
        assert prepared.is_ok
        client.read()  # the parameter's definition
        stmt = prepared.payload[1:5]
        chunk = b"x" * (33 * 1024 * 1024)
        for _ in range(2):
            client.send(bytes([COM_STMT_SEND_LONG_DATA]) + stmt + b"\0\0" + chunk)
        execute = stmt + b"\x00" + struct.pack("<I", 1) + b"\x00" + b"\x01" + b"\xfe\x00"
        reply = client.command(COM_STMT_EXECUTE, execute)
        assert reply.code == 1105
        assert "max_allowed_packet" in reply.message
        assert client.query("SELECT 1")[-2].payload == b"\x011"
    finally:
        client.close()


def test_prepared_statements_per_connection_are_capped(server: DorisbkServer) -> None:
    client = logged_in(server)
    try:
        replies: list[Reply] = []
        for _ in range(17):  # 17 000 prepares, 1 000 at a time
            client.send_raw(frame(bytes([COM_STMT_PREPARE]) + b"SELECT 1", 0) * 1000)
            replies += [client.read() for _ in range(1000)]
        assert all(r.is_ok for r in replies[:16382])
        assert {r.code for r in replies[16382:]} == {1461}
        assert client.query("SELECT 1")[-2].payload == b"\x011"
    finally:
        client.close()


def test_unexpected_failure_names_no_python_type(server: DorisbkServer) -> None:
    """COM_STMT_FETCH on a statement without a cursor trips an assert of the library."""
    client = logged_in(server)
    try:
        prepared = client.command(COM_STMT_PREPARE, b"SELECT 1")  # no columns or parameters follow
        assert prepared.is_ok
        reply = client.command(COM_STMT_FETCH, prepared.payload[1:5] + struct.pack("<I", 1))
        assert reply.code == 1105
        assert_plain(reply.message)
        assert client.query("SELECT 1")[-2].payload == b"\x011"
    finally:
        client.close()


# ---------------------------------------------------------------------- framing


def test_packet_out_of_order_closes(server: DorisbkServer) -> None:
    client = logged_in(server)
    try:
        client.send(b"\x03SELECT 1", seq=5)
        assert_error_then_closed(client, 1156)
    finally:
        client.close()


def test_command_over_max_allowed_packet_is_refused_before_it_is_read(server: DorisbkServer) -> None:
    """Four full frames make 64 MiB - 4 bytes; a fifth announcing 5 more crosses MySQL's 64 MiB."""
    client = logged_in(server)
    try:
        chunk = b"\x03" + b" " * (MAX_FRAME - 1)
        client.send_raw(frame(chunk, 0))
        for seq in range(1, 4):
            client.send_raw(frame(b" " * MAX_FRAME, seq))
        client.send_raw(struct.pack("<I", 5 | 4 << 24))
        assert_error_then_closed(client, 1153, "Got a packet bigger than 'max_allowed_packet' bytes")
    finally:
        client.close()
    select_one(server)


def test_half_sent_command_is_closed_by_net_read_timeout(server: DorisbkServer) -> None:
    client = logged_in(server)
    try:
        assert client.query("SET net_read_timeout = 1")[0].is_ok
        client.send_raw(b"\x20\x00")
        assert_error_then_closed(client, 1159)
    finally:
        client.close()


def test_idle_connection_is_closed_after_its_wait_timeout(server: DorisbkServer) -> None:
    client = logged_in(server)
    try:
        assert client.query("SET wait_timeout = 1")[0].is_ok
        assert_error_then_closed(client, 4031)
    finally:
        client.close()
    with server.connect() as conn, conn.cursor() as cur:  # the setting was that session's alone
        cur.execute("SELECT @@wait_timeout")
        assert cur.fetchall() == ((28800,),)


def test_client_that_never_reads_is_closed_by_net_write_timeout(server: DorisbkServer) -> None:
    """A result the client does not take fills the socket buffers; the server gives up after the
    session's net_write_timeout instead of waiting on it for ever."""
    client = logged_in(server)
    try:
        assert client.query("SET net_write_timeout = 1")[0].is_ok
        assert client.connection_id in _process_ids(server)
        client.send(bytes([COM_QUERY]) + b"SELECT repeat('x', 60000000)")
        deadline = time.monotonic() + 60
        while client.connection_id in _process_ids(server):
            assert time.monotonic() < deadline, "the connection is still there"
            time.sleep(0.2)
    finally:
        client.close()


def _process_ids(server: DorisbkServer) -> set[int]:
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute("SHOW PROCESSLIST")
        column = [d[0] for d in cur.description].index("Id")
        return {int(row[column]) for row in cur.fetchall()}


def test_connection_within_its_wait_timeout_stays(server: DorisbkServer) -> None:
    """wait_timeout bounds the time between two commands, not the connection's life."""
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute("SET wait_timeout = 2")
        end = time.monotonic() + 4
        while time.monotonic() < end:
            cur.execute("SELECT 1")
            time.sleep(0.25)  # pacing: well within the 2 s between commands


# exact frame boundaries: the query's payload (command byte + SQL) and the row's (length + text)
QUERY_SIZES = {
    "query payload of one full frame": MAX_FRAME - len("\x03SELECT ''"),
    "row payload of one full frame": MAX_FRAME - 4,
    "just over 16 MiB": 16 * 1024 * 1024 + 512 * 1024,
    "row payload of two full frames": 2 * MAX_FRAME - 9,
}


@pytest.mark.parametrize("size", QUERY_SIZES.values(), ids=QUERY_SIZES.keys())
def test_packets_of_16_mib_and_more(server: DorisbkServer, size: int) -> None:
    """The library framed a row of 16 MiB or more with its length spilling into the sequence id
    (pymysql: "Packet sequence number wrong"); both ways, every frame boundary case works now."""
    text = "ab" * (size // 2) + "c" * (size % 2)
    with server.connect(max_allowed_packet=64 * 1024 * 1024) as conn, conn.cursor() as cur:
        cur.execute("SELECT %s", (text,))
        assert cur.fetchall()[0][0] == text
        cur.execute("SELECT 1")
        assert cur.fetchall() == ((1,),)


# ---------------------------------------------------------------------- one bad client, others served


def test_bad_clients_never_stall_the_others(server: DorisbkServer) -> None:
    bad: list[RawClient] = []
    try:
        for packet in (BAD_HANDSHAKES["user without NUL"], BAD_HANDSHAKES["plugin without NUL"]):
            client = RawClient(server.port)
            client.send(packet, seq=1)
            bad.append(client)
        stalled = RawClient(server.port)
        stalled.send_raw(b"\x40\x00\x00")
        bad.append(stalled)
        for body in (b"\x04some_table", b"\x11root"):
            client = logged_in(server)
            client.send(body)
            bad.append(client)
        for _ in range(3):
            select_one(server)
        with server.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchall() == ((1,),)
    finally:
        for client in bad:
            client.close()


def test_pymysql_reports_the_size_error(server: DorisbkServer) -> None:
    """A client that sends more than 64 MiB gets an error, not a server that buffers it all."""
    big = "x" * (65 * 1024 * 1024)
    with (
        server.connect(max_allowed_packet=128 * 1024 * 1024) as conn,
        conn.cursor() as cur,
        pytest.raises(pymysql.err.OperationalError),
    ):
        cur.execute("SELECT length(%s)", (big,))
    select_one(server)


# ---------------------------------------------------------------------- the parsers and framing, alone


def test_every_cut_of_a_handshake_parses_or_is_a_bad_handshake() -> None:
    """No prefix or single-byte change of a full login makes the parser loop or raise anything else."""
    server = Capabilities(CLIENT_CAPS | CONNECT_WITH_DB | CONNECT_ATTRS)
    attrs = b"\x03key\x05value"
    full = handshake_response(
        b"root", caps=int(server), tail=b"\x02ab" + b"db\0" + PLUGIN + b"\0" + bytes([len(attrs)]) + attrs
    )
    parsed = wire.parse_handshake_response(server, full)
    assert isinstance(parsed, wire.HandshakeResponse)
    assert (parsed.username, parsed.auth_response, parsed.database) == ("root", b"ab", "db")
    assert (parsed.client_plugin, parsed.connect_attrs) == ("mysql_native_password", {"key": "value"})
    variants = [full[:cut] for cut in range(len(full))]
    variants += [full[:i] + bytes([value]) + full[i + 1 :] for i in range(len(full)) for value in (0, 0xFB, 0xFF)]
    for data in variants:
        try:
            wire.parse_handshake_response(server, data)
        except wire.WireError as exc:
            assert (exc.code, exc.msg, exc.fatal) == (1043, "Bad handshake", True)


def test_command_parsers_stay_inside_their_packet() -> None:
    caps = Capabilities(CLIENT_CAPS | CONNECT_ATTRS)
    change = b"bob\0\x02pw" + b"db\0" + struct.pack("<H", 8) + PLUGIN + b"\0" + b"\x04\x01k\x01v"
    parsed = wire.parse_change_user(caps, CharacterSet.utf8mb4, change)
    assert (parsed.username, parsed.auth_response, parsed.database, parsed.connect_attrs) == (
        "bob",
        b"pw",
        "db",
        {"k": "v"},
    )
    assert parsed.client_charset == CharacterSet.latin1
    for cut in range(len(change)):
        try:
            wire.parse_change_user(caps, CharacterSet.utf8mb4, change[:cut])
        except wire.WireError as exc:
            assert (exc.code, exc.fatal) == (1835, True)
    assert wire.parse_field_list(CharacterSet.utf8mb4, b"t\0c%") == wire.FieldList("t", "c%")
    with pytest.raises(wire.WireError):
        wire.parse_field_list(CharacterSet.utf8mb4, b"t")
    assert wire.charset_of(9999) == CharacterSet.utf8mb4  # unknown collation
    assert wire.charset_of(38) == CharacterSet.utf8mb4  # macce: no Python codec


def test_frames_of_a_long_packet() -> None:
    """0xFFFFFF bytes or more go out as full frames plus a shorter (maybe empty) last one."""
    stream = wire.PacketStream(MysqlStream(None, None))  # type: ignore[arg-type]
    stream._frame(b"x" * MAX_FRAME)
    stream._frame(b"y" * (MAX_FRAME + 3))
    buffer = bytes(stream._inner._buffer)
    headers = []
    pos = 0
    while pos < len(buffer):
        length, seq = int.from_bytes(buffer[pos : pos + 3], "little"), buffer[pos + 3]
        headers.append((length, seq))
        pos += 4 + length
    assert headers == [(MAX_FRAME, 0), (0, 1), (MAX_FRAME, 2), (3, 3)]


@pytest.mark.parametrize("charset", ["macce", "binary", "ucs2", "no_such_charset"])
def test_set_names_refuses_a_charset_nothing_can_decode(server: DorisbkServer, charset: str) -> None:
    with server.connect() as conn, conn.cursor() as cur:
        with pytest.raises(pymysql.err.MySQLError) as info:
            cur.execute(f"SET NAMES {charset}")
        assert info.value.args[0] == 1115
        cur.execute("SELECT 'still utf8: é'")
        assert cur.fetchall() == (("still utf8: é",),)


def test_write_timeout_is_dorises(server: DorisbkServer) -> None:
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@net_write_timeout, @@wait_timeout")
        assert cur.fetchall() == ((600, 28800),)
