"""attendee details, instructor notes, cancellation reasons, certificates and feedback (issue 17)

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 22:00:00

* `classes.attendee_fields`: the details a booking must give (email, company, job_title,
  requests, names), and `classes.issues_certificates`.
* `sessions.cancel_reason` (told to attendees) and `sessions.instructor_notes` (staff only);
  `ix_sessions_closed`: sessions by when they closed (the feedback sweep's read).
* `registration_attendees`: those details per person of a booking.
* `certificates`: one per person who passed a completed session, with a unique code that
  /verify/<code> checks; what it certifies is copied in so it never changes.
* `course_feedback`: a 1-5 rating and a comment per booking, a day after the course.

Self-contained on purpose: definitions are copied here, not imported.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_INSTANT = sa.DateTime(timezone=True)


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
    with op.batch_alter_table("classes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attendee_fields", sa.String(200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("issues_certificates", sa.Boolean, nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_reason", sa.String(500), nullable=True))
        batch_op.add_column(
            sa.Column("instructor_notes", sa.Text, nullable=False, server_default="")
        )
    op.create_index("ix_sessions_closed", "sessions", ["closed_at", "id"])

    a = "registration_attendees"
    op.create_table(
        a,
        *_base(a),
        sa.Column("registration_id", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("company", sa.String(200), nullable=True),
        sa.Column("job_title", sa.String(200), nullable=True),
        sa.Column("requests", sa.String(1000), nullable=True),
        _fk(a, "registration_id", "registrations"),
        _ck(a, "position_positive", "position >= 1"),
        sa.UniqueConstraint(
            "registration_id",
            "position",
            name=op.f("uq_registration_attendees_registration_id_position"),
        ),
    )

    c = "certificates"
    op.create_table(
        c,
        *_base(c),
        sa.Column("registration_id", sa.Integer, nullable=True),
        sa.Column("session_id", sa.Integer, nullable=True),
        sa.Column("customer_id", sa.Integer, nullable=True),
        sa.Column("attendee_position", sa.Integer, nullable=False, server_default="1"),
        sa.Column("holder_name", sa.String(200), nullable=False),
        sa.Column("course_name", sa.String(200), nullable=False),
        sa.Column("first_day", sa.Date, nullable=False),
        sa.Column("last_day", sa.Date, nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("issued_at", UTC_INSTANT, nullable=False),
        sa.Column("revoked_at", UTC_INSTANT, nullable=True),
        sa.Column("revoked_reason", sa.String(500), nullable=True),
        _fk(c, "registration_id", "registrations", "SET NULL"),
        _fk(c, "session_id", "sessions", "SET NULL"),
        _fk(c, "customer_id", "customers", "SET NULL"),
        sa.UniqueConstraint("code", name=op.f("uq_certificates_code")),
        sa.UniqueConstraint(
            "session_id",
            "registration_id",
            "attendee_position",
            name=op.f("uq_certificates_session_id_registration_id_attendee_position"),
        ),
    )
    op.create_index("ix_certificates_customer", c, ["customer_id"])

    f = "course_feedback"
    op.create_table(
        f,
        *_base(f),
        sa.Column("registration_id", sa.Integer, nullable=False),
        sa.Column("class_id", sa.Integer, nullable=False),
        sa.Column("instructor_id", sa.Integer, nullable=True),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("comment", sa.String(2000), nullable=False, server_default=""),
        sa.Column("created_at", UTC_INSTANT, nullable=False),
        _fk(f, "registration_id", "registrations"),
        _fk(f, "class_id", "classes"),
        _fk(f, "instructor_id", "staff", "SET NULL"),
        _ck(f, "rating_range", "rating BETWEEN 1 AND 5"),
        sa.UniqueConstraint("registration_id", name=op.f("uq_course_feedback_registration_id")),
    )
    op.create_index("ix_course_feedback_studio_created", f, ["studio_id", "created_at"])
    op.create_index("ix_course_feedback_class", f, ["class_id"])
    op.create_index("ix_course_feedback_instructor", f, ["instructor_id"])


def downgrade() -> None:
    for table in ("course_feedback", "certificates", "registration_attendees"):
        op.drop_table(table)
    op.drop_index("ix_sessions_closed", table_name="sessions")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("instructor_notes")
        batch_op.drop_column("cancel_reason")
    with op.batch_alter_table("classes", schema=None) as batch_op:
        batch_op.drop_column("issues_certificates")
        batch_op.drop_column("attendee_fields")
