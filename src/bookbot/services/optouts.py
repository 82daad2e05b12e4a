"""Opt-outs: a number that texted STOP (or CANCEL, END, QUIT…) gets nothing until START.

Per number of ours (`endpoint`, '' the deployment's default one), as Twilio itself keeps
them: STOP to one studio's number says nothing about another studio's.

Twilio blocks messages to opted-out numbers itself (error 21610); we keep our own record
so that no outbound path even tries, and so it survives a change of Twilio account.
"""

from __future__ import annotations

from datetime import datetime

from bookbot.store.db import Database

# Twilio's default opt-out and opt-in keywords; a message that is exactly one of them
# (any case, surrounding spaces ignored) is handled by Twilio before it reaches us.
OPT_OUT_WORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
)
OPT_IN_WORDS = frozenset({"start", "unstop"})


_THIS = "channel = :channel AND endpoint = :endpoint AND address = :address"


async def opt_out(
    db: Database, channel: str, address: str, now: datetime, *, endpoint: str = ""
) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO channel_opt_outs (channel, endpoint, address, opted_out_at)"
            " VALUES (:channel, :endpoint, :address, :now) ON CONFLICT DO NOTHING",
            {"channel": channel, "endpoint": endpoint, "address": address, "now": now},
        )


async def opt_in(db: Database, channel: str, address: str, *, endpoint: str = "") -> None:
    async with db.transaction() as tx:
        await tx.execute(
            f"DELETE FROM channel_opt_outs WHERE {_THIS}",  # noqa: S608 - fixed names
            {"channel": channel, "endpoint": endpoint, "address": address},
        )


async def is_opted_out(db: Database, channel: str, address: str, *, endpoint: str = "") -> bool:
    async with db.transaction(write=False) as tx:
        found = await tx.scalar(
            f"SELECT 1 FROM channel_opt_outs WHERE {_THIS}",  # noqa: S608 - fixed names
            {"channel": channel, "endpoint": endpoint, "address": address},
        )
    return found is not None
