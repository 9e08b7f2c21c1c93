"""Doris's full-text functions written for DuckDB: ``TOKENIZE(text, props)`` and ``col MATCH_ANY / MATCH_ALL /
MATCH_PHRASE 'words'``.

Doris answers them from an inverted index built with a parser; here they are evaluated on the
row values with the english parser's rule (lower-cased runs of letters and digits), which gives
the same rows for the english and standard parsers.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

TOKENS = "LIST_FILTER(REGEXP_SPLIT_TO_ARRAY(LOWER(CAST(__text__ AS VARCHAR)), '[^a-z0-9]+'), __t -> __t <> '')"


def _tokens(text: exp.Expression) -> exp.Expression:
    tree = sqlglot.parse_one(TOKENS, read="duckdb")
    for column in list(tree.find_all(exp.Column)):
        if column.name == "__text__":
            column.replace(text.copy())
    return tree


def rewrite(tree: exp.Expression) -> exp.Expression:
    """The query with TOKENIZE calls and MATCH predicates replaced by DuckDB expressions (in place)."""
    for call in [f for f in tree.find_all(exp.Anonymous) if f.name.lower() == "tokenize" and f.expressions]:
        call.replace(exp.Anonymous(this="TO_JSON", expressions=[_tokens(call.expressions[0])]))
    for match in list(tree.find_all(exp.Match)):
        kind = str(match.args.get("kind") or "ANY").upper()
        column, words = match.this, match.expression
        if kind == "ANY":
            new: exp.Expression = exp.Anonymous(this="LIST_HAS_ANY", expressions=[_tokens(column), _tokens(words)])
        elif kind == "ALL":
            new = exp.Anonymous(this="LIST_HAS_ALL", expressions=[_tokens(column), _tokens(words)])
        else:  # PHRASE and its variants: the words in this order
            joined = exp.Anonymous(this="ARRAY_TO_STRING", expressions=[_tokens(column), exp.Literal.string(" ")])
            wanted = exp.Anonymous(this="ARRAY_TO_STRING", expressions=[_tokens(words), exp.Literal.string(" ")])
            new = exp.Anonymous(this="CONTAINS", expressions=[joined, wanted])
        match.replace(new)
    return tree
