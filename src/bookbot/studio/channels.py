"""The studio file's `[channels]`: the studio's own Telegram bot and Twilio numbers.

    [channels]
    telegram_token_env = "CLAY_BOT_TOKEN"   # the token is read from this variable
    sms_numbers = ["+441174960001"]
    whatsapp_numbers = ["+441174960002"]

`telegram_token = "123:abc"` instead writes the token into the file: for demos only (a
file is shared, committed, printed; a token in it is a token given away). Without the
section the studio is reached through the deployment's default bot and numbers. Loading
makes the database's `studio_channels` exactly this section; a bot or number another studio
already has is an error, since each message must reach one studio.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, StringConstraints, model_validator

from bookbot.store.db import Tx
from bookbot.studio.fields import FileModel, Phone

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_name(text: str) -> str:
    if not ENV_NAME.fullmatch(text):
        raise ValueError(f"{text!r} is not an environment variable's name")
    return text


def _token(text: str) -> str:
    if not bot_id(text):
        raise ValueError("a bot token looks like 123456789:AAE…, its bot id before the ':'")
    return text


EnvName = Annotated[str, StringConstraints(max_length=100), AfterValidator(_env_name)]
Token = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_token)
]


def bot_id(token: str) -> str:
    """A bot's id: the digits before ':' in its token ('' if the token has none); the same
    rule as `services.studio_channels.bot_id`, which this layer may not import."""
    head, sep, _ = token.partition(":")
    return head if sep and head.isdigit() else ""


class ChannelTaken(Exception):
    """A bot or number in a studio file that another studio already owns."""

    def __init__(self, channel: str, address: str, owner: str) -> None:
        super().__init__(f"channels: the {channel} {address} already belongs to studio {owner!r}")
        self.channel, self.address, self.owner = channel, address, owner


@dataclass(frozen=True)
class WantedChannel:
    channel: str
    address: str
    token_env: str | None = None
    token: str | None = None


async def sync(tx: Tx, studio_id: int, wanted: list[WantedChannel]) -> tuple[int, int]:
    """Make the studio's own endpoints exactly `wanted` (inserted, updated, removed); one
    owned by another studio is `ChannelTaken`. Returns (added or changed, removed)."""
    for w in wanted:
        taken = await tx.one(
            "SELECT s.slug FROM studio_channels c JOIN studios s ON s.id = c.studio_id"
            " WHERE c.channel = :channel AND c.address = :address AND c.studio_id <> :studio_id",
            {"channel": w.channel, "address": w.address, "studio_id": studio_id},
        )
        if taken is not None:
            raise ChannelTaken(w.channel, w.address, str(taken["slug"]))
    current = {(c.channel, c.address): c for c in await _current(tx, studio_id)}
    keep = {(w.channel, w.address) for w in wanted}
    removed = 0
    for channel, address in sorted(set(current) - keep):
        removed += await tx.execute(
            "DELETE FROM studio_channels WHERE studio_id = :studio_id AND channel = :channel"
            " AND address = :address",
            {"studio_id": studio_id, "channel": channel, "address": address},
        )
    changed = 0
    for w in wanted:
        params = {
            "studio_id": studio_id,
            "channel": w.channel,
            "address": w.address,
            "token_env": w.token_env,
            "token": w.token,
        }
        had = current.get((w.channel, w.address))
        if had is None:
            await tx.execute(
                "INSERT INTO studio_channels (studio_id, channel, address, token_env, token)"
                " VALUES (:studio_id, :channel, :address, :token_env, :token)",
                params,
            )
            changed += 1
        elif (had.token_env, had.token) != (w.token_env, w.token):
            await tx.execute(
                "UPDATE studio_channels SET token_env = :token_env, token = :token"
                " WHERE studio_id = :studio_id AND channel = :channel AND address = :address",
                params,
            )
            changed += 1
    return changed, removed


async def _current(tx: Tx, studio_id: int) -> list[WantedChannel]:
    rows = await tx.all(
        "SELECT channel, address, token_env, token FROM studio_channels"
        " WHERE studio_id = :studio_id ORDER BY channel, id",
        {"studio_id": studio_id},
    )
    return [WantedChannel(r["channel"], r["address"], r["token_env"], r["token"]) for r in rows]


class ChannelsSpec(FileModel):
    telegram_token_env: EnvName | None = None
    telegram_token: Token | None = None  # demos only: see the module docstring
    # The bot's id, when its token is in a variable that the loading machine does not have.
    telegram_bot_id: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")] | None = None
    sms_numbers: tuple[Phone, ...] = ()
    whatsapp_numbers: tuple[Phone, ...] = ()

    @model_validator(mode="after")
    def _one_token(self) -> ChannelsSpec:
        if self.telegram_token_env and self.telegram_token:
            raise ValueError("give telegram_token_env or telegram_token, not both")
        if self.telegram_bot_id and not (self.telegram_token_env or self.telegram_token):
            raise ValueError("telegram_bot_id without a token: add telegram_token_env")
        if self.telegram_token and self.telegram_bot_id not in (None, bot_id(self.telegram_token)):
            raise ValueError("telegram_bot_id is not the token's bot id")
        for name, numbers in (("sms", self.sms_numbers), ("whatsapp", self.whatsapp_numbers)):
            if len(set(numbers)) != len(numbers):
                raise ValueError(f"{name}_numbers lists a number twice")
        return self

    def wanted(self, environ: Mapping[str, str] | None = None) -> list[WantedChannel]:
        """The endpoints to store. A token in a variable gives its bot id when the variable
        is set here (else `telegram_bot_id` must): `ChannelConflict` when neither is."""
        found: list[WantedChannel] = []
        if self.telegram_token:
            token = self.telegram_token
            found.append(WantedChannel("telegram", bot_id(token), token=token))
        elif self.telegram_token_env:
            env = os.environ if environ is None else environ
            known = bot_id(env.get(self.telegram_token_env, ""))
            if self.telegram_bot_id and known and known != self.telegram_bot_id:
                raise ChannelConflict(
                    f"channels.telegram_bot_id: {self.telegram_token_env} holds bot {known}'s"
                    f" token, not bot {self.telegram_bot_id}'s"
                )
            address = self.telegram_bot_id or known
            if not address:
                raise ChannelConflict(
                    f"channels.telegram_token_env: {self.telegram_token_env} is not set here,"
                    " so the bot's id is unknown: set it, or add telegram_bot_id"
                )
            found.append(WantedChannel("telegram", address, token_env=self.telegram_token_env))
        found += [WantedChannel("sms", n) for n in self.sms_numbers]
        found += [WantedChannel("whatsapp", n) for n in self.whatsapp_numbers]
        return found


class ChannelConflict(ValueError):
    """The section cannot be loaded: a bot or number another studio owns, or a bot whose
    id is unknown."""


async def load_channels(tx: Tx, studio_id: int, spec: ChannelsSpec) -> None:
    """Make the studio's own endpoints the file's; ChannelConflict if another studio has one."""
    try:
        await sync(tx, studio_id, spec.wanted())
    except ChannelTaken as taken:
        raise ChannelConflict(
            f"channels: {taken.channel} {taken.address} already belongs to studio"
            f" {taken.owner!r}; a bot or number serves one studio"
        ) from taken
