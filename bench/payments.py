"""Payments under a burst of Stripe webhooks: 1,000 Checkout completions at once, each twice.

What it runs, in one process as `bookbot run` would (plus the Stripe stand-in):

* a studio selling a single class online, sessions of `CAPACITY` seats, a staff chat;
* 1,000 customers each hold one seat and start a Checkout through
  `services.payments.start_checkout` with the real `StripeGateway` against the local Stripe
  stand-in (`tests/stripe_standin.py`, real HTTP, real `stripe` library); each then pays on
  Stripe's page (`stand-in.pay`), which makes its `checkout.session.completed` event;
* three groups, so the late-payment path is exercised both ways. The "late" customers hold
  and pay first, 45 minutes ago by the bench's clock, so their holds lapse before the
  webhooks come; the "on time" ones hold 10 minutes ago, their holds still live:
  - late, seats gone: 5 per session in `OVERSOLD` sessions that on-time customers then
    fill (10 each): more paid seats than seats, so these must be refunded in full;
  - late, seats free: 5 per session in `SPARE` sessions that on-time customers half fill:
    these must be booked afresh;
  - on time: everyone else, 10 per session;
* the real webhook endpoint (`handlers.stripe_webhook.StripeWebhook` on the aiohttp app
  `handlers.web.make_app`, served by `web.AppRunner` + `TCPSite` as `serve.py` does) with
  the inbox worker (`jobs.inbox_worker.InboxWorker`) running beside it, woken by it;
* every event signed as Stripe signs it, each delivered TWICE, all 2,000 deliveries
  shuffled and posted at once (`--concurrency` connections, default 100) by a separate
  process (`bench/payments.py --post`), so the sender's own work does not share the
  server's event loop.

It prints the webhook's throughput (deliveries answered 200 per second, first POST to last
answer) and p50/p95/max latency of its responses, the time from the first POST until every
event was applied (inbox rows done, refunds sent to Stripe), and the checks, each of which
fails the run (exit 1):

* every paid booking confirmed exactly once: each paid payment's customer has exactly one
  confirmed registration, each paid payment exactly one receipt, with Stripe's receipt URL;
* 0 oversold: booked seats <= capacity per session, and `services.invariants` (what
  `bookbot doctor` runs) finds no violation;
* 0 double refunds: per payment at most one refund row and one refund at Stripe (the
  stand-in's own objects), and exactly the "late, seats gone" payments refunded;
* every event stored once and applied once (duplicates recognised at the door).

Run from the repository root:

    python bench/payments.py [--postgres URL] [--customers 1000] [--concurrency 100]

SQLite (a fresh temporary file) by default; --postgres runs on that PostgreSQL database
instead, whose `public` schema it DROPs and migrates afresh, so its name must contain
"test" or "bench". The setup (1,000 Checkout Sessions created over HTTP) is not timed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SCRIPT = str(Path(__file__).resolve())  # run again as the sender process
ROOT = Path(SCRIPT).parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import aiohttp  # noqa: E402
import stripe  # noqa: E402
from aiohttp import web  # noqa: E402
from tests.stripe_standin import StripeStandIn  # noqa: E402

from bookbot.engine.payments import Choice  # noqa: E402
from bookbot.engine.pricing import RegistrationKind  # noqa: E402
from bookbot.handlers.stripe_gateway import StripeGateway  # noqa: E402
from bookbot.handlers.stripe_webhook import SOURCE, WEBHOOK_PATH, StripeWebhook  # noqa: E402
from bookbot.handlers.web import Gate, make_app  # noqa: E402
from bookbot.jobs.inbox_worker import InboxWorker  # noqa: E402
from bookbot.services import holds, invariants, payments  # noqa: E402
from bookbot.store import migrate  # noqa: E402
from bookbot.store.db import Database, Tx, connect  # noqa: E402
from disposable_postgres import refuse_unless_disposable, wipe  # noqa: E402
from machine_line import machine_line  # noqa: E402

KEY = "sk_test_bench_payments"
WEBHOOK_SECRET = "whsec_bench_payments"  # noqa: S105 - the stand-in's, signs bench events
HOST = "127.0.0.1"
CAPACITY = 10
LATE_PER_SESSION = 5
OVERSOLD = 10  # sessions whose late payers find their seats gone
SPARE = 10  # sessions whose late payers find seats free
PRICE = 4500
STAFF_CHAT = -1001
URLS = payments.ReturnUrls("https://bench.example/pay/success", "https://bench.example/pay/cancel")
SETUP_CONCURRENCY = 20
PROCESS_TIMEOUT = 600.0  # seconds the bench waits for every event to be applied


class ShiftedClock:
    """Wall time moved by `shift`: the setup runs in the past, so some holds have lapsed by
    the time the webhooks arrive, while time still passes as it does in production."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift


@dataclass
class Customer:
    id: int
    session_id: int
    group: str  # "on_time", "late_gone", "late_free"
    registration_id: int = 0
    payment_id: int = 0
    event: dict[str, Any] = field(default_factory=dict)


@dataclass
class Posted:
    """What the sender process measured."""

    statuses: list[int]
    latencies: list[float]  # seconds per delivery
    first_post: float  # time.time()
    last_answer: float


@dataclass
class Result:
    backend: str
    customers: int
    posted: Posted
    processed_after: float  # seconds from the first POST until everything was applied
    setup_seconds: float
    checks: list[tuple[str, bool, str]]  # (what, passed, detail)


# --- the studio and its customers ----------------------------------------------------------


async def _insert(tx: Tx, table: str, **values: object) -> int:
    columns = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({params}) RETURNING id"  # noqa: S608
    return int(await tx.scalar(sql, values))


def plan(customers: int) -> list[tuple[str, int]]:
    """(group, session number) per customer: the late ones first, as they hold first."""
    late = [("late_gone", n) for n in range(OVERSOLD) for _ in range(LATE_PER_SESSION)]
    late += [("late_free", OVERSOLD + n) for n in range(SPARE) for _ in range(LATE_PER_SESSION)]
    on_time = [("on_time", n) for n in range(OVERSOLD) for _ in range(CAPACITY)]
    on_time += [
        ("on_time", OVERSOLD + n) for n in range(SPARE) for _ in range(CAPACITY - LATE_PER_SESSION)
    ]
    session = OVERSOLD + SPARE
    while len(late) + len(on_time) < customers:
        on_time += [("on_time", session)] * min(CAPACITY, customers - len(late) - len(on_time))
        session += 1
    if len(late) + len(on_time) > customers:
        raise SystemExit(f"--customers must be at least {len(late) + len(on_time)}")
    return late + on_time


async def seed(
    db: Database, now: datetime, layout: list[tuple[str, int]]
) -> tuple[int, list[Customer]]:
    sessions = max(number for _, number in layout) + 1
    starts = (now + timedelta(days=10)).replace(minute=0, second=0, microsecond=0)
    async with db.transaction() as tx:
        studio = await _insert(
            tx,
            "studios",
            slug="bench",
            name="Bench Studio",
            timezone="Europe/London",
            currency="GBP",
            default_language="en",
            staff_chat_id=STAFF_CHAT,
        )
        class_id = await _insert(
            tx,
            "classes",
            studio_id=studio,
            key="taster",
            name="Taster",
            price_minor=PRICE,
            kind="single",
            payment="online",
        )
        session_ids = []
        for n in range(sessions):
            begins = starts + timedelta(hours=n)
            session_ids.append(
                await _insert(
                    tx,
                    "sessions",
                    studio_id=studio,
                    class_id=class_id,
                    occurrence_date=begins.date(),
                    starts_at=begins,
                    ends_at=begins + timedelta(hours=2),
                    capacity=CAPACITY,
                    location="Studio A",
                    status="open",
                )
            )
        people = []
        for n, (group, number) in enumerate(layout):
            customer = await _insert(
                tx, "customers", studio_id=studio, name=f"Customer {n}", created_at=now
            )
            people.append(Customer(customer, session_ids[number], group))
    return studio, people


async def hold_and_checkout(
    db: Database,
    clock: ShiftedClock,
    gateway: StripeGateway,
    stripe_api: StripeStandIn,
    *,
    studio_id: int,
    people: list[Customer],
) -> None:
    """Each holds a seat, starts a Checkout (a Session at the stand-in), and pays on it."""
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(person: Customer) -> None:
        async with gate:
            held = await holds.hold(
                db,
                clock,
                studio_id,
                person.id,
                RegistrationKind.SINGLE,
                guests=1,
                session_ids=[person.session_id],
            )
            link = await payments.start_checkout(
                db,
                clock,
                gateway,
                studio_id=studio_id,
                customer_id=person.id,
                registration_id=held.id,
                choice=Choice.FULL,
                urls=URLS,
            )
        person.registration_id, person.payment_id = held.id, link.payment_id
        session_id = await db.scalar(
            "SELECT stripe_session_id FROM payments WHERE id = :id", {"id": link.payment_id}
        )
        person.event = stripe_api.pay(str(session_id))

    await asyncio.gather(*(one(person) for person in people))


