"""BACKUP GLOBAL / RESTORE GLOBAL (Doris 4): users, roles and grants into a repository and back.

What a user checks: a dropped user comes back with its password, its grants and its role; an existing user
is merged, not replaced; root is never touched; the jobs are listed under ``__internal_schema``; a tampered
statement file is refused and nothing of it replayed; only an ADMIN runs them; both resume after a restart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import described, doris_err, pause, q, restart, snapshot_dir
from tests.sqlhelp import dicts, expect_error
from tests.test_backup_support import COL, backup_row, sql_statements, wait_backup
from tests.test_restore_support import restore_row, wait_done, wait_state

REPO = "grepo"
GLOBAL = "__internal_schema"


@pytest.fixture(scope="module")
def location(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("global_repo")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory, location: Path) -> Iterator[DorisbkServer]:
    server = DorisbkServer(tmp_path_factory.mktemp("global") / "data").start()
    with server.connect() as conn:
        q(conn, f'CREATE REPOSITORY {REPO} WITH LOCAL ON LOCATION "file://{location}"')
        q(conn, "CREATE DATABASE gdb")
        q(conn, "CREATE TABLE gdb.t (k INT, v INT) DISTRIBUTED BY HASH(k) BUCKETS 1")
        q(conn, "INSERT INTO gdb.t VALUES (1, 10)")
    yield server
    server.stop()


@pytest.fixture
def root(srv: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    with srv.connect() as conn:
        yield conn


def backup_global(conn: pymysql.connections.Connection, label: str, props: str = "") -> str:
    """BACKUP GLOBAL, waited for; the backup's timestamp."""
    q(conn, f"BACKUP GLOBAL SNAPSHOT {label} TO {REPO} {props}")
    row = wait_backup(conn, GLOBAL, label, ("FINISHED", "CANCELLED"))
    assert (row[COL["State"]], row[COL["Status"]]) == ("FINISHED", "[OK]"), row
    return q(conn, f"SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT = '{label}'")[0][1]


def restore_global(conn: pymysql.connections.Connection, label: str, stamp: str, props: str = "") -> dict[str, str]:
    """RESTORE GLOBAL, waited for; its SHOW RESTORE row."""
    q(conn, f'RESTORE GLOBAL SNAPSHOT {label} FROM {REPO} PROPERTIES ("backup_timestamp" = "{stamp}"{props})')
    return wait_done(conn, GLOBAL)


def meta_file(location: Path, label: str) -> Path:
    return next(snapshot_dir(location, REPO, label).glob("__meta.*"))


def rewrite_meta(location: Path, label: str, edit: object) -> None:
    """Replace the snapshot's statements as someone with write access to the repository could: the new content
    under a name with its own, matching checksum."""
    old = meta_file(location, label)
    meta = json.loads(old.read_bytes())
    meta["global_objects"]["privilege"] = edit(meta["global_objects"]["privilege"])  # type: ignore[operator]
    data = json.dumps(meta).encode()
    old.unlink()
    (old.parent / f"__meta.{hashlib.md5(data).hexdigest()}").write_bytes(data)


def can_login(srv: DorisbkServer, user: str, password: str) -> bool:
    try:
        srv.connect(user=user, password=password).close()
    except pymysql.err.OperationalError as exc:
        assert exc.args[0] == 1045, exc.args
        return False
    return True


