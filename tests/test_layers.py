"""The layers of DESIGN.md's package table, read off the source: every import of ours points down.

A package may import the packages its row names and the bottom modules every layer shares. ``env`` (the
frontend instance, Doris's ``Env``) builds everything below it and is what the front door holds; ``cli``
(which starts the server) sits on top and may import anything."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dorisbk

pytestmark = pytest.mark.fast  # in process, no server

ROOT = Path(dorisbk.__file__).parent
# modules at the bottom: errors, frontend config knobs, time and checksum helpers, durable writes, memory,
# statement interruption, background threads, the frontend's counters
BOTTOM = {"errors", "config", "timeutil", "checksum", "durable", "interrupt", "background", "memory", "metrics"}
TOP = {"cli", "watch"}  # the command line, and the terminal client it starts
# package -> the packages of ours it may import (docs/architecture.md's table)
MAY_IMPORT: dict[str, set[str]] = {
    "server": {"http", "sql", "env", "engine", "auth"},
    "http": {"sql", "env", "jobs", "engine", "auth"},
    "sql": {"env", "jobs", "engine", "backend", "catalog", "auth"},
    "env": {"jobs", "engine", "backend", "catalog", "storage", "auth", "meta"},
    "jobs": {"engine", "backend", "catalog", "storage", "meta"},
    "engine": {"backend", "catalog", "auth", "meta"},
    "backend": {"catalog", "meta"},
    "catalog": {"meta"},
    "auth": {"meta"},
    "storage": set(),
    "meta": set(),
}


def _imported(path: Path) -> set[str]:
    """The top-level names of ours (``dorisbk.<name>``) a module imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found |= {name.split(".")[1] for name in names if name.startswith("dorisbk.")}
    return found


def _layer(path: Path) -> str:
    relative = path.relative_to(ROOT)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def test_every_module_has_a_place_in_the_table() -> None:
    places = {_layer(p) for p in ROOT.rglob("*.py")} - {"__init__"}
    assert places - (set(MAY_IMPORT) | BOTTOM | TOP) == set()


def test_imports_point_down() -> None:
    upward = set()
    for path in sorted(ROOT.rglob("*.py")):
        layer = _layer(path)
        if layer in TOP or layer == "__init__":
            continue
        allowed = {layer} | BOTTOM | MAY_IMPORT.get(layer, set())
        upward |= {(str(path.relative_to(ROOT)), name) for name in _imported(path) - allowed}
    assert upward == set()


def test_bottom_modules_import_only_each_other() -> None:
    upward = {(name, imported) for name in BOTTOM for imported in _imported(ROOT / f"{name}.py") - BOTTOM}
    assert upward == set()
