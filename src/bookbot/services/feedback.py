"""Feedback after a course or class: a 1-5 rating and an optional comment, asked a day after.

Asking is a sweep (`queue_requests`, ticked by the scheduler) over the sessions that closed
since its last run: when the attendance sweep closes a session, who attended it is known, so
each booking whose last session that was, and that attended at least one of its sessions,
gets a `feedback_request` queued in the outbox, due at the end of that last session plus a
day (later if it falls in the studio's quiet hours). No-shows and cancelled bookings are not
asked. The dedupe key is per booking, so a repeated or concurrent sweep queues it once.

The read is by `closed_at`, a few minutes behind the last run (a session closed by another
process with an earlier clock is not missed); the caller keeps `since` between runs, so a
run costs in proportion to the sessions closed since the previous one.

Answers are stored once per booking in `course_feedback`, with the class and the instructor
of the booking's last session: a second rating is not taken (the customer is told what was
recorded); the comment may be added once, after the rating.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bookbot.engine.clock import Clock
from bookbot.services import outbox, quiet_hours
from bookbot.store.db import Database, Reads, Row, Tx, instant, retrying

TEMPLATE = "feedback_request"
DELAY = timedelta(hours=24)  # after the end of the booking's last session
MARGIN = timedelta(minutes=5)  # reread behind `since`: a close committed late is not missed
LOOKBACK = timedelta(hours=48)  # the first run after a start reads this far back
ANSWERABLE = timedelta(days=30)  # a request can be answered this long after its course
BATCH = 200
ATTENDED = ("attended", "checked_in")

# Sessions closed in (since, now], in close order. Sessions are read by `closed_at`.
CLOSED_SQL = """SELECT s.id, s.studio_id, s.ends_at, s.closed_at FROM sessions s
WHERE s.closed_at > :since AND s.closed_at <= :now AND s.status = 'open'
  AND (s.closed_at > :after_at OR (s.closed_at = :after_at AND s.id > :after_id))
ORDER BY s.closed_at, s.id LIMIT :limit"""

# Drop-ins are not asked: they are the everyday classes a member comes back to (a gym's
# spin class), where a request after each visit would be noise; courses, workshops and
# single classes are.
# The bookings on one session for which it was the last open session, that attended at
# least one of their sessions and have no feedback yet (the session's live bookings through
# uq_registration_sessions_live, each booking's sessions through its registration index).
ASKABLE_SQL = """SELECT r.id, r.customer_id, c.name AS class_name
FROM registration_sessions rs
JOIN registrations r ON r.id = rs.registration_id
JOIN classes c ON c.id = r.class_id
JOIN sessions s ON s.id = rs.session_id
WHERE rs.session_id = :session_id AND rs.studio_id = :studio_id AND rs.status = 'booked'
  AND r.status = 'confirmed' AND r.kind <> 'drop_in'
  AND NOT EXISTS (SELECT 1 FROM registration_sessions o JOIN sessions os ON os.id = o.session_id
      WHERE o.registration_id = r.id AND o.status = 'booked' AND os.status = 'open'
        AND (os.ends_at > s.ends_at OR (os.ends_at = s.ends_at AND os.id > s.id)))
  AND EXISTS (SELECT 1 FROM registration_sessions a WHERE a.registration_id = r.id
      AND a.status = 'booked' AND a.attendance IN ('attended', 'checked_in'))
  AND NOT EXISTS (SELECT 1 FROM course_feedback f WHERE f.registration_id = r.id)
ORDER BY r.id"""


def dedupe_key(registration_id: int) -> str:
    return f"{TEMPLATE}:registration-{registration_id}"


async def queue_requests(
    db: Database, clock: Clock, *, since: datetime | None = None, batch: int = BATCH
) -> tuple[int, datetime]:
    """Queue a request for each attended booking whose last session closed in (since, now];
    how many were queued, and the `since` to pass next time."""
    now = clock.now()
    start = (since or now - LOOKBACK) - MARGIN
    after_at, after_id, queued = start, 0, 0
    while True:
        async with db.transaction(write=False) as tx:
            page = await tx.all(
                CLOSED_SQL,
                {
                    "since": start,
                    "now": now,
                    "after_at": after_at,
                    "after_id": after_id,
                    "limit": batch,
                },
            )
        for row in page:
            after_at, after_id = instant(row["closed_at"]), int(row["id"])
            queued += await _queue_for_session(db, now, row)
        if len(page) < batch:
            return queued, now


async def _queue_for_session(db: Database, now: datetime, session: Row) -> int:
    async def attempt() -> int:
        studio_id = int(session["studio_id"])
        async with db.transaction() as tx:
            rows = await tx.all(ASKABLE_SQL, {"session_id": session["id"], "studio_id": studio_id})
            if not rows:
                return 0
            quiet = await quiet_hours.of_studio(tx, studio_id)
            due = quiet.release(instant(session["ends_at"]) + DELAY)
            added = 0
            for row in rows:
                added += await _enqueue(tx, now, studio_id, row, due)
            return added

    result: int = await retrying(attempt)
    return result


async def _enqueue(tx: Tx, now: datetime, studio_id: int, row: Row, due: datetime) -> int:
    added = await outbox.enqueue(
        tx,
        now=now,
        studio_id=studio_id,
        customer_id=int(row["customer_id"]),
        template=TEMPLATE,
        params={"class_name": str(row["class_name"]), "registration_id": int(row["id"])},
        due_at=due,
        dedupe_key=dedupe_key(int(row["id"])),
    )
    return int(added)


@dataclass(frozen=True)
class Asked:
    """A booking whose feedback was asked for and may be given."""

    registration_id: int
    class_name: str


@dataclass(frozen=True)
class Rated:
    """The rating stored for a booking; `new` is False when one was there already."""

    class_name: str
    rating: int
    new: bool
    comment: str = ""


# The customer's bookings whose last session started in the window, newest first
# (ix_registrations_customer_status_start), that were asked (the outbox row by its unique
# key) and attended; whether each has feedback already.
_MINE_SQL = """SELECT r.id, c.name AS class_name, f.rating, f.comment
FROM registrations r JOIN classes c ON c.id = r.class_id
JOIN outbox o ON o.dedupe_key = 'feedback_request:registration-' || CAST(r.id AS VARCHAR(20))
LEFT JOIN course_feedback f ON f.registration_id = r.id
WHERE r.studio_id = :studio_id AND r.customer_id = :customer_id AND r.status = 'confirmed'
  AND r.last_starts_at >= :oldest AND r.last_starts_at <= :now AND o.due_at <= :now
  AND o.status <> 'withdrawn'