def test_a_dropped_user_comes_back_with_password_grants_and_role(srv: DorisbkServer, root, location: Path) -> None:
    q(root, "CREATE ROLE g_reader")
    q(root, "GRANT SELECT_PRIV ON gdb.* TO ROLE 'g_reader'")
    q(root, "CREATE USER 'gu'@'%' IDENTIFIED BY 'gu-secret-pw'")
    q(root, "GRANT LOAD_PRIV ON gdb.* TO gu")
    q(root, "GRANT 'g_reader' TO gu")
    stamp = backup_global(root, "g_users", 'PROPERTIES ("backup_privilege" = "true")')

    row = backup_row(root, GLOBAL, "g_users")
    assert (row[COL["DbName"]], row[COL["BackupObjs"]]) == (GLOBAL, "[privilege]")
    names, found = described(root, f"SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT = 'g_users' AND TIMESTAMP = '{stamp}'")
    detail = dict(zip(names, found[0], strict=True))
    assert detail["Database"] == GLOBAL and detail["Status"] == "OK"
    objects = json.loads(detail["Details"])["global_objects"]["privilege"]
    assert "gu" in objects["users"] and "g_reader" in objects["roles"] and "root" not in objects["users"]
    # the statements hold the password's hash, never the password; neither is logged
    stored = meta_file(location, "g_users").read_text()
    hashed = "*" + hashlib.sha1(hashlib.sha1(b"gu-secret-pw").digest()).hexdigest().upper()
    assert f"IDENTIFIED BY PASSWORD '{hashed}'" in stored and "gu-secret-pw" not in stored
    assert hashed not in srv.log() and "gu-secret-pw" not in srv.log()

    q(root, "DROP USER gu")
    q(root, "DROP ROLE g_reader")
    assert not can_login(srv, "gu", "gu-secret-pw")
    root_grants = dicts(root, "SHOW GRANTS FOR root")

    done = restore_global(root, "g_users", stamp, ', "reserve_privilege" = "true"')
    assert (done["State"], done["Status"], done["DbName"], done["Timestamp"]) == ("FINISHED", "[OK]", GLOBAL, stamp)
    grants = dicts(root, "SHOW GRANTS FOR gu")[0]
    assert grants["Roles"] == "g_reader" and grants["DatabasePrivs"] == "internal.gdb: Load_priv"
    with srv.connect(user="gu", password="gu-secret-pw") as conn:
        assert q(conn, "SELECT v FROM gdb.t WHERE k = 1") == [(10,)]  # through the role
        q(conn, "INSERT INTO gdb.t VALUES (2, 20)")  # its own grant
        expect_error(conn, "CREATE DATABASE gu_db", 1227)
    assert dicts(root, "SHOW GRANTS FOR root") == root_grants


def test_an_existing_user_keeps_its_password_and_gains_the_snapshot_grants(srv: DorisbkServer, root) -> None:
    q(root, "CREATE USER gm IDENTIFIED BY 'old-pw'")
    q(root, "GRANT SELECT_PRIV ON gdb.* TO gm")
    stamp = backup_global(root, "g_merge")
    q(root, "SET PASSWORD FOR gm = PASSWORD('new-pw')")
    q(root, "REVOKE SELECT_PRIV ON gdb.* FROM gm")
    q(root, "GRANT LOAD_PRIV ON gdb.* TO gm")
    assert restore_global(root, "g_merge", stamp)["Status"] == "[OK]"  # no reserve_*: every kind of the snapshot
    assert can_login(srv, "gm", "new-pw") and not can_login(srv, "gm", "old-pw")
    assert dicts(root, "SHOW GRANTS FOR gm")[0]["DatabasePrivs"] == "internal.gdb: Load_priv,Select_priv"


@pytest.mark.parametrize(
    ("label", "edit", "why"),
    [
        (
            "g_drop",
            lambda sqls: [*sqls, "DROP DATABASE gdb"],
            "statement {n} of the snapshot's privileges is a DropDatabase",
        ),
        ("g_root", lambda sqls: [*sqls, "GRANT SELECT_PRIV ON *.*.* TO root"], "changes a built-in user or role"),
        ("g_clear", lambda sqls: [*sqls, "CREATE USER evil IDENTIFIED BY 'plain'"], "gives a password in clear text"),
        ("g_two", lambda sqls: [*sqls, "GRANT SELECT_PRIV ON *.*.* TO x; DROP DATABASE gdb"], "is not a statement"),
        ("g_ctl", lambda sqls: [*sqls, "GRANT SELECT_PRIV ON hive.db.* TO gt"], "is refused: Unknown catalog"),
        ("g_ghost", lambda sqls: [*sqls, "GRANT 'ghost' TO gt"], "grants to or of ghost, which is neither created"),
        ("g_hash", lambda sqls: [*sqls, "CREATE USER ev IDENTIFIED BY PASSWORD '*12'"], "is refused: Password hash"),
        ("g_admin", lambda sqls: [*sqls, "CREATE USER ev DEFAULT ROLE 'admin'"], "changes a built-in user or role"),
    ],
)
def test_a_tampered_statement_file_is_refused_and_nothing_replayed(
    srv: DorisbkServer, root, location: Path, label: str, edit: object, why: str
) -> None:
    q(root, "CREATE USER IF NOT EXISTS gt IDENTIFIED BY 'gt-pw'")
    stamp = backup_global(root, label)
    count = len(json.loads(meta_file(location, label).read_bytes())["global_objects"]["privilege"])
    rewrite_meta(location, label, edit)
    q(root, "DROP USER gt")
    done = restore_global(root, label, stamp)
    assert done["State"] == "CANCELLED"
    assert done["Status"].startswith("[BAD_FILE, msg: ") and why.format(n=count + 1) in done["Status"], done
    assert not can_login(srv, "gt", "gt-pw")  # its CREATE USER came first, and was not replayed either
    assert q(root, "SHOW DATABASES LIKE 'gdb'") == [("gdb",)]


