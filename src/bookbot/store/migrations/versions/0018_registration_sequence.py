"""registrations.sequence: how many times a class booking was moved to another date

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 15:30:00

A booking of one date keeps one calendar event wherever it moves (its UID names the
registration, not the session), so the customer's calendar replaces the old event only if
the new `.ics` carries a higher SEQUENCE (RFC 5545 section 3.8.7.4). The count starts at 0
for every booking made so far.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sequence", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("sequence")
