"""Random interleavings of everything that moves a booking, from several processes and
connections at once, with every invariant checked after each round (issue 11).

A small studio with scarce seats (3–4 per session) and scarcer wheels (3) is worked by
PROCESSES worker processes, each running CONNECTIONS asyncio tasks with a database
connection of its own: on PostgreSQL their statements really interleave; on SQLite the
processes contend for the one write lock, and the tasks of one process interleave
between transactions. In each round every task runs OPERATIONS random operations (hold,
confirm, release, expire holds, customer and staff cancel, join the waitlist, offer
freed seats, accept, decline, expire offers, reserve with a pass, check in, cancel a
reservation, close ended classes), each on a clock of its own within SPAN of the round's
time, as processes' clocks differ; the world's time moves on between rounds, so holds,
offers and classes lapse and end while others act on them. After each round
`bookbot.services.invariants` must find nothing, judged at the latest clock used.

A refusal (`BookingError`) or `Busy` is a legitimate outcome; anything else fails the
test, as does any violation. The seed is printed; rerun it with
BOOKBOT_INTERLEAVING_SEED. BOOKBOT_INTERLEAVING_SECONDS sets how long each database is
worked (default 5; .ci/run uses 60). The number of rounds and operations tried is written
to the terminal, so it shows in CI's log.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bookbot.engine.clock import FrozenClock
from bookbot.engine.errors import BookingError
from bookbot.engine.pricing import RegistrationKind
from bookbot.engine.reservations import PassKind
from bookbot.services import attendance, facts, holds, passes, reservations, waitlist
from bookbot.services.cancellation import cancel_registration
from bookbot.services.invariants import Violation, find_violations
from bookbot.store.db import Busy, Database, Row, connect, retrying
from tests import builders

SECONDS = float(os.environ.get("BOOKBOT_INTERLEAVING_SECONDS", "5"))
SEED = int(os.environ.get("BOOKBOT_INTERLEAVING_SEED") or random.randrange(2**32))  # noqa: S311
PROCESSES = 2
CONNECTIONS = 2  # per process, each its own Database
OPERATIONS = 6  # per connection and round
SPAN = timedelta(minutes=2)  # how far apart the clocks of one round's operations are
HOLD_MINUTES = 5
OFFER_MINUTES = 6
CUSTOMERS = 12
START_TIMEOUT = 60  # seconds for the workers to spawn and import
ROUND_TIMEOUT = 120


def _rng(seed: int | str) -> random.Random:
    """A reproducible generator: test data, not secrets."""
    return random.Random(seed)  # noqa: S311


@dataclass(frozen=True)
class Setup:
    """What every worker needs to know about the studio (picklable)."""

    url: str
    seed: int
    studio_id: int
    staff_id: int
    customers: tuple[int, ...]
    kinds: dict[int, str]  # class id -> how it is booked (single, drop_in)
    passes: dict[tuple[int, int], int]  # (customer, class) -> pass id


@dataclass(frozen=True)
class Record:
    """One operation as it ran: who, what, its clock, its outcome, when (monotonic)."""

    actor: str
    what: str
    at: datetime
    outcome: str
    began: float
    ended: float

    def line(self, origin: float) -> str:
        span = f"+{self.began - origin:7.3f}..{self.ended - origin:7.3f} s"
        return f"  {span}  {self.actor}  {self.what} @ {self.at:%H:%M:%S} -> {self.outcome}"


@dataclass
class Actor:
    """One connection of one worker: picks targets at random and acts on them."""

    setup: Setup
    db: Database
    rng: random.Random
    name: str
    what: str = ""

    async def pick(self, sql: str, **params: Any) -> Row | None:
        """A random row of a few candidates (few, so that actors meet on the same rows)."""
        async with self.db.transaction(write=False) as tx:
            rows = await tx.all(sql, {"s": self.setup.studio_id, **params})
        return self.rng.choice(rows) if rows else None

    def customer(self) -> int:
        return self.rng.choice(self.setup.customers)


Operation = Callable[[Actor, FrozenClock], Awaitable[bool]]

_FUTURE_SESSIONS = """SELECT id, class_id FROM sessions WHERE studio_id = :s AND starts_at > :now
ORDER BY starts_at, id LIMIT 4"""
# The newest holds, or those closest to lapsing (where confirm meets the sweep).
_HOLDS = """SELECT id, customer_id FROM registrations WHERE studio_id = :s AND status = 'held'
ORDER BY {order} LIMIT 4"""
_LIVE_REGISTRATIONS = """SELECT id, customer_id FROM registrations WHERE studio_id = :s
AND status IN ('held', 'confirmed') ORDER BY id DESC LIMIT 6"""
_OFFERS = """SELECT id, customer_id FROM waitlist_entries WHERE studio_id = :s
AND status = 'offered' ORDER BY id DESC LIMIT 4"""
_RESERVATIONS = """SELECT id, customer_id FROM reservations WHERE studio_id = :s
AND status IN ('pending', 'checked_in') ORDER BY id DESC LIMIT 4"""


async def _hold(a: Actor, clock: FrozenClock) -> bool:
    session = await a.pick(_FUTURE_SESSIONS, now=clock.now())
    if session is None:
        return False
    customer, guests = a.customer(), a.rng.choice((1, 1, 2))
    a.what = f"hold session {session[0]} for customer {customer} ×{guests}"
    kind = RegistrationKind(a.setup.kinds[session[1]])
    await holds.hold(
        a.db, clock, a.setup.studio_id, customer, kind, guests=guests, session_ids=[session[0]]
    )
    return True


async def _confirm(a: Actor, clock: FrozenClock) -> bool:
    held = await a.pick(_HOLDS.format(order=a.rng.choice(("id DESC", "held_until, id"))))
    if held is None:
        return False
    a.what = f"confirm registration {held[0]} of customer {held[1]}"
    await holds.confirm_hold(a.db, clock, a.setup.studio_id, held[1], held[0])
    return True


async def _release(a: Actor, clock: FrozenClock) -> bool:
    held = await a.pick(_HOLDS.format(order="id DESC"))
    if held is None:
        return False
    a.what = f"release registration {held[0]} of customer {held[1]}"
    await holds.release_hold(a.db, clock, a.setup.studio_id, held[1], held[0])
    return True


async def _cancel(a: Actor, clock: FrozenClock) -> bool:
    live = await a.pick(_LIVE_REGISTRATIONS)
    if live is None:
        return False
    staff = a.rng.random() < 0.5
    a.what = f"{'staff' if staff else 'customer'} cancel registration {live[0]}"
    customer = None if staff else live[1]
    await cancel_registration(
        a.db, clock, a.setup.studio_id, live[0], customer_id=customer, by_staff=staff
    )
    return True


async def _join(a: Actor, clock: FrozenClock) -> bool:
    session = await a.pick(_FUTURE_SESSIONS, now=clock.now())
    if session is None:
        return False
    customer, guests = a.customer(), a.rng.choice((1, 1, 2))
    a.what = f"customer {customer} joins the waitlist of session {session[0]} ×{guests}"
    await waitlist.join_waitlist(
        a.db, clock, a.setup.studio_id, customer, session[0], guests=guests
    )
    return True


async def _offer(a: Actor, clock: FrozenClock) -> bool:
    session = await a.pick(_FUTURE_SESSIONS, now=clock.now())
    if session is None:
        return False
    a.what = f"offer the free room of session {session[0]}"

    async def attempt() -> None:
        async with a.db.transaction() as tx:
            locked = await facts.lock_sessions(tx, a.setup.studio_id, 0, ids=[session[0]])
            if locked is not None:
                await waitlist.offer_freed_seats(tx, clock.now(), locked.studio, locked.sessions)

    await retrying(attempt)
    return True


async def _accept(a: Actor, clock: FrozenClock) -> bool:
    offer = await a.pick(_OFFERS)
    if offer is None:
        return False
    a.what = f"customer {offer[1]} accepts offer {offer[0]}"
    await waitlist.accept_offer(a.db, clock, a.setup.studio_id, offer[1], offer[0])
    return True


async def _decline(a: Actor, clock: FrozenClock) -> bool:
    offer = await a.pick(_OFFERS)
    if offer is None:
        return False
    a.what = f"customer {offer[1]} declines offer {offer[0]}"
    await waitlist.decline(a.db, clock, a.setup.studio_id, offer[1], offer[0])
    return True


async def _reserve(a: Actor, clock: FrozenClock) -> bool:
    session = await a.pick(_FUTURE_SESSIONS, now=clock.now())
    if session is None:
        return False
    customer = a.customer()
    pass_id = a.setup.passes[customer, session[1]]
    a.what = f"customer {customer} reserves session {session[0]} with pass {pass_id}"
    await reservations.reserve(
        a.db, clock, a.setup.studio_id, customer, pass_id, session_id=session[0]
    )
    return True


async def _check_in(a: Actor, clock: FrozenClock) -> bool:
    held = await a.pick(_RESERVATIONS)
    if held is None:
        return False
    staff = a.rng.random() < 0.5
    a.what = f"{'staff' if staff else 'customer'} check-in of reservation {held[0]}"
    who: dict[str, int] = {"staff_id": a.setup.staff_id} if staff else {"customer_id": held[1]}
    await reservations.check_in(a.db, clock, a.setup.studio_id, held[0], **who)
    return True


async def _cancel_reservation(a: Actor, clock: FrozenClock) -> bool:
    held = await a.pick(_RESERVATIONS)
    if held is None:
        return False
    a.what = f"customer {held[1]} cancels reservation {held[0]}"
    await reservations.cancel(a.db, clock, a.setup.studio_id, held[0], customer_id=held[1])
    return True


async def _sweep(a: Actor, clock: FrozenClock, name: str) -> bool:
    a.what = name
    sweeps = {
        "expire_holds": holds.expire_holds,
        "expire_offers": waitlist.expire_offers,
        "close_ended": attendance.close_ended,
    }
    await sweeps[name](a.db, clock)
    return True


async def _expire_holds(a: Actor, clock: FrozenClock) -> bool:
    return await _sweep(a, clock, "expire_holds")


async def _expire_offers(a: Actor, clock: FrozenClock) -> bool:
    return await _sweep(a, clock, "expire_offers")


async def _close_ended(a: Actor, clock: FrozenClock) -> bool:
    return await _sweep(a, clock, "close_ended")


# Each operation and how often it is drawn.
OPERATION_WEIGHTS: dict[Operation, float] = {
    _hold: 4,
    _confirm: 4,
    _release: 1,
    _expire_holds: 2,
    _cancel: 3,
    _join: 2,
    _offer: 1,
    _accept: 2,
    _decline: 1,
    _expire_offers: 1.5,
    _reserve: 2,
    _check_in: 1.5,
    _cancel_reservation: 0.5,
    _close_ended: 2,
}


async def _one(a: Actor, world: datetime, operation: Operation) -> Record:
    clock = FrozenClock(world + SPAN * a.rng.random())
    a.what = operation.__name__.lstrip("_")
    began = time.monotonic()
    try:
        outcome = "ok" if await operation(a, clock) else "nothing to act on"
    except BookingError as refusal:
        outcome = f"refused: {refusal.code}"
    except Busy:
        outcome = "busy"
    except Exception as error:  # anything else is what this test looks for
        outcome = f"UNEXPECTED {type(error).__name__}: {error}\n{traceback.format_exc()}"
    return Record(a.name, a.what, clock.now(), outcome, began, time.monotonic())


async def _act(a: Actor, world: datetime) -> list[Record]:
    """OPERATIONS operations drawn by weight; one that finds nothing to act on (no hold to
    confirm, no offer to accept) is drawn again, up to 3 times."""
    records = []
    for _ in range(OPERATIONS):
        for _ in range(3):
            drawn = a.rng.choices(list(OPERATION_WEIGHTS), list(OPERATION_WEIGHTS.values()))
            record = await _one(a, world, drawn[0])
            if record.outcome != "nothing to act on":
                break
        records.append(record)
    return records


async def _serve(setup: Setup, index: int, barrier: Any, inbox: Any, outbox: Any) -> None:
    """One worker process: a round per message, until None."""
    dbs = [await connect(setup.url, pool_size=2) for _ in range(CONNECTIONS)]
    try:
        while (message := await asyncio.to_thread(inbox.get)) is not None:
            round_no, world = message
            actors = [
                Actor(
                    setup,
                    db,
                    _rng(f"{setup.seed}/{round_no}/{index}/{c}"),
                    f"p{index}c{c}",
                )
                for c, db in enumerate(dbs)
            ]
            await asyncio.to_thread(barrier.wait, START_TIMEOUT)  # all start together
            done = await asyncio.gather(*(_act(a, world) for a in actors))
            outbox.put([r for records in done for r in records])
    finally:
        for db in dbs:
            await db.close()


def _worker(setup: Setup, index: int, barrier: Any, inbox: Any, outbox: Any) -> None:
    try:
        asyncio.run(_serve(setup, index, barrier, inbox, outbox))
    except Exception:  # reported to the test as an outcome
        outbox.put(
            [
                Record(
                    f"p{index}",
                    "worker",
                    datetime.now(UTC),
                    "UNEXPECTED " + traceback.format_exc(),
                    0,
                    0,
                )
            ]
        )


# --- the test's side: the studio, the rounds, the verdict ------------------------------


@dataclass
class World:
    """The studio as the test keeps it: the sessions ahead, and the time."""

    db: Database
    w: builders.World
    rng: random.Random
    start: datetime
    now: datetime
    sessions: int = 0
    tally: Counter[str] = field(default_factory=Counter)

    async def keep_sessions_ahead(self) -> None:
        """At least 3 sessions start after this round's clocks: taster (single) or drop-in,
        3 or 4 seats, 20 minutes, mostly 5 to 40 minutes ahead (soon to start, end and be
        closed), else 65 minutes to 3 hours ahead (so bookings queue a 1 h reminder)."""
        async with self.db.transaction(write=False) as tx:
            ahead = await tx.scalar(
                "SELECT COUNT(*) FROM sessions WHERE studio_id = :s AND starts_at > :t",
                {"s": self.w.studio_id, "t": self.now + SPAN},
            )
        for _ in range(3 - int(ahead)):
            self.sessions += 1
            lead = self.rng.choice((self.rng.randint(5, 40), self.rng.randint(65, 180)))
            starts = self.now + SPAN + timedelta(minutes=lead)
            await builders.session(
                self.db,
                self.w,
                f"s{self.sessions}",
                self.rng.choice(("taster", "dropin")),
                starts,
                capacity=self.rng.choice((3, 4)),
                minutes=20,
            )

    def advance(self) -> None:
        self.now += timedelta(minutes=self.rng.choice((0, 1, 2, 3, HOLD_MINUTES + 1)))


async def _studio(db: Database, url: str, now: datetime) -> tuple[Setup, builders.World]:
    """CUSTOMERS customers, each with a pass for each class (punch, or unlimited for odd tasters)."""
    w = await builders.studio(db)
    await builders.set_wheels(db, w, 3)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE studios SET hold_minutes = :h, waitlist_offer_minutes = :o WHERE id = :id",
            {"h": HOLD_MINUTES, "o": OFFER_MINUTES, "id": w.studio_id},
        )
    customers = [await builders.customer(db, w, f"c{i}") for i in range(CUSTOMERS)]
    owned = {}
    for i, customer in enumerate(customers):
        for key in ("taster", "dropin"):
            kind = PassKind.UNLIMITED if key == "taster" and i % 2 else PassKind.PUNCH
            terms = passes.PassTerms(kind, sessions=20 if kind is PassKind.PUNCH else None)
            owned[customer, w[key]] = await passes.issue_pass(
                db,
                now,
                w.studio_id,
                customer,
                w[key],
                terms=terms,
                payment="staff_issued",
                valid_from=date(2026, 1, 1),
            )
    kinds = {
        w["taster"]: RegistrationKind.SINGLE.value,
        w["dropin"]: RegistrationKind.DROP_IN.value,
    }
    return Setup(url, SEED, w.studio_id, w["maya"], tuple(customers), kinds, owned), w


class Workers:
    """The worker processes, fed one round at a time."""

    def __init__(self, setup: Setup) -> None:
        context = multiprocessing.get_context("spawn")
        self.barrier = context.Barrier(PROCESSES)
        self.inboxes = [context.Queue() for _ in range(PROCESSES)]
        self.outbox = context.Queue()
        self.processes = [
            context.Process(target=_worker, args=(setup, i, self.barrier, inbox, self.outbox))
            for i, inbox in enumerate(self.inboxes)
        ]
        for process in self.processes:
            process.start()

    def round(self, round_no: int, world: datetime) -> list[Record]:
        for inbox in self.inboxes:
            inbox.put((round_no, world))
        timeout = START_TIMEOUT + ROUND_TIMEOUT if round_no == 1 else ROUND_TIMEOUT
        return [r for _ in self.processes for r in self.outbox.get(timeout=timeout)]

    def stop(self) -> None:
        for inbox in self.inboxes:
            inbox.put(None)
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


def _report(
    seed: int, round_no: int, world: datetime, bad: list[str], records: list[Record]
) -> str:
    origin = min((r.began for r in records if r.began), default=0.0)
    lines = [
        f"interleaving seed {seed} (BOOKBOT_INTERLEAVING_SEED), round {round_no} at {world:%Y-%m-%d %H:%M} UTC:"
    ]
    lines += bad
    lines.append("the round's operations, in the order they began:")
    lines += [r.line(origin) for r in sorted(records, key=lambda r: r.began)]
    return "\n".join(lines)


def _problems(violations: list[Violation], records: list[Record]) -> list[str]:
    found = [f"violation: {v}" for v in violations]
    return found + [
        f"{r.actor} {r.what}: {r.outcome}" for r in records if r.outcome.startswith("UNEXPECTED")
    ]


async def _play(world: World, workers: Workers, round_no: int) -> str:
    """One round: sessions ahead, every worker's operations, then the invariants (judged
    at the latest clock any operation used). A report of what broke, or ""."""
    await world.keep_sessions_ahead()
    records = await asyncio.to_thread(workers.round, round_no, world.now)
    world.tally.update(r.outcome.split("\n", 1)[0][:80] for r in records)
    violations = await find_violations(
        world.db, world.now + SPAN, since=world.start - timedelta(days=1)
    )
    bad = _problems(violations, records)
    report = _report(SEED, round_no, world.now, bad, records) if bad else ""
    world.advance()
    return report


def _summary(dialect: str, rounds: int, world: World, failed: bool) -> str:
    return (
        f"\ninterleavings [{dialect}]: {rounds} rounds, {world.tally.total()} operations from"
        f" {PROCESSES} processes × {CONNECTIONS} connections, seed {SEED},"
        f" {'FAILED' if failed else 'no violations'}; outcomes: "
        + ", ".join(f"{k} {n}" for k, n in world.tally.most_common())
    )


async def test_random_interleavings_keep_every_invariant(
    db: Database, database_url: str, clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    setup, w = await _studio(db, database_url, clock.now())
    world = World(db, w, _rng(SEED), clock.now(), clock.now())
    workers = Workers(setup)
    rounds, failure = 0, ""
    deadline = float("inf")  # set once the first round is back: spawning is not working
    try:
        while time.monotonic() < deadline and not failure:
            rounds += 1
            failure = await _play(world, workers, rounds)
            deadline = min(deadline, time.monotonic() + SECONDS)
    finally:
        workers.stop()
    with capsys.disabled():  # shown even when passing, so CI's log says how much was tried
        print(_summary(db.dialect, rounds, world, bool(failure)))
    if failure:
        pytest.fail(failure, pytrace=False)
