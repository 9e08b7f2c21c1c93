"""The HELP statement: markdown help topics and Doris-shaped answers.

``parse_help(sql)`` recognises ``help 'x'`` and returns the mask (None for other SQL);
``answer(mask)`` returns ``(columns, rows)`` from the topics packaged in ``topics/``.
"""

from dorisbk.sql.help.module import (
    CONTENTS,
    EXAMPLE_BACKUP_TIMESTAMP,
    EXAMPLE_DATABASE,
    EXAMPLE_ORDER,
    EXAMPLE_REPOSITORY,
    EXAMPLE_REPOSITORY_LOCATION,
    LIST_COLUMNS,
    TOPIC_COLUMNS,
    Category,
    HelpLoadError,
    HelpModule,
    Topic,
    answer,
    get_help_module,
    parse_help,
    parse_topics,
    split_statements,
)

__all__ = [
    "CONTENTS",
    "EXAMPLE_BACKUP_TIMESTAMP",
    "EXAMPLE_DATABASE",
    "EXAMPLE_ORDER",
    "EXAMPLE_REPOSITORY",
    "EXAMPLE_REPOSITORY_LOCATION",
    "LIST_COLUMNS",
    "TOPIC_COLUMNS",
    "Category",
    "HelpLoadError",
    "HelpModule",
    "Topic",
    "answer",
    "get_help_module",
    "parse_help",
    "parse_topics",
    "split_statements",
]
