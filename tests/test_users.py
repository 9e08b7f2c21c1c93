"""Users, passwords and Doris privileges: CREATE / DROP USER, SET PASSWORD, GRANT, REVOKE, SHOW GRANTS,
and the errors a user without a privilege gets (1045, 1227, 1142, 1044)."""

from __future__ import annotations

import hashlib
import sqlite3

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import dicts, expect_error, mysql_cli, one, rows

GRANT_COLUMNS = [
    "UserIdentity",
    "Comment",
    "Password",
    "Roles",
    "GlobalPrivs",
    "CatalogPrivs",
    "DatabasePrivs",
    "TablePrivs",
    "ColPrivs",
    "ResourcePrivs",
    "WorkloadGroupPrivs",
]


@pytest.fixture(scope="module")
def root(server: DorisbkServer):
    with server.connect() as c:
        rows(c, "CREATE DATABASE users_db")
        rows(c, "CREATE TABLE users_db.t (k INT, v INT) DISTRIBUTED BY HASH(k) BUCKETS 1")
        rows(c, "CREATE TABLE users_db.other (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1")
        rows(c, "INSERT INTO users_db.t VALUES (1, 10), (2, 20)")
        rows(c, "CREATE DATABASE users_private")
        yield c


def login_error(server: DorisbkServer, user: str, password: str, database: str | None = None) -> tuple[int, str]:
    with pytest.raises(pymysql.err.OperationalError) as info:
        server.connect(user=user, password=password, database=database)
    return info.value.args[0], info.value.args[1]


def test_root_is_admin_with_empty_password(server: DorisbkServer, root) -> None:
    got = dicts(root, "SHOW GRANTS")
    assert list(got[0]) == GRANT_COLUMNS
    assert got[0]["UserIdentity"] == "'root'@'%'"
    assert "Admin_priv" in got[0]["GlobalPrivs"]
    assert got[0]["Password"] == "No"


def test_create_user_password_and_1045(server: DorisbkServer, root) -> None:
    rows(root, "CREATE USER 'alice'@'%' IDENTIFIED BY 'secret-1'")
    expect_error(root, "CREATE USER alice", 1396, "CREATE USER failed")
    rows(root, "CREATE USER IF NOT EXISTS alice")  # no error, password unchanged
    with server.connect(user="alice", password="secret-1") as c:
        assert one(c, "SELECT CURRENT_USER()").startswith("alice")
    code, message = login_error(server, "alice", "wrong")
    assert code == 1045 and message == "Access denied for user 'alice'@'127.0.0.1' (using password: YES)"
    code, message = login_error(server, "alice", "")
    assert code == 1045 and "(using password: NO)" in message
    # an unknown user gets the same 1045 as a wrong password: no hint which names exist
    code, message = login_error(server, "mallory", "secret-1")
    assert code == 1045 and message == "Access denied for user 'mallory'@'127.0.0.1' (using password: YES)"
    assert dicts(root, "SHOW GRANTS FOR alice")[0]["Password"] == "Yes"


def test_passwords_are_stored_only_as_native_hashes(server: DorisbkServer, root) -> None:
    rows(root, "CREATE USER hashme IDENTIFIED BY 'plain-text-pw'")
    expected = "*" + hashlib.sha1(hashlib.sha1(b"plain-text-pw").digest()).hexdigest().upper()
    meta = sqlite3.connect(server.data_dir / "meta.db")
    try:
        bodies = [b for (b,) in meta.execute("SELECT body FROM dorisbk_objects WHERE kind = 'user'")]
    finally:
        meta.close()
    assert not any("plain-text-pw" in b for b in bodies)
    assert any(expected in b for b in bodies)
    # a user created from a hash logs in with the password behind it
    rows(root, f"CREATE USER fromhash IDENTIFIED BY PASSWORD '{expected}'")
    with server.connect(user="fromhash", password="plain-text-pw") as c:
        assert one(c, "SELECT 1") == 1


def test_set_password(server: DorisbkServer, root) -> None:
    rows(root, "CREATE USER pwuser IDENTIFIED BY 'old'")
    with server.connect(user="pwuser", password="old") as c:
        rows(c, "SET PASSWORD = PASSWORD('new')")  # a user may change their own password
        expect_error(c, "SET PASSWORD FOR root = PASSWORD('x')", 1227)
    assert login_error(server, "pwuser", "old")[0] == 1045
    server.connect(user="pwuser", password="new").close()
    rows(root, "SET PASSWORD FOR 'pwuser'@'%' = PASSWORD('newer')")
    server.connect(user="pwuser", password="newer").close()
    expect_error(root, "SET PASSWORD FOR pwuser = 'not-a-hash'", 1105, "41-digit")


