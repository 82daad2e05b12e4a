"""Every Telegram bot one process serves: the deployment's default bot (BOOKBOT_TELEGRAM_TOKEN)
and each studio's own bot (a `[channels]` token in its file), one `TelegramBot` per token.

In: the inbox worker hands every stored Telegram update here; its inbox key says which bot
it came to ("<bot id>:<update id>" for an own bot, the bare update id for the default one),
and that bot processes it, so the dialogue knows its endpoint and hence its studio.

Out: a message for a studio goes through that studio's own bot when it has one, else the
default bot; a reply goes back through the bot its message came to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AsyncExitStack

from telegram.error import TelegramError

from bookbot.conversations.dialogue import Dialogues
from bookbot.handlers.telegram_bot import TelegramBot, TelegramSettings
from bookbot.services.inbox import InboxItem
from bookbot.services.studio_channels import DEFAULT, Endpoints, StudioChannel, bot_id
from bookbot.store.db import Database

log = logging.getLogger(__name__)


class BotNotServed(LookupError):
    """An update or a message for a bot this process does not run (its token is unset)."""


class TelegramBots:
    def __init__(self, default: TelegramBot | None = None) -> None:
        self.default = default
        self.own: dict[str, TelegramBot] = {}  # bot id -> the studio's bot
        self._studios: dict[int, str] = {}  # studio id -> its own bot's id, served or not

    def add(self, bot: TelegramBot) -> None:
        """A studio's own bot (its `endpoint` and `studio_id` set)."""
        if bot.studio_id is None or not bot.endpoint:
            raise ValueError("a studio's own bot needs its bot id and its studio")
        self.own[bot.endpoint] = bot
        self._studios[bot.studio_id] = bot.endpoint

    def owns(self, studio_id: int, endpoint: str) -> None:
        """A studio has its own bot even if this process cannot run it (token unset): its
        messages must not go out through the default bot, which its customers never use."""
        self._studios.setdefault(studio_id, endpoint)

    def drop(self, bot: TelegramBot) -> None:
        """A studio's bot that could not start (a revoked or a demo's fake token): not
        served, its studio still owns it (its messages wait rather than go astray)."""
        self.own.pop(bot.endpoint, None)

    async def open(self, stack: AsyncExitStack) -> list[TelegramBot]:
        """Open each bot's HTTP client (getMe), closed with `stack`; the bots now open. A
        studio's bot that cannot open (a revoked token, a demo's fake one) is logged and
        dropped: one studio's bad token stops only its own bot."""
        for bot in self.all():
            try:
                await stack.enter_async_context(bot.bot)
            except TelegramError as error:
                if bot is self.default:
                    raise
                # A warning, not an error: the deployment runs on (a demo's fake token
                # always lands here); `bookbot doctor` lists the studios' bots.
                log.warning("telegram: studio bot %s not served: %r", bot.endpoint, error)
                self.drop(bot)
        return self.all()

    def all(self) -> list[TelegramBot]:
        return ([self.default] if self.default is not None else []) + list(self.own.values())

    def __bool__(self) -> bool:
        return bool(self.all())

    def for_endpoint(self, endpoint: str) -> TelegramBot | None:
        return self.default if endpoint == DEFAULT else self.own.get(endpoint)

    def endpoint_for(self, studio_id: int | None) -> str:
        """The bot a studio's messages go out through: its own, else the default ('')."""
        return DEFAULT if studio_id is None else self._studios.get(studio_id, DEFAULT)

    def for_studio(self, studio_id: int | None) -> TelegramBot | None:
        return self.for_endpoint(self.endpoint_for(studio_id))

    def bot_of(self, item: InboxItem) -> TelegramBot:
        endpoint, sep, _ = item.external_id.partition(":")
        bot = self.for_endpoint(endpoint if sep else DEFAULT)
        if bot is None:
            raise BotNotServed(f"telegram bot {endpoint or 'default'} is not served here")
        return bot

    async def process(self, item: InboxItem) -> None:
        await self.bot_of(item).process(item)

    async def gave_up(self, item: InboxItem) -> None:
        try:
            bot = self.bot_of(item)
        except BotNotServed as error:
            log.warning("inbox %s: %s; nobody told", item.id, error)
            return
        await bot.gave_up(item)


async def load_studio_bots(
    db: Database,
    bots: TelegramBots,
    endpoints: Endpoints,
    dialogues: Dialogues,
    *,
    default_token: str | None,
    api_base: str | None,
    wake: Callable[[], None],
) -> list[StudioChannel]:
    """Read the studios' own bots and numbers into `endpoints`, and add a bot to `bots` for
    each own Telegram token that is set. An unset one is logged: that studio's Telegram is
    down until it is set, and its messages wait rather than go out through the default bot,
    which its customers never started."""
    channels = await endpoints.load(db)
    default_id = bot_id(default_token or "")
    for c in channels:
        if c.channel != "telegram":
            continue
        if c.address == default_id:
            raise ValueError(
                f"studio {c.slug}'s own bot is the default bot (BOOKBOT_TELEGRAM_TOKEN):"
                " give it another bot, or remove its [channels] token"
            )
        bots.owns(c.studio_id, c.address)
        token = c.resolved_token()
        if token is None or bot_id(token) != c.address:
            why = f"{c.token_env} is unset" if token is None else "the token is another bot's"
            log.warning("telegram: studio %s's bot %s not served: %s", c.slug, c.address, why)
            continue
        bot = TelegramBot(
            dialogues,
            TelegramSettings(token, api_base),
            wake=wake,
            endpoint=c.address,
            studio_id=c.studio_id,
        )
        bots.add(bot)
        log.info("telegram: studio %s's own bot %s", c.slug, c.address)
    return channels
