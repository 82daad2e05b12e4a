"""reminders for bookings and reservations made before the outbox existed

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 10:20:00

Reminders are queued by the transaction that books (or reserves), since migration 0005 added
the outbox. Confirmed bookings and pending reservations already in the database when it was
upgraded past 0005 never got theirs. This queues every reminder still ahead of its due time,
exactly the rows the booking service queues: template `reminder_24h` / `reminder_1h`, due 24 h
/ 1 h before the session, the same parameters and the same dedupe key
(`reminder_24h:booking-42-7`: kind, registration or reservation id, session id). The insert
skips any key already present (`ON CONFLICT (dedupe_key) DO NOTHING`), so a reminder queued,
sent or withdrawn (a cancelled booking's) is never queued again, and running this where the
reminders exist adds nothing.

Only reminders whose due time is still in the future at migration time are queued (as the
service does: a booking made 3 h before gets only the 1 h one). `now` is the wall clock, or
the `bookbot_now` attribute of the Alembic config (tests travel in time).

Self-contained on purpose: a migration must not change when the application's code does, so
the reminder rules are copied here rather than imported.
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = (("reminder_24h", timedelta(hours=24)), ("reminder_1h", timedelta(hours=1)))
SHORTEST = min(lead for _, lead in BEFORE)

# Each row: whose reminder it is, and for which session. The same class name, studio and
# customer as the service takes (the registration's class; the reservation's session's).
BOOKINGS = """
SELECT r.studio_id, r.customer_id, r.id AS ref_id, s.id AS session_id, s.starts_at,
       c.name AS class_name
FROM registration_sessions rs
JOIN registrations r ON r.id = rs.registration_id
JOIN sessions s ON s.id = rs.session_id
JOIN classes c ON c.id = r.class_id
WHERE rs.status = 'booked' AND r.status = 'confirmed' AND s.status = 'open'
  AND s.starts_at > :after
"""
RESERVATIONS = """
SELECT v.studio_id, v.customer_id, v.id AS ref_id, s.id AS session_id, s.starts_at,
       c.name AS class_name
FROM reservations v
JOIN sessions s ON s.id = v.session_id
JOIN classes c ON c.id = s.class_id
WHERE v.status = 'pending' AND s.status = 'open' AND s.starts_at > :after
"""
INSERT = """
INSERT INTO outbox (studio_id, customer_id, template, params, due_at, status, created_at,
                    dedupe_key)
VALUES (:studio_id, :customer_id, :template, :params, :due_at, 'pending', :now, :dedupe_key)
ON CONFLICT (dedupe_key) DO NOTHING
"""


def _now() -> datetime:
    config = op.get_context().config
    given = config.attributes.get("bookbot_now") if config is not None else None
    return given if given is not None else datetime.now(UTC)


def _instant(value: Any) -> datetime:
    """An aware UTC instant from a column (SQLite hands back the stored text)."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _stored(value: datetime, dialect: str) -> Any:
    """An instant as the application stores it: on SQLite, fixed-width text in UTC, so that
    text comparison orders instants (the delivery job's `due_at <= :now`)."""
    if dialect == "sqlite":
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    return value


def _reminders(kind: str, row: Any, now: datetime, dialect: str) -> list[dict[str, Any]]:
    starts_at = _instant(row.starts_at)
    params = {
        "class_name": row.class_name,
        "starts_at": starts_at.isoformat(),
        "session_id": row.session_id,
        kind: row.ref_id,
    }
    return [
        {
            "studio_id": row.studio_id,
            "customer_id": row.customer_id,
            "template": template,
            "params": json.dumps(params, sort_keys=True),
            "due_at": _stored(starts_at - lead, dialect),
            "now": _stored(now, dialect),
            "dedupe_key": f"{template}:{kind}-{row.ref_id}-{row.session_id}",
        }
        for template, lead in BEFORE
        if starts_at - lead > now
    ]


def upgrade() -> None:
    conn = op.get_bind()
    dialect = conn.dialect.name
    now = _now()
    # A coarse filter in SQL (a day early, so text and timestamp comparisons agree whatever
    # the stored spelling); the exact due-time rule is applied per reminder.
    after = _stored(now + SHORTEST - timedelta(days=1), dialect)
    rows: list[dict[str, Any]] = []
    for kind, query in (("booking", BOOKINGS), ("reservation", RESERVATIONS)):
        for row in conn.execute(sa.text(query), {"after": after}):
            rows += _reminders(kind, row, now, dialect)
    if rows:
        conn.execute(sa.text(INSERT), rows)


def downgrade() -> None:
    """Nothing to undo: the reminders are the ones the booking would have queued."""
