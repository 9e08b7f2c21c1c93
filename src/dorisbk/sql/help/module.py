"""The HELP statement: help topics written in markdown, answered the way Doris answers them.

Topics live in the ``topics/`` folder next to this file. Every folder is a *category*
named after the folder; ``topics/`` itself is the root category ``contents``. Every
``.md`` file holds one or more *topics*, filed under the category of its folder.

Markdown rules (those of Doris's help loader):

* ``## Title`` starts a topic; its name is the title upper-cased (``SHOW-BACKUP``).
* ``### Key`` starts a section of the current topic; keys are compared case-insensitively.
* Text before the first ``##`` of a file is ignored, and so is text between a ``##``
  heading and its first ``###``. Headings inside fenced code blocks are plain text.
* ``### Description`` and ``### Keywords`` are required; ``### Example`` is optional.
* Keywords are separated by commas (or line breaks), trimmed and matched lower-cased.
* Section text is kept as raw markdown: leading blank lines dropped, trailing
  whitespace collapsed to a single newline.

:meth:`HelpModule.answer` reproduces ``HelpCommand.doRun`` (see the class docstring), and
:func:`parse_help` recognises ``help 'x'`` as the mysql command-line client sends it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from dorisbk.errors import DorisError, ParseError

#: Name of the root category (the ``topics/`` folder itself).
CONTENTS = "contents"

#: Result columns when one topic is shown (the client prints Name / Description / Examples).
TOPIC_COLUMNS: tuple[str, str, str] = ("name", "description", "example")
#: Result columns of a list of topics and categories (and of "nothing found", with no rows).
LIST_COLUMNS: tuple[str, str] = ("name", "is_it_category")

#: The objects every topic's examples share, so they can be run one topic after another.
EXAMPLE_DATABASE = "example_db"
EXAMPLE_REPOSITORY = "example_repo"
#: Where the examples put ``example_repo``; a test running them substitutes a scratch directory.
EXAMPLE_REPOSITORY_LOCATION = "file:///tmp/dorisbk_example_repo"
#: The ``backup_timestamp`` the examples use for snapshot ``example_snapshot``; a test running
#: them substitutes the real one (SHOW SNAPSHOT ON example_repo WHERE SNAPSHOT = "example_snapshot").
EXAMPLE_BACKUP_TIMESTAMP = "2024-05-20-10-30-00"

#: An order in which the examples of all topics can be run against one fresh server:
#: each topic only uses objects created by the examples of the topics before it.
#: BACKUP and RESTORE are asynchronous: wait for the database's previous job to finish before
#: each statement, except a CANCEL, which must follow the job it cancels immediately.
EXAMPLE_ORDER: tuple[str, ...] = (
    "CREATE-DATABASE",
    "CREATE-TABLE",
    "ALTER-TABLE-PARTITION",
    "INSERT",
    "SELECT",
    "CREATE-VIEW",
    "SHOW-PARTITIONS",
    "SHOW-TABLET",
    "SHOW-BACKENDS",
    "CREATE-USER",
    "GRANT",
    "SHOW-GRANTS",
    "REVOKE",
    "CREATE-REPOSITORY",
    "ALTER-REPOSITORY",
    "SHOW-REPOSITORIES",
    "SHOW-CREATE-REPOSITORY",
    "BACKUP",
    "SHOW-BACKUP",
    "SHOW-SNAPSHOT",
    "ADMIN-CHECK-SNAPSHOT",
    "SNAPSHOT-TABLE-FUNCTION",
    "RESTORE",
    "SHOW-RESTORE",
    "CANCEL-BACKUP",
    "CANCEL-RESTORE",
    "DROP-SNAPSHOT",
    "CREATE-JOB",
    "PAUSE-JOB",
    "RESUME-JOB",
    "DROP-JOB",
    "TRUNCATE-TABLE",
    "DROP-TABLE",
    "DROP-REPOSITORY",
    "DROP-DATABASE",
)

_REQUIRED_SECTIONS = ("description", "keywords")


class HelpLoadError(DorisError):
    """A help markdown file does not have the structure the loader needs."""


@dataclass(frozen=True)
class Topic:
    """One ``##`` topic of a markdown file."""

    name: str
    category: str
    description: str
    example: str
    keywords: tuple[str, ...]
    sections: dict[str, str] = field(repr=False, compare=False, hash=False)
    source: str = ""

    def section(self, key: str) -> str | None:
        """The text of ``### key`` (case-insensitive), or None."""
        return self.sections.get(key.strip().lower())

    def example_statements(self) -> list[str]:
        """The SQL statements of the ```` ```sql ```` blocks of the Example section, in order."""
        statements: list[str] = []
        for block in _fenced_blocks(self.example, "sql"):
            statements.extend(split_statements(block))
        return statements

    def row(self) -> tuple[str, str, str]:
        return (self.name, self.description, self.example)


