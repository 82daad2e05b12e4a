"""Certificates: issued when staff complete a session and mark who passed, checked by code.

`issue` closes the session first if the attendance sweep has not yet (staff completing it
early run the same close), then writes one certificate per person who passed, guarded by
the unique (session, registration, position): issuing twice issues nothing new. Each new
certificate queues a 'certificate_issued' notice to its customer in the same transaction.

A certificate copies what it certifies (holder, course, first and last day): it reads the
same if the class or the customer changes later. Its code is global (verification is
public, by code alone), 12 Crockford base32 characters from `secrets` (60 bits), shown as
`7F3Q-K2M9-XA7B` and read case-insensitively with O->0 and I/L->1.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from bookbot.engine.clock import Clock
from bookbot.engine.errors import InvalidRequest, NotFound
from bookbot.engine.recurrence import zone
from bookbot.services import attendance, outbox
from bookbot.services.references import ALPHABET, MISREAD
from bookbot.store.db import Database, Reads, Row, Tx, instant

CODE_LENGTH = 12  # 12 x 5 bits = 60 bits of randomness
GROUP = 4
TEMPLATE = "certificate_issued"
_READ_AS = str.maketrans(MISREAD)

SESSION_SQL = """SELECT s.id, s.closed_at, s.starts_at, s.ends_at, s.status, c.name AS class_name,
    c.issues_certificates, st.timezone
FROM sessions s JOIN classes c ON c.id = s.class_id JOIN studios st ON st.id = s.studio_id
WHERE s.id = :session_id AND s.studio_id = :studio_id"""

# The booking's person at a position: the attendee's name when given, else the customer's;
# and the booking's first and last session (a course's whole run).
PERSON_SQL = """SELECT r.id AS registration_id, r.customer_id, r.guest_count,
    cu.name AS customer_name, ra.name AS attendee_name,
    (SELECT MIN(s2.starts_at) FROM registration_sessions rs2
       JOIN sessions s2 ON s2.id = rs2.session_id
     WHERE rs2.registration_id = r.id AND rs2.status = 'booked') AS first_start,
    (SELECT MAX(s2.ends_at) FROM registration_sessions rs2
       JOIN sessions s2 ON s2.id = rs2.session_id
     WHERE rs2.registration_id = r.id AND rs2.status = 'booked') AS last_end
FROM registration_sessions rs
JOIN registrations r ON r.id = rs.registration_id
JOIN customers cu ON cu.id = r.customer_id
LEFT JOIN registration_attendees ra ON ra.registration_id = r.id AND ra.position = :position
WHERE rs.studio_id = :studio_id AND rs.session_id = :session_id
  AND rs.registration_id = :registration_id AND rs.status = 'booked'"""

INSERT_SQL = """INSERT INTO certificates (studio_id, registration_id, session_id, customer_id,
    attendee_position, holder_name, course_name, first_day, last_day, code, issued_at)
VALUES (:studio_id, :registration_id, :session_id, :customer_id, :position, :holder,
    :course, :first_day, :last_day, :code, :now)
ON CONFLICT (session_id, registration_id, attendee_position) DO NOTHING"""

BY_CODE_SQL = """SELECT c.id, c.studio_id, c.customer_id, c.session_id, c.registration_id,
    c.attendee_position, c.holder_name, c.course_name, c.first_day, c.last_day, c.code,
    c.issued_at, c.revoked_at, c.revoked_reason, st.name AS studio_name,
    st.default_language, cu.language
FROM certificates c JOIN studios st ON st.id = c.studio_id
LEFT JOIN customers cu ON cu.id = c.customer_id
WHERE c.code = :code"""


@dataclass(frozen=True)
class Certificate:
    id: int
    studio_id: int
    studio_name: str
    customer_id: int | None
    session_id: int | None
    registration_id: int | None
    attendee_position: int
    holder_name: str
    course_name: str
    first_day: date
    last_day: date
    code: str
    issued_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
    language: str  # the customer's, else the studio's

    @property
    def shown_code(self) -> str:
        return grouped(self.code)


@dataclass(frozen=True)
class Verification:
    status: Literal["valid", "revoked", "unknown"]
    certificate: Certificate | None = None


@dataclass(frozen=True)
class Issued:
    certificates: tuple[Certificate, ...]  # every passed person's, new or not
    new: int  # how many this call issued


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def grouped(code: str) -> str:
    """'7F3QK2M9XA7B' -> '7F3Q-K2M9-XA7B'."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalised(text: str) -> str | None:
    """A typed code in its stored form, or None when it cannot be one (never a lookup)."""
    raw = "".join(ch for ch in text.upper() if ch not in "- ").translate(_READ_AS)
    if len(raw) != CODE_LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return raw


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _certificate(row: Row) -> Certificate:
    revoked = row["revoked_at"]
    return Certificate(
        id=int(row["id"]),
        studio_id=int(row["studio_id"]),
        studio_name=row["studio_name"],
        customer_id=row["customer_id"],
        session_id=row["session_id"],
        registration_id=row["registration_id"],
        attendee_position=int(row["attendee_position"]),
        holder_name=row["holder_name"],
        course_name=row["course_name"],
        first_day=_day(row["first_day"]),
        last_day=_day(row["last_day"]),
        code=row["code"],
        issued_at=instant(row["issued_at"]),
        revoked_at=instant(revoked) if revoked is not None else None,
        revoked_reason=row["revoked_reason"],
        language=row["language"] or row["default_language"],
    )


