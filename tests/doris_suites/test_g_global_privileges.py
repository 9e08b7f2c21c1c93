"""Doris suite ``test_backup_restore_priv`` (Doris 4): users, roles and grants through BACKUP GLOBAL and
RESTORE GLOBAL, the jobs awaited under ``__internal_schema`` as the suite's syncer does.

Where dorisbk differs: the users are created without the suite's password-policy clauses
(PASSWORD_EXPIRE, FAILED_LOGIN_ATTEMPTS, PASSWORD_LOCK_TIME), which dorisbk does not have; and the
suite's ``backup_catalog`` / ``backup_workload_group`` (and ``reserve_*``) are left out, since dorisbk
has no catalogs but internal and no workload groups and refuses them as ``true``.
"""

from __future__ import annotations

from pathlib import Path

import pymysql

from tests.doris_suites import syncer
from tests.doris_suites.suite_support import conn
from tests.doris_suites.syncer import sql, sql_dicts

__all__ = ["conn"]

GLOBAL = "__internal_schema"
USERS = ("user1", "user2", "user3")
ROLES = ("role_select", "role_load")


def drop_all(conn: pymysql.connections.Connection) -> None:
    for user in USERS:
        sql(conn, f"drop user if exists {user};")
    for role in ROLES:
        sql(conn, f"drop role if exists {role};")


def accounts(conn: pymysql.connections.Connection) -> tuple[list[dict], list[dict]]:
    """What the suite compares before and after: SHOW ALL GRANTS and SHOW ROLES."""
    return sql_dicts(conn, "show all grants;"), sql_dicts(conn, "show roles;")


def test_backup_restore_priv(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    repo, label = syncer.unique("test_backup_restore_priv_repo"), "test_backup_restore_priv_snapshot"
    syncer.create_local_repository(conn, repo, tmp_path / "repo")
    drop_all(conn)
    for user in USERS:
        sql(conn, f"CREATE USER '{user}' IDENTIFIED BY '12345';")
    sql(conn, "create role role_select;")
    sql(conn, "GRANT Select_priv ON *.* TO ROLE 'role_select';")
    sql(conn, "create role role_load;")
    sql(conn, "GRANT Load_priv ON *.* TO ROLE 'role_load';")
    sql(conn, "grant 'role_select', 'role_load' to 'user1'@'%';")
    sql(conn, "grant 'role_select' to 'user2'@'%';")
    sql(conn, "grant 'role_load' to 'user3'@'%';")
    before = accounts(conn)

    sql(conn, f'BACKUP GLOBAL SNAPSHOT {label}\nTO `{repo}`\nPROPERTIES ("backup_privilege"="true")')
    snapshot = syncer.wait_snapshot_timestamp(conn, GLOBAL, repo, label)

    # 1: "reserve_privilege"="true"; 2: no reserve_* (everything the snapshot holds)
    for reserve in (', "reserve_privilege"="true"', ""):
        drop_all(conn)
        assert accounts(conn) != before
        sql(
            conn,
            f"""RESTORE GLOBAL SNAPSHOT {label}
            FROM `{repo}`
            PROPERTIES ("backup_timestamp" = "{snapshot}", "reserve_replica" = "true"{reserve})""",
        )
        syncer.wait_all_restore_finish(conn, GLOBAL)
        assert accounts(conn) == before

    drop_all(conn)
    sql(conn, f"DROP SNAPSHOT {label} FROM `{repo}`")
    sql(conn, f"DROP REPOSITORY `{repo}`")
