"""human handoff, privacy, quiet hours, SMS folding and staff activity notices (issue 16)

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 21:30:00

* `studios.quiet_start_minute` / `quiet_end_minute`: local quiet hours (default 21:00-08:00)
  during which non-urgent notices wait; `studios.sms_fold_gsm`: SMS replies folded to GSM-7; `studios.address`: the
  venue a confirmation names.
* `customers.forgotten_at`: set by /forget, which anonymises the row instead of deleting
  what bookings and payments must keep.
* `handoffs` (one open per customer) and `handoff_messages` (a forwarded message in the
  staff chat, so a staff reply to it finds its customer).
* `privacy_audit`: every export and forget, outliving the customer it names;
  `ix_inbox_chat`: a person's latest messages by chat (a handoff's context, /forget).
* `staff_notice_subscriptions` and `staff_notice_events`: who wants to hear of bookings,
  cancellations, waitlist joins and handoffs, at once or in a daily digest.

Self-contained on purpose: definitions are copied here, not imported.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_INSTANT = sa.DateTime(timezone=True)
OPEN = "ended_at IS NULL"


def _fk(table: str, column: str, target: str, ondelete: str | None = "CASCADE") -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _ck(table: str, name: str, sql: str) -> sa.Constraint:
    return sa.CheckConstraint(sql, name=op.f(f"ck_{table}_{name}"))


def _base(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("id", sa.Integer, sa.Identity(), nullable=False),
        sa.Column("studio_id", sa.Integer, nullable=False),
        _fk(table, "studio_id", "studios"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    with op.batch_alter_table("studios", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("quiet_start_minute", sa.Integer, nullable=False, server_default="1260")
        )
        batch_op.add_column(
            sa.Column("quiet_end_minute", sa.Integer, nullable=False, server_default="480")
        )
        batch_op.add_column(
            sa.Column("sms_fold_gsm", sa.Boolean, nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("address", sa.String(300), nullable=True))
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forgotten_at", UTC_INSTANT, nullable=True))

    h = "handoffs"
    op.create_table(
        h,
        *_base(h),
        sa.Column("customer_id", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("started_at", UTC_INSTANT, nullable=False),
        sa.Column("last_activity_at", UTC_INSTANT, nullable=False),
        sa.Column("ended_at", UTC_INSTANT, nullable=True),
        sa.Column("ended_by", sa.String(16), nullable=True),
        _fk(h, "customer_id", "customers"),
        _ck(h, "ended_by_known", "ended_by IS NULL OR ended_by IN ('customer', 'staff', 'timeout')"),
    )
    op.create_index(
        "uq_handoffs_open",
        h,
        ["studio_id", "customer_id"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_handoffs_open_activity",
        h,
        ["last_activity_at"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )

    m = "handoff_messages"
    op.create_table(
        m,
        *_base(m),
        sa.Column("handoff_id", sa.Integer, nullable=False),
        sa.Column("outbox_id", sa.Integer, nullable=True),
        sa.Column("staff_chat_id", sa.BigInteger, nullable=False),
        sa.Column("staff_message_id", sa.BigInteger, nullable=True),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        _fk(m, "handoff_id", "handoffs"),
        _fk(m, "outbox_id", "outbox", "SET NULL"),
        sa.UniqueConstraint(
            "staff_chat_id",
            "staff_message_id",
            name=op.f("uq_handoff_messages_staff_chat_id_staff_message_id"),
        ),
    )
    op.create_index("ix_handoff_messages_handoff", m, ["handoff_id"])
    op.create_index("ix_handoff_messages_outbox", m, ["outbox_id"])

    p = "privacy_audit"
    op.create_table(
        p,
        *_base(p),
        sa.Column("customer_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("at", UTC_INSTANT, nullable=False),
        _ck(p, "action_known", "action IN ('export', 'forget')"),
    )
    op.create_index("ix_privacy_audit_studio_at", p, ["studio_id", "at"])
    op.create_index("ix_inbox_chat", "inbox", ["chat", "id"])

    s = "staff_notice_subscriptions"
    op.create_table(
        s,
        *_base(s),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("events", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        _ck(s, "mode_known", "mode IN ('instant', 'digest')"),
        sa.UniqueConstraint(
            "studio_id",
            "channel",
            "address",
            name=op.f("uq_staff_notice_subscriptions_studio_id_channel_address"),
        ),
    )

    e = "staff_notice_events"
    op.create_table(
        e,
        *_base(e),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("params", sa.Text, nullable=False, server_default="{}"),
        sa.Column("at", UTC_INSTANT, nullable=False),
        _ck(e, "kind_known", "kind IN ('booking', 'cancellation', 'waitlist', 'handoff')"),
    )
    op.create_index("ix_staff_notice_events_studio_at", e, ["studio_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_inbox_chat", table_name="inbox")
    for table in (
        "staff_notice_events",
        "staff_notice_subscriptions",
        "privacy_audit",
        "handoff_messages",
        "handoffs",
    ):
        op.drop_table(table)
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("forgotten_at")
    with op.batch_alter_table("studios", schema=None) as batch_op:
        batch_op.drop_column("address")
        batch_op.drop_column("sms_fold_gsm")
        batch_op.drop_column("quiet_end_minute")
        batch_op.drop_column("quiet_start_minute")
