"""customer lists read upcoming items by index: registrations.last_starts_at and its index

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 11:00:00

"My bookings" joined every one of the customer's bookings to its sessions and only then
kept those still ahead, so its cost grew with the customer's history. Now:

* `registrations.last_starts_at`: the start of the registration's latest session. The
  booking writes it (a live registration's sessions never change: it ends whole, and
  generation never moves or deletes a session with live seats). A registration is upcoming
  while it is after now, past once it is not.
* `ix_registrations_customer_status_start` (studio_id, customer_id, status, last_starts_at,
  id) replaces `ix_registrations_customer` (its first two columns, so every query that used
  it still can): upcoming bookings are one range of it, past ones are read newest first a
  page at a time from a (last_starts_at, id) position, and a customer's holds are one
  equality. One index for all three, so a booking writes no more index entries than before.
* `ix_passes_customer_created` (studio_id, customer_id, created_at, id) replaces
  `ix_passes_customer` in the same way: past passes newest first, by position.
* `ix_passes_customer_usable`: passes still active with punches left (or none to count), by
  `valid_until`, so the passes a customer can use are read without the expired ones.
* `ix_reservations_customer_live`: a customer's pending and checked-in reservations (the
  class end closes them, so it holds only live ones); "check in now" read them by a scan.

Backfill: the latest start among the sessions a registration holds a seat in (booked or
held); for one that has ended, among all its sessions (what it was when it ended).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USABLE = "status = 'active' AND (sessions_remaining IS NULL OR sessions_remaining > 0)"
LIVE = "status IN ('pending', 'checked_in')"

BACKFILL = """
UPDATE registrations SET last_starts_at = (
  SELECT COALESCE(MAX(CASE WHEN rs.status IN ('booked', 'held') THEN s.starts_at END),
                  MAX(s.starts_at))
  FROM registration_sessions rs JOIN sessions s ON s.id = rs.session_id
  WHERE rs.registration_id = registrations.id)
"""


def upgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_starts_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(BACKFILL)
    op.drop_index("ix_registrations_customer", table_name="registrations")
    op.create_index(
        "ix_registrations_customer_status_start",
        "registrations",
        ["studio_id", "customer_id", "status", "last_starts_at", "id"],
    )
    op.drop_index("ix_passes_customer", table_name="passes")
    op.create_index(
        "ix_passes_customer_created", "passes", ["studio_id", "customer_id", "created_at", "id"]
    )
    op.create_index(
        "ix_passes_customer_usable",
        "passes",
        ["studio_id", "customer_id", "valid_until"],
        sqlite_where=sa.text(USABLE),
        postgresql_where=sa.text(USABLE),
    )
    op.create_index(
        "ix_reservations_customer_live",
        "reservations",
        ["studio_id", "customer_id"],
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index("ix_reservations_customer_live", table_name="reservations")
    op.drop_index("ix_passes_customer_usable", table_name="passes")
    op.drop_index("ix_passes_customer_created", table_name="passes")
    op.create_index("ix_passes_customer", "passes", ["studio_id", "customer_id"])
    op.drop_index("ix_registrations_customer_status_start", table_name="registrations")
    op.create_index("ix_registrations_customer", "registrations", ["studio_id", "customer_id"])
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("last_starts_at")
