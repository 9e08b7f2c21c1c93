"""The HELP module: statement recognition, topic loading and Doris's result shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from dorisbk.errors import DorisError, ParseError
from dorisbk.sql.help import (
    CONTENTS,
    EXAMPLE_BACKUP_TIMESTAMP,
    EXAMPLE_DATABASE,
    EXAMPLE_ORDER,
    EXAMPLE_REPOSITORY,
    EXAMPLE_REPOSITORY_LOCATION,
    LIST_COLUMNS,
    TOPIC_COLUMNS,
    HelpLoadError,
    HelpModule,
    answer,
    get_help_module,
    parse_help,
    parse_topics,
    split_statements,
)

pytestmark = pytest.mark.fast  # in process, no server

TOPIC = list(TOPIC_COLUMNS)
LIST = list(LIST_COLUMNS)

BACKUP_TOPICS = {
    "BACKUP",
    "RESTORE",
    "CREATE-REPOSITORY",
    "ALTER-REPOSITORY",
    "DROP-REPOSITORY",
    "SHOW-REPOSITORIES",
    "SHOW-BACKUP",
    "SHOW-RESTORE",
    "SHOW-SNAPSHOT",
    "CANCEL-BACKUP",
    "CANCEL-RESTORE",
    "DROP-SNAPSHOT",
    "SHOW-CREATE-REPOSITORY",
    "ADMIN-CHECK-SNAPSHOT",
    "SNAPSHOT-TABLE-FUNCTION",
}
TABLE_TOPICS = {
    "CREATE-DATABASE",
    "DROP-DATABASE",
    "CREATE-TABLE",
    "DROP-TABLE",
    "TRUNCATE-TABLE",
    "ALTER-TABLE-PARTITION",
    "SHOW-PARTITIONS",
    "SHOW-TABLET",
    "SHOW-BACKENDS",
    "INSERT",
    "SELECT",
    "CREATE-USER",
    "GRANT",
    "REVOKE",
    "SHOW-GRANTS",
    "CREATE-VIEW",
}
REQUIRED_TOPICS = BACKUP_TOPICS | TABLE_TOPICS


@pytest.fixture(scope="module")
def help_module() -> HelpModule:
    return get_help_module()


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def topic_md(name: str, keywords: str, description: str = "Does things.", example: str = "") -> str:
    text = f"## {name}\n\n### Description\n\n{description}\n\n### Keywords\n\n{keywords}\n"
    if example:
        text += f"\n### Example\n\n{example}\n"
    return text


@pytest.fixture
def small_module(tmp_path: Path) -> HelpModule:
    """contents/{Tools/{Hammers/, SAW.md, DRILL.md}, Fasteners/NAIL.md}, with a keyword 'tools'."""
    write(tmp_path, "Tools/SAW.md", topic_md("SAW", "CUT, tools"))
    write(tmp_path, "Tools/DRILL.md", topic_md("drill", "Hole, TOOLS"))
    write(tmp_path, "Tools/Hammers/CLAW-HAMMER.md", topic_md("CLAW-HAMMER", "hit"))
    write(tmp_path, "Tools/Hammers/MALLET.md", topic_md("MALLET", "hit"))
    write(tmp_path, "Tools/apple.md", topic_md("apple", "fruit"))
    write(tmp_path, "Fasteners/NAIL.md", topic_md("NAIL", "hit, fasten"))
    write(tmp_path, "Fasteners/notes.txt", "not markdown, ignored")
    return HelpModule(tmp_path)


# ---------------------------------------------------------------------------- parse_help


@pytest.mark.parametrize(
    ("sql", "mask"),
    [
        ("help 'show backup'", "show backup"),
        ("HELP 'contents'", "contents"),
        ('Help "backup"', "backup"),
        ("help 'backup';", "backup"),
        ("  help\t'backup'  ;  \n", "backup"),
        ("help'backup'", "backup"),
        ("help 'it''s'", "it's"),
        ('help "say ""hi"""', 'say "hi"'),
        ("help 'it\\'s'", "it's"),
        ("help 'a\\\\b'", "a\\b"),
        ("help 'a\\nb'", "a\nb"),
        ("help 'a\\%b\\_'", "a\\%b\\_"),
        ("help `show-backup`", "show-backup"),
        ("help 'a;b'", "a;b"),
        ("help backup", "backup"),
        ("help show backup", "show backup"),
        ("help   show    backup ;", "show backup"),
        ("HELP SHOW-BACKUP;", "SHOW-BACKUP"),
        ("/* hint */ help 'backup'", "backup"),
        ("help 'backup' -- trailing comment", "backup"),
        ("help 'backup'; # comment", "backup"),
        ("help", ""),
        ("help ;", ""),
        ("help ''", ""),
    ],
)
def test_parse_help_masks(sql: str, mask: str) -> None:
    assert parse_help(sql) == mask


