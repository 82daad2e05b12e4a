"""engine/ stays pure: no I/O library, no environment, no wall clock."""

from __future__ import annotations

import ast
from pathlib import Path

import bookbot.engine

FORBIDDEN = {
    "sqlalchemy",
    "telegram",
    "twilio",
    "stripe",
    "aiohttp",
    "apscheduler",
    "asyncpg",
    "aiosqlite",
    "sqlite3",
    "os",
    "socket",
    "bookbot.store",
    "bookbot.services",
}
ENGINE = Path(bookbot.engine.__file__).parent


def _imports(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_engine_imports_no_io_library() -> None:
    offenders = [
        f"{path.name}: {name}"
        for path in ENGINE.glob("*.py")
        for name in _imports(ast.parse(path.read_text()))
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert offenders == []


def test_engine_never_reads_the_wall_clock() -> None:
    reads = [
        f"{path.name}:{node.lineno}"
        for path in ENGINE.glob("*.py")
        if path.name != "clock.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and node.attr in {"now", "utcnow", "today", "time"}
        and isinstance(node.value, ast.Name)
        and node.value.id in {"datetime", "date", "time"}
    ]
    assert reads == []
