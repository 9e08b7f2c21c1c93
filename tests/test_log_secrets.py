"""Statements that carry repository credentials never reach the server log in full."""

from __future__ import annotations

from dorisbk.sql.router import log_text


def test_backup_statements_are_cut_to_their_first_words() -> None:
    sql = 'CREATE REPOSITORY r WITH S3 ON LOCATION "s3://b/p" PROPERTIES ("s3.secret_key" = "TOPSECRET")'
    assert "TOPSECRET" not in log_text(sql)
    assert log_text(sql).startswith("CREATE REPOSITORY")
    alter = "ALTER REPOSITORY r PROPERTIES ('s3.secret_key' = 'TOPSECRET')"
    assert "TOPSECRET" not in log_text(alter)


def test_other_statements_are_logged_up_to_200_characters() -> None:
    assert log_text("SELECT 1") == "SELECT 1"
    assert len(log_text("SELECT " + "1," * 500 + "1")) == 200
