"""Inbound durability: does every SMS `bookbot run` acknowledges get exactly one answer?

A black-box run (`tests/blackbox/harness.py`): `bookbot run` is a real process on a demo
database, its Twilio REST client pointed at a local stand-in (`tests/twilio_standin.py`, in
this process) that captures every SMS it sends. The bench plays Twilio's inbound side:
signed form POSTs to /twilio/sms, each with its own MessageSid, at most 50 in flight, and
Twilio's retry: what was not acknowledged with a 200 (refused, reset, 5xx, timeout) is
posted again, same MessageSid, once the bot is back.

Cases, each on SQLite and (when configured) PostgreSQL, each on a fresh demo database:

* kill: a burst of `--messages` (300) first messages ("Hi") from as many numbers; SIGKILL
  once `--stop-after` (150) are acknowledged; restart; Twilio's retries.
* term: the same with SIGTERM, a clean stop (while stopping, the bot may answer 503 or
  refuse: those are posted again after the restart).
* outage: the stand-in answers every REST request with a 503 for `--outage` (10) s,
  from just before a burst of `--messages`; no restart.
* flood: one number posts `--flood-rate` (500)/s for `--flood-seconds` (5) s while a
  bystander posts every 0.5 s; the bystander's reply latency.

Then it waits until every acknowledged number has a reply and nothing new has come for 3 s,
or until the bot has made no request to the stand-in for `--patience` (75) s (well past
every lease a killed process leaves behind: a dialogue's, an inbox or an outbox claim's,
10 s each; so a late answer is told from a lost one), and counts per number.
A reply is one answer however many SMS parts it was split into: a calibration "Hi" from a
number of its own, before each case, shows the answer's parts. Lost: acknowledged numbers
without a reply. Duplicated: numbers with more than one. Latency: from a message's first
POST to its reply reaching the stand-in (restarts included). Seconds: the case's wall time,
the final wait included.

Run from the repository root:

    python bench/inbound.py [--postgres-url URL] [--only sqlite|postgresql]
                            [--cases kill,term,outage,flood] [--messages 300]
                            [--bookbot-src DIR]

`--bookbot-src` runs the bot from another checkout's `src` (e.g. an older commit unpacked
with `git archive`). It exits 1 when a case loses, repeats or never gets acknowledged a
message. PostgreSQL comes from --postgres-url, else BOOKBOT_BENCH_POSTGRES_URL, else
BOOKBOT_TEST_POSTGRES_URL, and is skipped with a note when none is set. WARNING: the bench
wipes that database's `public` schema before each case, so it refuses a database whose
name does not contain "test" or "bench"; do not point it at one a test run is using.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402
from tests.blackbox.harness import (  # noqa: E402
    CaseResult,
    FloodResult,
    Harness,
    HarnessError,
    Timings,
)

from disposable_postgres import postgres_url, refuse_unless_disposable, wipe  # noqa: E402
from machine_line import machine_line  # noqa: E402

CASES = ("kill", "term", "outage", "flood")


@dataclass
class Report:
    rows: list[CaseResult] = field(default_factory=list)
    floods: list[FloodResult] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def one_case(
    backend: str, url: str, case: str, args: argparse.Namespace, workdir: Path
) -> CaseResult | FloodResult:
    timings = Timings(idle=args.patience, settle_within=args.patience + 120)
    async with Harness(
        backend, url, workdir, pythonpath=args.bookbot_src, timings=timings
    ) as harness:
        await harness.prepare()
        if case == "kill":
            return await harness.stop_case(signal.SIGKILL, args.messages, args.stop_after)
        if case == "term":
            return await harness.stop_case(signal.SIGTERM, args.messages, args.stop_after)
        if case == "outage":
            return await harness.outage_case(args.messages, args.outage)
        return await harness.flood_case(args.flood_rate, args.flood_seconds)


async def on_backend(
    backend: str, url: str | None, args: argparse.Namespace, report: Report
) -> None:
    with tempfile.TemporaryDirectory(prefix="bookbot-inbound-") as tmp:
        for number, case in enumerate(args.cases):
            workdir = Path(tmp) / f"{number}-{case}"
            workdir.mkdir()
            if url is None:  # SQLite: a fresh file per case
                case_url = f"sqlite:///{workdir / 'demo.db'}"
            else:
                case_url = url
                await wipe(url)
            try:
                result = await one_case(backend, case_url, case, args, workdir)
            except (HarnessError, OSError, asyncpg.PostgresError) as error:
                report.failures.append(f"{backend} {case}: {error}")
                continue
            if isinstance(result, FloodResult):
                report.floods.append(result)
            else:
                report.rows.append(result)
            print(f"  done: {backend} {case}", file=sys.stderr, flush=True)


async def run(args: argparse.Namespace, pg_url: str | None) -> Report:
    report = Report()
    if args.only in (None, "sqlite"):
        await on_backend("sqlite", None, args, report)
    if args.only in (None, "postgresql"):
        if pg_url is None:
            report.setup.append(
                "postgresql: skipped (set --postgres-url, BOOKBOT_BENCH_POSTGRES_URL"
                " or BOOKBOT_TEST_POSTGRES_URL)"
            )
        else:
            try:
                report.setup.append(f"postgresql server {await wipe(pg_url)}")
            except (OSError, asyncpg.PostgresError) as error:
                report.failures.append(f"postgresql: cannot prepare {pg_url}: {error}")
                return report
            await on_backend("postgresql", pg_url, args, report)
    return report


# --- command line and report ---------------------------------------------------------------


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


HEADINGS = (
    f"{'backend':<11} {'case':<8} {'posted':>6} {'acked':>6} {'@stop':>5} {'answered':>8}"
    f" {'lost':>5} {'dups':>5} {'p50 s':>6} {'p95 s':>6} {'max s':>6} {'seconds':>7}  settled"
)


def format_row(row: CaseResult) -> str:
    stop = "-" if row.acked_at_stop is None else str(row.acked_at_stop)
    return (
        f"{row.backend:<11} {row.case:<8} {row.posted:>6} {row.acknowledged:>6} {stop:>5}"
        f" {row.answered:>8} {row.lost:>5} {row.duplicated:>5} {seconds(row.p50):>6}"
        f" {seconds(row.p95):>6} {seconds(row.slowest):>6} {row.seconds:>7.1f}  {row.settled}"
    )


FLOOD_HEADINGS = (
    f"{'backend':<11} {'flood':>6} {'acked':>6} {'posts/s':>7} {'replies':>7}"
    f" {'bystander':>9} {'acked':>6} {'replies':>7} {'p50 s':>6} {'p95 s':>6} {'seconds':>7}"
    f"  {'RSS MiB before/peak/after':>25}"
)


def format_flood(row: FloodResult) -> str:
    return (
        f"{row.backend:<11} {row.flood_posted:>6} {row.flood_acknowledged:>6}"
        f" {row.flood_post_rate:>7.0f} {row.flood_replies:>7} {row.bystander_posted:>9}"
        f" {row.bystander_acknowledged:>6} {row.bystander_replies:>7} {seconds(row.p50):>6}"
        f" {seconds(row.p95):>6} {row.seconds:>7.1f}"
        f"  {mib(row.rss_before):>7}/{mib(row.rss_peak)}/{mib(row.rss_after)}"
    )


def mib(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def header(args: argparse.Namespace) -> str:
    source = args.bookbot_src or "this checkout"
    return (
        f"bookbot inbound bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
        f"{machine_line(aiohttp)}\n"
        f"workload: cases {', '.join(args.cases)}; {args.messages} first messages from as many"
        f" numbers, 50 in flight; stop after {args.stop_after} acknowledgements; outage"
        f" {args.outage:g} s; flood {args.flood_rate:g}/s for {args.flood_seconds:g} s;"
        f" patience {args.patience:g} s; the bot from {source}"
    )


def print_report(report: Report) -> None:
    for note in report.setup:
        print(note)
    if report.rows:
        print()
        print(HEADINGS)
        for row in report.rows:
            print(format_row(row))
    if report.floods:
        print()
        print(FLOOD_HEADINGS)
        for flood in report.floods:
            print(format_flood(flood))
    print()
    for row in report.rows:
        verdict = "ok" if row.ok else "FAILS"
        print(f"{row.backend:<11} {row.case:<8} {verdict}: {'; '.join(row.notes)}")
    for failure in report.failures:
        print(f"FAILURE: {failure}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--postgres-url", help="a disposable test/bench database (it is wiped)")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="one backend")
    parser.add_argument(
        "--cases",
        default=",".join(CASES),
        help="comma-separated, of kill, term, outage, flood (default: all)",
    )
    parser.add_argument("--messages", type=int, default=300, help="first messages per burst")
    parser.add_argument("--stop-after", type=int, help="acknowledgements before the stop (half)")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds of REST outage")
    parser.add_argument("--flood-rate", type=float, default=500.0, help="posts/s from one number")
    parser.add_argument("--flood-seconds", type=float, default=5.0)
    parser.add_argument(
        "--patience",
        type=float,
        default=75.0,
        help="seconds without a request from the bot before the unanswered count as lost",
    )
    parser.add_argument("--bookbot-src", help="run the bot from this src directory instead")
    args = parser.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}; choose from {', '.join(CASES)}")
    if not 0 < args.messages <= 1000:
        parser.error("--messages must be between 1 and 1,000")
    if args.stop_after is None:
        args.stop_after = args.messages // 2
    if not 0 < args.stop_after <= args.messages:
        parser.error("--stop-after must be between 1 and --messages")
    if args.bookbot_src:
        args.bookbot_src = str(Path(args.bookbot_src).resolve())
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    pg_url = postgres_url(args.postgres_url)
    if pg_url is not None and args.only != "sqlite":
        refuse_unless_disposable(pg_url)
    print(header(args), flush=True)
    report = asyncio.run(run(args, pg_url))
    print_report(report)
    return 1 if report.failures or any(not row.ok for row in report.rows) else 0


if __name__ == "__main__":
    sys.exit(main())