# --- delivering: a process of its own, as Stripe is --------------------------------------------


async def post_all(url: str, deliveries: list[dict[str, str]], concurrency: int) -> Posted:
    """POST every delivery at once, `concurrency` of them in flight; each timed from its
    request to its answer (not while it waits for its turn, as Stripe does not queue them)."""
    statuses: list[int] = []
    latencies: list[float] = []
    in_flight = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def one(delivery: dict[str, str]) -> None:
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": delivery["signature"],
            }
            async with in_flight:
                started = time.perf_counter()
                try:
                    async with http.post(url, data=delivery["payload"], headers=headers) as answer:
                        await answer.read()
                        statuses.append(answer.status)
                except (aiohttp.ClientError, TimeoutError):
                    statuses.append(0)
                latencies.append(time.perf_counter() - started)

        first = time.time()
        await asyncio.gather(*(one(d) for d in deliveries))
        last = time.time()
    return Posted(statuses, latencies, first, last)


def sender_main(path: str, url: str, concurrency: int) -> None:
    deliveries = json.loads(Path(path).read_text())
    posted = asyncio.run(post_all(url, deliveries, concurrency))
    print(json.dumps(posted.__dict__))


async def send_from_another_process(
    deliveries: list[dict[str, str]], url: str, concurrency: int, workdir: Path
) -> Posted:
    batch = workdir / "deliveries.json"
    batch.write_text(json.dumps(deliveries))
    sender = await asyncio.create_subprocess_exec(
        sys.executable,
        SCRIPT,
        "--post",
        str(batch),
        "--url",
        url,
        "--concurrency",
        str(concurrency),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await sender.communicate()
    if sender.returncode != 0:
        raise SystemExit(f"the sender process failed ({sender.returncode})")
    return Posted(**json.loads(out))


def signed_deliveries(stripe_api: StripeStandIn, people: list[Customer]) -> list[dict[str, str]]:
    """Each event twice, signed now (as Stripe signs each attempt), in shuffled order."""
    deliveries = []
    for person in people:
        for _ in range(2):
            payload, header = stripe_api.signed(person.event, timestamp=int(time.time()))
            deliveries.append({"payload": payload.decode(), "signature": header})
    random.shuffle(deliveries)
    return deliveries


async def all_applied(db: Database, events: int) -> bool:
    row = await db.one(
        "SELECT COUNT(*) AS stored, SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END)"
        " AS open FROM inbox WHERE source = :source",
        {"source": SOURCE},
    )
    unsent = await db.scalar(
        "SELECT COUNT(*) FROM refunds WHERE status = 'pending' AND stripe_refund_id IS NULL"
    )
    return row is not None and row["stored"] >= events and not row["open"] and not unsent


# --- the checks --------------------------------------------------------------------------------


async def check(
    db: Database, stripe_api: StripeStandIn, people: list[Customer], posted: Posted
) -> list[tuple[str, bool, str]]:
    checks: list[tuple[str, bool, str]] = []
    by_payment = {p.payment_id: p for p in people}
    rows = await db.all("SELECT id, registration_id, status, receipt_url FROM payments")
    status = {int(r["id"]): str(r["status"]) for r in rows}
    expected = {p.payment_id: "refunded" if p.group == "late_gone" else "paid" for p in people}
    wrong = [pid for pid, want in expected.items() if status.get(pid) != want]
    # A lapsed hold paid for while its seats are still free is booked as a new registration.
    afresh = sum(
        1
        for r in rows
        if by_payment[int(r["id"])].group == "late_free"
        and r["registration_id"] != by_payment[int(r["id"])].registration_id
    )
    checks.append(
        (
            "payments as expected",
            not wrong and afresh == SPARE * LATE_PER_SESSION,
            f"{dict(Counter(status.values()))}; {len(wrong)} not as expected;"
            f" {afresh} late payers booked afresh",
        )
    )

    confirmed = Counter(
        int(r["customer_id"])
        for r in await db.all("SELECT customer_id FROM registrations WHERE status = 'confirmed'")
    )
    paid_people = [
        by_payment[pid] for pid, s in status.items() if s == "paid" and pid in by_payment
    ]
    not_once = [p.id for p in paid_people if confirmed[p.id] != 1]
    refunded_booked = [p.id for p in people if p.group == "late_gone" and confirmed[p.id]]
    receipts = Counter(
        int(r["customer_id"])
        for r in await db.all(
            "SELECT customer_id, params FROM outbox WHERE template = 'payment_receipt'"
        )
    )
    no_receipt_once = [p.id for p in paid_people if receipts[p.id] != 1]
    no_url = [r["id"] for r in rows if r["status"] == "paid" and not r["receipt_url"]]
    checks.append(
        (
            "every paid booking confirmed exactly once",
            not not_once and not refunded_booked,
            f"{len(paid_people)} paid, {sum(confirmed.values())} confirmed registrations,"
            f" {len(not_once)} paid customers without exactly one",
        )
    )
    checks.append(
        (
            "one receipt per paid booking, with Stripe's receipt URL",
            not no_receipt_once and not no_url,
            f"{sum(receipts.values())} receipts; {len(no_receipt_once)} not once;"
            f" {len(no_url)} without URL",
        )
    )

    over = await db.all(
        "SELECT s.id, s.capacity, SUM(rs.guest_count) AS booked FROM sessions s"
        " JOIN registration_sessions rs ON rs.session_id = s.id AND rs.status = 'booked'"
        " GROUP BY s.id, s.capacity HAVING SUM(rs.guest_count) > s.capacity"
    )
    violations = await invariants.find_violations(db, datetime.now(UTC))
    checks.append(
        (
            "0 oversold",
            not over and not violations,
            f"{len(over)} sessions over capacity; invariants: {len(violations)} violations"
            + (f" ({violations[0]})" if violations else ""),
        )
    )

    refund_rows = Counter(
        int(r["payment_id"]) for r in await db.all("SELECT payment_id FROM refunds")
    )
    at_stripe = Counter(
        o["payment_intent"] for o in stripe_api.objects.values() if o["object"] == "refund"
    )
    asked = len(stripe_api.calls_to("POST", "/v1/refunds"))
    twice = [pid for pid, n in refund_rows.items() if n > 1]
    twice_at_stripe = [pi for pi, n in at_stripe.items() if n > 1]
    gone = {p.payment_id for p in people if p.group == "late_gone"}
    told = await db.scalar("SELECT COUNT(*) FROM outbox WHERE template = 'payment_refunded_late'")
    checks.append(
        (
            "0 double refunds",
            not twice and not twice_at_stripe and set(refund_rows) == gone and told == len(gone),
            f"{sum(refund_rows.values())} refund rows for {len(refund_rows)} payments"
            f" ({len(gone)} expected); {asked} refund requests, {sum(at_stripe.values())}"
            " refunds at Stripe;"
            f" {len(twice)} payments refunded twice here, {len(twice_at_stripe)} at Stripe;"
            f" {told} customers told why",
        )
    )

    stored = await db.all(
        "SELECT status, COUNT(*) AS n FROM inbox WHERE source = :source GROUP BY status",
        {"source": SOURCE},
    )
    inbox_counts = {str(r["status"]): int(r["n"]) for r in stored}
    accepted = sum(1 for s in posted.statuses if s == 200)
    checks.append(
        (
            "every delivery acknowledged, each event stored and applied once",
            accepted == len(posted.statuses) and inbox_counts == {"done": len(people)},
            f"{accepted}/{len(posted.statuses)} answered 200; inbox {inbox_counts}",
        )
    )
    return checks


# --- one run -----------------------------------------------------------------------------------


async def run(url: str, backend: str, args: argparse.Namespace, workdir: Path) -> Result:
    await migrate.upgrade_async(url)
    db = await connect(url)
    clock = ShiftedClock()
    gate = Gate()
    runner: web.AppRunner | None = None
    worker_task: asyncio.Task[None] | None = None
    try:
        async with StripeStandIn(secret_key=KEY, webhook_secret=WEBHOOK_SECRET) as stripe_api:
            stripe_api.clock = lambda: clock.now().timestamp()  # Stripe's time is the bench's
            gateway = StripeGateway(KEY, api_base=stripe_api.base_url)
            worker = InboxWorker(db, clock, {})
            webhook = StripeWebhook(db, clock, WEBHOOK_SECRET, gateway=gateway, wake=worker.wake)
            worker.processors[SOURCE] = webhook

            began = time.perf_counter()
            clock.shift = -timedelta(minutes=45)
            studio_id, people = await seed(db, clock.now(), plan(args.customers))
            late = [p for p in people if p.group != "on_time"]
            on_time = [p for p in people if p.group == "on_time"]
            await hold_and_checkout(
                db, clock, gateway, stripe_api, studio_id=studio_id, people=late
            )
            clock.shift = -timedelta(minutes=10)  # the late ones' 30-minute holds have lapsed
            await hold_and_checkout(
                db, clock, gateway, stripe_api, studio_id=studio_id, people=on_time
            )
            clock.shift = timedelta(0)
            setup_seconds = time.perf_counter() - began
            print(f"  {backend}: set up in {setup_seconds:.1f} s", file=sys.stderr, flush=True)

            runner = web.AppRunner(make_app(*webhook.routes(), gate=gate))
            await runner.setup()
            site = web.TCPSite(runner, HOST, 0)
            await site.start()
            port = runner.addresses[0][1]
            worker_task = asyncio.create_task(worker.run())

            deliveries = signed_deliveries(stripe_api, people)
            posted = await send_from_another_process(
                deliveries, f"http://{HOST}:{port}{WEBHOOK_PATH}", args.concurrency, workdir
            )
            while not await all_applied(db, len(people)):
                if time.time() - posted.first_post > PROCESS_TIMEOUT:
                    break
                await asyncio.sleep(0.02)
            processed_after = time.time() - posted.first_post

            gate.open = False
            await worker.stop()
            await worker_task
            worker_task = None
            checks = await check(db, stripe_api, people, posted)
            await gateway.close()
    finally:
        if worker_task is not None:
            worker_task.cancel()
        if runner is not None:
            await runner.cleanup()
        await db.close()
    return Result(backend, len(people), posted, processed_after, setup_seconds, checks)


# --- report ----------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def print_report(result: Result, args: argparse.Namespace) -> bool:
    posted = result.posted
    span = posted.last_answer - posted.first_post
    accepted = sum(1 for s in posted.statuses if s == 200)
    print(f"bookbot payments bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"{machine_line(aiohttp)}; stripe {stripe.VERSION}")
    print(
        f"workload: {result.customers} customers, one seat each, Checkout through"
        f" StripeGateway + stand-in (setup {result.setup_seconds:.1f} s, not timed);"
        f" {OVERSOLD * LATE_PER_SESSION} late payers whose seats are gone,"
        f" {SPARE * LATE_PER_SESSION} late payers with seats free; each completion delivered"
        f" twice, shuffled, {len(posted.statuses)} POSTs, {args.concurrency} connections"
    )
    print(f"backend: {result.backend}")
    print(
        f"webhook: {accepted} deliveries ({result.customers} events, each twice) answered 200"
        f" in {span:.2f} s = {accepted / span:.0f} deliveries/s;"
        f" latency p50 {percentile(posted.latencies, 0.5) * 1000:.0f} ms,"
        f" p95 {percentile(posted.latencies, 0.95) * 1000:.0f} ms,"
        f" max {max(posted.latencies) * 1000:.0f} ms"
    )
    print(
        f"all {result.customers} events applied {result.processed_after:.2f} s after the first"
        f" POST ({result.customers / result.processed_after:.0f} events/s end to end)"
    )
    ok = True
    for what, passed, detail in result.checks:
        print(f"  [{'ok' if passed else 'FAIL'}] {what}: {detail}")
        ok = ok and passed
    return ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="run on this PostgreSQL database")
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--post", help=argparse.SUPPRESS)  # the sender process
    parser.add_argument("--url", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


async def bench(args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory(prefix="bookbot-payments-") as tmp:
        if args.postgres:
            refuse_unless_disposable(args.postgres)
            version = await wipe(args.postgres)
            result = await run(args.postgres, f"postgresql {version}", args, Path(tmp))
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            result = await run(url, "sqlite", args, Path(tmp))
    return print_report(result, args)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.post:
        sender_main(args.post, args.url, args.concurrency)
        return 0
    return 0 if asyncio.run(bench(args)) else 1


if __name__ == "__main__":
    sys.exit(main())
