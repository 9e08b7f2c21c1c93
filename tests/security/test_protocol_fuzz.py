"""A bounded protocol fuzzer of ours, under a fixed seed: garbage, mutated handshake responses and
mutated commands (captured from pymysql, or built by hand for the commands pymysql never sends), on
raw sockets against one server. Every connection must end in MySQL packets and a close within a
deadline; the server must live and answer SELECT 1 on a fresh connection throughout."""

from __future__ import annotations

import random
import socket
import struct
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pymysql

from tests.dorisbk_server import DorisbkServer
from tests.security.test_protocol import PLUGIN, UTF8MB4, assert_plain, frame, select_one

SEED = 20261202
CONNECTIONS = 6000
WORKERS = 8
BATCH = 200  # connections between two checks that the server lives and answers
DEADLINE = 10.0  # for a connection to be answered and closed once the client has sent all and shut down
INTERESTING = (0x00, 0x01, 0x7F, 0x80, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF)

# commands pymysql never sends (payloads, command byte first)
HAND_MADE = [
    b"\x04tables\0",  # COM_FIELD_LIST
    b"\x04tables\0%",
    b"\x11root\0\x00information_schema\0" + struct.pack("<H", UTF8MB4) + PLUGIN + b"\0",  # COM_CHANGE_USER
    b"\x16SELECT ?",  # COM_STMT_PREPARE
    b"\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x01\x08\x00\x02\x00\x00\x00\x00\x00\x00\x00",  # EXECUTE
    b"\x1c\x01\x00\x00\x00\x01\x00\x00\x00",  # COM_STMT_FETCH
    b"\x1a\x01\x00\x00\x00",  # COM_STMT_RESET
    b"\x18\x01\x00\x00\x00\x00\x00data",  # COM_STMT_SEND_LONG_DATA
    b"\x19\x01\x00\x00\x00",  # COM_STMT_CLOSE
    b"\x09",  # COM_STATISTICS
    b"\x0d",  # COM_DEBUG
    b"\x1f",  # COM_RESET_CONNECTION
    b"\x05db",  # COM_CREATE_DB: not served
]


class _Recording(pymysql.connections.Connection):
    """pymysql, keeping every byte it sends."""

    sent: list[bytes]

    def _write_bytes(self, data: bytes) -> None:
        self.sent.append(bytes(data))
        super()._write_bytes(data)


@dataclass(frozen=True)
class Corpus:
    login: bytes  # pymysql's handshake response (payload), database and connect attributes included
    commands: list[bytes]  # command payloads


def _payloads(stream: bytes) -> list[bytes]:
    payloads, pos = [], 0
    while pos < len(stream):
        length = int.from_bytes(stream[pos : pos + 3], "little")
        payloads.append(stream[pos + 4 : pos + 4 + length])
        pos += 4 + length
    return payloads


def capture(server: DorisbkServer) -> Corpus:
    """What pymysql sends for a login with a database, queries, COM_INIT_DB, COM_PING and COM_QUIT."""
    _Recording.sent = []
    conn = _Recording(host="127.0.0.1", port=server.port, user="root", password="", database="information_schema")
    with conn.cursor() as cur:
        for sql in ("SELECT 1", "SHOW DATABASES", "SELECT @@version_comment LIMIT 1"):
            cur.execute(sql)
        cur.execute("SELECT %s, %s", ("x" * 300, 42))
        conn.select_db("mysql")
        conn.ping(reconnect=False)
    conn.close()
    payloads = _payloads(b"".join(_Recording.sent))
    return Corpus(login=payloads[0], commands=payloads[1:] + HAND_MADE)


# ---------------------------------------------------------------------- mutations


def mutate(rng: random.Random, payload: bytes) -> bytes:
    """One to four byte-level edits; one of them drops every NUL (terminators are what broke the reader)."""
    data = bytearray(payload)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        pos = rng.randint(0, len(data))
        if op == 0 and data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif op == 1:
            del data[pos:]
        elif op == 2:
            data[pos:pos] = rng.randbytes(rng.randint(1, 16))
        elif op == 3:
            del data[pos : pos + rng.randint(1, 16)]
        elif op == 4 and data:
            data[rng.randrange(len(data))] = rng.choice(INTERESTING)
        elif op == 5:
            data = bytearray(data.replace(b"\0", b""))
        elif op == 6:
            data[pos:pos] = data[pos : pos + rng.randint(1, 32)]
    return bytes(data)


