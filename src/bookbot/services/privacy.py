"""What we hold about a customer (/mydata), and forgetting them (/forget). Both are audited
(privacy_audit) in the transaction that does them.

Forgetting anonymises the customer's row rather than deleting it: bookings, reservations,
appointments and payments stay attached to it, because they still hold seats (capacity) and
are the studio's accounts. What identifies the person goes: the name (replaced), phone,
language, time zone, channel identities, the conversations on other channels, phone
verifications, what the inbox keeps of the messages they wrote (payloads blanked),
messages not yet sent to them (withdrawn) and the words and address of those sent,
waiting-list places, handoff records, a company invoice's billing email, the attendee
details typed for their bookings and the words of their feedback comments; a weekly
series ends (the dates it placed stay). Their upcoming bookings are kept as the committed
seats they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from bookbot.services.studio_channels import inbox_chat
from bookbot.store.db import Reads, Row, Tx, instant

FORGOTTEN_NAME = "Forgotten customer"
EXPORT_FORMAT = 1  # bumped when the export's shape changes


class AlreadyForgotten(Exception):
    """The customer was forgotten before (another channel got there first)."""


@dataclass(frozen=True)
class Upcoming:
    """One thing the customer is booked for, soonest first."""

    name: str
    starts_at: datetime
    ends_at: datetime | None = None
    days: int = 1  # a multi-day course: told as its span, as one item


def _plain(value: Any) -> Any:
    """JSON-ready: instants, dates and times of day as ISO 8601 (instants in UTC)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _rows(rows: list[Row], names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{name: _plain(row[name]) for name in names} for row in rows]


_PROFILE = ("name", "phone", "language", "timezone", "preferred_channel", "created_at")
_BOOKINGS = (
    "id",
    "class_name",
    "kind",
    "guest_count",
    "status",
    "price_minor",
    "currency",
    "created_at",
    "cancelled_at",
)
_BOOKED_SESSIONS = ("registration_id", "starts_at", "guest_count", "status", "attendance")
_APPOINTMENTS = (
    "id",
    "service_name",
    "starts_at",
    "ends_at",
    "guest_count",
    "status",
    "price_minor",
    "currency",
)
_PASSES = (
    "id",
    "class_name",
    "kind",
    "sessions_included",
    "sessions_remaining",
    "valid_from",
    "valid_until",
    "status",
    "price_minor",
)
_RESERVATIONS = ("pass_id", "class_name", "starts_at", "status", "checked_in_at")
_PACKAGES = (
    "id",
    "name",
    "sessions_total",
    "sessions_remaining",
    "minutes_total",
    "minutes_remaining",
    "expires_on",
    "status",
    "price_minor",
)
# Amounts and what they were for: never a card (Stripe holds those, not us).
_PAYMENTS = (
    "purpose",
    "amount_minor",
    "currency",
    "status",
    "refunded_minor",
    "company_name",
    "billing_email",
    "po_number",
    "created_at",
    "paid_at",
)
_WAITLIST = ("class_name", "starts_at", "guest_count", "status", "created_at")
_SERIES = (
    "weekday",
    "start_time",
    "interval_weeks",
    "starts_on",
    "ends_on",
    "guest_count",
    "status",
)
_CONVERSATIONS = ("channel", "language", "state", "updated_at")
_ATTENDEES = ("registration_id", "position", "name", "email", "company", "job_title", "requests")
_FEEDBACK = ("registration_id", "class_name", "rating", "comment", "created_at")


async def export(
    tx: Tx, now: datetime, *, studio_id: int, customer_id: int, channel: str
) -> dict[str, Any]:
    """Everything stored about the customer, JSON-ready, and the export audited (in `tx`)."""
    ids = {"s": studio_id, "c": customer_id}
    profile = await tx.one(
        "SELECT name, phone, language, timezone, preferred_channel, created_at FROM customers"
        " WHERE studio_id = :s AND id = :c",
        ids,
    )
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": now.isoformat(),
        "profile": {} if profile is None else _rows([profile], _PROFILE)[0],
    }
    for key, sql, names in _SECTIONS:
        data[key] = _rows(await tx.all(sql, ids), names)
    await _audit(
        tx, now, studio_id=studio_id, customer_id=customer_id, action="export", channel=channel
    )
    return data


_SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "channel_identities",
        "SELECT channel, address FROM channel_identities WHERE studio_id = :s AND customer_id = :c"
        " ORDER BY channel",
        ("channel", "address"),
    ),
    (
        "bookings",
        "SELECT r.id, k.name AS class_name, r.kind, r.guest_count, r.status, r.price_minor,"
        " r.currency, r.created_at, r.cancelled_at FROM registrations r"
        " JOIN classes k ON k.id = r.class_id AND k.studio_id = r.studio_id"
        " WHERE r.studio_id = :s AND r.customer_id = :c ORDER BY r.created_at, r.id",
        _BOOKINGS,
    ),
    (
        "booked_sessions",
        "SELECT rs.registration_id, se.starts_at, rs.guest_count, rs.status, rs.attendance"
        " FROM registration_sessions rs"
        " JOIN sessions se ON se.id = rs.session_id AND se.studio_id = rs.studio_id"
        " WHERE rs.studio_id = :s AND rs.customer_id = :c ORDER BY se.starts_at, rs.id",
        _BOOKED_SESSIONS,
    ),
    (
        "appointments",
        "SELECT a.id, v.name AS service_name, a.starts_at, a.ends_at, a.guest_count, a.status,"
        " a.price_minor, a.currency FROM appointments a"
        " JOIN services v ON v.id = a.service_id AND v.studio_id = a.studio_id"
        " WHERE a.studio_id = :s AND a.customer_id = :c ORDER BY a.starts_at, a.id",
        _APPOINTMENTS,
    ),
    (
        "passes",
        "SELECT p.id, k.name AS class_name, p.kind, p.sessions_included, p.sessions_remaining,"
        " p.valid_from, p.valid_until, p.status, p.price_minor FROM passes p"
        " JOIN classes k ON k.id = p.class_id AND k.studio_id = p.studio_id"
        " WHERE p.studio_id = :s AND p.customer_id = :c ORDER BY p.created_at, p.id",
        _PASSES,
    ),
    (
        "reservations",
        "SELECT r.pass_id, k.name AS class_name, se.starts_at, r.status, r.checked_in_at"
        " FROM reservations r"
        " JOIN sessions se ON se.id = r.session_id AND se.studio_id = r.studio_id"
        " JOIN classes k ON k.id = se.class_id AND k.studio_id = se.studio_id"
        " WHERE r.studio_id = :s AND r.customer_id = :c ORDER BY se.starts_at, r.id",
        _RESERVATIONS,
    ),
    (
        "packages",
        "SELECT id, name, sessions_total, sessions_remaining, minutes_total, minutes_remaining,"
        " expires_on, status, price_minor FROM packages"
        " WHERE studio_id = :s AND customer_id = :c ORDER BY created_at, id",
        _PACKAGES,
    ),
    (
        "payments",
        "SELECT purpose, amount_minor, currency, status, refunded_minor, company_name,"
        " billing_email, po_number, created_at, paid_at FROM payments"
        " WHERE studio_id = :s AND customer_id = :c ORDER BY created_at, id",
        _PAYMENTS,
    ),
    (
        "waitlist_entries",
        "SELECT k.name AS class_name, se.starts_at, w.guest_count, w.status, w.created_at"
        " FROM waitlist_entries w"
        " JOIN sessions se ON se.id = w.session_id AND se.studio_id = w.studio_id"
        " JOIN classes k ON k.id = se.class_id AND k.studio_id = se.studio_id"
        " WHERE w.studio_id = :s AND w.customer_id = :c ORDER BY w.created_at, w.id",
        _WAITLIST,
    ),
    (
        "recurring_bookings",
        "SELECT weekday, start_time, interval_weeks, starts_on, ends_on, guest_count, status"
        " FROM recurring_bookings WHERE studio_id = :s AND customer_id = :c ORDER BY id",
        _SERIES,
    ),
    (
        "conversations",
        "SELECT channel, language, state, updated_at FROM conversations"
        " WHERE studio_id = :s AND customer_id = :c ORDER BY channel",
        _CONVERSATIONS,
    ),
    (
        "attendees",
        "SELECT a.registration_id, a.position, a.name, a.email, a.company, a.job_title,"
        " a.requests FROM registration_attendees a"
        " JOIN registrations r ON r.id = a.registration_id AND r.studio_id = a.studio_id"
        " WHERE r.studio_id = :s AND r.customer_id = :c ORDER BY a.registration_id, a.position",
        _ATTENDEES,
    ),
    (
        "feedback",
        "SELECT f.registration_id, k.name AS class_name, f.rating, f.comment, f.created_at"
        " FROM course_feedback f"
        " JOIN registrations r ON r.id = f.registration_id AND r.studio_id = f.studio_id"
        " JOIN classes k ON k.id = f.class_id AND k.studio_id = f.studio_id"
        " WHERE r.studio_id = :s AND r.customer_id = :c ORDER BY f.created_at, f.id",
        _FEEDBACK,
    ),
)


