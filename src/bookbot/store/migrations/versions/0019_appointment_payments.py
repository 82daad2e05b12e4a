"""appointments paid online: a payment policy per service, payments.appointment_id

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 16:00:00

Appointments are paid as classes are (issue 13's Stripe Checkout):

* `services.payment` (online, at_studio, either; default at_studio, as every service was
  until now) and `services.refund_after_cutoff_percent` (what a customer cancelling after
  the cutoff gets back; default 0), with the same checks as the classes' columns.
* `payments.appointment_id`: the appointment a payment pays for. Its purpose stays 'full'
  (the purpose says how much of the price; the owner column says of what). A payment has at
  most one owner among registration, pass and appointment (`ck_payments_one_owner`; not
  "exactly one": each foreign key sets NULL when its row is deleted).

Self-contained on purpose: definitions are copied here, not imported.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_OWNER = (
    "(CASE WHEN registration_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN pass_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN appointment_id IS NULL THEN 0 ELSE 1 END) <= 1"
)


def upgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("payment", sa.String(16), nullable=False, server_default="at_studio")
        )
        batch_op.add_column(
            sa.Column("refund_after_cutoff_percent", sa.Integer, nullable=False, server_default="0")
        )
        batch_op.create_check_constraint(
            op.f("ck_services_payment_known"), "payment IN ('online', 'at_studio', 'either')"
        )
        batch_op.create_check_constraint(
            op.f("ck_services_refund_percent_range"),
            "refund_after_cutoff_percent BETWEEN 0 AND 100",
        )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("appointment_id", sa.Integer, nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_payments_appointment_id_appointments"),
            "appointments",
            ["appointment_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint(op.f("ck_payments_one_owner"), ONE_OWNER)
        batch_op.create_index("ix_payments_appointment", ["appointment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_appointment")
        batch_op.drop_constraint(op.f("ck_payments_one_owner"), type_="check")
        batch_op.drop_constraint(
            op.f("fk_payments_appointment_id_appointments"), type_="foreignkey"
        )
        batch_op.drop_column("appointment_id")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_services_refund_percent_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_services_payment_known"), type_="check")
        batch_op.drop_column("refund_after_cutoff_percent")
        batch_op.drop_column("payment")
