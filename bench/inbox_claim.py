"""Does claiming from the inbox cost what is waiting, not what was ever received?

Fills the inbox with HISTORY processed rows, then WAITING open rows (one flooding chat and
many single messages), and times `inbox.claim` (50 rows, then released) on the small and the
large table. Prints the query plan of the claim on each database. The check: every claim
gets rows, as many with the history as without ("check: ok", else "check: FAILED", exit 1).

    python bench/inbox_claim.py                        # SQLite
    python bench/inbox_claim.py --postgres-url postgresql://postgres@127.0.0.1:5432/bench
    python bench/inbox_claim.py --history 5000 --waiting 200   # a quick run
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


async def time_claims(db: Database, runs: int = 30) -> tuple[float, set[int]]:
    """Median milliseconds to claim 50 rows (released again, so every run sees the same),
    and how many rows the claims got (one count if every run saw the same)."""
    times, claimed = [], set()
    for _ in range(runs):
        started = time.perf_counter()
        items = await inbox.claim(db, NOW, 50, LEASE)
        times.append((time.perf_counter() - started) * 1000)
        claimed.add(len(items))
        for item in items:
            await inbox.release(db, item)
    return statistics.median(times), claimed


async def plan(db: Database) -> str:
    params = {"now": NOW, "limit": 50}
    async with db.transaction(write=False) as tx:
        if tx.dialect == "postgresql":
            rows = await tx.all("EXPLAIN ANALYZE " + _CLAIMABLE, params)
        else:
            rows = await tx.all("EXPLAIN QUERY PLAN " + _CLAIMABLE, params)
    return "\n".join("    " + str(r[-1]) for r in rows)


async def measure(url: str, label: str, history: int, waiting: int) -> list[str]:
    """Print the figures; return what the check found wrong: the claims must get rows, as
    many whatever the history."""
    counts: set[int] = set()
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
            ms, claimed = await time_claims(db)
            counts |= claimed
            print(f"{label:<11} history {done:>9,}  waiting {waiting:>6,}  claim 50: {ms:7.2f} ms")
            if done:
                print(await plan(db))
        finally:
            await db.close()
    if 0 in counts or len(counts) != 1:
        return [f"{label}: claims of 50 got {sorted(counts)} rows"]
    return []


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", help="a disposable PostgreSQL database (wiped)")
    parser.add_argument("--history", type=int, default=500_000, help="processed rows")
    parser.add_argument("--waiting", type=int, default=2_000, help="open rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/inbox.db"
        problems = await measure(url, "sqlite", args.history, args.waiting)
    pg_url = postgres_url(args.postgres_url)
    if pg_url:
        refuse_unless_disposable(pg_url)
        problems += await measure(pg_url, "postgresql", args.history, args.waiting)
    if problems:
        print("check: FAILED\n" + "\n".join(f"  {p}" for p in problems))
        return 1
    print("check: ok (every claim got rows, as many with the history as without)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
