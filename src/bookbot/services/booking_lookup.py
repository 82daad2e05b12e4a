"""A booking as its confirmation and staff's look-up by reference show it: every booked
date with its instructor, and (for staff) whose it is and its state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.store.db import Reads, instant


@dataclass(frozen=True)
class Dated:
    starts_at: datetime
    instructor: str | None
    status: str  # booked | held | cancelled (a registration's session), or the appointment's


@dataclass(frozen=True)
class Found:
    """One booking, for staff: a class booking (kind "class") or an appointment."""

    kind: str
    ident: int
    what: str  # the class or the service
    customer: str
    phone: str | None
    status: str
    guests: int
    price_minor: int
    currency: str
    dates: tuple[Dated, ...]


async def class_booking(reads: Reads, studio_id: int, registration_id: int) -> Found | None:
    head = await reads.one(
        "SELECT g.id, g.status, g.guest_count, g.price_minor, g.currency, c.name AS what,"
        " cu.name AS customer, cu.phone FROM registrations g"
        " JOIN classes c ON c.id = g.class_id JOIN customers cu ON cu.id = g.customer_id"
        " WHERE g.studio_id = :s AND g.id = :r",
        {"s": studio_id, "r": registration_id},
    )
    if head is None:
        return None
    rows = await reads.all(
        "SELECT s.starts_at, st.name AS instructor, rs.status FROM registration_sessions rs"
        " JOIN sessions s ON s.id = rs.session_id LEFT JOIN staff st ON st.id = s.instructor_id"
        " WHERE rs.studio_id = :s AND rs.registration_id = :r ORDER BY s.starts_at, s.id",
        {"s": studio_id, "r": registration_id},
    )
    dates = tuple(Dated(instant(r["starts_at"]), r["instructor"], str(r["status"])) for r in rows)
    return Found(
        "class",
        registration_id,
        str(head["what"]),
        str(head["customer"] or ""),
        head["phone"],
        str(head["status"]),
        int(head["guest_count"]),
        int(head["price_minor"]),
        str(head["currency"]),
        dates,
    )


async def appointment(reads: Reads, studio_id: int, appointment_id: int) -> Found | None:
    row = await reads.one(
        "SELECT a.status, a.guest_count, a.price_minor, a.currency, a.starts_at,"
        " sv.name AS what, st.name AS instructor, cu.name AS customer, cu.phone"
        " FROM appointments a JOIN services sv ON sv.id = a.service_id"
        " JOIN staff st ON st.id = a.staff_id JOIN customers cu ON cu.id = a.customer_id"
        " WHERE a.studio_id = :s AND a.id = :a",
        {"s": studio_id, "a": appointment_id},
    )
    if row is None:
        return None
    status = str(row["status"])
    return Found(
        "appointment",
        appointment_id,
        str(row["what"]),
        str(row["customer"] or ""),
        row["phone"],
        status,
        int(row["guest_count"]),
        int(row["price_minor"]),
        str(row["currency"]),
        (Dated(instant(row["starts_at"]), row["instructor"], status),),
    )
