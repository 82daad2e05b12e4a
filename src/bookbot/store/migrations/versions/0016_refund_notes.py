"""refunds.note: what staff typed as the reason for a refund they asked for

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 10:00:00

A payment may be refunded by staff more than once (a partial refund, then another), so a
staff refund's idempotency key is now `refund:{payment}:staff:{n}`, n counting that
payment's staff refunds. The reason staff typed (`bookbot payments refund --reason`) was
only printed; it is kept here, since `reason` is the machine's category ('staff'). Staff
asking again with the same amount and the same note get the refund already made, so a
command run twice by accident refunds once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("note")
