"""What `bookbot run` runs, wired together: channels in, inbox worker, delivery worker, jobs.

Data flows one way. A webhook or the Telegram poller stores an update in the inbox and
wakes the inbox worker; the worker runs the dialogue, which queues its replies in the
outbox in the same transaction, and wakes the delivery worker, which sends them.

Stopping (SIGTERM, Ctrl-C) goes in the order that loses nothing:
1. stop accepting: webhooks answer 503 (Twilio and Telegram deliver again later), the
   poller stops asking for updates;
2. drain: the inbox rows being processed finish (or roll back, to be run after restart);
3. flush the outbox claims: sends under way finish and are marked, the rest is given back;
4. close the clients (the web server, Twilio's, Telegram's and Stripe's HTTP sessions).

Payments (Stripe) are on when its key, its webhook secret and the public URL are all set:
then the webhook /stripe/webhook and the return pages /pay/success and /pay/cancel are
served, the inbox worker applies Stripe's events, and the sweeps get the gateway.

Several studios, one process: besides the default bot (BOOKBOT_TELEGRAM_TOKEN) every studio
with its own bot (`[channels]` in its file) gets a bot of its own here, read from the
database when serving starts (a changed [channels] section needs a restart): polled each,
or each on its own webhook, /telegram/<bot id>. The studios' own Twilio numbers share the
account and the webhooks; the `To` of a message says whose it is.

Staff calendar feeds (GET /calendar/<token>.ics) are served when the public URL is set: it is
the address their calendar apps subscribe to (`bookbot availability feed`), and without it a
Telegram-polling bot opens no port at all.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field

from aiohttp import web

from bookbot.config import Settings
from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.states import PaymentSetup
from bookbot.engine.clock import Clock, SystemClock
from bookbot.handlers.calendar_feed import CalendarFeed
from bookbot.handlers.notice_transport import NoticeTransport
from bookbot.handlers.notices import NoticeRouter, TelegramText
from bookbot.handlers.payment_pages import ChatLinks, PaymentPages
from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.handlers.stripe_webhook import SOURCE as STRIPE_SOURCE
from bookbot.handlers.stripe_webhook import StripeWebhook
from bookbot.handlers.telegram_bot import TelegramBot, TelegramSettings
from bookbot.handlers.telegram_bots import TelegramBots, load_studio_bots
from bookbot.handlers.twilio_api import TwilioSender, TwilioSettings
from bookbot.handlers.twilio_webhook import STATUS_PATH, TwilioChannel, TwilioWebhooks
from bookbot.handlers.web import (
    Gate,
    certificate_routes,
    make_app,
    telegram_route,
    webhook_path,
)
from bookbot.jobs.delivery import DeliveryWorker, RateLimits
from bookbot.jobs.inbox_worker import InboxWorker
from bookbot.jobs.scheduler import standard_sweeps, ticking
from bookbot.jobs.sweeps import Sweeps
from bookbot.services.payment_urls import generic_urls
from bookbot.services.payments import ReturnUrls
from bookbot.services.studio_channels import Endpoints, StudioChannel
from bookbot.store.db import Database

log = logging.getLogger("bookbot")


@dataclass
class Services:
    """What `bookbot run` serves, built from the settings."""

    bot: TelegramBot | None
    twilio: TwilioWebhooks | None
    sender: TwilioSender | None
    inbox: InboxWorker
    delivery: DeliveryWorker
    jobs: Sweeps
    gateway: StripeGateway | None = None  # payments on
    stripe: StripeWebhook | None = None
    pages: PaymentPages | None = None
    feed: CalendarFeed | None = None  # staff calendar feeds
    certificates: list[web.RouteDef] | None = None  # /verify/<code>, a certificate's PDF
    # The default bot and the studios' own (added when serving starts), and which studio
    # owns which bot or number.
    bots: TelegramBots = field(default_factory=TelegramBots)
    endpoints: Endpoints = field(default_factory=Endpoints)
    dialogues: Dialogues | None = None

    def routes(self) -> list[web.RouteDef]:
        """The webhook server's routes, bar Telegram's (its secret is chosen in `serve`)."""
        routes = list(self.twilio.routes()) if self.twilio else []
        routes += self.stripe.routes() if self.stripe else []
        routes += self.pages.routes() if self.pages else []
        routes += self.feed.routes() if self.feed else []
        routes += self.certificates or []
        return routes


def build(settings: Settings, db: Database, clock: Clock | None = None) -> Services:
    """Every configured channel, with the workers between them."""
    clock = clock or SystemClock()
    gateway = stripe_gateway(settings)  # first: a half-set Stripe fails before anything opens
    sender = twilio_sender(settings)
    endpoints = Endpoints()
    channel = TwilioChannel(db, clock, sender, endpoints) if sender is not None else None
    dialogues = dialogues_for(settings, db, clock, sms=channel, gateway=gateway)
    inbox = InboxWorker(db, clock, {})
    bot = telegram_bot(settings, dialogues, inbox.wake)
    bots = TelegramBots(bot)
    twilio = None
    if channel is not None:
        twilio = TwilioWebhooks(
            dialogues,
            channel,
            settings.twilio_auth_token or "",
            settings.public_url or "",
            account_sid=settings.twilio_account_sid,
            wake=inbox.wake,
        )
    inbox.processors.update({"telegram": bots} if bot else {})
    inbox.processors.update({"twilio": twilio} if twilio else {})
    delivery = delivery_worker(settings, db, clock, bots, channel)
    inbox.on_processed = delivery.wake
    services = Services(bot, twilio, sender, inbox, delivery, sweeps(settings, db, clock, gateway))
    services.bots, services.endpoints, services.dialogues = bots, endpoints, dialogues
    if settings.public_url:
        services.feed = CalendarFeed(db, clock)
        services.certificates = certificate_routes(db, settings.public_url)
    if gateway is not None:
        services.gateway = gateway
        services.stripe = StripeWebhook(
            db, clock, settings.stripe_webhook_secret or "", gateway=gateway, wake=inbox.wake
        )
        inbox.processors[STRIPE_SOURCE] = services.stripe
        services.pages = PaymentPages(
            db, chat_links(settings, bots, endpoints), default_studio=settings.default_studio
        )
    return services


def dialogues_for(
    settings: Settings,
    db: Database,
    clock: Clock,
    *,
    sms: TwilioChannel | None,
    gateway: StripeGateway | None,
) -> Dialogues:
    """The dialogues as `bookbot run` and `bookbot jobs` both build them: a notice becomes a
    screen whose buttons (linking a phone needs SMS, paying needs Stripe) do not depend on
    which process sends it."""
    paying = PaymentSetup(gateway, settings.public_url or "") if gateway is not None else None
    return Dialogues(db, clock, default_studio=settings.default_studio, sms=sms, payments=paying)


def stripe_gateway(settings: Settings) -> StripeGateway | None:
    """Stripe, when payments are configured; a partial setting is a ValueError."""
    settings.check_payments()
    if not settings.payments_configured:
        return None
    return StripeGateway(settings.stripe_secret_key or "", api_base=settings.stripe_api_base)


def sweeps(settings: Settings, db: Database, clock: Clock, gateway: StripeGateway | None) -> Sweeps:
    """The scheduled sweeps; with payments on, they also reconcile lapsed payment links and
    send due balances (whose return pages speak the default studio's language)."""
    if gateway is None or not settings.public_url:
        return Sweeps(db, clock)
    urls = generic_urls(settings.public_url)
    return Sweeps(db, clock, gateway=gateway, urls=ReturnUrls(urls.success_url, urls.cancel_url))


def chat_links(settings: Settings, bots: TelegramBots, endpoints: Endpoints) -> ChatLinks:
    """Where the return pages send the customer back to: the paying studio's own bot and
    numbers where it has them, else the deployment's."""
    whatsapp = settings.twilio_whatsapp_from if settings.twilio_configured else None
    sms = settings.twilio_sms_from if settings.twilio_configured else None

    def username(bot: TelegramBot | None) -> Callable[[], str | None]:
        return lambda: bot.bot.username if bot is not None else None

    def studio(studio_id: int) -> ChatLinks:
        own_sms = endpoints.endpoint(studio_id, "sms")
        own_whatsapp = endpoints.endpoint(studio_id, "whatsapp")
        return ChatLinks(
            telegram_username=username(bots.for_studio(studio_id)),
            whatsapp_number=own_whatsapp or whatsapp,
            sms_number=own_sms or sms,
        )

    return ChatLinks(
        telegram_username=username(bots.default),
        whatsapp_number=whatsapp,
        sms_number=sms,
        studio=studio,
    )


def twilio_sender(settings: Settings) -> TwilioSender | None:
    if not settings.twilio_configured:
        return None
    if not settings.public_url:
        raise ValueError("Twilio needs BOOKBOT_PUBLIC_URL: its webhooks are signed against it")
    base = {"api_base": settings.twilio_api_base} if settings.twilio_api_base else {}
    return TwilioSender(
        TwilioSettings(
            account_sid=settings.twilio_account_sid or "",
            auth_token=settings.twilio_auth_token or "",
            sms_from=settings.twilio_sms_from,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            whatsapp_from=settings.twilio_whatsapp_from,
            status_callback=f"{settings.public_url}{STATUS_PATH}",
            **base,
        )
    )


def telegram_bot(
    settings: Settings, dialogues: Dialogues, wake: Callable[[], None] = lambda: None
) -> TelegramBot | None:
    if not settings.telegram_token:
        return None
    return TelegramBot(
        dialogues,
        TelegramSettings(settings.telegram_token, settings.telegram_api_base),
        wake=wake,
    )


def delivery_worker(
    settings: Settings,
    db: Database,
    clock: Clock,
    bots: TelegramBots,
    channel: TwilioChannel | None,
) -> DeliveryWorker:
    """Sends the outbox: each studio's messages through its own bot or number, if any."""

    def telegram_for(studio_id: int | None) -> TelegramText | None:
        chosen = bots.for_studio(studio_id)
        return chosen.bot if chosen is not None else None

    default = bots.default
    notices = NoticeRouter(
        db,
        clock,
        default.bot if default else None,
        channel,
        settings.whatsapp_template_sid,
        telegram_for=telegram_for,
    )
    limits = RateLimits()
    limits.per_channel["sms"] = settings.sms_rate
    transport = NoticeTransport(notices, default, settings.public_url, bots=bots)
    return DeliveryWorker(db, clock, transport, limits=limits)


async def studio_channels(
    settings: Settings,
    db: Database,
    services: Services | None = None,
    *,
    bots: TelegramBots,
    endpoints: Endpoints,
    dialogues: Dialogues,
) -> list[StudioChannel]:
    """The studios' own bots and numbers, read into `bots` and `endpoints`."""
    return await load_studio_bots(
        db,
        bots,
        endpoints,
        dialogues,
        default_token=settings.telegram_token,
        api_base=settings.telegram_api_base,
        wake=services.inbox.wake if services is not None else (lambda: None),
    )


async def serve(settings: Settings, services: Services, stop: asyncio.Event) -> None:
    """Start every configured channel and the workers; run until `stop` is set."""
    gate, bots = Gate(), services.bots
    await _add_studio_channels(settings, services)
    secret = settings.webhook_secret or secrets.token_urlsafe(32)
    routes = services.routes()
    if settings.public_url:
        routes += [telegram_route(bot, secret, webhook_path(bot.endpoint)) for bot in bots.all()]
    async with AsyncExitStack() as clients:  # closed last, after everything has stopped
        for bot in await bots.open(clients):
            await bot.publish_commands()  # the "/" menu; a failure is logged, not fatal
        if services.sender is not None:
            clients.push_async_callback(services.sender.close)
        if services.gateway is not None:
            clients.push_async_callback(services.gateway.close)
        log.info(
            "payments: %s",
            "online through Stripe" if services.gateway else "off (pay at the studio)",
        )
        runner = await _start_web(settings, routes, gate)
        if runner is not None:
            clients.push_async_callback(runner.cleanup)
        workers = [
            asyncio.create_task(services.inbox.run()),
            asyncio.create_task(services.delivery.run()),
        ]
        pollers = [await _start_telegram(settings, bot, secret, stop) for bot in bots.all()]
        async with ticking(*standard_sweeps(services.jobs)):
            await stop.wait()
        await _stop(gate, [p for p in pollers if p is not None], services)
        await asyncio.gather(*workers, return_exceptions=True)


async def _add_studio_channels(settings: Settings, services: Services) -> None:
    """The studios' own bots and numbers beside the default ones; ValueError if there is
    nothing at all to serve."""
    bots = services.bots
    if services.dialogues is not None:
        await studio_channels(
            settings,
            services.inbox.db,
            services,
            bots=bots,
            endpoints=services.endpoints,
            dialogues=services.dialogues,
        )
    if bots:
        services.inbox.processors["telegram"] = bots
    if not bots and services.twilio is None:
        raise ValueError(
            "nothing to run: set BOOKBOT_TELEGRAM_TOKEN (the token @BotFather gave you) and/or "
            "BOOKBOT_TWILIO_ACCOUNT_SID + BOOKBOT_TWILIO_AUTH_TOKEN, or give a studio its own "
            "bot ([channels] in its file)"
        )


async def _stop(gate: Gate, pollers: list[asyncio.Task[None]], services: Services) -> None:
    log.info("stopping: no new updates, finishing the ones under way")
    gate.open = False
    for poller in pollers:
        poller.cancel()  # an unconfirmed batch is delivered again on the next start
        with suppress(asyncio.CancelledError):
            await poller
    await services.inbox.stop()
    await services.delivery.stop()
    log.info("stopped cleanly")


async def _start_web(
    settings: Settings, routes: list[web.RouteDef], gate: Gate
) -> web.AppRunner | None:
    if not routes:
        return None
    runner = web.AppRunner(make_app(*routes, gate=gate))
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    log.info("webhooks listening on %s:%s", settings.host, settings.port)
    return runner


async def _start_telegram(
    settings: Settings, bot: TelegramBot, secret: str, stop: asyncio.Event
) -> asyncio.Task[None] | None:
    """Webhook mode (registered with our secret), or a poller task."""
    if settings.public_url:
        url = settings.public_url + webhook_path(bot.endpoint)
        await bot.bot.set_webhook(
            url, secret_token=secret, allowed_updates=["message", "callback_query"]
        )
        log.info("telegram: webhook mode, %s", url)
        return None
    await bot.bot.delete_webhook()
    log.info("telegram: polling mode (bot %s)", bot.endpoint or "default")
    return asyncio.create_task(bot.poll(stop))
