"""indexes that make each periodic job read only what is due, not the history

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 09:00:00

The minute tick and the delivery claim read whole tables: every session and past booking
to close attendance, every registration for lapsed holds, every reservation for unhandled
no-shows, every waitlist entry for lapsed offers, and the outbox's whole due backlog sorted
for each claim. Each gets a partial index holding only the rows still to act on, ordered
by when they fall due, so a sweep walks exactly the rows due and stops:

* `sessions.closed_at`: when the attendance sweep closed the session (its pending
  reservations made no-shows, its bookings marked). A session is closed once, so the
  partial index `ix_sessions_unclosed` holds the sessions not closed yet, by end time.
  Backfill: a session that ended more than a day before the migration and has nothing
  left to close is closed as of its end. The day's margin keeps text and timestamp
  comparisons in agreement whatever the stored spelling; the sweep closes the rest.
* `ix_registrations_held`: holds by `held_until`.
* `ix_reservations_absence_open`: no-shows the nightly absence sweep has not handled.
* `ix_waitlist_entries_offered`: offers by `offer_expires_at`.
* `ix_outbox_claim`: rows a claim may take (pending, or sending with a lease that may have
  run out), in the claim's `(due_at, id)` order.
* `ix_resource_allocations_registration`: a registration's allocations (freeing a hold,
  cancelling, and the cascade when a registration is deleted).

`now` is the wall clock, or the `bookbot_now` attribute of the Alembic config (tests travel
in time). Self-contained on purpose: definitions are copied here, not imported.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNCLOSED = "closed_at IS NULL"
HELD = "status = 'held'"
ABSENCE_OPEN = "status = 'no_show' AND absence_handled_at IS NULL"
OFFERED = "status = 'offered'"
CLAIMABLE = "status IN ('pending', 'sending')"

# What the sweep would still close on a session: the same rows as its own query.
CLOSE_ENDED = """
UPDATE sessions SET closed_at = ends_at
WHERE closed_at IS NULL AND ends_at <= :before
  AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.session_id = sessions.id
                  AND r.status IN ('pending', 'checked_in'))
  AND NOT EXISTS (SELECT 1 FROM registration_sessions rs WHERE rs.session_id = sessions.id
                  AND rs.status = 'booked'
                  AND (rs.attendance IS NULL OR rs.attendance = 'checked_in'))
"""


def _now() -> datetime:
    config = op.get_context().config
    given = config.attributes.get("bookbot_now") if config is not None else None
    return given if given is not None else datetime.now(UTC)


def _stored(value: datetime, dialect: str) -> Any:
    """An instant as the application stores it (on SQLite, fixed-width UTC text)."""
    if dialect == "sqlite":
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    return value


def _partial(name: str, table: str, columns: list[str], where: str) -> None:
    op.create_index(
        name, table, columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where)
    )


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    conn = op.get_bind()
    before = _stored(_now() - timedelta(days=1), conn.dialect.name)
    conn.execute(sa.text(CLOSE_ENDED), {"before": before})
    _partial("ix_sessions_unclosed", "sessions", ["ends_at", "id"], UNCLOSED)
    _partial("ix_registrations_held", "registrations", ["held_until", "id"], HELD)
    _partial("ix_reservations_absence_open", "reservations", ["studio_id", "id"], ABSENCE_OPEN)
    _partial("ix_waitlist_entries_offered", "waitlist_entries", ["offer_expires_at", "id"], OFFERED)
    _partial("ix_outbox_claim", "outbox", ["due_at", "id"], CLAIMABLE)
    op.create_index(
        "ix_resource_allocations_registration", "resource_allocations", ["registration_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_resource_allocations_registration", table_name="resource_allocations")
    op.drop_index("ix_outbox_claim", table_name="outbox")
    op.drop_index("ix_waitlist_entries_offered", table_name="waitlist_entries")
    op.drop_index("ix_reservations_absence_open", table_name="reservations")
    op.drop_index("ix_registrations_held", table_name="registrations")
    op.drop_index("ix_sessions_unclosed", table_name="sessions")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