def test_changed_bytes_fail_the_checksum(srv: DorisbkServer, root, location: Path) -> None:
    q(root, "CREATE USER IF NOT EXISTS gb IDENTIFIED BY 'gb-pw'")
    stamp = backup_global(root, "g_bytes")
    path = meta_file(location, "g_bytes")
    path.write_bytes(path.read_bytes().replace(b"CREATE USER IF NOT EXISTS", b"CREATE USER IF NOT EXISTZ", 1))
    q(root, "DROP USER gb")
    done = restore_global(root, "g_bytes", stamp)
    assert done["State"] == "CANCELLED" and done["Status"].startswith("[BAD_FILE, msg: md5sum does not equal"), done
    assert not can_login(srv, "gb", "gb-pw")


def test_statements_and_properties_refused_with_doris_errors(root) -> None:
    backup = f"BACKUP GLOBAL SNAPSHOT g_bad TO {REPO} PROPERTIES"
    assert "not supported" in doris_err(root, f'{backup} ("backup_catalog" = "true")')
    assert "not supported" in doris_err(root, f'{backup} ("backup_workload_group" = "true")')
    assert doris_err(root, f'{backup} ("content" = "all")') == "Unknown backup job properties: [content]"
    assert "Invalid boolean property" in doris_err(root, f'{backup} ("backup_privilege" = "yes")')
    assert "Nothing to backup" in doris_err(root, f'{backup} ("backup_privilege" = "false")')
    restore = f"RESTORE GLOBAL SNAPSHOT g_users FROM {REPO}"
    assert doris_err(root, restore) == "Missing backup_timestamp property"
    stamp = q(root, f"SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT = 'g_users'")[0][1]
    props = f'"backup_timestamp" = "{stamp}"'
    assert "not supported" in doris_err(root, f'{restore} PROPERTIES ({props}, "reserve_catalog" = "true")')
    assert "is a global snapshot" in doris_err(root, f"RESTORE SNAPSHOT gdb.g_users FROM {REPO} PROPERTIES ({props})")
    q(root, f"BACKUP SNAPSHOT gdb.g_db TO {REPO}")
    wait_backup(root, "gdb", "g_db", ("FINISHED",))
    db_stamp = q(root, f"SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT = 'g_db'")[0][1]
    message = doris_err(
        root, f'RESTORE GLOBAL SNAPSHOT g_db FROM {REPO} PROPERTIES ("backup_timestamp" = "{db_stamp}")'
    )
    assert "is not a global snapshot" in message
    assert q(root, "SELECT 1") == [(1,)]  # the connection stays usable


def test_only_an_admin_runs_them(srv: DorisbkServer, root) -> None:
    q(root, "CREATE USER IF NOT EXISTS gn IDENTIFIED BY 'gn-pw'")
    q(root, "GRANT SELECT_PRIV, LOAD_PRIV ON *.*.* TO gn")
    with srv.connect(user="gn", password="gn-pw") as conn:
        expect_error(conn, f"BACKUP GLOBAL SNAPSHOT g_gn TO {REPO}", 1227, "ADMIN")
        expect_error(conn, f'RESTORE GLOBAL SNAPSHOT g_users FROM {REPO} PROPERTIES ("backup_timestamp" = "x")', 1227)
        expect_error(conn, f"SHOW BACKUP FROM {GLOBAL}", 1227)
        assert q(conn, "SELECT 1") == [(1,)]