@dataclass
class Category:
    """A folder of topics; ``parent`` is None for the root category."""

    name: str
    parent: str | None
    topics: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


class HelpModule:
    """All help topics and categories, and the HELP statement's answers.

    ``answer(mask)`` follows Doris's ``HelpCommand.doRun``:

    1. a topic whose name equals the mask (case-insensitively) is shown alone;
       dorisbk also tries the mask with its spaces turned into hyphens
       (``show backup`` finds ``SHOW-BACKUP``);
    2. otherwise the topics having the mask as a keyword: one is shown alone, several are
       listed as ``(topic, 'N')`` rows, sorted, plus ``(category, 'Y')`` when a category has
       exactly that name;
    3. otherwise a category of that name lists its topics ``'N'`` then its child
       categories ``'Y'``, each sorted case-insensitively (``help contents`` lists the
       top-level categories);
    4. otherwise the list columns with no rows (the client prints "Nothing found").
    """

    def __init__(self, root: Traversable | Path | str | None = None) -> None:
        if root is None:
            root = resources.files(__package__ or "dorisbk.sql.help") / "topics"
        elif isinstance(root, str):
            root = Path(root)
        self._topics: dict[str, Topic] = {}
        self._categories: dict[str, Category] = {}
        self._keywords: dict[str, list[str]] = {}
        self._load(root)

    # ------------------------------------------------------------------ loading

    def _load(self, root: Traversable) -> None:
        if not root.is_dir():
            raise HelpLoadError(f"Help topic folder not found: {root}")
        self._add_category(CONTENTS, None, str(root))
        self._load_folder(root, CONTENTS, "")
        for topic in self._topics.values():
            for keyword in topic.keywords:
                names = self._keywords.setdefault(keyword, [])
                if topic.name not in names:
                    names.append(topic.name)

    def _add_category(self, name: str, parent: str | None, where: str) -> Category:
        key = name.lower()
        if key in self._categories:
            raise HelpLoadError(f"Duplicate help category '{name}' ({where})")
        category = Category(name, parent)
        self._categories[key] = category
        if parent is not None:
            self._categories[parent.lower()].children.append(name)
        return category

    def _load_folder(self, folder: Traversable, category: str, relative: str) -> None:
        entries = sorted(
            (e for e in folder.iterdir() if not e.name.startswith((".", "__"))),
            key=lambda e: e.name,
        )
        for entry in entries:
            path = f"{relative}{entry.name}"
            if entry.is_dir():
                self._add_category(entry.name, category, path)
                self._load_folder(entry, entry.name, path + "/")
            elif entry.name.lower().endswith(".md"):
                text = entry.read_text(encoding="utf-8")
                for topic in parse_topics(text, category=category, source=path):
                    if topic.name in self._topics:
                        raise HelpLoadError(
                            f"Duplicate help topic '{topic.name}' in {path} (also in {self._topics[topic.name].source})"
                        )
                    self._topics[topic.name] = topic
                    self._categories[category.lower()].topics.append(topic.name)

    # ------------------------------------------------------------------ lookups

    @property
    def topics(self) -> dict[str, Topic]:
        """Topics by upper-cased name (a copy)."""
        return dict(self._topics)

    @property
    def categories(self) -> dict[str, Category]:
        """Categories by lower-cased name (a copy)."""
        return dict(self._categories)

    def get_topic(self, name: str) -> Topic | None:
        """The topic called ``name`` (case-insensitive), with no other interpretation."""
        return self._topics.get(name.strip().upper())

    def find_topic(self, name: str) -> Topic | None:
        """Like :meth:`get_topic`, also trying the words of ``name`` joined by hyphens."""
        topic = self.get_topic(name)
        if topic is None:
            words = name.split()
            if len(words) > 1:
                topic = self._topics.get("-".join(words).upper())
        return topic

    def topics_by_keyword(self, keyword: str) -> list[Topic]:
        """Topics listing ``keyword`` in their Keywords section, sorted by name."""
        names = self._keywords.get(keyword.strip().lower(), [])
        return [self._topics[n] for n in sorted(names)]

    def get_category(self, name: str) -> Category | None:
        return self._categories.get(name.strip().lower())

    # ------------------------------------------------------------------ HELP

    def answer(self, mask: str) -> tuple[list[str], list[tuple[str, ...]]]:
        """Column names and rows answering ``HELP mask``."""
        mask = (mask or "").strip()
        if not mask:
            raise DorisError("Help empty info.")
        topic = self.find_topic(mask)
        if topic is None:
            matches = self.topics_by_keyword(mask)
            if len(matches) == 1:
                topic = matches[0]
            elif matches:
                rows: list[tuple[str, ...]] = [(t.name, "N") for t in matches]
                category = self.get_category(mask)
                if category is not None:
                    rows.append((category.name, "Y"))
                return list(LIST_COLUMNS), rows
        if topic is not None:
            return list(TOPIC_COLUMNS), [topic.row()]
        category = self.get_category(mask)
        if category is None:
            return list(LIST_COLUMNS), []
        rows = [(name, "N") for name in sorted(category.topics, key=str.lower)]
        rows += [(name, "Y") for name in sorted(category.children, key=str.lower)]
        return list(LIST_COLUMNS), rows


