"""repair databases built from revisions that were edited after they landed

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 10:21:00

Four revisions changed after they had landed on main, so a database migrated from the
earlier file is at the same revision number without what the edit added, and every command
then fails (`no such column: hold_minutes`, `column "claim_token" does not exist`):

* 0001 first created `ix_resource_allocations_registration` and not
  `ix_waitlist_entries_session_status`;
* 0004 first had no `pass_offers` table;
* 0005 first had no `outbox.claim_token`;
* 0007 first had neither `studios.hold_minutes` nor `ix_registration_sessions_held`.

This brings such a database to what those revisions say now, looking before each step, and
does nothing to one built from the current files. The revisions themselves stay as they are:
a landed migration never changes again (`landed.json`, `tests/store/test_migrations.py`).
Self-contained on purpose: definitions are copied here, not imported from the schema.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HELD = "status = 'held'"


def _columns(inspector: sa.Inspector, table: str) -> set[str]:
    return {column["name"] for column in inspector.get_columns(table)}


def _indexes(inspector: sa.Inspector, table: str) -> set[str]:
    return {str(index["name"]) for index in inspector.get_indexes(table)}


def _add_missing_columns(inspector: sa.Inspector) -> None:
    if "hold_minutes" not in _columns(inspector, "studios"):
        with op.batch_alter_table("studios", schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("hold_minutes", sa.Integer(), server_default="10", nullable=False)
            )
    if "claim_token" not in _columns(inspector, "outbox"):
        with op.batch_alter_table("outbox", schema=None) as batch_op:
            batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))


def _create_pass_offers() -> None:
    op.create_table(
        "pass_offers",
        sa.Column("studio_id", sa.Integer(), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=True),
        sa.Column("valid_days", sa.Integer(), nullable=True),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("max_advance", sa.Integer(), nullable=True),
        sa.Column("sequential", sa.Boolean(), nullable=False),
        sa.Column("absence_grace_hours", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_pass_offers_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["studio_id"],
            ["studios.id"],
            name=op.f("fk_pass_offers_studio_id_studios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("class_id", "position", name=op.f("pk_pass_offers")),
    )


def _fix_indexes(inspector: sa.Inspector) -> None:
    if "ix_resource_allocations_registration" in _indexes(inspector, "resource_allocations"):
        op.drop_index("ix_resource_allocations_registration", table_name="resource_allocations")
    if "ix_waitlist_entries_session_status" not in _indexes(inspector, "waitlist_entries"):
        op.create_index(
            "ix_waitlist_entries_session_status", "waitlist_entries", ["session_id", "status"]
        )
    if "ix_registration_sessions_held" not in _indexes(inspector, "registration_sessions"):
        op.create_index(
            "ix_registration_sessions_held",
            "registration_sessions",
            ["session_id"],
            sqlite_where=sa.text(HELD),
            postgresql_where=sa.text(HELD),
        )


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    _add_missing_columns(inspector)
    if not inspector.has_table("pass_offers"):
        _create_pass_offers()
    _fix_indexes(inspector)


def downgrade() -> None:
    """Nothing to undo: what this adds is what revisions 0001-0007 declare."""