def test_one_global_job_at_a_time_and_both_resume_after_a_restart(fresh_server: DorisbkServer, tmp_path: Path) -> None:
    srv = fresh_server.start()
    with srv.connect() as conn:
        q(conn, f'CREATE REPOSITORY {REPO} WITH LOCAL ON LOCATION "file://{tmp_path / "repo"}"')
        q(conn, "CREATE USER gr IDENTIFIED BY 'gr-pw'")
        pause(conn, "SAVE_META")
        q(conn, f"BACKUP GLOBAL SNAPSHOT g_restart TO {REPO}")
        job_id = wait_backup(conn, GLOBAL, "g_restart", ("SAVE_META",))[COL["JobId"]]
        message = doris_err(conn, f"BACKUP GLOBAL SNAPSHOT g_other TO {REPO}")
        assert message == "Can only run one backup or restore job of a database at same time"
    restart(srv)
    with srv.connect() as conn:
        row = wait_backup(conn, GLOBAL, "g_restart", ("FINISHED", "CANCELLED"))
        assert (row[COL["JobId"]], row[COL["Status"]]) == (job_id, "[OK]")
        stamp = q(conn, f"SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT = 'g_restart'")[0][1]
        q(conn, "DROP USER gr")
        pause(conn, "COMMIT", kind="RESTORE")
        q(conn, f'RESTORE GLOBAL SNAPSHOT g_restart FROM {REPO} PROPERTIES ("backup_timestamp" = "{stamp}")')
        job_id = wait_state(conn, GLOBAL, "COMMIT")["JobId"]
    restart(srv)
    with srv.connect() as conn:
        done = wait_done(conn, GLOBAL)
        assert (done["JobId"], done["State"], done["Status"]) == (job_id, "FINISHED", "[OK]")
        assert restore_row(conn, GLOBAL, "g_restart") == done
    assert can_login(srv, "gr", "gr-pw")


def test_backup_global_example(srv: DorisbkServer, root, tmp_path: Path) -> None:
    """examples/backup_global.sql runs as its comments say, against a repository in a temp dir."""
    text = (Path(__file__).resolve().parents[1] / "examples" / "backup_global.sql").read_text()
    text = text.replace("file:///tmp/dorisbk-global-example-repo", f"file://{tmp_path}")
    stamp = ""
    for sql in sql_statements(text):
        if sql.startswith("RESTORE GLOBAL"):
            sql = sql.replace("2024-05-21-10-00-00", stamp)
            assert not can_login(srv, "example_loader", "loader-password")
        found = q(root, sql)
        if sql.startswith("SHOW BACKUP"):  # "wait: State FINISHED"
            row = wait_backup(root, GLOBAL, "accounts_20240521", ("FINISHED", "CANCELLED"))
            assert (row[COL["State"]], row[COL["DbName"]], row[COL["BackupObjs"]]) == (
                "FINISHED",
                GLOBAL,
                "[privilege]",
            )
        elif sql.startswith("SHOW SNAPSHOT"):  # "use: the Timestamp"
            stamp = found[0][1]
        elif sql.startswith("SHOW RESTORE"):  # "wait: State FINISHED, Status [OK]"
            assert (wait_done(root, GLOBAL)["Status"]) == "[OK]"
        elif sql.startswith("SHOW GRANTS"):
            grants = dicts(root, sql)[0]
            assert grants["Roles"] == "example_reader"
            assert grants["DatabasePrivs"] == "internal.example_global: Load_priv"
            with srv.connect(user="example_loader", password="loader-password") as conn:
                q(conn, "INSERT INTO example_global.orders VALUES (1, 9.50)")
                assert q(conn, "SELECT COUNT(*) FROM example_global.orders") == [(1,)]
    assert "example_global" not in [r[0] for r in q(root, "SHOW DATABASES")]


def test_cancel_and_check_a_global_job(srv: DorisbkServer, root) -> None:
    pause(root, "PENDING")
    try:
        q(root, f"BACKUP GLOBAL SNAPSHOT g_cancel TO {REPO}")
        q(root, f"CANCEL BACKUP FROM {GLOBAL}")
    finally:
        pause(root)
    row = wait_backup(root, GLOBAL, "g_cancel", ("CANCELLED",))
    assert row[COL["Status"]] == "[COMMON_ERROR, msg: user cancelled]"
    assert q(root, f"SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT = 'g_cancel'") == []
    names, found = described(root, f"ADMIN CHECK SNAPSHOT g_users FROM {REPO}")
    assert dict(zip(names, found[-1], strict=True))["Status"] == "OK", found  # a global snapshot has no files
    listed = q(root, "SELECT SNAPSHOT, DB_NAME FROM information_schema.repository_snapshots WHERE SNAPSHOT = 'g_users'")
    assert listed == [("g_users", GLOBAL)]