# ---------------------------------------------------------------------- default instance

_default: HelpModule | None = None
_default_lock = threading.Lock()


def get_help_module() -> HelpModule:
    """The help module built from the packaged topics, loaded on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = HelpModule()
    return _default


def answer(mask: str) -> tuple[list[str], list[tuple[str, ...]]]:
    """``HELP mask`` answered from the packaged topics."""
    return get_help_module().answer(mask)


# ---------------------------------------------------------------------- markdown

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^ {0,3}(#{2,3})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")


def _fence_closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(line) - len(line.lstrip(" ")) <= 3 and len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def _markdown_lines(text: str) -> Iterator[tuple[str, int | None, str]]:
    """Yield ``(line, heading_level, heading_text)``; level is None for ordinary lines.

    Only ``##`` and ``###`` headings outside fenced code blocks are reported.
    """
    fence: str | None = None
    for line in text.splitlines():
        if fence is not None:
            if _fence_closes(line, fence):
                fence = None
            yield line, None, ""
            continue
        opened = _FENCE_OPEN.match(line)
        if opened and not (opened.group(1)[0] == "`" and "`" in opened.group(2)):
            fence = opened.group(1)
            yield line, None, ""
            continue
        heading = _HEADING.match(line)
        if heading:
            yield line, len(heading.group(1)), heading.group(2)
        else:
            yield line, None, ""


def _section_text(lines: list[str]) -> str:
    while lines and not lines[0].strip():
        lines = lines[1:]
    text = "\n".join(lines).rstrip()
    return text + "\n" if text else ""


def _parse_keywords(text: str) -> tuple[str, ...]:
    keywords: list[str] = []
    for line in text.splitlines():
        if _FENCE_OPEN.match(line):
            continue
        for part in line.split(","):
            word = part.strip().lower()
            if word and word not in keywords:
                keywords.append(word)
    return tuple(keywords)


def parse_topics(text: str, *, category: str = CONTENTS, source: str = "<string>") -> list[Topic]:
    """The topics of one markdown file."""
    found: list[tuple[str, dict[str, list[str]]]] = []
    sections: dict[str, list[str]] | None = None
    current: list[str] | None = None
    for line, level, title in _markdown_lines(text):
        if level == 2:
            if not title:
                raise HelpLoadError(f"Invalid help topic structure: empty '##' heading in {source}")
            sections = {}
            current = None
            found.append((title, sections))
        elif level == 3 and sections is not None:
            key = title.lower()
            if not key:
                raise HelpLoadError(f"Invalid help topic structure: empty '###' heading in {source}")
            if key in sections:
                raise HelpLoadError(f"Invalid help topic structure: '### {title}' appears twice in {source}")
            current = sections[key] = []
        elif current is not None:
            current.append(line)

    topics = []
    for title, raw in found:
        name = title.upper()
        texts = {key: _section_text(lines) for key, lines in raw.items()}
        for required in _REQUIRED_SECTIONS:
            if not texts.get(required, "").strip():
                raise HelpLoadError(
                    f"Invalid help topic structure: topic '{name}' in {source} has no '### {required.title()}' section"
                )
        keywords = _parse_keywords(texts["keywords"])
        if not keywords:
            raise HelpLoadError(f"Invalid help topic structure: topic '{name}' in {source} has no keywords")
        topics.append(
            Topic(
                name=name,
                category=category,
                description=texts["description"],
                example=texts.get("example", ""),
                keywords=keywords,
                sections=texts,
                source=source,
            )
        )
    return topics


def _fenced_blocks(text: str, language: str) -> Iterator[str]:
    """Contents of the fenced code blocks of ``text`` whose info string is ``language``."""
    fence: str | None = None
    wanted = False
    body: list[str] = []
    for line in text.splitlines():
        if fence is None:
            opened = _FENCE_OPEN.match(line)
            if opened:
                fence = opened.group(1)
                info = opened.group(2).strip().split()
                wanted = bool(info) and info[0].lower() == language
                body = []
        elif _fence_closes(line, fence):
            if wanted:
                yield "\n".join(body)
            fence = None
        else:
            body.append(line)


# ---------------------------------------------------------------------- SQL text

_QUOTES = "'\"`"


def _skip_comment(sql: str, pos: int) -> int:
    """The position after a comment starting at ``pos``, or ``pos`` if none starts there."""
    if sql.startswith("/*", pos):
        end = sql.find("*/", pos + 2)
        if end < 0:
            raise ParseError("Syntax error: unterminated comment")
        return end + 2
    if sql.startswith(("#", "--"), pos):  # Doris: "--" starts a comment with or without a space after it
        end = sql.find("\n", pos)
        return len(sql) if end < 0 else end + 1
    return pos


def _skip_blank(sql: str, pos: int) -> int:
    """Skip whitespace and comments."""
    while pos < len(sql):
        if sql[pos].isspace():
            pos += 1
            continue
        after = _skip_comment(sql, pos)
        if after == pos:
            break
        pos = after
    return pos


_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}


def _read_quoted(sql: str, pos: int) -> tuple[str, int]:
    """Read the quoted string or back-quoted name at ``pos``; return its value and the end."""
    quote = sql[pos]
    out: list[str] = []
    i = pos + 1
    while i < len(sql):
        ch = sql[i]
        if ch == quote:
            if i + 1 < len(sql) and sql[i + 1] == quote:
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        if ch == "\\" and quote != "`" and i + 1 < len(sql):
            nxt = sql[i + 1]
            if nxt in "%_":
                out.append("\\" + nxt)  # kept as in MySQL, for LIKE patterns
            else:
                out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    raise ParseError(f"Syntax error: unterminated quoted string starting with {sql[pos : pos + 20]}")


def parse_help(sql: str) -> str | None:
    """The mask of a HELP statement, or None when ``sql`` is not a HELP statement.

    Accepted forms: ``help 'x'`` / ``help "x"`` (with ``''`` and backslash escapes, as the
    mysql client sends ``help x``), ``help `x` ``, and ``help x y`` unquoted (the words are
    joined by single spaces); ``HELP`` in any case, an optional trailing ``;``, comments.
    A bare ``help`` gives ``""``. A statement that starts with HELP but is malformed (an
    unterminated string, text after the string) raises :class:`~dorisbk.errors.ParseError`.
    """
    n = len(sql)
    pos = _skip_blank(sql, 0)
    end = pos
    while end < n and (sql[end].isalnum() or sql[end] in "_$"):
        end += 1
    if sql[pos:end].lower() != "help":
        return None
    pos = _skip_blank(sql, end)

    if pos < n and sql[pos] in _QUOTES:
        mask, pos = _read_quoted(sql, pos)
    else:
        words: list[str] = []
        while pos < n and sql[pos] != ";":
            start = pos
            while pos < n and not sql[pos].isspace() and sql[pos] != ";":
                pos += 1
            words.append(sql[start:pos])
            pos = _skip_blank(sql, pos)
        mask = " ".join(words)

    pos = _skip_blank(sql, pos)
    if pos < n and sql[pos] == ";":
        pos = _skip_blank(sql, pos + 1)
    if pos < n:
        raise ParseError(f"Syntax error in HELP statement near '{sql[pos : pos + 20]}'")
    return mask


def split_statements(text: str) -> list[str]:
    """Split SQL text on the semicolons outside quotes and comments.

    Statements come back without their ``;``, leading comments and surrounding whitespace;
    comment-only pieces are dropped, comments inside a statement are kept.
    """
    statements: list[str] = []
    start = pos = 0
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch in _QUOTES:
            _, pos = _read_quoted(text, pos)
        elif ch == ";":
            statements.append(text[start:pos])
            pos += 1
            start = pos
        else:
            after = _skip_comment(text, pos)
            pos = after if after > pos else pos + 1
    statements.append(text[start:])
    return [s[_skip_blank(s, 0) :].rstrip() for s in statements if _skip_blank(s, 0) < len(s)]
