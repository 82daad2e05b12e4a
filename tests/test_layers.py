"""Imports point down the layers, never up.

    cli → serve → jobs → handlers → conversations → presentation → services, studio
        → store, engine, phones, config

A module may import from its own package and from any lower layer. Imports inside
functions count too: a lazy import is still an arrow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bookbot

PACKAGE = Path(bookbot.__file__).parent

RANKS = {
    "__main__": 9,
    "cli": 8,
    "serve": 7,
    "jobs": 6,
    "handlers": 5,
    "conversations": 4,
    "presentation": 3,
    "services": 2,
    "studio": 2,
    "store": 1,
    "engine": 1,
    "phones": 1,
    "config": 1,
    "__init__": 0,  # bookbot/__init__.py: the version, importable from anywhere
}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(relative.parts)


def _arrows() -> list[tuple[str, str]]:
    """(importing module, imported bookbot module) for every import in the package."""
    arrows = []
    for path in PACKAGE.rglob("*.py"):
        importer = _module_of(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            arrows += [(importer, t) for t in targets if t.split(".")[0] == "bookbot"]
    return arrows


def _points_up(importer: str, imported: str) -> bool:
    """Whether an import crosses into the same or a higher layer (same-package imports are fine)."""
    if _layer(importer) == _layer(imported):
        return False
    return RANKS[_layer(imported)] >= RANKS[_layer(importer)]


def test_every_package_has_a_layer() -> None:
    layers = {_layer(_module_of(path)) for path in PACKAGE.rglob("*.py")}
    assert layers - RANKS.keys() == set()


def test_no_import_points_up() -> None:
    upward = [
        f"{importer} -> {imported}"
        for importer, imported in _arrows()
        if _points_up(importer, imported)
    ]
    assert upward == []


@pytest.mark.parametrize(
    ("importer", "imported", "upward"),
    [
        ("bookbot.services.booking", "bookbot.handlers.notices", True),
        ("bookbot.services.booking", "bookbot.studio.model", True),
        ("bookbot.handlers.notices", "bookbot.services.optouts", False),
        ("bookbot.services.booking", "bookbot.services.facts", False),
        ("bookbot.cli.run", "bookbot", False),
    ],
)
def test_the_rule_tells_up_from_down(importer: str, imported: str, upward: bool) -> None:
    assert _points_up(importer, imported) is upward
