"""Every SMS the bot acknowledges gets exactly one answer: through a kill -9, a clean stop
(SIGTERM) and a Twilio REST outage (issue 10).

Black box: `bookbot run` is a real process, Twilio is played on both sides by the harness
(`tests/blackbox/harness.py`): signed inbound webhooks, re-posted like Twilio's retries when
they were not acknowledged, and a REST stand-in that captures the replies. Smaller than
`bench/inbound.py` (60 first messages, the stop after 30 acknowledgements, a 4 s outage:
shorter than the delivery worker's first backoff, 5 s, so each reply needs one retry).

On SQLite and, when BOOKBOT_TEST_POSTGRES_URL is set, PostgreSQL (the `database_url`
fixture of tests/conftest.py: a migrated, empty database; the shared PostgreSQL one is
truncated first). Each test waits by polling with deadlines: until every acknowledged
number has an answer and nothing new has come for `quiet` s, or until the bot has made
no request to the stand-in for `idle` s (then the unanswered are reported as lost: after a
kill -9 the restarted bot must answer what the dead one had acknowledged within that window).
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bookbot.conversations.store import LEASE as DIALOGUE_LEASE
from bookbot.jobs.delivery import DeliveryWorker
from bookbot.jobs.inbox_worker import InboxWorker
from tests.blackbox.harness import CaseResult, Harness, Timings

MESSAGES = 60
STOP_AFTER = 30
OUTAGE_SECONDS = 4.0
# What a killed process leaves held, each until its lease runs out: the inbox rows it had
# claimed, the outbox rows (replies) it had claimed, the dialogue it was in the middle of.
# All three are short leases renewed while a live process works, so a restart takes them
# over within seconds. A reply held longer than `idle` is
# reported lost: a minute-long hold is a bug for the customer waiting, not for the test to
# wait out (`test_the_wait_outlasts_what_a_killed_process_holds`).
LEASES = {
    "inbox claim": InboxWorker.lease,
    "outbox claim": DeliveryWorker.lease,
    "dialogue": DIALOGUE_LEASE,
}
# After a lease runs out: the inbox worker's poll (1 s), the delivery worker's (5 s).
POLLS = timedelta(seconds=InboxWorker.poll_seconds + 5.0)
TIMINGS = Timings(
    quiet=1.5,
    # Waiting longer costs nothing when every message is answered (that ends the wait).
    idle=40.0,
    settle_within=60.0,
    stop_within=15.0,
    redeliver_within=15.0,
    calibration_quiet=0.5,
)


@pytest.fixture
async def harness(database_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    async with Harness(backend, database_url, tmp_path, timings=TIMINGS) as running:
        await running.prepare()
        yield running


def _explained(result: CaseResult, harness: Harness) -> str:
    bot = harness.bot
    tail = bot.log_tail(30) if bot is not None else "(no bot)"
    return (
        f"{result.summary()}\nlost: {result.lost_numbers[:10]}"
        f"\nduplicated: {result.duplicated_numbers[:10]}\n--- the bot's log, last lines ---\n"
        f"{tail}"
    )


def _assert_exactly_one_answer_each(result: CaseResult, harness: Harness) -> None:
    explained = _explained(result, harness)
    assert result.unacknowledged == 0, f"never acknowledged, even re-posted: {explained}"
    assert result.lost == 0, (
        f"acknowledged but not answered by the time the bot had made no request to Twilio for"
        f" {TIMINGS.idle:g} s (so did a reply whose outbox row a killed process had claimed for"
        f" 60 s: see LEASES; bench/inbound.py waits longer): {explained}"
    )
    assert result.duplicated == 0, f"answered more than once: {explained}"
    assert result.answered == result.posted, explained


def test_the_wait_outlasts_what_a_killed_process_holds() -> None:
    longest = max(LEASES, key=lambda name: LEASES[name])
    assert (LEASES[longest] + POLLS).total_seconds() < TIMINGS.idle, (
        f"the {longest} lease ({LEASES[longest]}) leaves a killed process's message unanswered"
        f" for longer than the test waits ({TIMINGS.idle:g} s): shorten it (renew it while"
        " working) rather than wait longer"
    )


async def test_a_kill_minus_9_loses_and_repeats_no_acknowledged_message(harness: Harness) -> None:
    result = await harness.stop_case(signal.SIGKILL, MESSAGES, STOP_AFTER)
    _assert_exactly_one_answer_each(result, harness)


async def test_a_clean_stop_loses_and_repeats_no_acknowledged_message(harness: Harness) -> None:
    result = await harness.stop_case(signal.SIGTERM, MESSAGES, STOP_AFTER)
    _assert_exactly_one_answer_each(result, harness)


async def test_a_twilio_outage_delays_answers_and_loses_none(harness: Harness) -> None:
    result = await harness.outage_case(MESSAGES, OUTAGE_SECONDS)
    _assert_exactly_one_answer_each(result, harness)
