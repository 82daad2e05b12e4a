"""Does claiming from the inbox cost what is waiting, not what was ever received?

Fills the inbox with HISTORY processed rows, then WAITING open rows (one flooding chat and
many single messages), and times `inbox.claim` (50 rows, then released) on the small and the
large table. Prints the query plan of the claim on each database.

    python bench/inbox_claim.py                        # SQLite
    python bench/inbox_claim.py --postgres-url postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bookbot.services import inbox
from bookbot.services.inbox import _CLAIMABLE
from bookbot.store import migrate
from bookbot.store.db import Database, connect
from disposable_postgres import postgres_url, refuse_unless_disposable, wipe

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


async def fill(db: Database, done: int, waiting: int) -> None:
    rows = [
        {"id": f"h{i}", "chat": f"sms:+4477009{i % 50_000:05d}", "status": "done"}
        for i in range(done)
    ]
    rows += [
        # half the waiting rows come from one flooding number, the rest one per number
        {
            "id": f"w{i}",
            "chat": "sms:+447700999999" if i % 2 else f"sms:+4478{i:08d}",
            "status": "pending",
        }
        for i in range(waiting)
    ]
    for start in range(0, len(rows), 5_000):
        async with db.transaction() as tx:
            await tx.execute_many(
                "INSERT INTO inbox (source, external_id, chat, payload, received_at, status,"
                " attempts) VALUES ('twilio', :id, :chat, '{}', :now, :status, 0)",
                [{**r, "now": NOW} for r in rows[start : start + 5_000]],
            )


async def time_claims(db: Database, runs: int = 30) -> float:
    """Median milliseconds to claim 50 rows (released again, so every run sees the same)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        items = await inbox.claim(db, NOW, 50, LEASE)
        times.append((time.perf_counter() - started) * 1000)
        for item in items:
            await inbox.release(db, item)
    return statistics.median(times)


async def plan(db: Database) -> str:
    params = {"now": NOW, "limit": 50}
    async with db.transaction(write=False) as tx:
        if tx.dialect == "postgresql":
            rows = await tx.all("EXPLAIN ANALYZE " + _CLAIMABLE, params)
        else:
            rows = await tx.all("EXPLAIN QUERY PLAN " + _CLAIMABLE, params)
    return "\n".join("    " + str(r[-1]) for r in rows)


async def measure(url: str, label: str, history: int, waiting: int) -> None:
    for done in (0, history):
        if url.startswith("postgresql"):
            await wipe(url)
        else:
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)  # noqa: ASYNC240
        await migrate.upgrade_async(url)
        db = await connect(url)
        try:
            await fill(db, done, waiting)
            if url.startswith("postgresql"):
                await db.execute("ANALYZE inbox")  # as autovacuum would after such a load
            ms = await time_claims(db)
            print(f"{label:<11} history {done:>9,}  waiting {waiting:>6,}  claim 50: {ms:7.2f} ms")
            if done:
                print(await plan(db))
        finally:
            await db.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", help="a disposable PostgreSQL database (wiped)")
    parser.add_argument("--history", type=int, default=500_000, help="processed rows")
    parser.add_argument("--waiting", type=int, default=2_000, help="open rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        await measure(f"sqlite:///{folder}/inbox.db", "sqlite", args.history, args.waiting)
    url = postgres_url(args.postgres_url)
    if url:
        refuse_unless_disposable(url)
        await measure(url, "postgresql", args.history, args.waiting)


if __name__ == "__main__":
    asyncio.run(main())