@pytest.mark.parametrize(
    "sql",
    [
        "",
        "   ",
        "select 1",
        "SELECT 'help'",
        "helper 'x'",
        "help_me 'x'",
        "SHOW HELP",
        "show backup",
        "-- help 'x'\nselect 1",
    ],
)
def test_parse_help_other_statements(sql: str) -> None:
    assert parse_help(sql) is None


@pytest.mark.parametrize(
    "sql",
    [
        "help 'unterminated",
        "help 'a' 'b'",
        "help 'a' extra",
        "help 'a'; select 1",
        "help x; select 1",
        "help /* never closed",
    ],
)
def test_parse_help_malformed(sql: str) -> None:
    with pytest.raises(ParseError):
        parse_help(sql)


# ---------------------------------------------------------------------------- result shapes


def test_topic_by_exact_name(help_module: HelpModule) -> None:
    columns, rows = help_module.answer("backup")
    assert columns == TOPIC
    assert len(rows) == 1
    name, description, example = rows[0]
    assert name == "BACKUP"
    assert "BACKUP SNAPSHOT" in description
    assert "```sql" in example


def test_topic_name_is_case_insensitive(help_module: HelpModule) -> None:
    assert help_module.answer("Show-Backup") == help_module.answer("SHOW-BACKUP")
    assert help_module.answer("show-backup")[1][0][0] == "SHOW-BACKUP"


def test_words_separated_by_spaces_find_the_hyphenated_topic(help_module: HelpModule) -> None:
    columns, rows = help_module.answer("show backup")
    assert columns == TOPIC
    assert [r[0] for r in rows] == ["SHOW-BACKUP"]
    assert help_module.answer("  alter   table  partition ")[1][0][0] == "ALTER-TABLE-PARTITION"
    assert help_module.answer("Show Create Repository")[1][0][0] == "SHOW-CREATE-REPOSITORY"


def test_keyword_matching_one_topic_shows_it(help_module: HelpModule) -> None:
    columns, rows = help_module.answer("repositories")
    assert columns == TOPIC
    assert rows[0][0] == "SHOW-REPOSITORIES"
    assert help_module.answer("TRUNCATE")[1][0][0] == "TRUNCATE-TABLE"


def test_keyword_matching_several_topics_lists_them(help_module: HelpModule) -> None:
    columns, rows = help_module.answer("snapshot")
    assert columns == LIST
    assert rows == [
        ("ADMIN-CHECK-SNAPSHOT", "N"),
        ("BACKUP", "N"),
        ("DROP-SNAPSHOT", "N"),
        ("RESTORE", "N"),
        ("SHOW-SNAPSHOT", "N"),
        ("SNAPSHOT-TABLE-FUNCTION", "N"),
    ]


def test_help_show_lists_every_show_topic(help_module: HelpModule) -> None:
    columns, rows = help_module.answer("show")
    assert columns == LIST
    show_topics = sorted(n for n in help_module.topics if n.startswith("SHOW-"))
    assert rows == [(name, "N") for name in show_topics]
    assert {"SHOW-BACKUP", "SHOW-RESTORE", "SHOW-SNAPSHOT", "SHOW-REPOSITORIES"} <= set(show_topics)


def test_help_contents_lists_top_level_categories(help_module: HelpModule) -> None:
    columns, rows = help_module.answer("contents")
    assert columns == LIST
    assert rows
    assert all(flag == "Y" for _, flag in rows)
    names = [name for name, _ in rows]
    assert "Backup and Restore" in names
    assert names == sorted(names, key=str.lower)
    assert help_module.answer("CONTENTS") == (columns, rows)


def test_category_lists_its_topics(help_module: HelpModule) -> None:
    columns, rows = help_module.answer("backup and restore")
    assert columns == LIST
    assert rows == [(name, "N") for name in sorted(BACKUP_TOPICS, key=str.lower)]


def test_unknown_mask_gives_empty_list(help_module: HelpModule) -> None:
    assert help_module.answer("nonexistent_xyz") == (LIST, [])
    assert help_module.answer("backup table") == (LIST, [])


@pytest.mark.parametrize("mask", ["", "   ", "\t\n"])
def test_empty_mask_is_an_error(help_module: HelpModule, mask: str) -> None:
    with pytest.raises(DorisError, match=r"^Help empty info\.$"):
        help_module.answer(mask)