async def upcoming(
    reads: Reads, now: datetime, *, studio_id: int, customer_id: int
) -> list[Upcoming]:
    """What the customer is booked for from now on (classes, pass reservations and
    appointments), soonest first."""
    params = {"s": studio_id, "c": customer_id, "now": now}
    rows = await reads.all(
        "SELECT k.name AS name, se.starts_at AS starts_at, se.ends_at AS ends_at,"
        " se.days AS days FROM registration_sessions rs"
        " JOIN sessions se ON se.id = rs.session_id AND se.studio_id = rs.studio_id"
        " JOIN classes k ON k.id = se.class_id AND k.studio_id = se.studio_id"
        " WHERE rs.studio_id = :s AND rs.customer_id = :c AND rs.status = 'booked'"
        # a multi-day course under way is still ahead until its last day ends
        " AND (se.starts_at > :now OR (se.days > 1 AND se.ends_at > :now))"
        " UNION ALL"
        " SELECT k.name AS name, se.starts_at AS starts_at, se.ends_at AS ends_at,"
        " se.days AS days FROM reservations r"
        " JOIN sessions se ON se.id = r.session_id AND se.studio_id = r.studio_id"
        " JOIN classes k ON k.id = se.class_id AND k.studio_id = se.studio_id"
        " WHERE r.studio_id = :s AND r.customer_id = :c AND r.status = 'pending'"
        " AND se.starts_at > :now"
        " UNION ALL"
        " SELECT v.name AS name, a.starts_at AS starts_at, a.starts_at AS ends_at,"
        " 1 AS days FROM appointments a"
        " JOIN services v ON v.id = a.service_id AND v.studio_id = a.studio_id"
        " WHERE a.studio_id = :s AND a.customer_id = :c AND a.status = 'confirmed'"
        " AND a.starts_at > :now",
        params,
    )
    found = [
        Upcoming(
            row["name"],
            instant(row["starts_at"]),
            instant(row["ends_at"]),
            int(row["days"] or 1),
        )
        for row in rows
    ]
    return sorted(found, key=lambda u: u.starts_at)


