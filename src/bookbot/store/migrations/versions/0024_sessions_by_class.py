"""sessions by class and start: a class's next open session in one index probe

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 04:00:00

* `ix_sessions_class_starts` (class_id, starts_at, id): the class list reads each class's
  next open session through it, in (starts_at, id) order, without a sort and without
  reading the studio's other classes' sessions (ix_sessions_studio_starts) or its past.
  It also serves the ON DELETE CASCADE from classes, which had no index on class_id.

Self-contained on purpose: definitions are copied here, not imported.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_sessions_class_starts", "sessions", ["class_id", "starts_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_sessions_class_starts", table_name="sessions")