def test_module_level_answer_uses_the_packaged_topics() -> None:
    assert get_help_module() is get_help_module()
    assert answer("backup") == get_help_module().answer("backup")
    assert answer(parse_help("help 'show backup'") or "")[1][0][0] == "SHOW-BACKUP"


def test_answer_columns_are_fresh_lists(help_module: HelpModule) -> None:
    columns, _ = help_module.answer("backup")
    columns.append("junk")
    assert help_module.answer("backup")[0] == TOPIC


# ---------------------------------------------------------------------------- categories (small tree)


def test_keyword_list_adds_category_of_the_same_name(small_module: HelpModule) -> None:
    columns, rows = small_module.answer("tools")
    assert columns == LIST
    assert rows == [("DRILL", "N"), ("SAW", "N"), ("Tools", "Y")]


def test_category_lists_topics_then_child_categories(small_module: HelpModule) -> None:
    columns, rows = small_module.answer("TOOLS ")
    assert columns == LIST
    # 'tools' is also a keyword of two topics, so the keyword answer wins (Doris's order).
    assert rows[-1] == ("Tools", "Y")
    columns, rows = small_module.answer("hammers")
    assert rows == [("CLAW-HAMMER", "N"), ("MALLET", "N")]


def test_category_topics_sorted_case_insensitively(tmp_path: Path) -> None:
    write(tmp_path, "Kit/B.md", topic_md("beta", "x1"))
    write(tmp_path, "Kit/a.md", topic_md("Alpha", "x2"))
    write(tmp_path, "Kit/Zed/Z.md", topic_md("ZULU", "x3"))
    write(tmp_path, "Kit/apples/A.md", topic_md("APPLE-PIE", "x4"))
    module = HelpModule(tmp_path)
    assert module.answer("kit") == (
        LIST,
        [("ALPHA", "N"), ("BETA", "N"), ("apples", "Y"), ("Zed", "Y")],
    )


def test_contents_of_small_tree(small_module: HelpModule) -> None:
    assert small_module.answer(CONTENTS) == (LIST, [("Fasteners", "Y"), ("Tools", "Y")])


def test_single_keyword_match_and_topic_names(small_module: HelpModule) -> None:
    assert small_module.answer("fasten")[1][0][0] == "NAIL"
    assert small_module.answer("hit") == (LIST, [("CLAW-HAMMER", "N"), ("MALLET", "N"), ("NAIL", "N")])
    assert small_module.answer("Apple")[1][0][0] == "APPLE"
    assert small_module.get_topic("drill").category == "Tools"
    assert small_module.get_category("hammers").parent == "Tools"
    assert small_module.get_category(CONTENTS).parent is None


# ---------------------------------------------------------------------------- markdown rules


def test_markdown_parsing_rules() -> None:
    text = (
        "<!-- licence -->\n# Title of the page\n\nIntro text, ignored.\n\n"
        "## show-thing\n\nignored too\n\n"
        "### NAME\n\nSHOW THING\n\n"
        "### description   \n\n\n  Shows a thing.\n\n```text\n## not a topic\n### not a section\n```\n"
        "#### a deeper heading stays\n   \n\t\n"
        "### Example\n\n```sql\nSHOW THING;\n```\n\n\n\n"
        "### KeyWords\n\n SHOW ,  Thing,,\nother\n\n"
        "## SECOND\n\n### Description\nTwo.\n### Keywords\nsecond\n"
    )
    first, second = parse_topics(text, category="Cat", source="x.md")
    assert first.name == "SHOW-THING"
    assert first.category == "Cat"
    assert first.description == (
        "  Shows a thing.\n\n```text\n## not a topic\n### not a section\n```\n#### a deeper heading stays\n"
    )
    assert first.example == "```sql\nSHOW THING;\n```\n"
    assert first.keywords == ("show", "thing", "other")
    assert first.section("Name") == "SHOW THING\n"
    assert first.section("KEYWORDS") is not None
    assert first.example_statements() == ["SHOW THING"]
    assert second.name == "SECOND"
    assert second.description == "Two.\n"
    assert second.example == ""


def test_text_before_first_topic_is_ignored() -> None:
    assert parse_topics("# only a title\n\n### Description\nx\n### Keywords\ny\n") == []


@pytest.mark.parametrize(
    "text",
    [
        "## A\n### Keywords\na\n",
        "## A\n### Description\nx\n",
        "## A\n### Description\n\n### Keywords\na\n",
        "## A\n### Description\nx\n### Keywords\n , ,\n",
        "## A\n### Description\nx\n### Description\ny\n### Keywords\na\n",
    ],
)
def test_invalid_topic_structure_raises(text: str) -> None:
    with pytest.raises(HelpLoadError, match="Invalid help topic structure"):
        parse_topics(text, source="bad.md")