async def forget(
    tx: Tx, now: datetime, *, studio_id: int, customer_id: int, channel: str, keep: int | None
) -> None:
    """Anonymise the customer (see the module's docstring); `keep` is the id of the
    conversation this is asked from, which its own turn resets and saves. AlreadyForgotten
    if someone else did it first (nothing is changed then)."""
    ids = {"s": studio_id, "c": customer_id}
    changed = await tx.execute(
        "UPDATE customers SET name = :name, phone = NULL, language = NULL, timezone = NULL,"
        " preferred_channel = NULL, forgotten_at = :now"
        " WHERE studio_id = :s AND id = :c AND forgotten_at IS NULL",
        {**ids, "name": FORGOTTEN_NAME, "now": now},
    )
    if changed != 1:
        raise AlreadyForgotten(customer_id)
    await _erase_inbox(tx, studio_id=studio_id, customer_id=customer_id)
    for sql in _FORGET:
        await tx.execute(sql, ids)
    # A weekly series places no more dates for nobody; the dates already placed are kept.
    await tx.execute(
        "UPDATE recurring_bookings SET status = 'ended', ended_at = :now,"
        " end_reason = :reason, next_extension_at = NULL"
        " WHERE studio_id = :s AND customer_id = :c AND status = 'active'",
        {**ids, "now": now, "reason": "customer forgotten"},
    )
    await tx.execute(
        "DELETE FROM conversations WHERE studio_id = :s AND customer_id = :c AND id <> :keep",
        {**ids, "keep": -1 if keep is None else keep},
    )
    await _audit(
        tx, now, studio_id=studio_id, customer_id=customer_id, action="forget", channel=channel
    )


_FORGET = (
    "DELETE FROM channel_identities WHERE studio_id = :s AND customer_id = :c",
    "DELETE FROM phone_verifications WHERE studio_id = :s AND customer_id = :c",
    # Messages not sent yet are withdrawn (reminders, offers): there is nobody to send them
    # to. What was sent keeps its row (the delivery history) without its words or address.
    "UPDATE outbox SET status = 'withdrawn', params = '{}', address = NULL"
    " WHERE studio_id = :s AND customer_id = :c AND status = 'pending'",
    "UPDATE outbox SET params = '{}', address = NULL WHERE studio_id = :s AND customer_id = :c"
    " AND status IN ('sent', 'failed', 'skipped', 'withdrawn')",
    # A place in a queue is given up; an offer already made lapses by its own rules.
    "UPDATE waitlist_entries SET status = 'cancelled'"
    " WHERE studio_id = :s AND customer_id = :c AND status = 'waiting'",
    "DELETE FROM handoffs WHERE studio_id = :s AND customer_id = :c",
    "UPDATE payments SET billing_email = NULL WHERE studio_id = :s AND customer_id = :c",
    # What was typed for their bookings: the people's details, and a feedback comment's
    # words (its rating stays, a number in the studio's figures).
    "DELETE FROM registration_attendees WHERE studio_id = :s AND registration_id IN"
    " (SELECT id FROM registrations WHERE studio_id = :s AND customer_id = :c)",
    "UPDATE course_feedback SET comment = '' WHERE studio_id = :s AND registration_id IN"
    " (SELECT id FROM registrations WHERE studio_id = :s AND customer_id = :c)",
)


async def _erase_inbox(tx: Tx, *, studio_id: int, customer_id: int) -> None:
    """Blank what the inbox keeps of the messages from the customer's chats (their words,
    phone number, Telegram name), through `ix_inbox_chat`. Rows still to be processed keep
    theirs (the one asking this is blanked as it is finished: `inbox.erase`). A chat is the
    person's, whichever studio they wrote to."""
    rows = await tx.all(
        "SELECT channel, '' AS endpoint, address FROM channel_identities"
        " WHERE studio_id = :s AND customer_id = :c"
        " UNION SELECT channel, endpoint, address FROM conversations"
        " WHERE studio_id = :s AND customer_id = :c",
        {"s": studio_id, "c": customer_id},
    )
    # A studio's own bot or number keys its chats apart (studio_channels.inbox_chat).
    for chat in sorted({inbox_chat(r["channel"], r["endpoint"], r["address"]) for r in rows}):
        await tx.execute(
            "UPDATE inbox SET payload = '{}' WHERE chat = :chat AND status <> 'pending'",
            {"chat": chat},
        )


async def _audit(
    tx: Tx, now: datetime, *, studio_id: int, customer_id: int, action: str, channel: str
) -> None:
    await tx.execute(
        "INSERT INTO privacy_audit (studio_id, customer_id, action, channel, at)"
        " VALUES (:s, :c, :action, :channel, :now)",
        {"s": studio_id, "c": customer_id, "action": action, "channel": channel, "now": now},
    )
