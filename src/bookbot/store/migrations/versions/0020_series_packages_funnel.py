"""recurring bookings, availability conflicts, lesson packages and the booking funnel (issue 15)

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 18:00:00

* `recurring_bookings`: a member's series (weekday and local start time in a zone, every 1
  or 2 weeks, from a date until a date or indefinitely), with how far it is materialised and
  when the daily job extends it next (a partial index holds the active ones by that time).
  `recurring_skips`: a series date with no appointment and why (paused, blocked,
  unavailable, clash), written once.
* `appointments.recurring_booking_id` and `appointments.occurrence_date`: the series date an
  occurrence stands for, unique per series; `origin` is checked ('one_time', 'recurring').
* `appointment_conflicts`: future appointments a change of availability left outside the
  hours or inside a block, kept until staff cancel or keep them (one open per appointment).
* `package_offers`, `packages`, `package_redemptions`, `package_adjustments`: N sessions or
  M minutes of a service with an expiry, what each appointment took, and every hand change.
* `payments.package_id` and the purpose 'package'; a payment still has at most one owner.
* `funnel_events`: view, started, completed and abandoned steps per channel and item.

Self-contained on purpose: definitions are copied here, not imported.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_INSTANT = sa.DateTime(timezone=True)
ACTIVE = "status = 'active'"
OPEN = "resolved_at IS NULL"
REDEEMED = "status = 'redeemed'"
IN_SERIES = "recurring_booking_id IS NOT NULL"
OLD_ONE_OWNER = (
    "(CASE WHEN registration_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN pass_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN appointment_id IS NULL THEN 0 ELSE 1 END) <= 1"
)
ONE_OWNER = (
    "(CASE WHEN registration_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN pass_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN appointment_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN package_id IS NULL THEN 0 ELSE 1 END) <= 1"
)
OLD_PURPOSES = "purpose IN ('full', 'deposit', 'balance', 'pass', 'invoice')"
PURPOSES = "purpose IN ('full', 'deposit', 'balance', 'pass', 'invoice', 'package')"


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


def _partial_index(
    name: str, table: str, columns: list[str], where: str, *, unique: bool = False
) -> None:
    op.create_index(
        name,
        table,
        columns,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
        unique=unique,
    )


def upgrade() -> None:
    _series()
    _conflicts()
    _packages()
    _funnel()


def _series() -> None:
    t = "recurring_bookings"
    op.create_table(
        t,
        *_base(t),
        sa.Column("customer_id", sa.Integer, nullable=False),
        sa.Column("service_id", sa.Integer, nullable=False),
        sa.Column("staff_id", sa.Integer, nullable=False),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("start_time", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("interval_weeks", sa.Integer, nullable=False, server_default="1"),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=True),
        sa.Column("guest_count", sa.Integer, nullable=False, server_default="1"),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("source", sa.String(16), nullable=False, server_default="chat"),
        sa.Column("materialized_until", sa.Date, nullable=True),
        sa.Column("next_extension_at", UTC_INSTANT, nullable=True),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        sa.Column("ended_at", UTC_INSTANT, nullable=True),
        sa.Column("end_reason", sa.String(500), nullable=False, server_default=""),
        _fk(t, "customer_id", "customers"),
        _fk(t, "service_id", "services", None),
        _fk(t, "staff_id", "staff", None),
        _ck(t, "status_known", "status IN ('active', 'ended')"),
        _ck(t, "weekday_range", "weekday BETWEEN 0 AND 6"),
        _ck(t, "interval_known", "interval_weeks IN (1, 2)"),
        _ck(t, "ends_after_start", "ends_on IS NULL OR ends_on >= starts_on"),
        _ck(t, "guest_count_positive", "guest_count >= 1"),
        _ck(t, "source_known", "source IN ('chat', 'cli')"),
    )
    op.create_index("ix_recurring_bookings_customer", t, ["studio_id", "customer_id", "status"])
    op.create_index("ix_recurring_bookings_staff", t, ["staff_id", "status"])
    _partial_index("ix_recurring_bookings_due", t, ["next_extension_at", "id"], ACTIVE)

    s = "recurring_skips"
    op.create_table(
        s,
        *_base(s),
        sa.Column("recurring_booking_id", sa.Integer, nullable=False),
        sa.Column("on_date", sa.Date, nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False, server_default=""),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        _fk(s, "recurring_booking_id", "recurring_bookings"),
        _ck(s, "reason_known", "reason IN ('paused', 'blocked', 'unavailable', 'clash')"),
        sa.UniqueConstraint(
            "recurring_booking_id",
            "on_date",
            name=op.f("uq_recurring_skips_recurring_booking_id_on_date"),
        ),
    )

    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recurring_booking_id", sa.Integer, nullable=True))
        batch_op.add_column(sa.Column("occurrence_date", sa.Date, nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_appointments_recurring_booking_id_recurring_bookings"),
            "recurring_bookings",
            ["recurring_booking_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint(
            op.f("ck_appointments_origin_known"), "origin IN ('one_time', 'recurring')"
        )
        batch_op.create_check_constraint(
            op.f("ck_appointments_origin_matches_series"),
            "(origin = 'recurring') = (occurrence_date IS NOT NULL)",
        )
    _partial_index(
        "uq_appointments_occurrence",
        "appointments",
        ["recurring_booking_id", "occurrence_date"],
        IN_SERIES,
        unique=True,
    )


def _conflicts() -> None:
    t = "appointment_conflicts"
    op.create_table(
        t,
        *_base(t),
        sa.Column("appointment_id", sa.Integer, nullable=False),
        sa.Column("staff_id", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("detected_at", UTC_INSTANT, nullable=False),
        sa.Column("notified_at", UTC_INSTANT, nullable=True),
        sa.Column("resolved_at", UTC_INSTANT, nullable=True),
        sa.Column("resolution", sa.String(16), nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=False, server_default=""),
        _fk(t, "appointment_id", "appointments"),
        _fk(t, "staff_id", "staff"),
        _ck(t, "reason_known", "reason IN ('outside_hours', 'blocked')"),
        _ck(
            t,
            "resolution_known",
            "resolution IS NULL OR resolution IN ('kept', 'cancelled', 'cleared')",
        ),
        _ck(t, "resolved_has_resolution", "(resolved_at IS NULL) = (resolution IS NULL)"),
    )
    _partial_index("uq_appointment_conflicts_open", t, ["appointment_id"], OPEN, unique=True)
    _partial_index("ix_appointment_conflicts_staff_open", t, ["studio_id", "staff_id"], OPEN)


def _packages() -> None:
    o = "package_offers"
    op.create_table(
        o,
        *_base(o),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("service_id", sa.Integer, nullable=False),
        sa.Column("sessions", sa.Integer, nullable=True),
        sa.Column("minutes", sa.Integer, nullable=True),
        sa.Column("price_minor", sa.Integer, nullable=False),
        sa.Column("valid_days", sa.Integer, nullable=False),
        sa.Column("payment", sa.String(16), nullable=False, server_default="either"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        _fk(o, "service_id", "services"),
        sa.UniqueConstraint("studio_id", "key", name=op.f("uq_package_offers_studio_id_key")),
        _ck(
            o,
            "sessions_or_minutes",
            "(sessions IS NULL) <> (minutes IS NULL) AND COALESCE(sessions, minutes) > 0",
        ),
        _ck(o, "price_not_negative", "price_minor >= 0"),
        _ck(o, "valid_days_positive", "valid_days > 0"),
        _ck(o, "payment_known", "payment IN ('online', 'at_studio', 'either')"),
    )

    p = "packages"
    op.create_table(
        p,
        *_base(p),
        sa.Column("customer_id", sa.Integer, nullable=False),
        sa.Column("offer_id", sa.Integer, nullable=True),
        sa.Column("service_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sessions_total", sa.Integer, nullable=True),
        sa.Column("sessions_remaining", sa.Integer, nullable=True),
        sa.Column("minutes_total", sa.Integer, nullable=True),
        sa.Column("minutes_remaining", sa.Integer, nullable=True),
        sa.Column("expires_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payment", sa.String(16), nullable=False),
        sa.Column("price_minor", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        sa.Column("updated_at", UTC_INSTANT, nullable=False),
        _fk(p, "customer_id", "customers"),
        _fk(p, "offer_id", "package_offers", "SET NULL"),
        _fk(p, "service_id", "services"),
        _ck(p, "status_known", "status IN ('pending_payment', 'active', 'cancelled')"),
        _ck(p, "payment_known", "payment IN ('online', 'at_studio', 'staff_issued')"),
        _ck(p, "sessions_or_minutes", "(sessions_total IS NULL) <> (minutes_total IS NULL)"),
        _ck(
            p,
            "balance_of_its_kind",
            "(sessions_total IS NULL) = (sessions_remaining IS NULL)"
            " AND (minutes_total IS NULL) = (minutes_remaining IS NULL)",
        ),
        _ck(
            p,
            "balance_not_negative",
            "COALESCE(sessions_remaining, 0) >= 0 AND COALESCE(minutes_remaining, 0) >= 0",
        ),
    )
    op.create_index("ix_packages_customer", p, ["studio_id", "customer_id", "status", "expires_on"])

    r = "package_redemptions"
    op.create_table(
        r,
        *_base(r),
        sa.Column("package_id", sa.Integer, nullable=False),
        sa.Column("appointment_id", sa.Integer, nullable=False),
        sa.Column("sessions", sa.Integer, nullable=False, server_default="0"),
        sa.Column("minutes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", sa.String(16), nullable=False, server_default="redeemed"),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        sa.Column("restored_at", UTC_INSTANT, nullable=True),
        _fk(r, "package_id", "packages"),
        _fk(r, "appointment_id", "appointments"),
        _ck(r, "status_known", "status IN ('redeemed', 'restored')"),
        _ck(r, "amounts_not_negative", "sessions >= 0 AND minutes >= 0"),
    )
    op.create_index("ix_package_redemptions_package", r, ["package_id"])
    _partial_index("uq_package_redemptions_live", r, ["appointment_id"], REDEEMED, unique=True)

    a = "package_adjustments"
    op.create_table(
        a,
        *_base(a),
        sa.Column("package_id", sa.Integer, nullable=False),
        sa.Column("sessions_delta", sa.Integer, nullable=False, server_default="0"),
        sa.Column("minutes_delta", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        _fk(a, "package_id", "packages"),
        _ck(a, "reason_given", "reason <> ''"),
    )
    op.create_index("ix_package_adjustments_package", a, ["package_id"])

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("package_id", sa.Integer, nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_payments_package_id_packages"),
            "packages",
            ["package_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.drop_constraint(op.f("ck_payments_one_owner"), type_="check")
        batch_op.create_check_constraint(op.f("ck_payments_one_owner"), ONE_OWNER)
        batch_op.drop_constraint(op.f("ck_payments_purpose_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_payments_purpose_known"), PURPOSES)
        batch_op.create_index("ix_payments_package", ["package_id"], unique=False)


def _funnel() -> None:
    f = "funnel_events"
    op.create_table(
        f,
        *_base(f),
        sa.Column("at", UTC_INSTANT, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("item_kind", sa.String(16), nullable=False),
        sa.Column("item_key", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.Integer, nullable=True),
        _fk(f, "customer_id", "customers", "SET NULL"),
        _ck(f, "step_known", "step IN ('view', 'started', 'completed', 'abandoned')"),
        _ck(f, "item_kind_known", "item_kind IN ('class', 'service', 'pass', 'package')"),
    )
    op.create_index("ix_funnel_events_studio_at", f, ["studio_id", "at"])
    op.create_index("ix_funnel_events_customer", f, ["customer_id"])


def downgrade() -> None:
    op.drop_table("funnel_events")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_package")
        batch_op.drop_constraint(op.f("ck_payments_purpose_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_payments_purpose_known"), OLD_PURPOSES)
        batch_op.drop_constraint(op.f("ck_payments_one_owner"), type_="check")
        batch_op.create_check_constraint(op.f("ck_payments_one_owner"), OLD_ONE_OWNER)
        batch_op.drop_constraint(op.f("fk_payments_package_id_packages"), type_="foreignkey")
        batch_op.drop_column("package_id")
    for table in (
        "package_adjustments",
        "package_redemptions",
        "packages",
        "package_offers",
        "appointment_conflicts",
    ):
        op.drop_table(table)
    op.drop_index("uq_appointments_occurrence", table_name="appointments")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_appointments_origin_matches_series"), type_="check")
        batch_op.drop_constraint(op.f("ck_appointments_origin_known"), type_="check")
        batch_op.drop_constraint(
            op.f("fk_appointments_recurring_booking_id_recurring_bookings"), type_="foreignkey"
        )
        batch_op.drop_column("occurrence_date")
        batch_op.drop_column("recurring_booking_id")
    op.drop_table("recurring_skips")
    op.drop_table("recurring_bookings")
