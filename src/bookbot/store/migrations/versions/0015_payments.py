"""payments: per-class payment policy, payments and refunds

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 09:00:00

Customers pay in chat through Stripe Checkout (issue 13):

* `classes`: how a class is paid (`payment`: online, at_studio, either), the deposit it
  allows (`deposit_percent`, NULL for none) and when its balance is due
  (`balance_due_days` before the first session), whether a company may be invoiced
  (`company_billing`, `invoice_days_until_due`), and what a customer cancelling after the
  cutoff gets back (`refund_after_cutoff_percent`, `deposit_refundable`).
* `studios.payment_hold_minutes`: how long a hold awaiting payment lasts (the Checkout
  Session's expiry: Stripe allows 30 minutes to 24 hours); `studios.staff_chat_id`: the
  Telegram chat told of new paid bookings and of payments that need a person.
* `payments`: one row per amount asked of a customer (full, deposit, balance, pass,
  invoice), its status, and Stripe's ids. Partial indexes: pending ones by `expires_at`
  (reconciliation), scheduled balances by `due_at` (the balance job).
* `refunds`: each refund asked of Stripe, unique per idempotency key.

Self-contained on purpose: definitions are copied here, not imported.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_INSTANT = sa.DateTime(timezone=True)
PENDING = "status = 'pending'"
SCHEDULED = "status = 'scheduled'"
PAYMENT_STATUSES = (
    "status IN ('scheduled', 'pending', 'paid', 'failed', 'expired', 'cancelled', 'invoiced',"
    " 'refunded', 'partially_refunded')"
)


def upgrade() -> None:
    with op.batch_alter_table("classes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("payment", sa.String(16), nullable=False, server_default="at_studio")
        )
        batch_op.add_column(sa.Column("deposit_percent", sa.Integer, nullable=True))
        batch_op.add_column(
            sa.Column("balance_due_days", sa.Integer, nullable=False, server_default="7")
        )
        batch_op.add_column(
            sa.Column("company_billing", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("invoice_days_until_due", sa.Integer, nullable=False, server_default="14")
        )
        batch_op.add_column(
            sa.Column("refund_after_cutoff_percent", sa.Integer, nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("deposit_refundable", sa.Boolean, nullable=False, server_default=sa.true())
        )
        batch_op.create_check_constraint(
            op.f("ck_classes_payment_known"), "payment IN ('online', 'at_studio', 'either')"
        )
        batch_op.create_check_constraint(
            op.f("ck_classes_deposit_percent_range"),
            "deposit_percent IS NULL OR (deposit_percent BETWEEN 1 AND 99)",
        )
        batch_op.create_check_constraint(
            op.f("ck_classes_refund_percent_range"), "refund_after_cutoff_percent BETWEEN 0 AND 100"
        )
    with op.batch_alter_table("studios", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("payment_hold_minutes", sa.Integer, nullable=False, server_default="30")
        )
        batch_op.add_column(sa.Column("staff_chat_id", sa.BigInteger, nullable=True))
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer, sa.Identity(), nullable=False),
        sa.Column("studio_id", sa.Integer, nullable=False),
        sa.Column("customer_id", sa.Integer, nullable=False),
        sa.Column("registration_id", sa.Integer, nullable=True),
        sa.Column("pass_id", sa.Integer, nullable=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("refunded_minor", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
        sa.Column("due_at", UTC_INSTANT, nullable=True),
        sa.Column("reminded_at", UTC_INSTANT, nullable=True),
        sa.Column("expires_at", UTC_INSTANT, nullable=True),
        sa.Column("stripe_session_id", sa.String(128), nullable=True),
        sa.Column("stripe_payment_intent", sa.String(128), nullable=True),
        sa.Column("stripe_invoice_id", sa.String(128), nullable=True),
        sa.Column("checkout_url", sa.Text, nullable=True),
        sa.Column("receipt_url", sa.Text, nullable=True),
        sa.Column("company_name", sa.String(200), nullable=True),
        sa.Column("billing_email", sa.String(200), nullable=True),
        sa.Column("po_number", sa.String(100), nullable=True),
        sa.Column("paid_at", UTC_INSTANT, nullable=True),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        sa.Column("updated_at", UTC_INSTANT, nullable=False),
        sa.CheckConstraint(
            "purpose IN ('full', 'deposit', 'balance', 'pass', 'invoice')",
            name=op.f("ck_payments_purpose_known"),
        ),
        sa.CheckConstraint(PAYMENT_STATUSES, name=op.f("ck_payments_status_known")),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_payments_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["studio_id"],
            ["studios.id"],
            name=op.f("fk_payments_studio_id_studios"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_payments_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_payments_registration_id_registrations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["pass_id"], ["passes.id"], name=op.f("fk_payments_pass_id_passes"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("stripe_session_id", name=op.f("uq_payments_stripe_session_id")),
        sa.UniqueConstraint("stripe_invoice_id", name=op.f("uq_payments_stripe_invoice_id")),
    )
    op.create_index(
        "ix_payments_pending",
        "payments",
        ["expires_at", "id"],
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )
    op.create_index(
        "ix_payments_scheduled",
        "payments",
        ["due_at", "id"],
        sqlite_where=sa.text(SCHEDULED),
        postgresql_where=sa.text(SCHEDULED),
    )
    op.create_index("ix_payments_registration", "payments", ["registration_id"])
    op.create_index("ix_payments_pass", "payments", ["pass_id"])
    op.create_index("ix_payments_studio_created", "payments", ["studio_id", "created_at"])
    op.create_index("ix_payments_customer", "payments", ["studio_id", "customer_id", "created_at"])
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer, sa.Identity(), nullable=False),
        sa.Column("studio_id", sa.Integer, nullable=False),
        sa.Column("payment_id", sa.Integer, nullable=False),
        sa.Column("amount_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stripe_refund_id", sa.String(128), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        sa.Column("updated_at", UTC_INSTANT, nullable=False),
        sa.CheckConstraint(
            "reason IN ('customer_cancel', 'staff_cancel', 'late_payment', 'amount_mismatch',"
            " 'staff')",
            name=op.f("ck_refunds_reason_known"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed')", name=op.f("ck_refunds_status_known")
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["studio_id"],
            ["studios.id"],
            name=op.f("fk_refunds_studio_id_studios"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_refunds_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("stripe_refund_id", name=op.f("uq_refunds_stripe_refund_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_refunds_idempotency_key")),
    )
    op.create_index("ix_refunds_payment", "refunds", ["payment_id"])
    op.create_index("ix_refunds_studio_created", "refunds", ["studio_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_refunds_studio_created", table_name="refunds")
    op.drop_index("ix_refunds_payment", table_name="refunds")
    op.drop_table("refunds")
    for name in (
        "ix_payments_customer",
        "ix_payments_studio_created",
        "ix_payments_pass",
        "ix_payments_registration",
        "ix_payments_scheduled",
        "ix_payments_pending",
    ):
        op.drop_index(name, table_name="payments")
    op.drop_table("payments")
    with op.batch_alter_table("studios", schema=None) as batch_op:
        batch_op.drop_column("staff_chat_id")
        batch_op.drop_column("payment_hold_minutes")
    with op.batch_alter_table("classes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_classes_refund_percent_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_classes_deposit_percent_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_classes_payment_known"), type_="check")
        for column in (
            "deposit_refundable",
            "refund_after_cutoff_percent",
            "invoice_days_until_due",
            "company_billing",
            "balance_due_days",
            "deposit_percent",
            "payment",
        ):
            batch_op.drop_column(column)
