"""Linking a phone number to a chat customer with a one-time code sent by SMS.

Once verified, the phone is the customer's: an SMS or WhatsApp message from it reaches the
same customer and the same bookings. If the number already belongs to a customer (they
booked by SMS before), the chat identity joins that customer and brings its bookings.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bookbot.phones import phone_key
from bookbot.store.db import Database, Tx

CODE_LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5


def _hash(phone: str, code: str) -> str:
    return hashlib.sha256(f"{phone}:{code}".encode()).hexdigest()


async def start(db: Database, now: datetime, studio_id: int, customer_id: int, phone: str) -> str:
    """A new code for `phone` (any earlier one is void); the caller sends it by SMS.

    `phone` is what the customer typed, already checked with `phones.normalise_phone`;
    it is stored in E.164 so that linking finds the customer who texted from it.
    """
    phone = phone_key(phone)
    code = f"{secrets.randbelow(10**6):06d}"
    async with db.transaction() as tx:
        await tx.execute(
            "DELETE FROM phone_verifications WHERE studio_id = :studio_id AND customer_id = :customer_id",
            {"studio_id": studio_id, "customer_id": customer_id},
        )
        await tx.execute(
            "INSERT INTO phone_verifications (studio_id, customer_id, phone, code_hash, expires_at)"
            " VALUES (:studio_id, :customer_id, :phone, :hash, :expires)",
            {
                "studio_id": studio_id,
                "customer_id": customer_id,
                "phone": phone,
                "hash": _hash(phone, code),
                "expires": now + CODE_LIFETIME,
            },
        )
    return code


class Outcome(StrEnum):
    LINKED = "linked"
    WRONG = "wrong"
    EXPIRED = "expired"  # also: no code asked for, or 5 wrong tries


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    customer_id: int | None = None  # the customer to use from now on, once linked
    phone: str | None = None


async def verify(
    db: Database, now: datetime, studio_id: int, customer_id: int, code: str
) -> Verdict:
    """Check `code`; on success link the phone (a wrong try is counted, 5 at most)."""
    async with db.transaction() as tx:
        row = await tx.one(
            "SELECT id, phone, code_hash, expires_at, attempts FROM phone_verifications"
            " WHERE studio_id = :studio_id AND customer_id = :customer_id",
            {"studio_id": studio_id, "customer_id": customer_id},
        )
        if row is None or row["expires_at"] <= now or row["attempts"] >= MAX_ATTEMPTS:
            return Verdict(Outcome.EXPIRED)
        if not hmac.compare_digest(row["code_hash"], _hash(row["phone"], code.strip())):
            await tx.execute(
                "UPDATE phone_verifications SET attempts = attempts + 1 WHERE id = :id",
                {"id": row["id"]},
            )
            return Verdict(Outcome.WRONG)
        await tx.execute("DELETE FROM phone_verifications WHERE id = :id", {"id": row["id"]})
        linked = await _link(tx, studio_id, customer_id, row["phone"])
    return Verdict(Outcome.LINKED, linked, row["phone"])


async def _link(tx: Tx, studio_id: int, customer_id: int, phone: str) -> int:
    owner = await tx.scalar(
        "SELECT id FROM customers WHERE studio_id = :studio_id AND phone = :phone AND id <> :id",
        {"studio_id": studio_id, "phone": phone, "id": customer_id},
    )
    if owner is None:
        await tx.execute(
            "UPDATE customers SET phone = :phone WHERE studio_id = :studio_id AND id = :id",
            {"phone": phone, "studio_id": studio_id, "id": customer_id},
        )
        return customer_id
    await _merge(tx, studio_id, customer_id, int(owner))
    return int(owner)


_MOVES = (
    "UPDATE channel_identities SET customer_id = :into WHERE studio_id = :studio_id"
    " AND customer_id = :from",
    "UPDATE conversations SET customer_id = :into WHERE studio_id = :studio_id"
    " AND customer_id = :from",
    "UPDATE registrations SET customer_id = :into WHERE studio_id = :studio_id"
    " AND customer_id = :from AND NOT EXISTS (SELECT 1 FROM registration_sessions a"
    "  JOIN registration_sessions b ON b.session_id = a.session_id AND b.customer_id = :into"
    "  AND b.status = 'booked' WHERE a.registration_id = registrations.id AND a.status = 'booked')",
    "UPDATE registration_sessions SET customer_id = :into WHERE studio_id = :studio_id"
    " AND customer_id = :from AND registration_id IN (SELECT id FROM registrations"
    "  WHERE customer_id = :into)",
    "UPDATE waitlist_entries SET customer_id = :into WHERE studio_id = :studio_id"
    " AND customer_id = :from AND NOT EXISTS (SELECT 1 FROM waitlist_entries w"
    "  WHERE w.session_id = waitlist_entries.session_id AND w.customer_id = :into"
    "  AND w.status IN ('waiting', 'offered'))",
)


async def _merge(tx: Tx, studio_id: int, from_id: int, into_id: int) -> None:
    """Move a chat customer's identities and bookings to the customer owning the phone.

    A booking of a session the other customer also holds stays behind (one live booking
    per customer per session); the old customer row is kept for it.
    """
    params = {"studio_id": studio_id, "from": from_id, "into": into_id}
    for sql in _MOVES:
        await tx.execute(sql, params)
