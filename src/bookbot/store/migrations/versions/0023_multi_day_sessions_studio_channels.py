"""multi-day sessions, day attendance, studios' own bots and numbers (issue 17)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 00:20:00

* `sessions.days`, `schedule_patterns.days`: a session over several consecutive days, one
  capacity and one booking; `session_days` holds each day's start and end.
* `day_attendance`: attendance per booked session per day.
* `studio_channels`: a studio's own Telegram bot or Twilio number, which routes what
  arrives there to that studio alone.
* `conversations.endpoint` and `channel_opt_outs.endpoint`: which of our bots or numbers a
  person writes to ('' = the deployment's default), part of their keys.
* `ix_sessions_closed` made partial (closed_at IS NOT NULL), so SQLite keeps the closing
  sweep's "closed_at IS NULL" on ix_sessions_unclosed; `ix_waitlist_entries_customer_live`:
  a customer's live waitlist places (My bookings). Both here, not in 0022, which had landed.

Self-contained on purpose: definitions are copied here, not imported.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_INSTANT = sa.DateTime(timezone=True)
DAYS_RANGE = "days BETWEEN 1 AND 31"
CLOSED = "closed_at IS NOT NULL"
LIVE = "status IN ('waiting', 'offered')"


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
    op.drop_index("ix_sessions_closed", table_name="sessions")
    op.create_index(
        "ix_sessions_closed",
        "sessions",
        ["closed_at", "id"],
        sqlite_where=sa.text(CLOSED),
        postgresql_where=sa.text(CLOSED),
    )
    op.create_index(
        "ix_waitlist_entries_customer_live",
        "waitlist_entries",
        ["studio_id", "customer_id"],
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )

    for table in ("sessions", "schedule_patterns"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("days", sa.Integer, nullable=False, server_default="1"))
            batch_op.create_check_constraint(op.f(f"ck_{table}_days_range"), DAYS_RANGE)

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("endpoint", sa.String(64), nullable=False, server_default=""))
        batch_op.drop_constraint(op.f("uq_conversations_channel_address"), type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_conversations_channel_endpoint_address"), ["channel", "endpoint", "address"]
        )

    with op.batch_alter_table("channel_opt_outs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("endpoint", sa.String(64), nullable=False, server_default=""))
        batch_op.drop_constraint(op.f("pk_channel_opt_outs"), type_="primary")
        batch_op.create_primary_key(op.f("pk_channel_opt_outs"), ["channel", "endpoint", "address"])

    d = "session_days"
    op.create_table(
        d,
        *_base(d),
        sa.Column("session_id", sa.Integer, nullable=False),
        sa.Column("day_number", sa.Integer, nullable=False),
        sa.Column("local_date", sa.Date, nullable=False),
        sa.Column("starts_at", UTC_INSTANT, nullable=False),
        sa.Column("ends_at", UTC_INSTANT, nullable=False),
        _fk(d, "session_id", "sessions"),
        _ck(d, "day_positive", "day_number >= 1"),
        _ck(d, "ends_after_start", "ends_at > starts_at"),
        sa.UniqueConstraint(
            "session_id", "day_number", name=op.f("uq_session_days_session_id_day_number")
        ),
    )
    op.create_index("ix_session_days_studio_starts", d, ["studio_id", "starts_at"])

    a = "day_attendance"
    op.create_table(
        a,
        *_base(a),
        sa.Column("registration_session_id", sa.Integer, nullable=False),
        sa.Column("session_id", sa.Integer, nullable=False),
        sa.Column("day_number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("marked_at", UTC_INSTANT, nullable=False),
        sa.Column("marked_by", sa.Integer, nullable=True),
        _fk(a, "registration_session_id", "registration_sessions"),
        _fk(a, "session_id", "sessions"),
        _fk(a, "marked_by", "staff", "SET NULL"),
        _ck(a, "status_known", "status IN ('attended', 'absent')"),
        sa.UniqueConstraint(
            "registration_session_id",
            "day_number",
            name=op.f("uq_day_attendance_registration_session_id_day_number"),
        ),
    )
    op.create_index("ix_day_attendance_session_day", a, ["session_id", "day_number"])

    c = "studio_channels"
    op.create_table(
        c,
        *_base(c),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("token_env", sa.String(100), nullable=True),
        sa.Column("token", sa.String(200), nullable=True),
        _ck(c, "channel_known", "channel IN ('telegram', 'sms', 'whatsapp')"),
        _ck(c, "one_token_source", "token_env IS NULL OR token IS NULL"),
        sa.UniqueConstraint("channel", "address", name=op.f("uq_studio_channels_channel_address")),
    )
    op.create_index("ix_studio_channels_studio", c, ["studio_id"])


def downgrade() -> None:
    op.drop_index("ix_studio_channels_studio", table_name="studio_channels")
    op.drop_table("studio_channels")
    op.drop_index("ix_day_attendance_session_day", table_name="day_attendance")
    op.drop_table("day_attendance")
    op.drop_index("ix_session_days_studio_starts", table_name="session_days")
    op.drop_table("session_days")
    op.execute("DELETE FROM channel_opt_outs WHERE endpoint <> ''")
    with op.batch_alter_table("channel_opt_outs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("pk_channel_opt_outs"), type_="primary")
        batch_op.create_primary_key(op.f("pk_channel_opt_outs"), ["channel", "address"])
        batch_op.drop_column("endpoint")
    op.execute("DELETE FROM conversations WHERE endpoint <> ''")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_conversations_channel_endpoint_address"), type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_conversations_channel_address"), ["channel", "address"]
        )
        batch_op.drop_column("endpoint")
    for table in ("schedule_patterns", "sessions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_days_range"), type_="check")
            batch_op.drop_column("days")
    op.drop_index("ix_waitlist_entries_customer_live", table_name="waitlist_entries")
    op.drop_index("ix_sessions_closed", table_name="sessions")
    op.create_index("ix_sessions_closed", "sessions", ["closed_at", "id"])
