"""Alembic environment: runs migrations over SQLAlchemy's async engine (aiosqlite/asyncpg).

One run (an upgrade or a downgrade, however many revisions it crosses) is one database
transaction on both databases, the `alembic_version` update included: a revision that fails
half-way leaves the database exactly as it was before the run, at its old revision.

PostgreSQL's DDL is transactional and Alembic knows it. SQLite's is too, but Python's
sqlite3 only opens a transaction before INSERT/UPDATE/DELETE, so a DROP INDEX or a batch
table rebuild run before the first of those committed on its own, and a later failure left
the database half-migrated (0007's downgrade with a live hold: index gone, version still
0007). So on SQLite the driver's own BEGIN is switched off, SQLAlchemy's begin sends
`BEGIN IMMEDIATE` (the write lock up front, as the application takes it), and Alembic is told
that the DDL is transactional.

SQLite runs them with foreign keys off, so a revision's DELETE does not cascade there as it
does on PostgreSQL; before the run commits, `settle_orphans` does what the declared ON DELETE
says to the rows the run left pointing at nothing, or refuses the run.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import event, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bookbot.store.migrate import foreign_key_violations, settle_orphans
from bookbot.store.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,
        compare_type=True,
        transactional_ddl=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        before = foreign_key_violations(connection) if sqlite else []
        context.run_migrations()
        if sqlite:
            settle_orphans(connection, before)


def _sqlite_transactions(engine: AsyncEngine) -> None:
    """Every statement of the run, DDL included, inside the transaction SQLAlchemy begins."""

    @event.listens_for(engine.sync_engine, "connect")
    def _no_driver_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


async def _run_async() -> None:
    engine = create_async_engine(
        config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool
    )
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
