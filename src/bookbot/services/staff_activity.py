"""Staff notices of customer activity: new bookings, cancellations, waitlist joins, handoffs.

A staff chat or a staff member subscribes (the studio file's `[[staff_notices]]`, or /notices
in chat) to some of these kinds, told at once ('instant') or in a daily digest ('digest').
`record` runs in the transaction of what it reports: it reads the studio's subscriptions (one
read through the (studio_id, channel, address) index; a studio has few) and queues an
outbox message to each instant subscriber of that kind, and, if anyone takes a digest of it,
keeps the event for the digest. No subscriber: that one read, nothing written.

The digest (`send_digests`, ticked by the sweeps) goes when a studio's quiet hours end (08:00
local by default): one message per digest subscriber per day, summing up the day before.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bookbot.engine import recurrence
from bookbot.engine.clock import Clock
from bookbot.services import facts, outbox, quiet_hours
from bookbot.store.db import Database, Reads, Tx, instant

KINDS = ("booking", "cancellation", "waitlist", "handoff")
MODES = ("instant", "digest")
INSTANT_TEMPLATE = "staff_activity"
DIGEST_TEMPLATE = "staff_digest"
DIGEST_ITEMS = 10  # listed one by one in a digest; the rest only counted


@dataclass(frozen=True)
class Subscription:
    id: int
    channel: str
    address: str
    events: tuple[str, ...]
    mode: str


def parse_events(text: str) -> tuple[str, ...]:
    """The kinds in a stored CSV, known ones only, in the canonical order."""
    wanted = {part.strip() for part in text.split(",")}
    return tuple(kind for kind in KINDS if kind in wanted)


async def subscriptions(reads: Reads, studio_id: int) -> list[Subscription]:
    rows = await reads.all(
        "SELECT id, channel, address, events, mode FROM staff_notice_subscriptions"
        " WHERE studio_id = :studio_id ORDER BY id",
        {"studio_id": studio_id},
    )
    return [
        Subscription(
            int(r["id"]), str(r["channel"]), str(r["address"]), parse_events(r["events"]), r["mode"]
        )
        for r in rows
    ]


def _fingerprint(kind: str, params: dict[str, Any], now: datetime) -> str:
    text = json.dumps([kind, params, now.isoformat()], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def course_span(session: facts.SessionRow) -> dict[str, Any]:
    """A multi-day course's last end and number of days, for the notice to say its dates
    and daily hours (nothing for a one-day session)."""
    if session.days <= 1:
        return {}
    return {"ends_at": session.ends_at.isoformat(), "days": session.days}


async def record(
    tx: Tx,
    now: datetime,
    *,
    studio_id: int,
    kind: str,
    params: dict[str, Any],
    subscribed: bool = True,
) -> None:
    """Tell the subscribers of `kind` (in the caller's transaction): queue a message to each
    instant one, keep the event for the digest if anyone takes one. `subscribed=False`: the
    caller read with the studio that nobody subscribes (nothing to read or write)."""
    if kind not in KINDS:
        raise ValueError(f"unknown staff notice kind {kind!r}")
    if not subscribed:
        return
    interested = [s for s in await subscriptions(tx, studio_id) if kind in s.events]
    if not interested:
        return
    params = await _named(tx, studio_id, params)
    event = {"kind": kind, **params, "at": now.isoformat()}
    mark = _fingerprint(kind, params, now)
    for sub in interested:
        if sub.mode == "instant":
            await outbox.enqueue(
                tx,
                now=now,
                studio_id=studio_id,
                customer_id=None,
                template=INSTANT_TEMPLATE,
                params=event,
                due_at=now,
                dedupe_key=f"{INSTANT_TEMPLATE}:{sub.id}:{mark}",
                channel=sub.channel,
                address=sub.address,
            )
    if any(s.mode == "digest" for s in interested):
        await tx.execute(
            "INSERT INTO staff_notice_events (studio_id, kind, params, at)"
            " VALUES (:studio_id, :kind, :params, :at)",
            {
                "studio_id": studio_id,
                "kind": kind,
                "params": json.dumps(params, sort_keys=True, default=str),
                "at": now,
            },
        )


async def _named(tx: Tx, studio_id: int, params: dict[str, Any]) -> dict[str, Any]:
    """`params` with the customer's name and the booking's party size filled in from their
    ids (read only when someone is to be told)."""
    named = dict(params)
    if "customer_id" in params and "customer_name" not in params:
        named["customer_name"] = await tx.scalar(
            "SELECT name FROM customers WHERE studio_id = :studio_id AND id = :id",
            {"studio_id": studio_id, "id": params["customer_id"]},
        )
    if "registration_id" in params and "guests" not in params:
        named["guests"] = await tx.scalar(
            "SELECT guest_count FROM registrations WHERE studio_id = :studio_id AND id = :id",
            {"studio_id": studio_id, "id": params["registration_id"]},
        )
    return named


# --- the daily digest -------------------------------------------------------------------


def digest_day(now: datetime, zone: str, send_minute: int) -> date | None:
    """The local day a digest sent now would sum up (yesterday), or None before `send_minute`
    local time today."""
    local = now.astimezone(recurrence.zone(zone))
    if local.hour * 60 + local.minute < send_minute:
        return None
    return local.date() - timedelta(days=1)


def _day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    tz = recurrence.zone(zone)

    def start(d: date) -> datetime:
        return datetime.combine(d, time(0), tzinfo=tz).astimezone(UTC)

    return start(day), start(day + timedelta(days=1))


def _digest_key(sub_id: int, day: date) -> str:
    return f"{DIGEST_TEMPLATE}:{sub_id}:{day.isoformat()}"


@dataclass(frozen=True)
class _Digest:
    sub: Subscription
    day: date
    params: dict[str, Any]


async def send_digest(db: Database, clock: Clock, studio_id: int) -> int:
    """Queue today's digest to each digest subscriber of the studio that has not had it,
    if yesterday had anything they follow; how many were queued. Run at every tick: before
    the send time, and once sent, it costs a few indexed reads and no write."""
    now = clock.now()
    async with db.transaction(write=False) as reads:
        digests = await _digests(reads, now, studio_id)
    if not digests:
        return 0
    queued = 0
    async with db.transaction() as tx:
        for digest in digests:
            queued += await outbox.enqueue(
                tx,
                now=now,
                studio_id=studio_id,
                customer_id=None,
                template=DIGEST_TEMPLATE,
                params=digest.params,
                due_at=now,
                dedupe_key=_digest_key(digest.sub.id, digest.day),
                channel=digest.sub.channel,
                address=digest.sub.address,
            )
        # Kept only for digests (names in them): what is two days old is before the day
        # just summed up, and goes (that day's stay, for a subscriber joining today).
        await tx.execute(
            "DELETE FROM staff_notice_events WHERE studio_id = :studio_id AND at < :before",
            {"studio_id": studio_id, "before": now - timedelta(days=2)},
        )
    return queued


async def _digests(reads: Reads, now: datetime, studio_id: int) -> list[_Digest]:
    quiet = await quiet_hours.of_studio(reads, studio_id)
    held = quiet.start_minute != quiet.end_minute
    send_minute = quiet.end_minute if held else 8 * 60
    day = digest_day(now, quiet.timezone, send_minute)
    if day is None:
        return []
    subs = [s for s in await subscriptions(reads, studio_id) if s.mode == "digest" and s.events]
    due = [s for s in subs if not await _queued(reads, studio_id, _digest_key(s.id, day))]
    if not due:
        return []
    start, end = _day_bounds(day, quiet.timezone)
    rows = await reads.all(
        "SELECT kind, params, at FROM staff_notice_events WHERE studio_id = :studio_id"
        " AND at >= :start AND at < :end ORDER BY at, id",
        {"studio_id": studio_id, "start": start, "end": end},
    )
    events = [
        {"kind": r["kind"], **json.loads(r["params"]), "at": instant(r["at"]).isoformat()}
        for r in rows
    ]
    digests = []
    for sub in due:
        mine = [e for e in events if e["kind"] in sub.events]
        if not mine:
            continue
        counts = Counter(e["kind"] for e in mine)
        params = {
            "day": day.isoformat(),
            "counts": {k: counts[k] for k in KINDS if counts[k]},
            "items": mine[:DIGEST_ITEMS],
            "more": max(0, len(mine) - DIGEST_ITEMS),
        }
        digests.append(_Digest(sub, day, params))
    return digests


async def _queued(reads: Reads, studio_id: int, key: str) -> bool:
    found = await reads.scalar(
        "SELECT 1 FROM outbox WHERE studio_id = :studio_id AND dedupe_key = :key",
        {"studio_id": studio_id, "key": key},
    )
    return found is not None


# --- subscribing from chat (/notices) ---------------------------------------------------


async def subscription_of(
    reads: Reads, studio_id: int, channel: str, address: str
) -> Subscription | None:
    """This chat's subscription, if it has one."""
    row = await reads.one(
        "SELECT id, channel, address, events, mode FROM staff_notice_subscriptions"
        " WHERE studio_id = :studio_id AND channel = :channel AND address = :address",
        {"studio_id": studio_id, "channel": channel, "address": address},
    )
    if row is None:
        return None
    return Subscription(
        int(row["id"]), channel, address, parse_events(row["events"]), str(row["mode"])
    )


async def subscribe(
    db: Database,
    now: datetime,
    *,
    studio_id: int,
    channel: str,
    address: str,
    events: tuple[str, ...],
    mode: str,
) -> None:
    """Set this chat's subscription ('off', or no events: none)."""
    if mode not in (*MODES, "off"):
        raise ValueError(f"unknown staff notice mode {mode!r}")
    csv = ",".join(k for k in KINDS if k in events)
    key = {"studio_id": studio_id, "channel": channel, "address": address}
    async with db.transaction() as tx:
        if mode == "off" or not csv:
            await tx.execute(
                "DELETE FROM staff_notice_subscriptions WHERE studio_id = :studio_id"
                " AND channel = :channel AND address = :address",
                key,
            )
            return
        changed = await tx.execute(
            "UPDATE staff_notice_subscriptions SET events = :events, mode = :mode"
            " WHERE studio_id = :studio_id AND channel = :channel AND address = :address",
            {**key, "events": csv, "mode": mode},
        )
        if not changed:
            await tx.execute(
                "INSERT INTO staff_notice_subscriptions (studio_id, channel, address, events,"
                " mode, created_at) VALUES (:studio_id, :channel, :address, :events, :mode,"
                " :now) ON CONFLICT (studio_id, channel, address) DO UPDATE"
                " SET events = :events, mode = :mode",
                {**key, "events": csv, "mode": mode, "now": now},
            )