async def by_code(reads: Reads, code: str) -> Certificate | None:
    key = normalised(code)
    if key is None:
        return None
    row = await reads.one(BY_CODE_SQL, {"code": key})
    return _certificate(row) if row is not None else None


async def verify(reads: Reads, code: str) -> Verification:
    """Valid, revoked (with when and why) or unknown: the code alone decides (global)."""
    found = await by_code(reads, code)
    if found is None:
        return Verification("unknown")
    return Verification("revoked" if found.revoked_at else "valid", found)


async def revoke(db: Database, clock: Clock, code: str, *, reason: str) -> Certificate:
    """Revoke a certificate (once; revoking again keeps the first date and reason)."""
    if not reason.strip():
        raise InvalidRequest(reason="give a reason for revoking")
    key = normalised(code)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE certificates SET revoked_at = :now, revoked_reason = :reason"
            " WHERE code = :code AND revoked_at IS NULL",
            {"now": clock.now(), "reason": reason.strip()[:500], "code": key or ""},
        )
        found = await by_code(tx, code)
    if found is None:
        raise NotFound(what="certificate", ident=code)
    return found


async def for_session(reads: Reads, studio_id: int, session_id: int) -> list[Certificate]:
    rows = await reads.all(
        BY_CODE_SQL.replace(
            "WHERE c.code = :code",
            "WHERE c.studio_id = :studio_id AND c.session_id = :session_id"
            " ORDER BY c.holder_name, c.id",
        ),
        {"studio_id": studio_id, "session_id": session_id},
    )
    return [_certificate(row) for row in rows]


async def issue(
    db: Database,
    clock: Clock,
    *,
    studio_id: int,
    session_id: int,
    passed: list[tuple[int, int]],
) -> Issued:
    """Certificates for those who passed (registration id, attendee position) a session of a
    class that issues them; the session is closed first if it is not yet."""
    session = await db.one(SESSION_SQL, {"session_id": session_id, "studio_id": studio_id})
    if session is None:
        raise NotFound(what="session", ident=session_id)
    if not session["issues_certificates"]:
        raise InvalidRequest(reason=f"{session['class_name']} does not issue certificates")
    if session["status"] == "cancelled":
        raise InvalidRequest(reason="that session was cancelled")
    if session["closed_at"] is None:
        if instant(session["starts_at"]) > clock.now():
            raise InvalidRequest(reason="that session has not started yet")
        await attendance.close_session(db, clock, session_id)
    now = clock.now()
    async with db.transaction() as tx:
        new = 0
        for registration_id, position in sorted(set(passed)):
            new += await _issue_one(
                tx,
                now,
                session,
                studio_id=studio_id,
                registration_id=registration_id,
                position=position,
            )
        made = await for_session(tx, studio_id, session_id)
    wanted = set(passed)
    mine = tuple(c for c in made if (c.registration_id, c.attendee_position) in wanted)
    return Issued(mine, new)