def test_duplicate_topic_raises(tmp_path: Path) -> None:
    write(tmp_path, "A/ONE.md", topic_md("ONE", "a"))
    write(tmp_path, "B/ONE.md", topic_md("one", "b"))
    with pytest.raises(HelpLoadError, match="Duplicate help topic 'ONE'"):
        HelpModule(tmp_path)


def test_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(HelpLoadError):
        HelpModule(tmp_path / "missing")


def test_split_statements() -> None:
    text = "SELECT 'a;b', \"c;d\", `e;f`;\n-- note; not a statement\nSHOW BACKUP; /* c; */ ;\n  \n"
    assert split_statements(text) == ["SELECT 'a;b', \"c;d\", `e;f`", "SHOW BACKUP"]


# ---------------------------------------------------------------------------- the packaged topics


def test_every_required_topic_loads(help_module: HelpModule) -> None:
    topics = help_module.topics
    assert set(topics) >= REQUIRED_TOPICS
    for name in REQUIRED_TOPICS:
        topic = topics[name]
        assert topic.description.strip(), name
        assert topic.example.strip(), name
        assert topic.keywords, name
        assert topic.section("name"), name
        assert topic.description.endswith("\n") and not topic.description.endswith("\n\n"), name
        assert topic.example.endswith("\n") and not topic.example.endswith("\n\n"), name


def test_topic_categories(help_module: HelpModule) -> None:
    topics = help_module.topics
    for name in BACKUP_TOPICS:
        assert topics[name].category == "Backup and Restore", name
    for name in TABLE_TOPICS:
        assert topics[name].category != "Backup and Restore", name
        assert topics[name].category != CONTENTS, name
    for category in help_module.categories.values():
        if category.name != CONTENTS:
            assert category.parent == CONTENTS


def test_first_word_of_every_topic_is_a_keyword(help_module: HelpModule) -> None:
    for name, topic in help_module.topics.items():
        assert name.split("-")[0].lower() in topic.keywords, name


def test_show_keyword_only_on_show_topics(help_module: HelpModule) -> None:
    for name, topic in help_module.topics.items():
        assert ("show" in topic.keywords) == name.startswith("SHOW-"), name


def test_every_topic_has_sql_examples(help_module: HelpModule) -> None:
    for name, topic in help_module.topics.items():
        statements = topic.example_statements()
        assert statements, name
        for statement in statements:
            assert not statement.endswith(";"), (name, statement)
            assert not statement.lstrip().startswith(("--", "#", "/*")), (name, statement)


def test_example_order_covers_every_topic_once(help_module: HelpModule) -> None:
    assert len(EXAMPLE_ORDER) == len(set(EXAMPLE_ORDER))
    assert set(EXAMPLE_ORDER) == set(help_module.topics)


def test_examples_use_the_shared_names(help_module: HelpModule) -> None:
    everything = "\n".join(s for name in EXAMPLE_ORDER for s in help_module.topics[name].example_statements())
    assert f"CREATE DATABASE {EXAMPLE_DATABASE}" in everything
    assert f'CREATE REPOSITORY {EXAMPLE_REPOSITORY}\nWITH LOCAL\nON LOCATION "{EXAMPLE_REPOSITORY_LOCATION}"' in (
        everything
    )
    assert EXAMPLE_BACKUP_TIMESTAMP in help_module.topics["RESTORE"].example
    for name in ("BACKUP", "RESTORE", "SHOW-BACKUP", "SHOW-RESTORE", "CANCEL-BACKUP", "CANCEL-RESTORE"):
        for statement in help_module.topics[name].example_statements():
            # a GLOBAL job is of no database
            assert EXAMPLE_DATABASE in statement or " GLOBAL " in statement, (name, statement)
    for name in (
        "BACKUP",
        "RESTORE",
        "SHOW-SNAPSHOT",
        "ADMIN-CHECK-SNAPSHOT",
        "SNAPSHOT-TABLE-FUNCTION",
        "DROP-SNAPSHOT",
        "SHOW-CREATE-REPOSITORY",
    ):
        for statement in help_module.topics[name].example_statements():
            assert EXAMPLE_REPOSITORY in statement, (name, statement)


def test_examples_are_help_statements_round_trip(help_module: HelpModule) -> None:
    # What the mysql client sends for `help <topic>` finds the topic again.
    for name in help_module.topics:
        mask = parse_help(f"help '{name.lower().replace('-', ' ')}'")
        assert mask is not None
        columns, rows = help_module.answer(mask)
        assert columns == TOPIC and rows[0][0] == name, name