def test_grants_and_show_grants(server: DorisbkServer, root) -> None:
    rows(root, "CREATE USER bob IDENTIFIED BY 'bpw'")
    rows(root, "GRANT SELECT_PRIV ON internal.users_db.* TO bob")
    rows(root, "GRANT LOAD_PRIV, ALTER_PRIV ON users_db.t TO 'bob'@'%'")
    got = dicts(root, "SHOW GRANTS FOR bob")[0]
    assert got["UserIdentity"] == "'bob'@'%'"
    assert got["GlobalPrivs"] is None
    assert got["DatabasePrivs"] == "internal.users_db: Select_priv"
    assert got["TablePrivs"] == "internal.users_db.t: Load_priv,Alter_priv"
    with server.connect(user="bob", password="bpw") as c:
        assert dicts(c, "SHOW GRANTS")[0]["DatabasePrivs"] == "internal.users_db: Select_priv"
        expect_error(c, "SHOW GRANTS FOR root", 1227)
        expect_error(c, "SHOW ALL GRANTS", 1227)
    all_users = [r["UserIdentity"] for r in dicts(root, "SHOW ALL GRANTS")]
    assert "'bob'@'%'" in all_users and "'root'@'%'" in all_users
    expect_error(root, "GRANT NO_SUCH_PRIV ON users_db.t TO bob", 1064, "NO_SUCH_PRIV")
    expect_error(root, "GRANT SELECT_PRIV ON users_db.t TO nobody_here", 1105, "does not exist")
    expect_error(root, "GRANT ADMIN_PRIV ON internal.users_db.* TO bob", 1105, "global level")


def test_grant_on_a_bare_database_name_covers_its_tables(server: DorisbkServer, root) -> None:
    rows(root, "CREATE USER dana IDENTIFIED BY 'dpw'")
    rows(root, "GRANT SELECT_PRIV ON users_db TO dana")  # Doris reads ON db as ON db.*
    assert dicts(root, "SHOW GRANTS FOR dana")[0]["DatabasePrivs"] == "internal.users_db: Select_priv"
    with server.connect(user="dana", password="dpw") as c:
        assert rows(c, "SELECT k FROM users_db.t ORDER BY k") == [(1,), (2,)]


def test_privileges_are_checked_on_every_statement(server: DorisbkServer, root) -> None:
    rows(root, "CREATE USER carol IDENTIFIED BY 'cpw'")
    rows(root, "GRANT SELECT_PRIV ON internal.users_db.t TO carol")
    with server.connect(user="carol", password="cpw") as c:
        assert rows(c, "SELECT k, v FROM users_db.t ORDER BY k") == [(1, 10), (2, 20)]
        expect_error(c, "SELECT * FROM users_db.other", 1142, "SELECT command denied to user 'carol'@'%' for table")
        expect_error(c, "INSERT INTO users_db.t VALUES (3, 30)", 1142, "LOAD command denied")
        expect_error(c, "TRUNCATE TABLE users_db.t", 1142, "LOAD command denied")
        expect_error(c, "DROP TABLE users_db.t", 1142, "DROP command denied")
        expect_error(c, "CREATE TABLE users_db.x (k INT)", 1142, "CREATE command denied")
        expect_error(c, "ALTER TABLE users_db.t RENAME t2", 1142, "ALTER command denied")
        expect_error(
            c,
            "CREATE DATABASE carol_db",
            1227,
            "Access denied; you need (at least one of) the (ADMIN) privilege(s) for this operation",
        )
        expect_error(c, "DROP DATABASE users_db", 1227)
        expect_error(c, "CREATE USER eve", 1227)
        expect_error(c, "GRANT SELECT_PRIV ON users_db.other TO carol", 1227)
        expect_error(c, "SHOW BACKENDS", 1227)
        expect_error(c, "SHOW PARTITIONS FROM users_db.t", 1227)
        expect_error(c, "USE users_private", 1044, "users_private")
        dbs = [r[0] for r in rows(c, "SHOW DATABASES")]
        assert "users_db" in dbs and "users_private" not in dbs
        # the privilege arrives: the next statement of the same connection may use it
        rows(root, "GRANT LOAD_PRIV ON users_db.t TO carol")
        rows(c, "INSERT INTO users_db.t VALUES (3, 30)")
        # and leaves
        rows(root, "REVOKE SELECT_PRIV ON internal.users_db.t FROM carol")
        expect_error(c, "SELECT * FROM users_db.t", 1142)
    assert dicts(root, "SHOW GRANTS FOR carol")[0]["TablePrivs"] == "internal.users_db.t: Load_priv"
    code, _ = login_error(server, "carol", "cpw", database="users_private")
    assert code == 1044