async def _issue_one(
    tx: Tx, now: datetime, session: Row, *, studio_id: int, registration_id: int, position: int
) -> int:
    person = await tx.one(
        PERSON_SQL,
        {
            "studio_id": studio_id,
            "session_id": session["id"],
            "registration_id": registration_id,
            "position": position,
        },
    )
    if person is None or not 1 <= position <= int(person["guest_count"]):
        raise NotFound(what="booking", ident=f"{registration_id}/{position}")
    tz = zone(session["timezone"])
    holder = (person["attendee_name"] or "").strip() or person["customer_name"] or ""
    params = {
        "studio_id": studio_id,
        "registration_id": registration_id,
        "session_id": session["id"],
        "customer_id": person["customer_id"],
        "position": position,
        "holder": holder[:200],
        "course": session["class_name"],
        "first_day": instant(person["first_start"]).astimezone(tz).date(),
        "last_day": instant(person["last_end"]).astimezone(tz).date(),
        "now": now,
    }
    for _attempt in range(3):  # a code already taken (2^-60 odds): draw again
        code = new_code()
        if await tx.scalar("SELECT 1 FROM certificates WHERE code = :c", {"c": code}) is None:
            break
    if not await tx.execute(INSERT_SQL, {**params, "code": code}):
        return 0  # issued before
    certificate_id = await tx.scalar("SELECT id FROM certificates WHERE code = :c", {"c": code})
    await outbox.enqueue(
        tx,
        now=now,
        studio_id=studio_id,
        customer_id=int(person["customer_id"]),
        template=TEMPLATE,
        params={
            "certificate_id": certificate_id,
            "code": code,
            "class_name": params["course"],
            "holder_name": params["holder"],
        },
        due_at=now,
        dedupe_key=f"certificate:{certificate_id}",
    )
    return 1


# --- what staff pick from when completing a session (/complete) ----------------------------


@dataclass(frozen=True)
class Completable:
    session_id: int
    class_name: str
    starts_at: datetime
    closed: bool
    ends_at: datetime | None = None
    days: int = 1  # a multi-day course is shown by its dates


@dataclass(frozen=True)
class Person:
    registration_id: int
    position: int
    name: str  # the attendee's name, else the customer's ('' for a forgotten customer)
    named: bool  # whether the name is the attendee's own (False: the customer's)
    issued: bool
    attended: bool = False  # the booking checked in (on any day of a multi-day course)


# Open sessions of classes that issue certificates, started in [since, until): by
# ix_sessions_studio_starts, newest first.
COMPLETABLE_SQL = """SELECT s.id, s.starts_at, s.ends_at, s.days, s.closed_at, c.name AS class_name
FROM sessions s JOIN classes c ON c.id = s.class_id
WHERE s.studio_id = :studio_id AND s.starts_at >= :since AND s.starts_at < :until
  AND s.status = 'open' AND c.issues_certificates = :yes
ORDER BY s.starts_at DESC, s.id DESC LIMIT :limit"""

PEOPLE_SQL = """SELECT rs.registration_id, r.guest_count, cu.name AS customer_name,
    ra.position, ra.name AS attendee_name,
    CASE WHEN rs.attendance IN ('checked_in', 'attended') OR EXISTS (SELECT 1
        FROM day_attendance d WHERE d.studio_id = rs.studio_id
        AND d.registration_session_id = rs.id AND d.status = 'attended')
    THEN 1 ELSE 0 END AS attended
FROM registration_sessions rs
JOIN registrations r ON r.id = rs.registration_id
JOIN customers cu ON cu.id = r.customer_id
LEFT JOIN registration_attendees ra ON ra.registration_id = r.id
WHERE rs.studio_id = :studio_id AND rs.session_id = :session_id AND rs.status = 'booked'
ORDER BY rs.id, ra.position"""


async def completable(
    reads: Reads, studio_id: int, *, since: datetime, until: datetime, limit: int = 10
) -> list[Completable]:
    rows = await reads.all(
        COMPLETABLE_SQL,
        {"studio_id": studio_id, "since": since, "until": until, "yes": True, "limit": limit},
    )
    return [
        Completable(
            int(r["id"]),
            r["class_name"],
            instant(r["starts_at"]),
            r["closed_at"] is not None,
            instant(r["ends_at"]),
            int(r["days"] or 1),
        )
        for r in rows
    ]


async def people(reads: Reads, studio_id: int, session_id: int) -> list[Person]:
    """Everyone booked on a session, a line per seat of each booking, in booking order."""
    named: dict[tuple[int, int], str] = {}
    bookings: dict[int, tuple[int, str, bool]] = {}
    for r in await reads.all(PEOPLE_SQL, {"studio_id": studio_id, "session_id": session_id}):
        bookings[int(r["registration_id"])] = (
            int(r["guest_count"]),
            r["customer_name"] or "",
            bool(r["attended"]),
        )
        if r["position"] is not None and (r["attendee_name"] or "").strip():
            named[(int(r["registration_id"]), int(r["position"]))] = r["attendee_name"].strip()
    issued = {
        (c.registration_id, c.attendee_position)
        for c in await for_session(reads, studio_id, session_id)
    }
    found = []
    for registration_id, (guests, customer_name, attended) in bookings.items():
        for position in range(1, guests + 1):
            key = (registration_id, position)
            found.append(
                Person(
                    registration_id,
                    position,
                    named.get(key, customer_name),
                    key in named,
                    key in issued,
                    attended,
                )
            )
    return found
