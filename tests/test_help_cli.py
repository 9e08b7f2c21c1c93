"""`help` through the real mysql CLI: what the client sends (`help 'x'`) and what it prints,
compared with what the help topics say, in batch mode and in an interactive session (tmux)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dorisbk.sql.help import CONTENTS, get_help_module
from tests.clientkit import Tmux, mysql_cmd, run_mysql
from tests.dorisbk_server import DorisbkServer

NOTHING_FOUND = "\nNothing found\nPlease try to run 'help contents' for a list of all accessible topics\n"


@pytest.fixture(scope="module")
def port(server: DorisbkServer) -> int:
    return server.port


def batch(port: int, command: str) -> str:
    out = run_mysql(port, command + "\n")
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    return out.stdout


def topic_text(name: str) -> str:
    """How the CLI prints one topic: its name, description and (when there is one) example."""
    topic = get_help_module().topics[name]
    text = f"Name: '{topic.name}'\nDescription:\n{topic.description}"
    if topic.example:
        text += f"Examples:\n{topic.example}"
    return text + "\n"


def categories() -> list[str]:
    return sorted(get_help_module().categories[CONTENTS].children, key=str.lower)


def test_help_contents_lists_the_categories(port: int) -> None:
    assert batch(port, "help contents") == "".join(f"   {c}\n" for c in categories()) + "\n"
    assert "Backup and Restore" in categories()


@pytest.mark.parametrize(
    ("command", "topic"),
    [
        ("help backup", "BACKUP"),
        ("HELP RESTORE", "RESTORE"),
        ("help 'show backup'", "SHOW-BACKUP"),  # beyond Doris, which misses this one
        ("help show-backup", "SHOW-BACKUP"),
        ("help create repository", "CREATE-REPOSITORY"),
        ("help cancel restore", "CANCEL-RESTORE"),
        ("help drop snapshot", "DROP-SNAPSHOT"),
        ("help create table", "CREATE-TABLE"),
    ],
)
def test_help_topic_prints_name_description_and_example(port: int, command: str, topic: str) -> None:
    out = batch(port, command)
    assert out == topic_text(topic)


def test_help_keyword_lists_the_topics(port: int) -> None:
    out = batch(port, "help show")
    names = sorted(n for n in get_help_module().topics if n.startswith("SHOW-"))
    assert out == "".join(f"   {n}\n" for n in names) + "\n"
    assert "   SHOW-BACKUP\n" in out and "   SHOW-SNAPSHOT\n" in out


def test_help_category_lists_its_topics(port: int) -> None:
    out = batch(port, "help 'Backup and Restore'")
    for name in ("BACKUP", "RESTORE", "SHOW-SNAPSHOT", "CANCEL-BACKUP", "DROP-REPOSITORY"):
        assert f"   {name}\n" in out


def test_unknown_help_item_finds_nothing(port: int) -> None:
    assert batch(port, "help nothing_like_this") == ""  # batch mode prints no "Nothing found" text


@pytest.fixture
def session(port: int) -> Iterator[Tmux]:
    tmux = Tmux(f"dorisbk-help-{port}", mysql_cmd(port, "--pager=cat", "-A"))
    try:
        tmux.wait_for("]>")
        yield tmux
    finally:
        tmux.close()


def test_help_in_an_interactive_session(session: Tmux) -> None:
    session.send("help contents")
    screen = session.wait_for("]>", count=2)
    expected = (
        "Many help items for your request exist.\n"
        "To make a more specific request, please type 'help <item>',\n"
        "where <item> is one of the following\n"
        "categories:\n" + "".join(f"   {c}\n" for c in categories())
    )
    shown = screen.split("help contents\n", 1)[1]
    assert shown.startswith(expected), shown

    session.send("help backup")
    screen = session.wait_for("]>", count=3)
    shown = screen.split("help backup\n", 1)[1]
    assert shown.startswith(topic_text("BACKUP")), shown

    session.send("help nothing_like_this")
    screen = session.wait_for("]>", count=4)
    shown = screen.split("help nothing_like_this\n", 1)[1]
    assert shown.startswith(NOTHING_FOUND), shown
    assert "ERROR" not in screen
