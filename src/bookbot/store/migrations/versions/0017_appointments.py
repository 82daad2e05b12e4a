"""appointments: services, staff availability and one-to-one appointments (issue 14)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 09:00:00

* `staff.timezone` (NULL: the studio's zone) and `staff.calendar_token` (the secret of the
  staff member's iCalendar feed).
* `services` and `service_staff`: what may be booked one-to-one, and with whom.
* `availability_windows` (weekly wall-time hours), `availability_overrides` (a date's own
  hours; one row without times: unavailable), `availability_blocks` and
  `availability_additions` (UTC instants). `source` says who wrote a row: the studio file's
  rows ('file') are replaced when it is loaded again, chat's and the CLI's are kept.
* `appointments`, with their busy footprint (buffers included). On PostgreSQL an exclusion
  constraint (btree_gist) refuses two live appointments of one staff member that overlap.

Self-contained on purpose: definitions are copied here, not imported.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_INSTANT = sa.DateTime(timezone=True)
SOURCES = "source IN ('file', 'chat', 'cli')"
HELD = "status = 'held'"
CONFIRMED = "status = 'confirmed'"
APPOINTMENT_STATUSES = (
    "status IN ('held', 'confirmed', 'cancelled_by_customer', 'cancelled_by_staff', 'no_show',"
    " 'completed', 'expired')"
)
NO_OVERLAP = (
    "ALTER TABLE appointments ADD CONSTRAINT appointments_no_overlap"
    " EXCLUDE USING gist (staff_id WITH =, tstzrange(busy_from, busy_until) WITH &&)"
    " WHERE (status IN ('held', 'confirmed'))"
)


def _fk(table: str, column: str, target: str, ondelete: str | None = "CASCADE") -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _owned(table: str) -> list[sa.schema.SchemaItem]:
    """The id, studio and staff member of an availability row, with their keys."""
    return [
        sa.Column("id", sa.Integer, sa.Identity(), nullable=False),
        sa.Column("studio_id", sa.Integer, nullable=False),
        sa.Column("staff_id", sa.Integer, nullable=False),
        _fk(table, "studio_id", "studios"),
        _fk(table, "staff_id", "staff"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.CheckConstraint(SOURCES, name=op.f(f"ck_{table}_source_known")),
    ]


def upgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("calendar_token", sa.String(64), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_staff_calendar_token"), ["calendar_token"])
    op.create_table(
        "services",
        sa.Column("id", sa.Integer, sa.Identity(), nullable=False),
        sa.Column("studio_id", sa.Integer, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        sa.Column("price_minor", sa.Integer, nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("buffer_after_minutes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("step_minutes", sa.Integer, nullable=False, server_default="15"),
        sa.Column("min_notice_minutes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("horizon_days", sa.Integer, nullable=False, server_default="60"),
        sa.Column("capacity", sa.Integer, nullable=False, server_default="1"),
        sa.Column("location", sa.String(200), nullable=False, server_default=""),
        sa.Column("online", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("meeting_url", sa.String(500), nullable=False, server_default=""),
        sa.Column("reschedule_cutoff_hours", sa.Integer, nullable=False, server_default="24"),
        sa.Column("cancellation_cutoff_hours", sa.Integer, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_services_duration_positive")),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_services_price_not_negative")),
        sa.CheckConstraint(
            "buffer_before_minutes >= 0 AND buffer_after_minutes >= 0",
            name=op.f("ck_services_buffers_not_negative"),
        ),
        sa.CheckConstraint("step_minutes > 0", name=op.f("ck_services_step_positive")),
        sa.CheckConstraint("capacity >= 1", name=op.f("ck_services_capacity_positive")),
        _fk("services", "studio_id", "studios"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("studio_id", "key", name=op.f("uq_services_studio_id_key")),
    )
    op.create_table(
        "service_staff",
        sa.Column("studio_id", sa.Integer, nullable=False),
        sa.Column("service_id", sa.Integer, nullable=False),
        sa.Column("staff_id", sa.Integer, nullable=False),
        _fk("service_staff", "studio_id", "studios"),
        _fk("service_staff", "service_id", "services"),
        _fk("service_staff", "staff_id", "staff"),
        sa.PrimaryKeyConstraint("service_id", "staff_id", name=op.f("pk_service_staff")),
    )
    op.create_index("ix_service_staff_staff", "service_staff", ["staff_id"])
    op.create_table(
        "availability_windows",
        *_owned("availability_windows"),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("start_time", sa.String(5), nullable=False),
        sa.Column("end_time", sa.String(5), nullable=False),
        sa.Column("room", sa.String(200), nullable=False, server_default=""),
        sa.Column("individual", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("group_ok", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("source", sa.String(16), nullable=False, server_default="file"),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6", name=op.f("ck_availability_windows_weekday_range")
        ),
        sa.CheckConstraint(
            "end_time > start_time", name=op.f("ck_availability_windows_ends_after_start")
        ),
    )
    op.create_index(
        "ix_availability_windows_staff", "availability_windows", ["staff_id", "weekday"]
    )
    op.create_table(
        "availability_overrides",
        *_owned("availability_overrides"),
        sa.Column("on_date", sa.Date, nullable=False),
        sa.Column("start_time", sa.String(5), nullable=True),
        sa.Column("end_time", sa.String(5), nullable=True),
        sa.Column("room", sa.String(200), nullable=False, server_default=""),
        sa.Column("individual", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("group_ok", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("source", sa.String(16), nullable=False, server_default="file"),
        sa.CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL) OR end_time > start_time",
            name=op.f("ck_availability_overrides_times_paired"),
        ),
    )
    op.create_index(
        "ix_availability_overrides_staff", "availability_overrides", ["staff_id", "on_date"]
    )
    for table, extra in (
        ("availability_blocks", []),
        (
            "availability_additions",
            [sa.Column("room", sa.String(200), nullable=False, server_default="")],
        ),
    ):
        op.create_table(
            table,
            *_owned(table),
            sa.Column("starts_at", UTC_INSTANT, nullable=False),
            sa.Column("ends_at", UTC_INSTANT, nullable=False),
            *extra,
            sa.Column("reason", sa.String(200), nullable=False, server_default=""),
            sa.Column("source", sa.String(16), nullable=False, server_default="file"),
            sa.CheckConstraint("ends_at > starts_at", name=op.f(f"ck_{table}_ends_after_start")),
        )
        op.create_index(f"ix_{table}_staff", table, ["staff_id", "ends_at"])
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer, sa.Identity(), nullable=False),
        sa.Column("studio_id", sa.Integer, nullable=False),
        sa.Column("service_id", sa.Integer, nullable=False),
        sa.Column("staff_id", sa.Integer, nullable=False),
        sa.Column("customer_id", sa.Integer, nullable=False),
        sa.Column("starts_at", UTC_INSTANT, nullable=False),
        sa.Column("ends_at", UTC_INSTANT, nullable=False),
        sa.Column("busy_from", UTC_INSTANT, nullable=False),
        sa.Column("busy_until", UTC_INSTANT, nullable=False),
        sa.Column("guest_count", sa.Integer, nullable=False, server_default="1"),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("held_until", UTC_INSTANT, nullable=True),
        sa.Column("price_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False, server_default="one_time"),
        sa.Column("meeting_url", sa.String(500), nullable=False, server_default=""),
        sa.Column("sequence", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cancel_reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        sa.Column("updated_at", UTC_INSTANT, nullable=False),
        sa.Column("cancelled_at", UTC_INSTANT, nullable=True),
        sa.CheckConstraint(APPOINTMENT_STATUSES, name=op.f("ck_appointments_status_known")),
        sa.CheckConstraint("guest_count >= 1", name=op.f("ck_appointments_guest_count_positive")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_appointments_ends_after_start")),
        sa.CheckConstraint(
            "busy_from <= starts_at AND busy_until >= ends_at",
            name=op.f("ck_appointments_busy_covers_appointment"),
        ),
        sa.CheckConstraint(
            "status <> 'held' OR held_until IS NOT NULL",
            name=op.f("ck_appointments_hold_has_expiry"),
        ),
        _fk("appointments", "studio_id", "studios"),
        _fk("appointments", "service_id", "services", ondelete=None),
        _fk("appointments", "staff_id", "staff", ondelete=None),
        _fk("appointments", "customer_id", "customers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    op.create_index("ix_appointments_staff_busy", "appointments", ["staff_id", "busy_from"])
    op.create_index(
        "ix_appointments_customer",
        "appointments",
        ["studio_id", "customer_id", "status", "starts_at"],
    )
    op.create_index(
        "ix_appointments_held",
        "appointments",
        ["held_until"],
        sqlite_where=sa.text(HELD),
        postgresql_where=sa.text(HELD),
    )
    op.create_index(
        "ix_appointments_confirmed_end",
        "appointments",
        ["ends_at"],
        sqlite_where=sa.text(CONFIRMED),
        postgresql_where=sa.text(CONFIRMED),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(NO_OVERLAP)


def downgrade() -> None:
    # The exclusion constraint (PostgreSQL) goes with its table; btree_gist stays installed.
    op.drop_index("ix_appointments_confirmed_end", table_name="appointments")
    op.drop_index("ix_appointments_held", table_name="appointments")
    op.drop_index("ix_appointments_customer", table_name="appointments")
    op.drop_index("ix_appointments_staff_busy", table_name="appointments")
    op.drop_table("appointments")
    for table in (
        "availability_additions",
        "availability_blocks",
        "availability_overrides",
        "availability_windows",
    ):
        op.drop_index(f"ix_{table}_staff", table_name=table)
        op.drop_table(table)
    op.drop_index("ix_service_staff_staff", table_name="service_staff")
    op.drop_table("service_staff")
    op.drop_table("services")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_staff_calendar_token"), type_="unique")
        batch_op.drop_column("calendar_token")
        batch_op.drop_column("timezone")
