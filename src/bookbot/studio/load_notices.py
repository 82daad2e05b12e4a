"""Loading `[[staff_notices]]` (bookbot.studio.notices) into staff_notice_subscriptions."""

from __future__ import annotations

from bookbot.engine.clock import SystemClock
from bookbot.store.db import Tx
from bookbot.studio.model import StudioFile
from bookbot.studio.notices import address_of
from bookbot.studio.upserts import Outcome


async def load_staff_notices(tx: Tx, studio_id: int, spec: StudioFile) -> Outcome:
    """Upsert a Telegram subscription per entry, delete the ones marked "off"; entries not
    in the file are left alone (they may have been made in chat)."""
    outcome = Outcome()
    telegram = {s.key: s.telegram_user_id for s in spec.staff}
    now = SystemClock().now()
    for notice in spec.staff_notices:
        address = address_of(notice, telegram)
        key = {"s": studio_id, "a": address}
        row = await tx.one(
            "SELECT id, events, mode FROM staff_notice_subscriptions"
            " WHERE studio_id = :s AND channel = 'telegram' AND address = :a",
            key,
        )
        if notice.mode == "off":
            if row is not None:
                await tx.execute(
                    "DELETE FROM staff_notice_subscriptions WHERE id = :id", {"id": row["id"]}
                )
                outcome.updated.add(int(row["id"]))
                outcome.ids[address] = int(row["id"])
            continue
        values = {"events": notice.events_csv(), "mode": notice.mode}
        if row is None:
            new_id = await tx.scalar(
                "INSERT INTO staff_notice_subscriptions (studio_id, channel, address, events,"
                " mode, created_at) VALUES (:s, 'telegram', :a, :events, :mode, :now)"
                " RETURNING id",
                {**key, **values, "now": now},
            )
            outcome.created.add(int(new_id))
            outcome.ids[address] = int(new_id)
            continue
        outcome.ids[address] = int(row["id"])
        if (row["events"], row["mode"]) != (values["events"], values["mode"]):
            await tx.execute(
                "UPDATE staff_notice_subscriptions SET events = :events, mode = :mode"
                " WHERE id = :id",
                {**values, "id": row["id"]},
            )
            outcome.updated.add(int(row["id"]))
    return outcome
