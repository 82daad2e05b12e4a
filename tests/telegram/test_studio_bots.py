"""Two studios, each with its own bot, served by one `bookbot run` process (issue 17): the
same person writing to both is two customers, and neither bot shows the other's studio."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bookbot.cli.demo import EXAMPLE, example_path
from bookbot.config import Settings
from bookbot.conversations.dialogue import Dialogues
from bookbot.engine.clock import FrozenClock
from bookbot.handlers.notice_transport import NoticeTransport
from bookbot.handlers.notices import NoticeRouter
from bookbot.handlers.telegram_bots import TelegramBots, load_studio_bots
from bookbot.handlers.web import SECRET_HEADER, make_app, telegram_route, webhook_path
from bookbot.jobs.delivery import DeliveryWorker
from bookbot.jobs.inbox_worker import InboxWorker
from bookbot.serve import build, serve
from bookbot.services import generation
from bookbot.services.studio_channels import Endpoints
from bookbot.store.db import Database
from bookbot.studio.loader import load_studio
from bookbot.studio.model import parse_studio_file
from tests.pipeline import UNLIMITED, Pipeline

from .emulator import Emulator, aclient, eventually
from .test_bot import latest, press
from .test_webhook import SECRET, text_update

CLAY_TOKEN = "5001:CLAY-OWN-BOT"
GYM_TOKEN = "5002:GYM-OWN-BOT"
DEFAULT_TOKEN = "4242:BOOKBOT"


async def _load(db: Database, clock: FrozenClock, name: str, token: str) -> int:
    spec = parse_studio_file(example_path(name))
    spec = spec.model_copy(
        update={"channels": spec.channels.model_copy(update={"telegram_token": token})}
    )
    report = await load_studio(db, spec)
    for pattern_id in await generation.pattern_ids(db, report.studio_id):
        await generation.generate_sessions(
            db, clock, report.studio_id, pattern_id, preview=False, horizon=timedelta(weeks=2)
        )
    return report.studio_id


@pytest.fixture
async def two_studios(db: Database, clock: FrozenClock) -> tuple[int, int]:
    clay = await _load(db, clock, EXAMPLE, CLAY_TOKEN)
    gym = await _load(db, clock, "harbour-fitness.toml", GYM_TOKEN)
    return clay, gym


@asynccontextmanager
async def running(
    db: Database, clock: FrozenClock, emulator: Emulator, default_token: str | None = None
) -> AsyncIterator[None]:
    """`bookbot run` (its build and serve) polling every bot on the emulator."""
    settings = Settings(
        database_url="unused", telegram_token=default_token, telegram_api_base=emulator.bot_api_base
    )
    services = build(settings, db, clock)
    services.delivery.limits = UNLIMITED
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(settings, services, stop))
    try:
        yield
    finally:
        stop.set()
        await serving


async def test_one_person_two_studio_bots_two_customers_and_nothing_crosses(
    db: Database, clock: FrozenClock, emulator: Emulator, two_studios: tuple[int, int]
) -> None:
    clay, gym = two_studios
    at_clay = aclient(emulator, CLAY_TOKEN, chat_id=301, first_name="Ana")
    at_gym = aclient(emulator, GYM_TOKEN, chat_id=301, first_name="Ana")
    async with running(db, clock, emulator):
        await at_clay.send_text("/start")
        # A deep link into the other studio is ignored on a studio's own bot.
        await at_gym.send_text("/start clay-studio")
        clay_menu = await latest(at_clay, "What would you like to do?")
        gym_menu = await latest(at_gym, "What would you like to do?")
        assert "Clay & Kiln" in clay_menu["text"]
        assert "Harbour Fitness" in gym_menu["text"]
        assert "Clay" not in gym_menu["text"]

        clay_classes = await press(at_clay, "📅 Book a class", "Our classes:", on=clay_menu)
        gym_classes = await press(at_gym, "📅 Book a class", "Our classes:", on=gym_menu)
        assert "Wheel Throwing Taster" in str(clay_classes)
        assert "Wheel Throwing" not in str(gym_classes)
        assert "Yoga" in str(gym_classes) or "Spin" in str(gym_classes)

    # Each bot has its "/" menu, and said only its own studio's things.
    assert emulator.calls(CLAY_TOKEN, "setMyCommands")
    assert emulator.calls(GYM_TOKEN, "setMyCommands")
    for token, others in ((CLAY_TOKEN, ("Harbour",)), (GYM_TOKEN, ("Clay", "Wheel"))):
        said = [str(c["params"]) for c in emulator.calls(token) if "text" in c["params"]]
        assert said
        assert not [text for text in said if any(other in text for other in others)]
    async with db.transaction(write=False) as tx:
        customers = await tx.all(
            "SELECT c.studio_id FROM customers c JOIN channel_identities i"
            " ON i.studio_id = c.studio_id AND i.customer_id = c.id"
            " WHERE i.channel = 'telegram' AND i.address = '301' ORDER BY c.studio_id"
        )
        dialogues = await tx.all(
            "SELECT endpoint, studio_id FROM conversations WHERE address = '301' ORDER BY endpoint"
        )
        inbox = await tx.all("SELECT external_id, chat FROM inbox ORDER BY id")
    assert [r["studio_id"] for r in customers] == sorted([clay, gym])
    assert [(r["endpoint"], r["studio_id"]) for r in dialogues] == [("5001", clay), ("5002", gym)]
    assert all(r["external_id"].split(":")[0] in ("5001", "5002") for r in inbox)
    assert {r["chat"] for r in inbox} == {"telegram@5001:301", "telegram@5002:301"}


async def test_the_default_bot_reaches_only_studios_without_their_own(
    db: Database, clock: FrozenClock, emulator: Emulator, two_studios: tuple[int, int]
) -> None:
    """With every studio on its own bot, a deep link on the default bot cannot reach one:
    it stays with a studio that has no bot of its own (here: a third, bot-less studio)."""
    clay, _gym = two_studios
    spec = parse_studio_file(example_path("tutor-studio.toml"))
    await load_studio(db, spec)
    user = aclient(emulator, DEFAULT_TOKEN, chat_id=302, first_name="Ben")
    async with running(db, clock, emulator, default_token=DEFAULT_TOKEN):
        await user.send_text("/start clay-studio")
        menu = await latest(user, "What would you like to do?")
    assert "Lingua & Coach" in menu["text"]
    async with db.transaction(write=False) as tx:
        studios = await tx.all(
            "SELECT DISTINCT studio_id FROM customers WHERE studio_id = :c", {"c": clay}
        )
    assert studios == []


@pytest.mark.usefixtures("two_studios")
async def test_each_bot_has_its_own_webhook_and_keeps_its_own_update_ids(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    """Update ids are counted per bot: the same id at both webhooks is two updates, each
    stored under its bot and answered by it."""
    bots = TelegramBots()
    dialogues = Dialogues(db, clock)
    await load_studio_bots(
        db,
        bots,
        Endpoints(),
        dialogues,
        default_token=None,
        api_base=emulator.bot_api_base,
        wake=lambda: None,
    )
    transport = NoticeTransport(NoticeRouter(db, clock), None, bots=bots)
    delivery = DeliveryWorker(db, clock, transport, limits=UNLIMITED)
    flow = Pipeline(InboxWorker(db, clock, {"telegram": bots}), delivery)
    routes = [telegram_route(bot, SECRET, webhook_path(bot.endpoint)) for bot in bots.all()]
    assert sorted(r.path for r in routes) == ["/telegram/5001", "/telegram/5002"]
    async with TestClient(TestServer(make_app(*routes))) as http, AsyncExitStack() as stack:
        await bots.open(stack)
        for path in ("/telegram/5001", "/telegram/5002"):
            response = await http.post(
                path, data=json.dumps(text_update(77)).encode(), headers={SECRET_HEADER: SECRET}
            )
            assert response.status == 200
        await flow.drain()
        for token, studio in ((CLAY_TOKEN, "Clay & Kiln"), (GYM_TOKEN, "Harbour Fitness")):
            user = aclient(emulator, token, chat_id=107)

            async def greeted(user: Any = user, studio: str = studio) -> bool:
                return any(studio in m.get("text", "") for m in await user.history())

            assert await eventually(greeted)
    async with db.transaction(write=False) as tx:
        stored = await tx.all("SELECT external_id FROM inbox ORDER BY external_id")
    assert [r["external_id"] for r in stored] == ["5001:77", "5002:77"]
