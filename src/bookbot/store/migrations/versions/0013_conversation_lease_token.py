"""conversations.lease_token: which hold of a dialogue's lease may save it

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 10:00:00

The lease on a dialogue was a time only: a worker whose turn outlived it (30 s) could
still write its copy of the dialogue over the one the next holder saved. Each hold now
writes a random token with the lease, and saving or releasing changes the row only while
that token is still there. Rows leased at migration time have no token: their lease runs
out as before and the next claim writes one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("lease_token")
