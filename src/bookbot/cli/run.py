"""`bookbot run`: the bot. Telegram by polling, or by webhook when a public URL is set."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from typing import Any

from bookbot.cli.common import opened
from bookbot.cli.event_loop import describe
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.handlers.telegram_bots import TelegramBots
from bookbot.handlers.twilio_webhook import TwilioChannel
from bookbot.jobs.delivery import DeliveryWorker
from bookbot.jobs.scheduler import standard_sweeps, ticking
from bookbot.jobs.sweeps import Sweeps
from bookbot.serve import (
    build,
    delivery_worker,
    dialogues_for,
    serve,
    stripe_gateway,
    studio_channels,
    sweeps,
    telegram_bot,
    twilio_sender,
)
from bookbot.services.studio_channels import Endpoints

log = logging.getLogger("bookbot")


def register_jobs(commands: Any) -> None:
    jobs = commands.add_parser(
        "jobs",
        help="run the scheduled sweeps alone (attendance, 01:00 absence handling)",
        description="The sweeps and the delivery worker, with the channels and payments "
        "`bookbot run` is configured with (see its --help); BOOKBOT_EVENT_LOOP=asyncio runs "
        "on asyncio's own event loop instead of uvloop.",
    )
    jobs.add_argument(
        "--once",
        action="store_true",
        help="one tick, generation and one delivery pass over what is due now, then exit",
    )
    jobs.set_defaults(run=run_jobs)


async def run_jobs(settings: Settings, args: argparse.Namespace) -> int:
    """The sweeps and the delivery worker, until SIGTERM or Ctrl-C (exit 0, nothing lost:
    the sweep under way finishes, unsent claims are given back)."""
    _logging()
    stop = _stop_signal()  # first: a stop at any moment from here on is a clean one
    async with opened(settings) as db, AsyncExitStack() as stack:
        clock = SystemClock()
        gateway = stripe_gateway(settings)  # first, as in `run`: a half-set Stripe fails early
        if gateway is not None:
            stack.push_async_callback(gateway.close)  # after the sweeps and the sends stop
        sender = twilio_sender(settings)
        if sender is not None:
            stack.push_async_callback(sender.close)
        endpoints = Endpoints()
        channel = TwilioChannel(db, clock, sender, endpoints) if sender is not None else None
        # The same dialogues as `run`: a notice sent from here has the same buttons.
        dialogues = dialogues_for(settings, db, clock, sms=channel, gateway=gateway)
        bots = TelegramBots(telegram_bot(settings, dialogues))
        # The studios' own bots and numbers: their notices go out through them.
        await studio_channels(settings, db, bots=bots, endpoints=endpoints, dialogues=dialogues)
        await bots.open(stack)
        jobs = sweeps(settings, db, clock, gateway)
        delivery = delivery_worker(settings, db, clock, bots, channel)
        if args.once:
            await _once(jobs, delivery, stop)
            return 0
        sending = asyncio.create_task(delivery.run())
        async with ticking(*standard_sweeps(jobs)):
            log.info("jobs running; stop with Ctrl-C")
            await stop.wait()
            log.info("stopping: finishing the sweep and the sends under way")
        await delivery.stop()  # finish the sends under way, give the rest back
        await sending
        log.info("stopped cleanly")
    return 0


async def _once(jobs: Sweeps, delivery: DeliveryWorker, stop: asyncio.Event) -> None:
    """One tick, generation, then one bounded delivery pass; a stop ends it early, cleanly."""
    for sweep in (jobs.tick, jobs.generate_ahead):
        if stop.is_set():
            return
        await sweep()
    passing = asyncio.create_task(delivery.run_until_idle())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({passing, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not passing.done():
        await delivery.stop()  # the sends under way finish; the rest is given back
    stats = await passing
    log.info(
        "delivery: %d sent, %d retried, %d failed, %d skipped",
        stats.sent,
        stats.retried,
        stats.failed,
        stats.skipped,
    )


def register(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="run the bot: Telegram and/or SMS and WhatsApp through Twilio (see the README)",
        description="Environment: BOOKBOT_TELEGRAM_TOKEN, BOOKBOT_TELEGRAM_API_BASE (a Bot API "
        "stand-in), BOOKBOT_PUBLIC_URL (https://bot.example.com: webhook mode), "
        "BOOKBOT_WEBHOOK_SECRET, BOOKBOT_HOST, BOOKBOT_PORT, BOOKBOT_DEFAULT_STUDIO, "
        "BOOKBOT_TWILIO_ACCOUNT_SID, BOOKBOT_TWILIO_AUTH_TOKEN, BOOKBOT_TWILIO_SMS_FROM or "
        "BOOKBOT_TWILIO_MESSAGING_SERVICE_SID, BOOKBOT_TWILIO_WHATSAPP_FROM, "
        "BOOKBOT_TWILIO_API_BASE, BOOKBOT_WHATSAPP_TEMPLATE_SID, BOOKBOT_SMS_RATE; payments: "
        "BOOKBOT_STRIPE_SECRET_KEY + BOOKBOT_STRIPE_WEBHOOK_SECRET (with BOOKBOT_PUBLIC_URL), "
        "BOOKBOT_STRIPE_API_BASE (a Stripe stand-in); BOOKBOT_EVENT_LOOP=asyncio runs on "
        "asyncio's own event loop instead of uvloop.",
    )
    run.set_defaults(run=run_bot)


def _stop_signal() -> asyncio.Event:
    """Set on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _logging() -> None:
    """Log lines from INFO up on stderr, starting with the event loop in use."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    log.info("event loop: %s", describe(asyncio.get_running_loop()))


async def run_bot(settings: Settings, _args: argparse.Namespace) -> int:
    _logging()
    async with opened(settings) as db:
        await serve(settings, build(settings, db), _stop_signal())
    return 0
