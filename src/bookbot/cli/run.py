"""`bookbot run`: the bot. Telegram by polling, or by webhook when a public URL is set."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import signal
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from telegram import Bot

from bookbot.cli.common import opened
from bookbot.config import Settings
from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import SystemClock
from bookbot.handlers.notices import NoticeRouter
from bookbot.handlers.telegram_bot import TelegramBot, TelegramSettings
from bookbot.handlers.twilio_api import TwilioSender, TwilioSettings
from bookbot.handlers.twilio_webhook import STATUS_PATH, TwilioChannel, TwilioWebhooks
from bookbot.handlers.web import TELEGRAM_PATH, make_app, telegram_route
from bookbot.jobs.attendance import AttendanceJobs
from bookbot.jobs.delivery import DeliveryWorker
from bookbot.jobs.notice_transport import NoticeTransport
from bookbot.jobs.scheduler import standard_sweeps, ticking
from bookbot.store.db import Database

log = logging.getLogger("bookbot")


def register_jobs(commands: Any) -> None:
    jobs = commands.add_parser(
        "jobs", help="run the scheduled sweeps alone (attendance, 01:00 absence handling)"
    )
    jobs.add_argument("--once", action="store_true", help="run one tick and exit")
    jobs.set_defaults(run=run_jobs)


async def run_jobs(settings: Settings, args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    async with opened(settings) as db, AsyncExitStack() as stack:
        clock = SystemClock()
        telegram = None
        if settings.telegram_token:
            base = {"base_url": settings.telegram_api_base} if settings.telegram_api_base else {}
            telegram = await stack.enter_async_context(Bot(settings.telegram_token, **base))
        channel = None
        if settings.twilio_configured:
            sender = TwilioSender(twilio_settings(settings))
            stack.push_async_callback(sender.close)
            channel = TwilioChannel(db, clock, sender)
        router = NoticeRouter(db, clock, telegram, channel, settings.whatsapp_template_sid)
        jobs = AttendanceJobs(db, clock)
        delivery = DeliveryWorker(db, clock, NoticeTransport(router))
        if args.once:
            await jobs.tick()
            await jobs.generate_ahead()
            await delivery.run_until_idle()
            return 0
        stack.push_async_callback(delivery.stop)  # after the ticking stops: finish sends
        async with ticking(*standard_sweeps(jobs, delivery)):
            log.info("jobs running; stop with Ctrl-C")
            await _until_stopped()
    return 0


def register(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="run the bot: Telegram and/or SMS and WhatsApp through Twilio (see the README)",
        description="Environment: BOOKBOT_TELEGRAM_TOKEN, BOOKBOT_TELEGRAM_API_BASE (a Bot API "
        "stand-in), BOOKBOT_PUBLIC_URL (https://bot.example.com: webhook mode), "
        "BOOKBOT_WEBHOOK_SECRET, BOOKBOT_HOST, BOOKBOT_PORT, BOOKBOT_DEFAULT_STUDIO, "
        "BOOKBOT_TWILIO_ACCOUNT_SID, BOOKBOT_TWILIO_AUTH_TOKEN, BOOKBOT_TWILIO_SMS_FROM or "
        "BOOKBOT_TWILIO_MESSAGING_SERVICE_SID, BOOKBOT_TWILIO_WHATSAPP_FROM, "
        "BOOKBOT_TWILIO_API_BASE, BOOKBOT_WHATSAPP_TEMPLATE_SID.",
    )
    run.set_defaults(run=run_bot)


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


@dataclass
class Services:
    """What `bookbot run` serves, built from the settings."""

    bot: TelegramBot | None
    twilio: TwilioWebhooks | None
    sender: TwilioSender | None
    jobs: AttendanceJobs | None = None
    delivery: DeliveryWorker | None = None


def build(settings: Settings, db: Database) -> Services:
    clock = SystemClock()
    bot = twilio = sender = channel = None
    if settings.twilio_configured:
        if not settings.public_url:
            raise ValueError("Twilio needs BOOKBOT_PUBLIC_URL: its webhooks are signed against it")
        sender = TwilioSender(twilio_settings(settings))
        channel = TwilioChannel(db, clock, sender)
    dialogues = Dialogues(db, clock, default_studio=settings.default_studio, sms=channel)
    if settings.telegram_token:
        bot = TelegramBot(
            dialogues, TelegramSettings(settings.telegram_token, settings.telegram_api_base)
        )
    if channel is not None:
        twilio = TwilioWebhooks(
            dialogues, channel, settings.twilio_auth_token or "", settings.public_url or ""
        )
    if bot is None and twilio is None:
        raise ValueError(
            "nothing to run: set BOOKBOT_TELEGRAM_TOKEN (the token @BotFather gave you) and/or "
            "BOOKBOT_TWILIO_ACCOUNT_SID + BOOKBOT_TWILIO_AUTH_TOKEN"
        )
    notices = NoticeRouter(
        db, clock, bot.app.bot if bot else None, channel, settings.whatsapp_template_sid
    )
    delivery = DeliveryWorker(db, clock, NoticeTransport(notices, bot))
    return Services(bot, twilio, sender, AttendanceJobs(db, clock), delivery)


def twilio_settings(settings: Settings) -> TwilioSettings:
    base = {"api_base": settings.twilio_api_base} if settings.twilio_api_base else {}
    return TwilioSettings(
        account_sid=settings.twilio_account_sid or "",
        auth_token=settings.twilio_auth_token or "",
        sms_from=settings.twilio_sms_from,
        messaging_service_sid=settings.twilio_messaging_service_sid,
        whatsapp_from=settings.twilio_whatsapp_from,
        status_callback=f"{settings.public_url}{STATUS_PATH}" if settings.public_url else None,
        **base,
    )


async def _start_web(settings: Settings, routes: list[web.RouteDef]) -> web.AppRunner | None:
    if not routes:
        return None
    runner = web.AppRunner(make_app(*routes))
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    log.info("webhooks listening on %s:%s", settings.host, settings.port)
    return runner


async def _start_telegram(settings: Settings, bot: TelegramBot, secret: str) -> None:
    app = bot.app
    await app.start()
    if settings.public_url:
        url = settings.public_url + TELEGRAM_PATH
        await app.bot.set_webhook(url, secret_token=secret)
        log.info("telegram: webhook mode, %s", url)
    else:
        await app.bot.delete_webhook()
        assert app.updater is not None  # noqa: S101 - built with an updater
        await app.updater.start_polling()
        log.info("telegram: polling mode")


async def serve(settings: Settings, services: Services) -> None:
    """Start every configured channel and run until SIGINT/SIGTERM."""
    bot, twilio = services.bot, services.twilio
    secret = settings.webhook_secret or secrets.token_urlsafe(32)
    routes = list(twilio.routes()) if twilio else []
    if bot is not None and settings.public_url:
        routes.append(telegram_route(bot, secret))
    async with AsyncExitStack() as stack:
        if bot is not None:
            await stack.enter_async_context(bot.app)
            await _start_telegram(settings, bot, secret)
            stack.push_async_callback(_stop_telegram, bot)
        runner = await _start_web(settings, routes)
        if runner is not None:
            stack.push_async_callback(runner.cleanup)
        if twilio is not None:
            log.info("twilio: SMS and WhatsApp webhooks under %s/twilio/", settings.public_url)
            stack.push_async_callback(twilio.drain)
        if services.sender is not None:
            stack.push_async_callback(services.sender.close)
        if services.jobs is not None and services.delivery is not None:
            stack.push_async_callback(services.delivery.stop)
            await stack.enter_async_context(
                ticking(*standard_sweeps(services.jobs, services.delivery))
            )
        await _until_stopped()


async def _stop_telegram(bot: TelegramBot) -> None:
    app = bot.app
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    await app.stop()


async def run_bot(settings: Settings, args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    async with opened(settings) as db:
        await serve(settings, build(settings, db))
    return 0