def test_admin_grant_makes_an_admin(server: DorisbkServer, root) -> None:
    rows(root, "CREATE USER dave IDENTIFIED BY 'dpw'")
    rows(root, "GRANT ADMIN_PRIV ON *.*.* TO dave")
    assert dicts(root, "SHOW GRANTS FOR dave")[0]["GlobalPrivs"] == "Admin_priv"
    with server.connect(user="dave", password="dpw") as c:
        rows(c, "CREATE DATABASE dave_db")
        rows(c, "SHOW BACKENDS")
        rows(c, "DROP DATABASE dave_db")
    rows(root, "REVOKE ADMIN_PRIV ON *.*.* FROM dave")
    with server.connect(user="dave", password="dpw") as c:
        expect_error(c, "CREATE DATABASE dave_db", 1227)


def test_drop_user(server: DorisbkServer, root) -> None:
    rows(root, "CREATE USER gone IDENTIFIED BY 'gpw'")
    server.connect(user="gone", password="gpw").close()
    rows(root, "DROP USER 'gone'@'%'")
    assert login_error(server, "gone", "gpw")[0] == 1045
    expect_error(root, "DROP USER gone", 1396)
    rows(root, "DROP USER IF EXISTS gone")
    expect_error(root, "DROP USER root", 1105)
    assert "'gone'@'%'" not in [r["UserIdentity"] for r in dicts(root, "SHOW ALL GRANTS")]


def test_mysql_cli_login_errors(server: DorisbkServer, root) -> None:
    rows(root, "CREATE USER IF NOT EXISTS cliuser IDENTIFIED BY 'clipw'")
    out = mysql_cli(server.port, "SELECT CURRENT_USER();\n", user="cliuser", password="clipw")
    assert out.returncode == 0, out.stderr
    out = mysql_cli(server.port, "SELECT 1;\n", user="cliuser", password="bad")
    assert "ERROR 1045 (28000)" in out.stderr and "'cliuser'@" in out.stderr, out.stderr


def test_roles_grant_their_privileges_to_their_users(server: DorisbkServer, root) -> None:
    rows(root, "CREATE ROLE reader")
    expect_error(root, "CREATE ROLE reader", 1396, "already exists")
    rows(root, "CREATE ROLE IF NOT EXISTS reader")
    expect_error(root, "CREATE ROLE admin", 1396)
    rows(root, "GRANT SELECT_PRIV ON users_db.* TO ROLE 'reader'")
    rows(root, "CREATE USER erin IDENTIFIED BY 'epw'")
    with server.connect(user="erin", password="epw") as c:
        expect_error(c, "SELECT v FROM users_db.t", 1142)
    rows(root, "GRANT 'reader' TO erin")
    expect_error(root, "GRANT 'nosuch' TO erin", 1396, "does not exist")
    assert dicts(root, "SHOW GRANTS FOR erin")[0]["Roles"] == "reader"
    role = next(r for r in dicts(root, "SHOW ROLES") if r["Name"] == "reader")
    assert role["Users"] == "'erin'@'%'" and role["DatabasePrivs"] == "internal.users_db: Select_priv"
    with server.connect(user="erin", password="epw") as c:
        assert 10 in [r[0] for r in rows(c, "SELECT v FROM users_db.t")]
        expect_error(c, "CREATE ROLE r2", 1227)
    rows(root, "REVOKE SELECT_PRIV ON users_db.* FROM ROLE 'reader'")
    with server.connect(user="erin", password="epw") as c:
        expect_error(c, "SELECT v FROM users_db.t", 1142)
    rows(root, "DROP ROLE reader")
    assert dicts(root, "SHOW GRANTS FOR erin")[0]["Roles"] == ""
    expect_error(root, "DROP ROLE reader", 1396)
    rows(root, "DROP ROLE IF EXISTS reader")
