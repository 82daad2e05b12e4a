"""Attendee details (issue 17): what a class asks of whoever books it, kept per person.

A class lists the details it needs (`classes.attendee_fields`, a CSV of ATTENDEE_FIELDS).
The chat asks them after the seats are held and writes them to `registration_attendees`
for the held registration: position 1 is the person booking (their name, email, company,
job title and requests), positions 2.. the others' names when the class asks for names.
Writing again replaces what was written (the customer went back and answered again).
Staff read them on the roster and in `bookbot bookings export`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bookbot.engine import errors
from bookbot.engine.attendees import ATTENDEE_FIELDS
from bookbot.store.db import Database, Row, Tx

__all__ = ["ATTENDEE_FIELDS", "Attendee", "ExportRow"]


def parse_fields(stored: str) -> tuple[str, ...]:
    """A class's stored CSV as the fields to ask, in the order they are asked (unknown
    names, which the studio file refuses, are ignored)."""
    listed = {name.strip() for name in stored.split(",")}
    return tuple(name for name in ATTENDEE_FIELDS if name in listed)


async def class_fields(db: Database, studio_id: int, class_id: int) -> tuple[str, ...]:
    """The details a class asks for; () when none (or no such class here)."""
    async with db.transaction(write=False) as tx:
        stored = await tx.scalar(
            "SELECT attendee_fields FROM classes WHERE studio_id = :s AND id = :k",
            {"s": studio_id, "k": class_id},
        )
    return parse_fields(str(stored or ""))


@dataclass(frozen=True)
class Attendee:
    """One person of a booking, as the chat collected them ('' or None: not asked)."""

    position: int
    name: str
    email: str | None = None
    company: str | None = None
    job_title: str | None = None
    requests: str | None = None


_COLUMNS = "position, name, email, company, job_title, requests"


async def save(db: Database, studio_id: int, registration_id: int, people: list[Attendee]) -> None:
    """Replace the registration's attendees with `people`, in one transaction; NotFound if
    the registration is not this studio's."""
    async with db.transaction() as tx:
        await save_in(tx, studio_id, registration_id, people)


async def save_in(tx: Tx, studio_id: int, registration_id: int, people: list[Attendee]) -> None:
    found = await tx.scalar(
        "SELECT id FROM registrations WHERE studio_id = :s AND id = :r",
        {"s": studio_id, "r": registration_id},
    )
    if found is None:
        raise errors.NotFound(what="booking", ident=registration_id)
    await tx.execute(
        "DELETE FROM registration_attendees WHERE studio_id = :s AND registration_id = :r",
        {"s": studio_id, "r": registration_id},
    )
    for person in people:
        await tx.execute(
            f"INSERT INTO registration_attendees (studio_id, registration_id, {_COLUMNS})"  # noqa: S608 - constants
            " VALUES (:s, :r, :position, :name, :email, :company, :job_title, :requests)",
            {
                "s": studio_id,
                "r": registration_id,
                "position": person.position,
                "name": person.name,
                "email": person.email,
                "company": person.company,
                "job_title": person.job_title,
                "requests": person.requests,
            },
        )


async def copy_in(tx: Tx, studio_id: int, source_id: int, target_id: int) -> None:
    """A lapsed hold booked afresh (`holds.confirm_hold`): the new booking gets the hold's
    attendees."""
    await tx.execute(
        f"INSERT INTO registration_attendees (studio_id, registration_id, {_COLUMNS})"  # noqa: S608 - constants
        f" SELECT studio_id, :t, {_COLUMNS} FROM registration_attendees"
        " WHERE studio_id = :s AND registration_id = :r",
        {"s": studio_id, "r": source_id, "t": target_id},
    )


async def of_registration(db: Database, studio_id: int, registration_id: int) -> list[Attendee]:
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            f"SELECT {_COLUMNS} FROM registration_attendees"  # noqa: S608 - constants
            " WHERE studio_id = :s AND registration_id = :r ORDER BY position",
            {"s": studio_id, "r": registration_id},
        )
    return [_attendee(r) for r in rows]


def _attendee(r: Row) -> Attendee:
    return Attendee(
        position=int(r["position"]),
        name=str(r["name"] or ""),
        email=r["email"],
        company=r["company"],
        job_title=r["job_title"],
        requests=r["requests"],
    )


