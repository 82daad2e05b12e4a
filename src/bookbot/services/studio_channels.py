"""A studio's own bots and numbers (`studio_channels`), and which studio an endpoint serves.

An endpoint is one of our bots or numbers a person writes to: a Telegram bot's id (the
digits before ':' in its token) or an E.164 number of ours. '' is the deployment's default
bot or number (BOOKBOT_TELEGRAM_TOKEN, BOOKBOT_TWILIO_SMS_FROM…). A studio's own endpoint
belongs to that studio alone: a dialogue there never reaches another studio. The default
endpoint reaches only the studios without an own endpoint on that channel, so every studio
is spoken for by exactly one bot (or number) per channel, and a notice sent first (a
reminder) goes out through the same one its customers write to.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from bookbot.engine import errors
from bookbot.services.common import Studio, studio_by_id, studio_columns, studio_from
from bookbot.store.db import Reads, Row

DEFAULT = ""  # the deployment's default bot or number
CHANNELS = ("telegram", "sms", "whatsapp")


def bot_id(token: str) -> str:
    """A bot's id: the digits before ':' in its token ('' if the token has none)."""
    head, sep, _ = token.partition(":")
    return head if sep and head.isdigit() else ""


def inbox_chat(channel: str, endpoint: str, address: str) -> str:
    """The inbox's key for one dialogue (its messages run one at a time, in order): the
    default endpoint keeps the historical "sms:+44…"; an own one adds itself."""
    return f"{channel}:{address}" if endpoint == DEFAULT else f"{channel}@{endpoint}:{address}"


@dataclass(frozen=True)
class StudioChannel:
    studio_id: int
    slug: str
    channel: str
    address: str
    token_env: str | None = None
    token: str | None = None

    def resolved_token(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The bot's token: from its environment variable when one is named (None: unset),
        else the one written in the studio file (demo files)."""
        if self.token_env:
            return (environ if environ is not None else os.environ).get(self.token_env) or None
        return self.token


_COLUMNS = "c.studio_id, s.slug, c.channel, c.address, c.token_env, c.token"


def _channel(row: Row) -> StudioChannel:
    return StudioChannel(
        studio_id=row["studio_id"],
        slug=row["slug"],
        channel=row["channel"],
        address=row["address"],
        token_env=row["token_env"],
        token=row["token"],
    )


async def deployment_channels(reads: Reads) -> list[StudioChannel]:
    """Every studio's own endpoints: what `bookbot run` serves beside the default ones, and
    what `bookbot doctor` lists (deployment-wide on purpose: routing decides the studio)."""
    rows = await reads.all(
        f"SELECT {_COLUMNS} FROM studio_channels c JOIN studios s ON s.id = c.studio_id"  # noqa: S608
        " ORDER BY c.studio_id, c.channel, c.id"
    )
    return [_channel(r) for r in rows]


async def studio_channels(reads: Reads, studio_id: int) -> list[StudioChannel]:
    """One studio's own endpoints, in the order its file lists them."""
    rows = await reads.all(
        f"SELECT {_COLUMNS} FROM studio_channels c JOIN studios s ON s.id = c.studio_id"  # noqa: S608
        " WHERE c.studio_id = :studio_id ORDER BY c.channel, c.id",
        {"studio_id": studio_id},
    )
    return [_channel(r) for r in rows]


async def owner(reads: Reads, channel: str, endpoint: str) -> int | None:
    """The studio an own endpoint belongs to; None for the default one or an unknown one."""
    if endpoint == DEFAULT:
        return None
    found = await reads.scalar(
        "SELECT studio_id FROM studio_channels WHERE channel = :channel AND address = :address",
        {"channel": channel, "address": endpoint},
    )
    return None if found is None else int(found)


async def studios_with_own(reads: Reads, channel: str) -> set[int]:
    """The studios the default endpoint of `channel` does not reach (they have their own)."""
    rows = await reads.all(
        "SELECT DISTINCT studio_id FROM studio_channels WHERE channel = :channel",
        {"channel": channel},
    )
    return {int(r["studio_id"]) for r in rows}


async def default_reach(
    reads: Reads, channel: str, *, configured: str | None, slug: str | None
) -> tuple[Studio, Studio | None]:
    """For a person on the default endpoint of `channel`, in one read of the studios (a
    deployment has a handful): the studio it reaches by default (the configured one, else
    the first loaded; the first without an own endpoint when that one has one), and the studio `slug` names if the default endpoint reaches it
    (None: no slug, or that studio answers on its own). NotFound for a configured or
    linked slug no studio has; ChooseStudio when none is loaded."""
    rows = await reads.all(
        f"SELECT {studio_columns()}, EXISTS (SELECT 1 FROM studio_channels own"  # noqa: S608
        " WHERE own.studio_id = studios.id AND own.channel = :channel) AS has_own"
        " FROM studios ORDER BY id",
        {"channel": channel},
    )
    if not rows:
        raise errors.ChooseStudio(studios="none loaded yet")
    by_slug = {r["slug"]: r for r in rows}
    for wanted in (configured, slug):
        if wanted and wanted not in by_slug:
            raise errors.NotFound(what="studio", ident=wanted)
    first = by_slug[configured] if configured else rows[0]
    if first["has_own"]:
        first = next((r for r in rows if not r["has_own"]), first)
    linked = by_slug[slug] if slug else None
    reached = None if linked is None or linked["has_own"] else studio_from(linked)
    return studio_from(first), reached


async def studio_of(reads: Reads, channel: str, endpoint: str) -> Studio:
    """The studio that owns an own endpoint (NotFound: nobody does any more)."""
    found = await owner(reads, channel, endpoint)
    if found is None:
        raise errors.NotFound(what="studio", ident=f"{channel} {endpoint}")
    return await studio_by_id(reads, found)


@dataclass
class Endpoints:
    """Which own endpoint a studio sends through on each channel, read when a process
    starts (`bookbot run` serves the bots it found then: a changed [channels] section needs
    a restart). A studio with several numbers on a channel sends notices from its first."""

    sending: dict[tuple[int, str], str] = field(default_factory=dict)
    owners: dict[tuple[str, str], int] = field(default_factory=dict)

    def endpoint(self, studio_id: int | None, channel: str) -> str:
        """The endpoint a notice to this studio's customer goes out through ('' default)."""
        if studio_id is None:
            return DEFAULT
        return self.sending.get((studio_id, channel), DEFAULT)

    def owner(self, channel: str, endpoint: str) -> int | None:
        return self.owners.get((channel, endpoint))

    def fill(self, channels: list[StudioChannel]) -> None:
        self.sending.clear()
        self.owners.clear()
        for c in channels:
            self.sending.setdefault((c.studio_id, c.channel), c.address)
            self.owners[(c.channel, c.address)] = c.studio_id

    async def load(self, reads: Reads) -> list[StudioChannel]:
        channels = await deployment_channels(reads)
        self.fill(channels)
        return channels
