"""What went wrong, as one line for the person at the terminal, instead of a traceback.

The database drivers raise their own exceptions (asyncpg's, sqlite3's), and Alembic's
migrations come wrapped in SQLAlchemy's; so the whole chain of causes is searched for
one we can explain: a database or role that does not exist, a server out of reach, a
SQLite file that cannot be opened, a constraint that refused a write. Anything else that
is not a known refusal is a bug, and keeps its traceback.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator

from bookbot.cli.common import CommandError, shown_url
from bookbot.engine.errors import BookingError
from bookbot.store.db import Busy, UniqueViolation
from bookbot.store.migrate import SchemaOutOfDate

_REFUSALS = (CommandError, BookingError, SchemaOutOfDate)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """`error`, then what caused it (`__cause__`, `__context__`, SQLAlchemy's `orig`)."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = (current.__cause__, current.__context__, getattr(current, "orig", None))
        todo += [e for e in linked if isinstance(e, BaseException)]


def _postgres(error: BaseException) -> str | None:
    import asyncpg

    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return f"{error}; create it (createdb) or fix --database"
    if isinstance(error, asyncpg.InvalidAuthorizationSpecificationError):
        return f"{error}; check the user and password in the URL"
    if isinstance(error, asyncpg.PostgresConnectionError | asyncpg.CannotConnectNowError):
        return str(error)
    return None


def _sqlite(error: BaseException) -> str | None:
    if getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_CANTOPEN:
        return f"{error}; does its folder exist, and may you write there?"
    return None


def _network(error: BaseException) -> str | None:
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror})"
    if isinstance(error, ConnectionError | TimeoutError):
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        return f"the server does not answer ({reason}); is it running there?"
    return None


def _refused_write(error: BaseException) -> bool:
    import asyncpg

    return isinstance(
        error,
        sqlite3.IntegrityError | UniqueViolation | asyncpg.IntegrityConstraintViolationError,
    )


def _explained(error: BaseException, where: str) -> str | None:
    if _refused_write(error):
        return f"the database refused the change: {error}"
    if isinstance(error, Busy):
        return f"the database at {where} stayed locked by another process: try again"
    reason = _postgres(error) or _sqlite(error) or _network(error)
    return None if reason is None else f"cannot open the database at {where}: {reason}"


def _os_message(error: OSError) -> str:
    if error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return str(error) or type(error).__name__


def failure_message(error: BaseException, database_url: str | None) -> str | None:
    """One line saying what failed and what to do; None when it is a bug (keep the traceback)."""
    if isinstance(error, _REFUSALS):
        return str(error)
    where = shown_url(database_url) if database_url else "the database"
    for cause in _causes(error):
        message = _explained(cause, where)
        if message is not None:
            return " ".join(message.split())  # one line, even if the driver's had several
    if isinstance(error, OSError):
        return _os_message(error)
    if isinstance(error, ValueError):
        return " ".join(str(error).split()) or type(error).__name__
    return None