_OF_SESSION = f"""SELECT a.registration_id, {", ".join("a." + c for c in _COLUMNS.split(", "))}
FROM registration_sessions rs
JOIN registration_attendees a ON a.registration_id = rs.registration_id AND a.studio_id = rs.studio_id
WHERE rs.studio_id = :s AND rs.session_id = :id AND rs.status = 'booked'
ORDER BY a.registration_id, a.position"""  # noqa: S608 - constants


async def of_session(db: Database, studio_id: int, session_id: int) -> dict[int, list[Attendee]]:
    """The attendees of the session's live bookings, by registration id."""
    async with db.transaction(write=False) as tx:
        rows = await tx.all(_OF_SESSION, {"s": studio_id, "id": session_id})
    found: dict[int, list[Attendee]] = {}
    for row in rows:
        found.setdefault(int(row["registration_id"]), []).append(_attendee(row))
    return found


@dataclass(frozen=True)
class ExportRow:
    """A line of `bookbot bookings export`: one attendee of one booking of the session."""

    registration_id: int
    customer: str
    phone: str
    attendee: Attendee
    guests: int
    status: str


# Booked, or cancelled after being booked: a hold let go or lapsed (its rows 'cancelled' too)
# never became a booking, and keeps its held_until (confirming clears it).
_EXPORT = """SELECT rs.registration_id, rs.guest_count, rs.status, cu.name AS customer, cu.phone
FROM registration_sessions rs JOIN customers cu ON cu.id = rs.customer_id
JOIN registrations r ON r.id = rs.registration_id AND r.studio_id = rs.studio_id
WHERE rs.studio_id = :s AND rs.session_id = :id
  AND (rs.status = 'booked' OR (rs.status = 'cancelled' AND r.held_until IS NULL))
ORDER BY rs.status, cu.name, rs.registration_id"""


async def export_rows(db: Database, studio_id: int, session_id: int) -> list[ExportRow]:
    """Every booking of the session (live ones first, then cancelled), a row per attendee; a
    booking without details is one row naming its customer. NotFound: no such session."""
    async with db.transaction(write=False) as tx:
        exists = await tx.scalar(
            "SELECT id FROM sessions WHERE studio_id = :s AND id = :id",
            {"s": studio_id, "id": session_id},
        )
        if exists is None:
            raise errors.NotFound(what="session", ident=session_id)
        bookings = await tx.all(_EXPORT, {"s": studio_id, "id": session_id})
        people: dict[int, list[Attendee]] = {}
        for row in await tx.all(
            f"SELECT a.registration_id, {', '.join('a.' + c for c in _COLUMNS.split(', '))}"  # noqa: S608 - constants
            " FROM registration_attendees a JOIN registration_sessions rs"
            " ON rs.registration_id = a.registration_id AND rs.studio_id = a.studio_id"
            " WHERE rs.studio_id = :s AND rs.session_id = :id ORDER BY a.position",
            {"s": studio_id, "id": session_id},
        ):
            people.setdefault(int(row["registration_id"]), []).append(_attendee(row))
    lines = []
    for b in bookings:
        customer = str(b["customer"] or "")
        found = people.get(int(b["registration_id"])) or [Attendee(1, customer)]
        lines += [
            ExportRow(
                int(b["registration_id"]),
                customer,
                str(b["phone"] or ""),
                person,
                int(b["guest_count"]),
                str(b["status"]),
            )
            for person in found
        ]
    return lines


@dataclass(frozen=True)
class Party:
    """A live booking of a session with its attendees, for the roster."""

    customer: str
    people: list[Attendee]


async def roster_parties(db: Database, studio_id: int, session_id: int) -> list[Party]:
    """The session's live bookings that have details, by customer name."""
    found = await of_session(db, studio_id, session_id)
    if not found:
        return []
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT rs.registration_id, cu.name FROM registration_sessions rs"
            " JOIN customers cu ON cu.id = rs.customer_id"
            " WHERE rs.studio_id = :s AND rs.session_id = :id AND rs.status = 'booked'"
            " ORDER BY cu.name, rs.registration_id",
            {"s": studio_id, "id": session_id},
        )
    return [
        Party(str(r["name"] or ""), found[int(r["registration_id"])])
        for r in rows
        if int(r["registration_id"]) in found
    ]