ORDER BY r.last_starts_at DESC, r.id DESC LIMIT 5"""


async def pending(reads: Reads, studio_id: int, customer_id: int, now: datetime) -> Asked | None:
    """The latest booking the customer was asked about and has not rated yet, if any."""
    rows = await reads.all(
        _MINE_SQL,
        {
            "studio_id": studio_id,
            "customer_id": customer_id,
            "oldest": now - ANSWERABLE,
            "now": now,
        },
    )
    for row in rows:
        if row["rating"] is None:
            return Asked(int(row["id"]), str(row["class_name"]))
    return None


# A booking of this customer that attended, with its class and its last open session's
# instructor.
_RATEABLE_SQL = """SELECT r.class_id, c.name AS class_name,
  (SELECT s.instructor_id FROM registration_sessions o JOIN sessions s ON s.id = o.session_id
   WHERE o.registration_id = r.id AND o.status = 'booked' AND s.status = 'open'
   ORDER BY s.ends_at DESC, s.id DESC LIMIT 1) AS instructor_id
FROM registrations r JOIN classes c ON c.id = r.class_id
WHERE r.id = :id AND r.studio_id = :studio_id AND r.customer_id = :customer_id
  AND r.status = 'confirmed'
  AND EXISTS (SELECT 1 FROM registration_sessions a WHERE a.registration_id = r.id
      AND a.status = 'booked' AND a.attendance IN ('attended', 'checked_in'))"""

_STORED_SQL = """SELECT f.rating, f.comment, c.name AS class_name FROM course_feedback f
JOIN classes c ON c.id = f.class_id WHERE f.registration_id = :id AND f.studio_id = :studio_id"""


async def rate(
    db: Database,
    now: datetime,
    *,
    studio_id: int,
    customer_id: int,
    registration_id: int,
    rating: int,
) -> Rated | None:
    """Store the rating, once per booking; None if the booking is not this customer's or was
    not attended (nothing to rate). A second rating leaves the first (`new` False)."""
    if not 1 <= rating <= 5:
        raise ValueError(rating)
    async with db.transaction() as tx:
        row = await tx.one(
            _RATEABLE_SQL,
            {"id": registration_id, "studio_id": studio_id, "customer_id": customer_id},
        )
        if row is None:
            return None
        added = await tx.execute(
            "INSERT INTO course_feedback (studio_id, registration_id, class_id, instructor_id,"
            " rating, comment, created_at) VALUES (:studio_id, :id, :class_id, :instructor_id,"
            " :rating, '', :now) ON CONFLICT (registration_id) DO NOTHING",
            {
                "studio_id": studio_id,
                "id": registration_id,
                "class_id": row["class_id"],
                "instructor_id": row["instructor_id"],
                "rating": rating,
                "now": now,
            },
        )
        stored = await tx.one(_STORED_SQL, {"id": registration_id, "studio_id": studio_id})
    assert stored is not None  # noqa: S101 - inserted or there already, in this transaction
    return Rated(
        str(stored["class_name"]), int(stored["rating"]), bool(added), str(stored["comment"])
    )


async def comment(
    db: Database, *, studio_id: int, customer_id: int, registration_id: int, text: str
) -> bool:
    """Add the comment to the customer's rating, once (a rating without one); whether it was."""
    async with db.transaction() as tx:
        done = await tx.execute(
            "UPDATE course_feedback SET comment = :text WHERE registration_id = :id"
            " AND studio_id = :studio_id AND comment = ''"
            " AND EXISTS (SELECT 1 FROM registrations r WHERE r.id = :id"
            " AND r.customer_id = :customer_id)",
            {
                "text": text.strip()[:2000],
                "id": registration_id,
                "studio_id": studio_id,
                "customer_id": customer_id,
            },
        )
    return bool(done)
