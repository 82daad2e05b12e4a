"""inbox: every inbound update stored before it is acknowledged; replies routed by address

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:00:00

`inbound_receipts` only remembered ids it had seen, before the work was done, so a crash
lost the work and the redelivery was dropped as a duplicate. Its ids move into `inbox` as
done (a redelivery of one of them is still recognised), and the table goes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status = 'pending'"


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("chat", sa.String(length=96), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'failed', 'throttled')",
            name=op.f("ck_inbox_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("source", "external_id", name=op.f("uq_inbox_source_external_id")),
    )
    op.create_index(
        "ix_inbox_open_chat",
        "inbox",
        ["chat", "id"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_inbox_open", "inbox", ["id"], sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN)
    )
    op.execute(
        "INSERT INTO inbox (source, external_id, chat, payload, received_at, status,"
        " processed_at) SELECT source, external_id, '', '{}', received_at, 'done', received_at"
        " FROM inbound_receipts"
    )
    op.drop_table("inbound_receipts")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("address")
    op.create_table(
        "inbound_receipts",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "external_id", name=op.f("pk_inbound_receipts")),
    )
    op.execute(
        "INSERT INTO inbound_receipts (source, external_id, received_at)"
        " SELECT source, external_id, received_at FROM inbox"
    )
    op.drop_index("ix_inbox_open", table_name="inbox")
    op.drop_index("ix_inbox_open_chat", table_name="inbox")
    op.drop_table("inbox")
