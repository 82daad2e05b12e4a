"""The `machine:` line under each bench's title: what the numbers were measured on."""

from __future__ import annotations

import os
import platform
import sqlite3
from types import ModuleType

import asyncpg


def machine_line(*libraries: ModuleType) -> str:
    """CPUs, architecture, OS, Python, SQLite and asyncpg, then each of `libraries` with its
    version: `machine: 8 CPUs, x86_64, Linux 6.1.0; Python 3.12.3; SQLite 3.45.1; asyncpg
    0.30.0; aiohttp 3.11.18`."""
    versions = "".join(f"; {library.__name__} {library.__version__}" for library in libraries)
    return (
        f"machine: {os.cpu_count()} CPUs, {platform.machine()}, {platform.system()}"
        f" {platform.release()}; Python {platform.python_version()};"
        f" SQLite {sqlite3.sqlite_version}; asyncpg {asyncpg.__version__}{versions}"
    )
