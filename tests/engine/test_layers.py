"""The engine sits below the SQL front door: it never imports the parsers, handlers, server or jobs
that sit above it (DESIGN.md's layer table), so a query's semantics cannot depend on how it arrived."""

from __future__ import annotations

import ast
from pathlib import Path

import dorisbk

ENGINE = Path(dorisbk.__file__).parent / "engine"
ABOVE = ("dorisbk.sql", "dorisbk.server", "dorisbk.jobs", "dorisbk.env", "dorisbk.cli")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_engine_imports_nothing_above_it() -> None:
    modules = sorted(ENGINE.glob("*.py"))
    assert len(modules) >= 8  # the package is there to be checked
    upward = {(path.name, name) for path in modules for name in _imports(path) if name.startswith(ABOVE)}
    assert upward == set()