def framed(rng: random.Random, payload: bytes, seq: int) -> bytes:
    """Mostly a right frame; sometimes a wrong sequence id, a wrong length or a cut header."""
    roll = rng.random()
    if roll < 0.8:
        return frame(payload, seq)
    if roll < 0.87:
        return frame(payload, rng.randrange(256))
    if roll < 0.94:
        length = rng.choice((0, 0xFFFFFF, max(0, len(payload) + rng.randint(-8, 64))))
        return struct.pack("<I", length | seq << 24) + payload
    return frame(payload, seq)[: rng.randint(1, 3)]


def make_case(rng: random.Random, corpus: Corpus) -> bytes:
    """The bytes one connection sends after the greeting."""
    kind = rng.random()
    if kind < 0.1:
        return rng.randbytes(rng.randint(0, 200))
    if kind < 0.45:
        return framed(rng, mutate(rng, corpus.login), 1)
    sent = frame(corpus.login, 1)
    for _ in range(rng.randint(1, 4)):
        command = rng.choice(corpus.commands)
        sent += framed(rng, mutate(rng, command) if rng.random() < 0.8 else command, 0)
    return sent


# ---------------------------------------------------------------------- running


def run_case(port: int, data: bytes) -> str:
    """Send, shut the write side, read to the close: 'ok', 'hang', 'non-mysql' or 'unexpected' (a plain 1105)."""
    received, reset = b"", False
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as sock:
            sock.settimeout(DEADLINE)
            try:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
                while chunk := sock.recv(65536):
                    received += chunk
            except (ConnectionResetError, BrokenPipeError):  # closed with our bytes unread: maybe cut short
                reset = True
    except TimeoutError:  # no connect, no reply or no close in time
        return "hang"
    return judge(received, reset)


def judge(received: bytes, reset: bool) -> str:
    """Whole frames (but for one a reset cut), a greeting first, and every ERR packet in MySQL's form
    with a plain message."""
    pos, payloads = 0, []
    while pos + 4 <= len(received) and pos + 4 + int.from_bytes(received[pos : pos + 3], "little") <= len(received):
        length = int.from_bytes(received[pos : pos + 3], "little")
        payloads.append(received[pos + 4 : pos + 4 + length])
        pos += 4 + length
    if (pos != len(received) and not reset) or not payloads or payloads[0][:1] != b"\x0a":
        return "non-mysql"
    verdict = "ok"
    for payload in payloads[1:]:
        if payload[:1] != b"\xff":
            continue
        if len(payload) < 3 or (payload[3:4] == b"#" and not payload[4:9].isalnum()):
            return "non-mysql"
        try:  # the SQLSTATE is there once the client has said it speaks protocol 4.1
            message = payload[9 if payload[3:4] == b"#" else 3 :].decode("utf-8")
            assert_plain(message)
        except (UnicodeDecodeError, AssertionError):
            return "non-mysql"
        if "Unexpected exception" in message:
            verdict = "unexpected"
    return verdict


def test_protocol_fuzz(server: DorisbkServer) -> None:
    corpus = capture(server)
    rng = random.Random(SEED)
    cases = [make_case(rng, corpus) for _ in range(CONNECTIONS)]
    counts: Counter[str] = Counter()
    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS) as pool:
        for start in range(0, len(cases), BATCH):
            counts.update(pool.map(lambda data: run_case(server.port, data), cases[start : start + BATCH]))
            if server.proc is None or server.proc.poll() is not None:
                counts["crash"] += 1
                break
            select_one(server)
    elapsed = time.monotonic() - started
    frames = sum(map(_frame_count, cases))
    print(
        f"\nprotocol fuzz seed={SEED}: {len(cases)} connections, {frames} frames, {sum(map(len, cases))} bytes, "
        f"{counts['crash']} crashes, {counts['hang']} hangs, {counts['non-mysql']} non-MySQL replies, "
        f"{counts['unexpected']} plain 1105 replies, {elapsed:.1f} s"
    )
    assert counts["crash"] == 0, server.log()[-4000:]
    assert counts["hang"] == 0
    assert counts["non-mysql"] == 0
    select_one(server)


def _frame_count(data: bytes) -> int:
    """How many frames the server is sent (by the headers as written, however wrong)."""
    count, pos = 0, 0
    while pos < len(data):
        count += 1
        pos += 4 + int.from_bytes(data[pos : pos + 3], "little")
    return count
