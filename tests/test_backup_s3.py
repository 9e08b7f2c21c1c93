"""S3 repositories against a real SeaweedFS server on loopback (tests/s3server.py).

Creation and its errors, adopting ``__repo_info``, ``delete_if_exists``, masked secrets,
a backup's objects and checksums, server-side copy for an unchanged table, DROP SNAPSHOT,
and ALTER REPOSITORY rotating the credentials of a running job (identities are added and
removed on the S3 server with ``weed shell``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pymysql
import pytest
from botocore.config import Config

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import (
    described,
    doris_err,
    pause,
    q,
    set_config,
)
from tests.s3server import S3Server, find_weed, s3_server
from tests.test_backup_support import (
    COL,
    backup_row,
    finished,
    make_table,
    run_script,
    sql_statements,
    upload_totals,
    wait_backup,
)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture(scope="module")
def client(s3: S3Server) -> Any:
    return s3.client()


@pytest.fixture(scope="module")
def conn(server: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    with server.connect() as c:
        set_config(c, "backup_handler_update_interval_millis", "50")
        yield c


def props(s3: S3Server, **overrides: str) -> str:
    pairs = s3.repository_properties(**overrides)
    return ", ".join(f'"{k}" = "{v}"' for k, v in pairs.items())


def create_repo(conn: pymysql.connections.Connection, s3: S3Server, name: str, prefix: str, **overrides: str) -> None:
    location = f"s3://{s3.bucket}/{prefix}"
    q(conn, f'CREATE REPOSITORY {name} WITH S3 ON LOCATION "{location}" PROPERTIES ({props(s3, **overrides)})')


def keys(client: Any, bucket: str, prefix: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"][len(prefix) :]] = obj
    return found


def weed_shell(s3: S3Server, command: str) -> None:
    """Run one ``weed shell`` command against the fixture's master (found from the server's command line)."""
    s3_port = s3.endpoint.rsplit(":", 1)[1]
    master = None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = [a.decode() for a in f.read().split(b"\0")]
        except OSError:
            continue
        if f"-s3.port={s3_port}" in args:
            master = next(a.split("=", 1)[1] for a in args if a.startswith("-master.port="))
    assert master is not None, "SeaweedFS master not found"
    subprocess.run(
        [find_weed(), "shell", f"-master=127.0.0.1:{master}"],
        input=command + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


def wait_key_works(s3: S3Server, access: str, secret: str, works: bool = True) -> None:
    probe = boto3.session.Session().client(
        "s3",
        endpoint_url=s3.endpoint,
        region_name="us-east-1",
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            probe.list_objects_v2(Bucket=s3.bucket, MaxKeys=1)
            ok = True
        except Exception:  # noqa: BLE001 - denied or not yet known
            ok = False
        if ok == works:
            return
        assert time.monotonic() < deadline, f"key {access} never became {'valid' if works else 'invalid'}"
        time.sleep(0.1)


# ---------------------------------------------------------------------------------------------


def test_create_s3_repository_show_and_masking(
    server: DorisbkServer, conn: pymysql.connections.Connection, s3: S3Server, client: Any
) -> None:
    create_repo(conn, s3, "s3r", "plain/dir")
    row = next(r for r in q(conn, "SHOW REPOSITORIES") if r[1] == "s3r")
    assert row[3:] == ("false", f"s3://{s3.bucket}/plain/dir", "-", "S3", None)
    body = client.get_object(Bucket=s3.bucket, Key="plain/dir/__palo_repository_s3r/__repo_info")["Body"].read()
    assert json.loads(body) == {"name": "s3r", "create_time": row[2]}

    names, rows = described(conn, "SHOW CREATE REPOSITORY FOR s3r")
    text = rows[0][1]
    assert text.startswith("CREATE REPOSITORY `s3r`\nWITH S3\n")
    assert f'"s3.access_key" = "{s3.access_key}"' in text
    assert f'"s3.endpoint" = "{s3.endpoint}"' in text
    assert '"s3.secret_key" = "*XXX"' in text
    assert s3.secret_key not in text
    for r in q(conn, "SHOW REPOSITORIES"):
        assert s3.secret_key not in repr(r)
    assert s3.secret_key not in server.log()


def test_s3_creation_errors(conn: pymysql.connections.Connection, s3: S3Server) -> None:
    message = doris_err(
        conn,
        f'CREATE REPOSITORY s3_bad WITH S3 ON LOCATION "s3://{s3.bucket}/bad" '
        f"PROPERTIES ({props(s3, **{'s3.secret_key': 'wrong-secret'})})",
    )
    assert message.startswith("Failed to create repository: ")
    assert "access denied" in message and "SignatureDoesNotMatch" in message
    assert "wrong-secret" not in message

    message = doris_err(
        conn,
        f'CREATE REPOSITORY s3_bad WITH S3 ON LOCATION "s3://{s3.bucket}/bad" '
        f"PROPERTIES ({props(s3, **{'s3.access_key': 'nobody'})})",
    )
    assert message.startswith("Failed to create repository: ") and "InvalidAccessKeyId" in message

    message = doris_err(
        conn,
        f'CREATE REPOSITORY s3_bad WITH S3 ON LOCATION "s3://{s3.bucket}/bad" '
        f"PROPERTIES ({props(s3, **{'s3.endpoint': 'http://127.0.0.1:1'})})",
    )
    assert message.startswith("Failed to create repository: ")
    assert "cannot connect to S3 endpoint http://127.0.0.1:1" in message

    message = doris_err(
        conn, f'CREATE REPOSITORY s3_bad WITH S3 ON LOCATION "s3://no-such-bucket/x" PROPERTIES ({props(s3)})'
    )
    assert message == (
        "Failed to create repository: failed to list x/__palo_repository_s3_bad/__repo_info: "
        f"bucket no-such-bucket does not exist at {s3.endpoint}"
    )

    assert "Invalid location" in doris_err(
        conn, f'CREATE REPOSITORY s3_bad WITH S3 ON LOCATION "file:///tmp/x" PROPERTIES ({props(s3)})'
    )
    assert all(r[1] != "s3_bad" for r in q(conn, "SHOW REPOSITORIES"))


def test_adopt_repo_info_and_delete_if_exists(conn: pymysql.connections.Connection, s3: S3Server, client: Any) -> None:
    prefix = "adopt/__palo_repository_s3_adopt/"
    client.put_object(
        Bucket=s3.bucket,
        Key=prefix + "__repo_info",
        Body=json.dumps({"name": "s3_adopt", "create_time": "2019-05-06 07:08:09"}).encode(),
    )
    client.put_object(
        Bucket=s3.bucket, Key=prefix + "__ss_old/__ss_content/x.0123456789abcdef0123456789abcdef", Body=b"x"
    )
    create_repo(conn, s3, "s3_adopt", "adopt")
    assert next(r for r in q(conn, "SHOW REPOSITORIES") if r[1] == "s3_adopt")[2] == "2019-05-06 07:08:09"
    assert q(conn, "SHOW SNAPSHOT ON s3_adopt") == [("old", None, "ERROR: No info file found")]

    q(conn, "DROP REPOSITORY s3_adopt")
    assert set(keys(client, s3.bucket, prefix)) == {
        "__repo_info",
        "__ss_old/__ss_content/x.0123456789abcdef0123456789abcdef",
    }
    create_repo(conn, s3, "s3_adopt", "adopt", delete_if_exists="true")
    row = next(r for r in q(conn, "SHOW REPOSITORIES") if r[1] == "s3_adopt")
    assert row[2] != "2019-05-06 07:08:09"
    assert set(keys(client, s3.bucket, prefix)) == {"__repo_info"}
    assert q(conn, "SHOW SNAPSHOT ON s3_adopt") == []
    # delete_if_exists is an instruction, not a property to keep.
    assert "delete_if_exists" not in q(conn, "SHOW CREATE REPOSITORY FOR s3_adopt")[0][1]


def test_backup_to_s3_objects_checksums_and_server_side_copy(
    server: DorisbkServer, conn: pymysql.connections.Connection, s3: S3Server, client: Any
) -> None:
    create_repo(conn, s3, "s3bk", "bk")
    q(conn, "CREATE DATABASE s3db")
    make_table(conn, "s3db", "t", rows=8, buckets=2)
    q(conn, "BACKUP SNAPSHOT s3db.one TO s3bk")
    finished(conn, "s3db", "one")
    root = "bk/__palo_repository_s3bk/"
    objects = keys(client, s3.bucket, root + "__ss_one/")
    info_keys = [k for k in objects if k.startswith("__info_")]
    meta_keys = [k for k in objects if k.startswith("__meta.")]
    assert len(info_keys) == 1 and len(meta_keys) == 1
    data_keys = sorted(k for k in objects if k.startswith("__ss_content/"))
    assert data_keys
    for key in [*info_keys, *meta_keys, *data_keys]:
        assert "//" not in key
        body = client.get_object(Bucket=s3.bucket, Key=root + "__ss_one/" + key)["Body"].read()
        checksum = key.rpartition(".")[2]
        assert re.fullmatch(r"[0-9a-f]{32}", checksum)
        assert hashlib.md5(body).hexdigest() == checksum, key
        assert objects[key]["ETag"].strip('"') == checksum  # one PUT each: the ETag is the md5 too
    for key in data_keys:
        assert re.fullmatch(r"__ss_content/__db_\d+/__tbl_\d+/__part_\d+/__idx_\d+/__\d+/[^/]+\.[0-9a-f]{32}", key)
    info = json.loads(client.get_object(Bucket=s3.bucket, Key=root + "__ss_one/" + info_keys[0])["Body"].read())
    assert info["name"] == "one" and info["database"] == "s3db"
    listed = {
        n
        for t in info["backup_objects"]["t"]["partitions"].values()
        for x in t["indexes"]["t"]["tablets"].values()
        for n in x
    }
    assert {k.rpartition("/")[2] for k in data_keys} == listed
    ts = info_keys[0][len("__info_") :].rpartition(".")[0]
    assert q(conn, "SHOW SNAPSHOT ON s3bk") == [("one", ts, "OK")]
    details = json.loads(q(conn, f"SHOW SNAPSHOT ON s3bk WHERE SNAPSHOT = 'one' AND TIMESTAMP = '{ts}'")[0][3])
    assert details["olap_table_list"] == [{"name": "t", "partition_names": ["t"]}]

    # Second backup of the unchanged table: every object is copied inside the bucket, none uploaded.
    q(conn, "BACKUP SNAPSHOT s3db.two TO s3bk")
    finished(conn, "s3db", "two")
    second = keys(client, s3.bucket, root + "__ss_two/")
    assert sorted(k for k in second if k.startswith("__ss_content/")) == data_keys
    for key in data_keys:
        assert second[key]["ETag"] == objects[key]["ETag"]
    totals = upload_totals(server.log(), "two")
    assert totals["tasks"] > 0, server.log()[-2000:]
    assert (totals["uploaded"], totals["bytes"], totals["copied"]) == (0, 0, len(data_keys))
    # ... and the copies hold the right bytes.
    for key in data_keys:
        body = client.get_object(Bucket=s3.bucket, Key=root + "__ss_two/" + key)["Body"].read()
        assert hashlib.md5(body).hexdigest() == key.rpartition(".")[2]

    q(conn, "DROP SNAPSHOT one FROM s3bk")
    assert keys(client, s3.bucket, root + "__ss_one/") == {}
    assert [r[0] for r in q(conn, "SHOW SNAPSHOT ON s3bk")] == ["two"]


def test_expired_snapshot_is_dropped_from_s3(
    server: DorisbkServer, conn: pymysql.connections.Connection, s3: S3Server, client: Any
) -> None:
    """A snapshot backed up with a 1 SECOND ttl goes from the bucket, as DROP SNAPSHOT removes it; one without a
    ttl and one with a long ttl stay."""
    set_config(conn, "snapshot_ttl_check_interval_ms", "3600000")
    create_repo(conn, s3, "s3ttl", "ttl")
    q(conn, "CREATE DATABASE s3ttl")
    make_table(conn, "s3ttl", "t", rows=4, buckets=2)
    for label, ttl in (("kept", None), ("month", "30 DAYS"), ("short", "1 SECOND")):
        props = f' PROPERTIES ("ttl" = "{ttl}")' if ttl else ""
        q(conn, f"BACKUP SNAPSHOT s3ttl.{label} TO s3ttl{props}")
        finished(conn, "s3ttl", label)
    root = "ttl/__palo_repository_s3ttl/"
    objects = {label: keys(client, s3.bucket, f"{root}__ss_{label}/") for label in ("kept", "month", "short")}
    info_key = next(k for k in objects["short"] if k.startswith("__info_"))
    info = json.loads(client.get_object(Bucket=s3.bucket, Key=f"{root}__ss_short/{info_key}")["Body"].read())
    assert info["expire_time"] == info["backup_time"] + 1000  # in the bucket, for any server reading it
    ts = info_key[len("__info_") :].rpartition(".")[0]
    details = json.loads(q(conn, f"SHOW SNAPSHOT ON s3ttl WHERE SNAPSHOT = 'short' AND TIMESTAMP = '{ts}'")[0][3])
    assert "expire_time" in details
    assert [r[0] for r in q(conn, "SHOW SNAPSHOT ON s3ttl")] == ["kept", "month", "short"]

    set_config(conn, "snapshot_ttl_check_interval_ms", "100")
    try:
        deadline = time.monotonic() + 30
        while "short" in [r[0] for r in q(conn, "SHOW SNAPSHOT ON s3ttl")]:
            assert time.monotonic() < deadline, server.log()[-3000:]
            time.sleep(0.05)
    finally:
        set_config(conn, "snapshot_ttl_check_interval_ms", "3600000")
    assert keys(client, s3.bucket, f"{root}__ss_short/") == {}
    for label in ("kept", "month"):
        assert keys(client, s3.bucket, f"{root}__ss_{label}/").keys() == objects[label].keys(), label
    rows = q(
        conn,
        "SELECT SNAPSHOT, EXPIRE_TIME IS NULL FROM information_schema.repository_snapshots "
        "WHERE REPOSITORY = 's3ttl' ORDER BY SNAPSHOT",
    )
    assert rows == [("kept", 1), ("month", 0)]


def test_alter_repository_rotates_credentials_of_a_running_job(
    server: DorisbkServer, conn: pymysql.connections.Connection, s3: S3Server
) -> None:
    key_a, secret_a = "ROTKEYA" + uuid.uuid4().hex[:8].upper(), "rot-secret-a-" + uuid.uuid4().hex
    key_b, secret_b = "ROTKEYB" + uuid.uuid4().hex[:8].upper(), "rot-secret-b-" + uuid.uuid4().hex
    actions = "-actions=Read,Write,List,Tagging,Admin"
    weed_shell(s3, f"s3.configure -user=rot_a -access_key={key_a} -secret_key={secret_a} {actions} -apply")
    wait_key_works(s3, key_a, secret_a)
    create_repo(conn, s3, "s3rot", "rot", **{"s3.access_key": key_a, "s3.secret_key": secret_a})
    q(conn, "CREATE DATABASE rotdb")
    make_table(conn, "rotdb", "t", rows=4, buckets=1)
    pause(conn, "UPLOAD_INFO")
    try:
        q(conn, "BACKUP SNAPSHOT rotdb.rot TO s3rot")
        wait_backup(conn, "rotdb", "rot", ("UPLOAD_INFO",))
        # The key the job started with is revoked: uploading the info file fails and is retried.
        weed_shell(s3, "s3.configure -user=rot_a -delete -apply")
        wait_key_works(s3, key_a, secret_a, works=False)
        pause(conn)
        deadline = time.monotonic() + 15
        while True:
            row = backup_row(conn, "rotdb", "rot")
            assert row is not None and row[COL["State"]] == "UPLOAD_INFO", row
            # retried, never cancelled: Status tells why the job waits (Doris's UPLOAD_INFO behaviour)
            if row[COL["Status"]].startswith("[COMMON_ERROR, msg: ") and "access denied" in row[COL["Status"]]:
                break
            assert time.monotonic() < deadline, row
            time.sleep(0.1)
        message = doris_err(conn, "SHOW SNAPSHOT ON s3rot")
        assert message.startswith("Failed to list snapshot in repo: s3rot, err: ") and "InvalidAccessKeyId" in message

        assert (
            doris_err(
                conn, f'ALTER REPOSITORY s3rot PROPERTIES ("s3.access_key" = "{key_b}", "s3.secret_key" = "{secret_b}")'
            )
            == "Repo can not ping with new s3 properties"
        )
        weed_shell(s3, f"s3.configure -user=rot_b -access_key={key_b} -secret_key={secret_b} {actions} -apply")
        wait_key_works(s3, key_b, secret_b)
        q(conn, f'ALTER REPOSITORY s3rot PROPERTIES ("s3.access_key" = "{key_b}", "s3.secret_key" = "{secret_b}")')
        row = finished(conn, "rotdb", "rot")
        assert row[COL["TaskErrMsg"]] == ""
        assert row[COL["Status"]] == "[OK]"
    finally:
        pause(conn)
    assert q(conn, "SHOW SNAPSHOT ON s3rot")[0][::2] == ("rot", "OK")
    text = q(conn, "SHOW CREATE REPOSITORY FOR s3rot")[0][1]
    assert f'"s3.access_key" = "{key_b}"' in text and secret_b not in text
    log = server.log()
    assert secret_a not in log and secret_b not in log


def test_backup_s3_example(conn: pymysql.connections.Connection, s3: S3Server, client: Any) -> None:
    """The SQL blocks of examples/backup_s3.md run in order against the fixture's server."""
    text = (Path(__file__).resolve().parents[1] / "examples" / "backup_s3.md").read_text()
    blocks = re.findall(r"```sql\n(.*?)```", text, re.S)
    assert len(blocks) >= 6
    script = "\n".join(blocks)
    for old, new in (
        ("http://127.0.0.1:8333", s3.endpoint),
        ("s3://backups/", f"s3://{s3.bucket}/"),
        ("AKEXAMPLE", s3.access_key),
        ("SKEXAMPLE", s3.secret_key),
    ):
        assert old in script
        script = script.replace(old, new)
    run_script(conn, sql_statements(script))
    rows = {r[1]: r for r in q(conn, "SHOW BACKUP FROM s3_shop")}
    assert [rows[x][COL["State"]] for x in ("events_v1", "events_v2")] == ["FINISHED", "FINISHED"]
    assert set(keys(client, s3.bucket, "dorisbk/__palo_repository_s3_repo/")) >= {"__repo_info"}
    assert not keys(client, s3.bucket, "dorisbk/__palo_repository_s3_repo/__ss_events_v1/")
    assert keys(client, s3.bucket, "dorisbk/__palo_repository_s3_repo/__ss_events_v2/")
