"""holds: seats kept while a customer confirms, with an expiry

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = {
    "registrations": (
        "status IN ('confirmed', 'cancelled')",
        "status IN ('held', 'confirmed', 'cancelled', 'expired')",
    ),
    "registration_sessions": (
        "status IN ('booked', 'cancelled')",
        "status IN ('held', 'booked', 'cancelled')",
    ),
}


def _statuses(old: bool) -> None:
    for table, (before, after) in STATUSES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_status_known"), type_="check")
            batch_op.create_check_constraint(
                op.f(f"ck_{table}_status_known"), sa.text(before if old else after)
            )


def upgrade() -> None:
    with op.batch_alter_table("studios", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hold_minutes", sa.Integer(), server_default="10", nullable=False)
        )
    for table in ("registrations", "registration_sessions", "resource_allocations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("held_until", sa.DateTime(timezone=True), nullable=True))
    _statuses(old=False)
    op.create_index(
        "ix_registration_sessions_held",
        "registration_sessions",
        ["session_id"],
        sqlite_where=sa.text("status = 'held'"),
        postgresql_where=sa.text("status = 'held'"),
    )


def downgrade() -> None:
    op.drop_index("ix_registration_sessions_held", table_name="registration_sessions")
    op.execute("DELETE FROM registrations WHERE status IN ('held', 'expired')")
    _statuses(old=True)
    for table in ("registrations", "registration_sessions", "resource_allocations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("held_until")
    with op.batch_alter_table("studios", schema=None) as batch_op:
        batch_op.drop_column("hold_minutes")
