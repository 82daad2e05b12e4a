"""The database schema: every table, constraint and index, declared once.

SQLAlchemy declares the schema and Alembic migrates it; queries are plain SQL run
through `bookbot.store.db` (see the README's "How the engine talks to the database").

Tenancy: every row carries `studio_id`, and every query filters on it. Child rows
repeat `studio_id` (rather than reaching it through a join) so that a query scoped to
one studio can never see another's rows even when given a foreign id.

Instants are `DateTime(timezone=True)` holding UTC. Rules people write (a pattern's
start date and local start time) are stored as wall time plus an IANA zone.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

UTC_INSTANT = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, sa.Identity(), primary_key=True)


def _studio_fk() -> sa.Column[int]:
    return sa.Column(
        "studio_id", sa.Integer, sa.ForeignKey("studios.id", ondelete="CASCADE"), nullable=False
    )


studios = sa.Table(
    "studios",
    metadata,
    _id(),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("default_language", sa.String(16), nullable=False),
    # Policies: how late a customer may book or cancel, how long a waitlist offer holds.
    sa.Column("booking_cutoff_minutes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cancellation_cutoff_hours", sa.Integer, nullable=False, server_default="0"),
    sa.Column("waitlist_offer_minutes", sa.Integer, nullable=False, server_default="120"),
    # How long the booking summary keeps the chosen seats for the customer (a hold).
    sa.Column("hold_minutes", sa.Integer, nullable=False, server_default="10"),
    # Whether a reservation missed without cancelling still uses a punch of a punch pass.
    sa.Column("no_show_uses_punch", sa.Boolean, nullable=False, server_default=sa.true()),
    # How long a hold awaiting online payment lasts: the Checkout Session's expiry, which
    # Stripe bounds to 30 minutes .. 24 hours.
    sa.Column("payment_hold_minutes", sa.Integer, nullable=False, server_default="30"),
    # The Telegram chat told of new paid bookings and of payments needing a person.
    sa.Column("staff_chat_id", sa.BigInteger),
    # Quiet hours, local minutes after midnight (default 21:00-08:00): non-urgent notices
    # wait until the end. Equal start and end: no quiet hours.
    sa.Column("quiet_start_minute", sa.Integer, nullable=False, server_default="1260"),
    sa.Column("quiet_end_minute", sa.Integer, nullable=False, server_default="480"),
    # SMS replies fold characters outside GSM-7 (a -> a for 'á', '...' for '…') to stay in
    # cheap 160-character segments; a studio may turn it off.
    sa.Column("sms_fold_gsm", sa.Boolean, nullable=False, server_default=sa.true()),
    # Where classes take place, as customers should read it in a confirmation.
    sa.Column("address", sa.String(300)),
)

teaching_roles = sa.Table(
    "teaching_roles",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.UniqueConstraint("studio_id", "key"),
)

staff = sa.Table(
    "staff",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(32)),
    sa.Column("telegram_user_id", sa.BigInteger),
    # NULL: the studio's zone. Availability windows are wall times in this zone.
    sa.Column("timezone", sa.String(64)),
    # The secret in the staff member's iCalendar feed URL (/calendar/{token}.ics).
    sa.Column("calendar_token", sa.String(64), unique=True),
    sa.UniqueConstraint("studio_id", "key"),
)

staff_roles = sa.Table(
    "staff_roles",
    metadata,
    _studio_fk(),
    sa.Column(
        "staff_id", sa.Integer, sa.ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "role_id",
        sa.Integer,
        sa.ForeignKey("teaching_roles.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

resources = sa.Table(
    "resources",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("total_quantity", sa.Integer, nullable=False),
    sa.UniqueConstraint("studio_id", "key"),
    sa.CheckConstraint("total_quantity >= 0", name="total_not_negative"),
)

classes = sa.Table(
    "classes",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("price_minor", sa.Integer, nullable=False),
    # single: one session at a time; course: a whole run at once; drop_in: chosen dates.
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("teaching_role_id", sa.Integer, sa.ForeignKey("teaching_roles.id")),
    # Payment policy: online, at_studio or either; a deposit (percent of the total, NULL for
    # none) with the balance due some days before the first session; company invoices.
    sa.Column("payment", sa.String(16), nullable=False, server_default="at_studio"),
    sa.Column("deposit_percent", sa.Integer),
    sa.Column("balance_due_days", sa.Integer, nullable=False, server_default="7"),
    sa.Column("company_billing", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("invoice_days_until_due", sa.Integer, nullable=False, server_default="14"),
    # What a customer cancelling after the cutoff gets back, and whether a deposit is.
    sa.Column("refund_after_cutoff_percent", sa.Integer, nullable=False, server_default="0"),
    sa.Column("deposit_refundable", sa.Boolean, nullable=False, server_default=sa.true()),
    # What a booking must tell us, asked in chat before the summary: a comma-separated
    # subset of email, company, job_title, requests, names ('' for nothing).
    sa.Column("attendee_fields", sa.String(200), nullable=False, server_default=""),
    # Whether completing a session of it issues certificates to those who passed.
    sa.Column("issues_certificates", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("studio_id", "key"),
    sa.CheckConstraint("price_minor >= 0", name="price_not_negative"),
    sa.CheckConstraint("kind IN ('single', 'course', 'drop_in')", name="kind_known"),
    sa.CheckConstraint("payment IN ('online', 'at_studio', 'either')", name="payment_known"),
    sa.CheckConstraint(
        "deposit_percent IS NULL OR (deposit_percent BETWEEN 1 AND 99)",
        name="deposit_percent_range",
    ),
    sa.CheckConstraint(
        "refund_after_cutoff_percent BETWEEN 0 AND 100", name="refund_percent_range"
    ),
)

class_requirements = sa.Table(
    "class_requirements",
    metadata,
    _studio_fk(),
    sa.Column(
        "class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "resource_id",
        sa.Integer,
        sa.ForeignKey("resources.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("quantity_per_student", sa.Integer, nullable=False),
    sa.CheckConstraint("quantity_per_student > 0", name="quantity_positive"),
)

class_parts = sa.Table(
    "class_parts",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column(
        "class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.UniqueConstraint("class_id", "position"),
)

patterns = sa.Table(
    "schedule_patterns",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column(
        "class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("rrule", sa.String(500), nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("start_time", sa.Time, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("location", sa.String(200), nullable=False, server_default=""),
    sa.Column("instructor_id", sa.Integer, sa.ForeignKey("staff.id", ondelete="SET NULL")),
    # Multi-part series: which part these sessions teach, or a makeup week for any part.
    sa.Column("part_position", sa.Integer),
    sa.Column("makeup", sa.Boolean, nullable=False, server_default=sa.false()),
    # Each occurrence runs this many consecutive days, duration_minutes a day.
    sa.Column("days", sa.Integer, nullable=False, server_default="1"),
    sa.UniqueConstraint("studio_id", "key"),
    sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
    sa.CheckConstraint("days BETWEEN 1 AND 31", name="days_range"),
    sa.CheckConstraint("capacity > 0", name="capacity_positive"),
)

pass_offers = sa.Table(
    "pass_offers",
    metadata,
    _studio_fk(),
    sa.Column(
        "class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("sessions", sa.Integer),
    sa.Column("valid_days", sa.Integer),
    sa.Column("price_minor", sa.Integer, nullable=False),
    sa.Column("max_advance", sa.Integer),
    sa.Column("sequential", sa.Boolean, nullable=False),
    sa.Column("absence_grace_hours", sa.Integer, nullable=False),
)

pattern_assistants = sa.Table(
    "pattern_assistants",
    metadata,
    _studio_fk(),
    sa.Column(
        "pattern_id",
        sa.Integer,
        sa.ForeignKey("schedule_patterns.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "staff_id", sa.Integer, sa.ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    ),
)

sessions = sa.Table(
    "sessions",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column(
        "class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("pattern_id", sa.Integer, sa.ForeignKey("schedule_patterns.id", ondelete="SET NULL")),
    # The occurrence's studio-local date: with pattern_id, what makes regeneration idempotent.
    sa.Column("occurrence_date", sa.Date, nullable=False),
    sa.Column("starts_at", UTC_INSTANT, nullable=False),
    sa.Column("ends_at", UTC_INSTANT, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("location", sa.String(200), nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    sa.Column("instructor_id", sa.Integer, sa.ForeignKey("staff.id", ondelete="SET NULL")),
    sa.Column("part_position", sa.Integer),
    sa.Column("makeup", sa.Boolean, nullable=False, server_default=sa.false()),
    # When the attendance sweep closed it (no-shows marked, bookings' attendance settled):
    # a session is closed once, after its end, so NULL marks the ones the sweep may owe.
    sa.Column("closed_at", UTC_INSTANT),
    # Why staff cancelled it (told to attendees), and notes for staff only.
    sa.Column("cancel_reason", sa.String(500)),
    sa.Column("instructor_notes", sa.Text, nullable=False, server_default=""),
    # A course over several consecutive days (one capacity, one booking): starts_at is the
    # first day's start, ends_at the last day's end, and session_days holds each day.
    sa.Column("days", sa.Integer, nullable=False, server_default="1"),
    sa.UniqueConstraint("pattern_id", "occurrence_date"),
    sa.CheckConstraint("days BETWEEN 1 AND 31", name="days_range"),
    sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    sa.CheckConstraint("status IN ('open', 'cancelled')", name="status_known"),
    sa.Index("ix_sessions_studio_starts", "studio_id", "starts_at"),
    # A class's next open session (the class list), one probe per class, in (start, id) order.
    sa.Index("ix_sessions_class_starts", "class_id", "starts_at", "id"),
    sa.Index("ix_sessions_instructor", "instructor_id"),
    # The sessions still to close, by end: the sweep reads only those whose end passed.
    sa.Index(
        "ix_sessions_unclosed",
        "ends_at",
        "id",
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    ),
    # Sessions by when they closed: the feedback sweep reads those closed since its last run.
    # Partial, so the closing sweep's "closed_at IS NULL" keeps to ix_sessions_unclosed.
    sa.Index(
        "ix_sessions_closed",
        "closed_at",
        "id",
        sqlite_where=sa.text("closed_at IS NOT NULL"),
        postgresql_where=sa.text("closed_at IS NOT NULL"),
    ),
)

session_assistants = sa.Table(
    "session_assistants",
    metadata,
    _studio_fk(),
    sa.Column(
        "session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "staff_id", sa.Integer, sa.ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Index("ix_session_assistants_staff", "staff_id"),
)

customers = sa.Table(
    "customers",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(32)),
    sa.Column("language", sa.String(16)),
    sa.Column("timezone", sa.String(64)),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    # Where notices go: the channel the customer last wrote from (telegram, sms, whatsapp).
    sa.Column("preferred_channel", sa.String(16)),
    # Set by /forget: the name, phone and channel identities are gone; what bookings and
    # payments must keep stays, attached to this anonymous row (it still counts for seats).
    sa.Column("forgotten_at", UTC_INSTANT),
    sa.UniqueConstraint("studio_id", "phone"),
)

channel_identities = sa.Table(
    "channel_identities",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column(
        "customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.UniqueConstraint("studio_id", "channel", "address"),
)

registrations = sa.Table(
    "registrations",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column(
        "customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id"), nullable=False),
    sa.Column("pattern_id", sa.Integer, sa.ForeignKey("schedule_patterns.id", ondelete="SET NULL")),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("guest_count", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("price_minor", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    sa.Column("cancelled_at", UTC_INSTANT),
    # A hold keeps the seats while the customer confirms (or, later, pays) until then;
    # confirming makes it 'confirmed', the sweep makes it 'expired'.
    sa.Column("held_until", UTC_INSTANT),
    # The start of its latest session, written by the booking: upcoming while after now.
    sa.Column("last_starts_at", UTC_INSTANT),
    # How many times the booking was moved to another date: its .ics event's SEQUENCE.
    sa.Column("sequence", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("guest_count >= 1", name="guests_positive"),
    sa.CheckConstraint("kind IN ('single', 'full_schedule', 'drop_in')", name="kind_known"),
    sa.CheckConstraint(
        "status IN ('held', 'confirmed', 'cancelled', 'expired')", name="status_known"
    ),
    # A customer's upcoming bookings (one range), past ones by (last_starts_at, id), holds.
    sa.Index(
        "ix_registrations_customer_status_start",
        "studio_id",
        "customer_id",
        "status",
        "last_starts_at",
        "id",
    ),
    # Holds by when they lapse, for the expiry sweep: holds are few, bookings many.
    sa.Index(
        "ix_registrations_held",
        "held_until",
        "id",
        sqlite_where=sa.text("status = 'held'"),
        postgresql_where=sa.text("status = 'held'"),
    ),
)

registration_sessions = sa.Table(
    "registration_sessions",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column(
        "registration_id",
        sa.Integer,
        sa.ForeignKey("registrations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("guest_count", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    # Attendance of a booked session: checked_in, then attended or no_show at the class end.
    sa.Column("attendance", sa.String(16)),
    sa.Column("checked_in_at", UTC_INSTANT),
    # A held seat counts as taken only until then (see facts.FACTS_SQL), so a lapsed hold
    # frees its seat at once, before the sweep tidies it.
    sa.Column("held_until", UTC_INSTANT),
    sa.CheckConstraint("status IN ('held', 'booked', 'cancelled')", name="status_known"),
    # Backstop under the in-transaction check: one live booking per customer per session.
    sa.Index(
        "uq_registration_sessions_live",
        "session_id",
        "customer_id",
        unique=True,
        sqlite_where=sa.text("status = 'booked'"),
        postgresql_where=sa.text("status = 'booked'"),
    ),
    sa.Index("ix_registration_sessions_registration", "registration_id"),
    # Live holds per session, for the capacity count: holds are few and short-lived.
    sa.Index(
        "ix_registration_sessions_held",
        "session_id",
        sqlite_where=sa.text("status = 'held'"),
        postgresql_where=sa.text("status = 'held'"),
    ),
)

allocations = sa.Table(
    "resource_allocations",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column(
        "registration_id",
        sa.Integer,
        sa.ForeignKey("registrations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("resource_id", sa.Integer, sa.ForeignKey("resources.id"), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("held_until", UTC_INSTANT),  # a hold's allocation counts only until then
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    sa.Index("ix_resource_allocations_session", "session_id", "resource_id"),
    # Freeing or cancelling a registration, and the cascade when one is deleted, find its
    # allocations here rather than by scanning the table.
    sa.Index("ix_resource_allocations_registration", "registration_id"),
)

waitlist = sa.Table(
    "waitlist_entries",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column(
        "session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("guest_count", sa.Integer, nullable=False),
    # waiting -> offered -> accepted | expired | declined; or cancelled by the customer.
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    sa.Column("offered_at", UTC_INSTANT),
    sa.Column("offer_expires_at", UTC_INSTANT),
    sa.CheckConstraint("guest_count >= 1", name="guests_positive"),
    sa.Index("ix_waitlist_entries_session_status", "session_id", "status"),
    sa.Index(
        "uq_waitlist_entries_live",
        "session_id",
        "customer_id",
        unique=True,
        sqlite_where=sa.text("status IN ('waiting', 'offered')"),
        postgresql_where=sa.text("status IN ('waiting', 'offered')"),
    ),
    # A customer's live places, for My bookings (read per visit, so by index).
    sa.Index(
        "ix_waitlist_entries_customer_live",
        "studio_id",
        "customer_id",
        sqlite_where=sa.text("status IN ('waiting', 'offered')"),
        postgresql_where=sa.text("status IN ('waiting', 'offered')"),
    ),
    # Live offers by when they lapse, for the expiry sweep.
    sa.Index(
        "ix_waitlist_entries_offered",
        "offer_expires_at",
        "id",
        sqlite_where=sa.text("status = 'offered'"),
        postgresql_where=sa.text("status = 'offered'"),
    ),
)

conversations = sa.Table(
    "conversations",
    metadata,
    _id(),
    # One dialogue per person per channel: (channel, address) is a Telegram user id, a phone…
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    _studio_fk(),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE")),
    sa.Column("language", sa.String(16), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("data", sa.Text, nullable=False, server_default="{}"),
    # The options last offered: what a number, a word or a button token points at.
    sa.Column("options", sa.Text, nullable=False, server_default="[]"),
    sa.Column("step", sa.Integer, nullable=False, server_default="0"),
    sa.Column("message_ref", sa.String(64)),
    sa.Column("updated_at", UTC_INSTANT, nullable=False),
    # Held while one process handles an update, so two never work on one dialogue at once.
    sa.Column("lease_until", UTC_INSTANT),
    # Which hold the lease is: only its holder's save or release changes the row.
    sa.Column("lease_token", sa.String(32)),
    # Which of our bots or numbers the person writes to ('' = the deployment's default one):
    # one person talking to two studios' bots has two dialogues.
    sa.Column("endpoint", sa.String(64), nullable=False, server_default=""),
    sa.UniqueConstraint("channel", "endpoint", "address"),
)

inbox = sa.Table(
    "inbox",
    metadata,
    # Everything a channel sends us (Telegram update, Twilio message, Stripe event) is stored
    # here, with its payload, before we acknowledge it; a worker then processes it from here
    # exactly once, marking it done in the transaction that carries its effects.
    _id(),
    sa.Column("source", sa.String(16), nullable=False),  # telegram, twilio, stripe
    sa.Column("external_id", sa.String(128), nullable=False),  # update_id, MessageSid, evt_
    # Whose messages must stay in order (e.g. sms:+447700900123): one at a time per chat.
    sa.Column("chat", sa.String(96), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("received_at", UTC_INSTANT, nullable=False),
    # pending -> done | failed (gave up, with why) | throttled (a flood, recorded, not run)
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTC_INSTANT),
    sa.Column("lease_until", UTC_INSTANT),  # a worker is processing it
    sa.Column("claim_token", sa.String(32)),
    sa.Column("processed_at", UTC_INSTANT),
    sa.Column("last_error", sa.Text),
    sa.UniqueConstraint("source", "external_id"),
    sa.CheckConstraint("status IN ('pending', 'done', 'failed', 'throttled')", name="status_known"),
    # Claims read only what is open, in arrival order per chat: costs follow the backlog,
    # never the history.
    sa.Index(
        "ix_inbox_open_chat",
        "chat",
        "id",
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
    sa.Index(
        "ix_inbox_open",
        "id",
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
    # A person's latest messages, newest first (the context a /human handoff forwards, and
    # what /forget erases).
    sa.Index("ix_inbox_chat", "chat", "id"),
)

channel_opt_outs = sa.Table(
    "channel_opt_outs",
    metadata,
    # A number that texted STOP (or CANCEL, QUIT…) gets nothing on that channel from that
    # number of ours ('' = the default one) until START, as Twilio itself does.
    sa.Column("channel", sa.String(16), primary_key=True),
    sa.Column("endpoint", sa.String(64), primary_key=True, server_default=""),
    sa.Column("address", sa.String(64), primary_key=True),
    sa.Column("opted_out_at", UTC_INSTANT, nullable=False),
)

delivery_statuses = sa.Table(
    "delivery_statuses",
    metadata,
    # Twilio's status callbacks: the latest known state of each message we sent.
    sa.Column("message_sid", sa.String(64), primary_key=True),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("error_code", sa.Integer),
    sa.Column("updated_at", UTC_INSTANT, nullable=False),
)

phone_verifications = sa.Table(
    "phone_verifications",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column(
        "customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("phone", sa.String(32), nullable=False),
    # Only a hash of the one-time code is kept.
    sa.Column("code_hash", sa.String(128), nullable=False),
    sa.Column("expires_at", UTC_INSTANT, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_phone_verifications_customer", "customer_id"),
)

passes = sa.Table(
    "passes",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column(
        "customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id"), nullable=False),
    # unlimited: any session in the date range; punch: N sessions; full_course: one run.
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("pattern_id", sa.Integer, sa.ForeignKey("schedule_patterns.id", ondelete="SET NULL")),
    sa.Column("sessions_included", sa.Integer),
    sa.Column("sessions_remaining", sa.Integer),
    sa.Column("max_advance", sa.Integer),  # reservations held at once; NULL: no limit
    sa.Column("sequential", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("absence_grace_hours", sa.Integer, nullable=False, server_default="0"),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date),
    # staff_issued or pay_at_studio, until online payment exists.
    sa.Column("payment", sa.String(16), nullable=False),
    sa.Column("price_minor", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    sa.CheckConstraint("kind IN ('unlimited', 'punch', 'full_course')", name="kind_known"),
    sa.CheckConstraint("sessions_remaining IS NULL OR sessions_remaining >= 0", name="punches"),
    sa.Index("ix_passes_customer_created", "studio_id", "customer_id", "created_at", "id"),
    # Passes still usable but for their end date, by that date: expired ones are not read.
    sa.Index(
        "ix_passes_customer_usable",
        "studio_id",
        "customer_id",
        "valid_until",
        sqlite_where=sa.text(
            "status = 'active' AND (sessions_remaining IS NULL OR sessions_remaining > 0)"
        ),
        postgresql_where=sa.text(
            "status = 'active' AND (sessions_remaining IS NULL OR sessions_remaining > 0)"
        ),
    ),
)

reservations = sa.Table(
    "reservations",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column(
        "pass_id", sa.Integer, sa.ForeignKey("passes.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False
    ),
    # The part this reservation counts for (a makeup session can stand for any part).
    sa.Column("part_position", sa.Integer),
    # pending, checked_in, attended, no_show, cancelled, auto_cancelled
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reserved_at", UTC_INSTANT, nullable=False),
    sa.Column("checked_in_at", UTC_INSTANT),
    sa.Column("checked_in_by", sa.String(32)),
    sa.Column("closed_at", UTC_INSTANT),  # when it became attended or no_show
    sa.Column("punch_used", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("cancelled_at", UTC_INSTANT),
    sa.Column("absence_handled_at", UTC_INSTANT),  # the 01:00 job saw this no-show
    sa.Column("reason", sa.Text),
    sa.CheckConstraint(
        "status IN ('pending', 'checked_in', 'attended', 'no_show', 'cancelled', 'auto_cancelled')",
        name="status_known",
    ),
    sa.Index(
        "uq_reservations_live",
        "session_id",
        "customer_id",
        unique=True,
        sqlite_where=sa.text("status IN ('pending', 'checked_in')"),
        postgresql_where=sa.text("status IN ('pending', 'checked_in')"),
    ),
    sa.Index("ix_reservations_session_status", "session_id", "status"),
    sa.Index("ix_reservations_pass_status", "pass_id", "status"),
    sa.Index(
        "ix_reservations_customer_live",
        "studio_id",
        "customer_id",
        sqlite_where=sa.text("status IN ('pending', 'checked_in')"),
        postgresql_where=sa.text("status IN ('pending', 'checked_in')"),
    ),
    # No-shows the nightly absence sweep has not handled yet: a day's worth, not the history.
    sa.Index(
        "ix_reservations_absence_open",
        "studio_id",
        "id",
        sqlite_where=sa.text("status = 'no_show' AND absence_handled_at IS NULL"),
        postgresql_where=sa.text("status = 'no_show' AND absence_handled_at IS NULL"),
    ),
)

staff_audit = sa.Table(
    "staff_audit",
    metadata,
    _id(),
    # Attempts to use staff tools, allowed or not, with who and what.
    sa.Column("studio_id", sa.Integer, sa.ForeignKey("studios.id", ondelete="CASCADE")),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("command", sa.String(200), nullable=False),
    sa.Column("allowed", sa.Boolean, nullable=False),
    sa.Column("at", UTC_INSTANT, nullable=False),
)

outbox = sa.Table(
    "outbox",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE")),
    # What to say (rendered at delivery, in the customer's language) and when.
    sa.Column("template", sa.String(48), nullable=False),
    sa.Column("params", sa.Text, nullable=False, server_default="{}"),
    sa.Column("due_at", UTC_INSTANT, nullable=False),
    # pending -> sending -> sent | failed | skipped; or withdrawn before it was due.
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTC_INSTANT),
    sa.Column("lease_until", UTC_INSTANT),  # a worker holds the row while sending
    sa.Column("claim_token", sa.String(32)),  # which claim holds it
    # When the last send began whose outcome is unknown (a crash or a timeout mid-send):
    # before sending again the worker asks the channel whether that one arrived.
    sa.Column("send_started_at", UTC_INSTANT),
    sa.Column("last_error", sa.Text),
    sa.Column("channel", sa.String(16)),  # where it went (a reply: where it must go)
    # A reply to what someone said goes back to that chat, not to their preferred channel.
    sa.Column("address", sa.String(64)),
    sa.Column("sent_at", UTC_INSTANT),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    # e.g. reminder-24h:reservation-42: a message is queued once, whoever asks twice.
    sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
    sa.Index("ix_outbox_status_due", "status", "due_at"),
    # What a claim may take, in the order it takes it: the claim walks this index from the
    # oldest due row and stops at `now`, so sent history and future reminders cost nothing.
    sa.Index(
        "ix_outbox_claim",
        "due_at",
        "id",
        sqlite_where=sa.text("status IN ('pending', 'sending')"),
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    ),
)

PAYMENT_ONE_OWNER = (
    "(CASE WHEN registration_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN pass_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN appointment_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN package_id IS NULL THEN 0 ELSE 1 END) <= 1"
)

payments = sa.Table(
    "payments",
    metadata,
    # One amount asked of a customer: a booking in full, its deposit or balance, a pass, or
    # a company invoice. Amounts are minor units computed by the engine, never the client's.
    _id(),
    _studio_fk(),
    sa.Column(
        "customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "registration_id", sa.Integer, sa.ForeignKey("registrations.id", ondelete="SET NULL")
    ),
    sa.Column("pass_id", sa.Integer, sa.ForeignKey("passes.id", ondelete="SET NULL")),
    # An appointment paid online (migration 0019); its purpose is 'full', as for a class.
    sa.Column("appointment_id", sa.Integer, sa.ForeignKey("appointments.id", ondelete="SET NULL")),
    # A package bought online (migration 0020); its purpose is 'package'.
    sa.Column("package_id", sa.Integer, sa.ForeignKey("packages.id", ondelete="SET NULL")),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("amount_minor", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    # scheduled (a balance not yet asked for) -> pending (a Checkout Session is open) ->
    # paid | failed | expired | cancelled; invoiced -> paid; paid -> (partially_)refunded.
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("refunded_minor", sa.Integer, nullable=False, server_default="0"),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
    sa.Column("due_at", UTC_INSTANT),  # a balance: when its link goes out
    sa.Column("reminded_at", UTC_INSTANT),
    sa.Column("expires_at", UTC_INSTANT),  # the Checkout Session's
    sa.Column("stripe_session_id", sa.String(128), unique=True),
    sa.Column("stripe_payment_intent", sa.String(128)),
    sa.Column("stripe_invoice_id", sa.String(128), unique=True),
    sa.Column("checkout_url", sa.Text),
    sa.Column("receipt_url", sa.Text),
    sa.Column("company_name", sa.String(200)),
    sa.Column("billing_email", sa.String(200)),
    sa.Column("po_number", sa.String(100)),
    sa.Column("paid_at", UTC_INSTANT),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    sa.Column("updated_at", UTC_INSTANT, nullable=False),
    sa.CheckConstraint(
        "purpose IN ('full', 'deposit', 'balance', 'pass', 'invoice', 'package')",
        name="purpose_known",
    ),
    sa.CheckConstraint(
        "status IN ('scheduled', 'pending', 'paid', 'failed', 'expired', 'cancelled', 'invoiced',"
        " 'refunded', 'partially_refunded')",
        name="status_known",
    ),
    sa.CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
    # A payment is for one thing: a registration, a pass or an appointment (none once that
    # is deleted: the foreign keys set NULL).
    sa.CheckConstraint(PAYMENT_ONE_OWNER, name="one_owner"),
    # Reconciliation reads the pending ones past their expiry; the balance job the due ones.
    sa.Index(
        "ix_payments_pending",
        "expires_at",
        "id",
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
    sa.Index(
        "ix_payments_scheduled",
        "due_at",
        "id",
        sqlite_where=sa.text("status = 'scheduled'"),
        postgresql_where=sa.text("status = 'scheduled'"),
    ),
    sa.Index("ix_payments_registration", "registration_id"),
    sa.Index("ix_payments_pass", "pass_id"),
    sa.Index("ix_payments_appointment", "appointment_id"),
    sa.Index("ix_payments_package", "package_id"),
    sa.Index("ix_payments_studio_created", "studio_id", "created_at"),
    sa.Index("ix_payments_customer", "studio_id", "customer_id", "created_at"),
)

refunds = sa.Table(
    "refunds",
    metadata,
    # Each refund asked of Stripe; the idempotency key (payment and reason, staff refunds
    # numbered per payment) makes asking twice refund once.
    _id(),
    _studio_fk(),
    sa.Column(
        "payment_id", sa.Integer, sa.ForeignKey("payments.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("amount_minor", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("reason", sa.String(24), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("stripe_refund_id", sa.String(128), unique=True),
    sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    sa.Column("updated_at", UTC_INSTANT, nullable=False),
    # What staff typed as the reason for a refund they asked for (NULL for the others).
    sa.Column("note", sa.String(500)),
    sa.CheckConstraint(
        "reason IN ('customer_cancel', 'staff_cancel', 'late_payment', 'amount_mismatch', 'staff')",
        name="reason_known",
    ),
    sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status_known"),
    sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
    sa.Index("ix_refunds_payment", "payment_id"),
    sa.Index("ix_refunds_studio_created", "studio_id", "created_at"),
)

# --- one-to-one appointments (issue 14) -------------------------------------------------------
# A service is booked with one staff member at a time of the customer's choosing, inside the
# staff member's availability (weekly windows in their zone, date overrides, one-off
# additions, minus blocks). Availability rows carry `source`: the studio file's ('file') are
# replaced when it is loaded again, those added in chat or the CLI are kept.

AVAILABILITY_SOURCES = "source IN ('file', 'chat', 'cli')"
APPOINTMENT_STATUSES = (
    "status IN ('held', 'confirmed', 'cancelled_by_customer', 'cancelled_by_staff', 'no_show',"
    " 'completed', 'expired')"
)


def _staff_fk() -> sa.Column[int]:
    return sa.Column(
        "staff_id", sa.Integer, sa.ForeignKey("staff.id", ondelete="CASCADE"), nullable=False
    )


services = sa.Table(
    "services",
    metadata,
    _id(),
    _studio_fk(),
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
    # The most people one appointment may bring (1: one-to-one; more: a small-group lesson).
    sa.Column("capacity", sa.Integer, nullable=False, server_default="1"),
    sa.Column("location", sa.String(200), nullable=False, server_default=""),
    sa.Column("online", sa.Boolean, nullable=False, server_default=sa.false()),
    # A template: {appointment} is replaced by the appointment's id.
    sa.Column("meeting_url", sa.String(500), nullable=False, server_default=""),
    sa.Column("reschedule_cutoff_hours", sa.Integer, nullable=False, server_default="24"),
    sa.Column("cancellation_cutoff_hours", sa.Integer),  # NULL: the studio's policy
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    # Paid as a class is (migration 0019): online, at_studio or either; what a customer
    # cancelling after the cutoff gets back.
    sa.Column("payment", sa.String(16), nullable=False, server_default="at_studio"),
    sa.Column("refund_after_cutoff_percent", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("studio_id", "key"),
    sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
    sa.CheckConstraint("price_minor >= 0", name="price_not_negative"),
    sa.CheckConstraint(
        "buffer_before_minutes >= 0 AND buffer_after_minutes >= 0", name="buffers_not_negative"
    ),
    sa.CheckConstraint("step_minutes > 0", name="step_positive"),
    sa.CheckConstraint("capacity >= 1", name="capacity_positive"),
    sa.CheckConstraint("payment IN ('online', 'at_studio', 'either')", name="payment_known"),
    sa.CheckConstraint(
        "refund_after_cutoff_percent BETWEEN 0 AND 100", name="refund_percent_range"
    ),
)

service_staff = sa.Table(
    "service_staff",
    metadata,
    _studio_fk(),
    sa.Column(
        "service_id", sa.Integer, sa.ForeignKey("services.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "staff_id", sa.Integer, sa.ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Index("ix_service_staff_staff", "staff_id"),
)

availability_windows = sa.Table(
    "availability_windows",
    metadata,
    # Weekly hours: local wall times 'HH:MM' in the staff member's zone.
    _id(),
    _studio_fk(),
    _staff_fk(),
    sa.Column("weekday", sa.Integer, nullable=False),  # 0 = Monday .. 6 = Sunday
    sa.Column("start_time", sa.String(5), nullable=False),
    sa.Column("end_time", sa.String(5), nullable=False),
    sa.Column("room", sa.String(200), nullable=False, server_default=""),
    sa.Column("individual", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("group_ok", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("source", sa.String(16), nullable=False, server_default="file"),
    sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
    sa.CheckConstraint("end_time > start_time", name="ends_after_start"),
    sa.CheckConstraint(AVAILABILITY_SOURCES, name="source_known"),
    sa.Index("ix_availability_windows_staff", "staff_id", "weekday"),
)

availability_overrides = sa.Table(
    "availability_overrides",
    metadata,
    # A local date's rows replace its weekly windows; one row without times: unavailable.
    _id(),
    _studio_fk(),
    _staff_fk(),
    sa.Column("on_date", sa.Date, nullable=False),
    sa.Column("start_time", sa.String(5)),
    sa.Column("end_time", sa.String(5)),
    sa.Column("room", sa.String(200), nullable=False, server_default=""),
    sa.Column("individual", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("group_ok", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("source", sa.String(16), nullable=False, server_default="file"),
    sa.CheckConstraint(
        "(start_time IS NULL AND end_time IS NULL) OR end_time > start_time",
        name="times_paired",
    ),
    sa.CheckConstraint(AVAILABILITY_SOURCES, name="source_known"),
    sa.Index("ix_availability_overrides_staff", "staff_id", "on_date"),
)

availability_blocks = sa.Table(
    "availability_blocks",
    metadata,
    _id(),
    _studio_fk(),
    _staff_fk(),
    sa.Column("starts_at", UTC_INSTANT, nullable=False),
    sa.Column("ends_at", UTC_INSTANT, nullable=False),
    sa.Column("reason", sa.String(200), nullable=False, server_default=""),
    sa.Column("source", sa.String(16), nullable=False, server_default="file"),
    sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    sa.CheckConstraint(AVAILABILITY_SOURCES, name="source_known"),
    sa.Index("ix_availability_blocks_staff", "staff_id", "ends_at"),
)

availability_additions = sa.Table(
    "availability_additions",
    metadata,
    _id(),
    _studio_fk(),
    _staff_fk(),
    sa.Column("starts_at", UTC_INSTANT, nullable=False),
    sa.Column("ends_at", UTC_INSTANT, nullable=False),
    sa.Column("room", sa.String(200), nullable=False, server_default=""),
    sa.Column("reason", sa.String(200), nullable=False, server_default=""),
    sa.Column("source", sa.String(16), nullable=False, server_default="file"),
    sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    sa.CheckConstraint(AVAILABILITY_SOURCES, name="source_known"),
    sa.Index("ix_availability_additions_staff", "staff_id", "ends_at"),
)

appointments = sa.Table(
    "appointments",
    metadata,
    # Live (taking the staff member's time): confirmed, or held with held_until still ahead.
    # busy_from / busy_until: the footprint with the service's buffers, half-open.
    _id(),
    _studio_fk(),
    sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id"), nullable=False),
    sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=False),
    sa.Column(
        "customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("starts_at", UTC_INSTANT, nullable=False),
    sa.Column("ends_at", UTC_INSTANT, nullable=False),
    sa.Column("busy_from", UTC_INSTANT, nullable=False),
    sa.Column("busy_until", UTC_INSTANT, nullable=False),
    sa.Column("guest_count", sa.Integer, nullable=False, server_default="1"),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("held_until", UTC_INSTANT),
    sa.Column("price_minor", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("origin", sa.String(16), nullable=False, server_default="one_time"),
    # An occurrence of a member's series (migration 0020): the series and the series date it
    # stands for (kept when the occurrence is moved); NULL for a one-time booking.
    sa.Column(
        "recurring_booking_id",
        sa.Integer,
        sa.ForeignKey("recurring_bookings.id", ondelete="SET NULL"),
    ),
    sa.Column("occurrence_date", sa.Date),
    sa.Column("meeting_url", sa.String(500), nullable=False, server_default=""),
    # +1 per reschedule: the .ics SEQUENCE, so calendars take the new time.
    sa.Column("sequence", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cancel_reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    sa.Column("updated_at", UTC_INSTANT, nullable=False),
    sa.Column("cancelled_at", UTC_INSTANT),
    sa.CheckConstraint(APPOINTMENT_STATUSES, name="status_known"),
    sa.CheckConstraint("guest_count >= 1", name="guest_count_positive"),
    sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    sa.CheckConstraint(
        "busy_from <= starts_at AND busy_until >= ends_at", name="busy_covers_appointment"
    ),
    sa.CheckConstraint("status <> 'held' OR held_until IS NOT NULL", name="hold_has_expiry"),
    sa.CheckConstraint("origin IN ('one_time', 'recurring')", name="origin_known"),
    sa.CheckConstraint(
        "(origin = 'recurring') = (occurrence_date IS NOT NULL)",
        name="origin_matches_series",
    ),
    sa.Index("ix_appointments_staff_busy", "staff_id", "busy_from"),
    # A series date is placed once, however often the materialiser runs at once.
    sa.Index(
        "uq_appointments_occurrence",
        "recurring_booking_id",
        "occurrence_date",
        unique=True,
        sqlite_where=sa.text("recurring_booking_id IS NOT NULL"),
        postgresql_where=sa.text("recurring_booking_id IS NOT NULL"),
    ),
    sa.Index("ix_appointments_customer", "studio_id", "customer_id", "status", "starts_at"),
    # The expiry sweep reads the holds by held_until; the completion sweep confirmed ones by end.
    sa.Index(
        "ix_appointments_held",
        "held_until",
        sqlite_where=sa.text("status = 'held'"),
        postgresql_where=sa.text("status = 'held'"),
    ),
    sa.Index(
        "ix_appointments_confirmed_end",
        "ends_at",
        sqlite_where=sa.text("status = 'confirmed'"),
        postgresql_where=sa.text("status = 'confirmed'"),
    ),
)

# PostgreSQL refuses two live appointments of one staff member whose footprints overlap, even
# if a bug let the application's own check pass. SQLite has no exclusion constraints: there
# the staff row lock taken by the booking service is the only guard.
BTREE_GIST = "CREATE EXTENSION IF NOT EXISTS btree_gist"
APPOINTMENTS_NO_OVERLAP = (
    "ALTER TABLE appointments ADD CONSTRAINT appointments_no_overlap"
    " EXCLUDE USING gist (staff_id WITH =, tstzrange(busy_from, busy_until) WITH &&)"
    " WHERE (status IN ('held', 'confirmed'))"
)


def _postgresql_only(statement: str) -> sa.ExecutableDDLElement:
    ddl = sa.DDL(statement)  # type: ignore[no-untyped-call]
    return ddl.execute_if(dialect="postgresql")


sa.event.listen(appointments, "before_create", _postgresql_only(BTREE_GIST))
sa.event.listen(appointments, "after_create", _postgresql_only(APPOINTMENTS_NO_OVERLAP))

# --- recurring bookings, conflicts, packages, funnel (issue 15, migration 0020) ---------------
# A member's series ("every other Tuesday 10:00 with Tom") is materialised as appointments
# 6 weeks ahead; a daily job at 02:00 studio time extends it. Each occurrence stands for one
# series date (`appointments.occurrence_date`, kept when the occurrence is moved), so the job
# never places a date twice; a date it could not place (or the member paused) is a skip row.

RECURRING_STATUSES = "status IN ('active', 'ended')"
SKIP_REASONS = "reason IN ('paused', 'blocked', 'unavailable', 'clash')"

recurring_bookings = sa.Table(
    "recurring_bookings",
    metadata,
    _id(),
    _studio_fk(),
    sa.Column(
        "customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("service_id", sa.Integer, sa.ForeignKey("services.id"), nullable=False),
    sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=False),
    # The wall time the series keeps across DST: weekday and 'HH:MM' in `timezone` (the staff
    # member's zone when the series was made).
    sa.Column("weekday", sa.Integer, nullable=False),  # 0 = Monday .. 6 = Sunday
    sa.Column("start_time", sa.String(5), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("interval_weeks", sa.Integer, nullable=False, server_default="1"),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date),  # NULL: indefinitely
    sa.Column("guest_count", sa.Integer, nullable=False, server_default="1"),
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    sa.Column("source", sa.String(16), nullable=False, server_default="chat"),
    # The last series date the materialiser has placed or skipped (NULL: none yet), and when
    # the daily job should extend it next (the next 02:00 studio time).
    sa.Column("materialized_until", sa.Date),
    sa.Column("next_extension_at", UTC_INSTANT),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    sa.Column("ended_at", UTC_INSTANT),
    sa.Column("end_reason", sa.String(500), nullable=False, server_default=""),
    sa.CheckConstraint(RECURRING_STATUSES, name="status_known"),
    sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
    sa.CheckConstraint("interval_weeks IN (1, 2)", name="interval_known"),
    sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
    sa.CheckConstraint("guest_count >= 1", name="guest_count_positive"),
    sa.CheckConstraint("source IN ('chat', 'cli')", name="source_known"),
    sa.Index("ix_recurring_bookings_customer", "studio_id", "customer_id", "status"),
    sa.Index("ix_recurring_bookings_staff", "staff_id", "status"),
    # What the daily job reads: the active series due for extension, by when they are due.
    sa.Index(
        "ix_recurring_bookings_due",
        "next_extension_at",
        "id",
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    ),
)

recurring_skips = sa.Table(
    "recurring_skips",
    metadata,
    # A series date with no appointment, and why: the member paused it, or the materialiser
    # could not place it (blocked, outside the hours, clashing). Written once, with the
    # notices; the job never looks at that date again.
    _id(),
    _studio_fk(),
    sa.Column(
        "recurring_booking_id",
        sa.Integer,
        sa.ForeignKey("recurring_bookings.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("on_date", sa.Date, nullable=False),
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("detail", sa.String(500), nullable=False, server_default=""),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    sa.CheckConstraint(SKIP_REASONS, name="reason_known"),
    sa.UniqueConstraint("recurring_booking_id", "on_date"),
)

appointment_conflicts = sa.Table(
    "appointment_conflicts",
    metadata,
    # A future appointment a change of availability left outside the staff member's hours
    # (and not covered by an addition), or inside a new block. Kept, not cancelled, until
    # staff choose: cancelled (the member told, refund or credit per policy), kept (an
    # addition for exactly that slot), or cleared (it fits again, or ended another way).
    _id(),
    _studio_fk(),
    sa.Column(
        "appointment_id",
        sa.Integer,
        sa.ForeignKey("appointments.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "staff_id", sa.Integer, sa.ForeignKey("staff.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("reason", sa.String(24), nullable=False),
    sa.Column("detected_at", UTC_INSTANT, nullable=False),
    sa.Column("notified_at", UTC_INSTANT),
    sa.Column("resolved_at", UTC_INSTANT),
    sa.Column("resolution", sa.String(16)),
    sa.Column("resolved_by", sa.String(200), nullable=False, server_default=""),
    sa.CheckConstraint("reason IN ('outside_hours', 'blocked')", name="reason_known"),
    sa.CheckConstraint(
        "resolution IS NULL OR resolution IN ('kept', 'cancelled', 'cleared')",
        name="resolution_known",
    ),
    sa.CheckConstraint(
        "(resolved_at IS NULL) = (resolution IS NULL)", name="resolved_has_resolution"
    ),
    # One open conflict per appointment; the staff member's open ones are read by this.
    sa.Index(
        "uq_appointment_conflicts_open",
        "appointment_id",
        unique=True,
        sqlite_where=sa.text("resolved_at IS NULL"),
        postgresql_where=sa.text("resolved_at IS NULL"),
    ),
    sa.Index(
        "ix_appointment_conflicts_staff_open",
        "studio_id",
        "staff_id",
        sqlite_where=sa.text("resolved_at IS NULL"),
        postgresql_where=sa.text("resolved_at IS NULL"),
    ),
)

package_offers = sa.Table(
    "package_offers",
    metadata,
    # What the studio file sells: N sessions or M minutes of one service, usable for
    # `valid_days` days from purchase.
    _id(),
    _studio_fk(),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column(
        "service_id", sa.Integer, sa.ForeignKey("services.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("sessions", sa.Integer),
    sa.Column("minutes", sa.Integer),
    sa.Column("price_minor", sa.Integer, nullable=False),
    sa.Column("valid_days", sa.Integer, nullable=False),
    sa.Column("payment", sa.String(16), nullable=False, server_default="either"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.UniqueConstraint("studio_id", "key"),
    sa.CheckConstraint(
        "(sessions IS NULL) <> (minutes IS NULL) AND COALESCE(sessions, minutes) > 0",
        name="sessions_or_minutes",
    ),
    sa.CheckConstraint("price_minor >= 0", name="price_not_negative"),
    sa.CheckConstraint("valid_days > 0", name="valid_days_positive"),
    sa.CheckConstraint("payment IN ('online', 'at_studio', 'either')", name="payment_known"),
)

packages = sa.Table(
    "packages",
    metadata,
    # A customer's package: a balance of sessions or of minutes of one service, usable until
    # `expires_on` (a studio-local date, inclusive). Bought online it is pending_payment,
    # unusable, until paid.
    _id(),
    _studio_fk(),
    sa.Column(
        "customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("offer_id", sa.Integer, sa.ForeignKey("package_offers.id", ondelete="SET NULL")),
    sa.Column(
        "service_id", sa.Integer, sa.ForeignKey("services.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("sessions_total", sa.Integer),
    sa.Column("sessions_remaining", sa.Integer),
    sa.Column("minutes_total", sa.Integer),
    sa.Column("minutes_remaining", sa.Integer),
    sa.Column("expires_on", sa.Date, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    # online (Stripe), at_studio, staff_issued
    sa.Column("payment", sa.String(16), nullable=False),
    sa.Column("price_minor", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    sa.Column("updated_at", UTC_INSTANT, nullable=False),
    sa.CheckConstraint("status IN ('pending_payment', 'active', 'cancelled')", name="status_known"),
    sa.CheckConstraint("payment IN ('online', 'at_studio', 'staff_issued')", name="payment_known"),
    sa.CheckConstraint(
        "(sessions_total IS NULL) <> (minutes_total IS NULL)", name="sessions_or_minutes"
    ),
    sa.CheckConstraint(
        "(sessions_total IS NULL) = (sessions_remaining IS NULL)"
        " AND (minutes_total IS NULL) = (minutes_remaining IS NULL)",
        name="balance_of_its_kind",
    ),
    sa.CheckConstraint(
        "COALESCE(sessions_remaining, 0) >= 0 AND COALESCE(minutes_remaining, 0) >= 0",
        name="balance_not_negative",
    ),
    sa.Index("ix_packages_customer", "studio_id", "customer_id", "status", "expires_on"),
)

package_redemptions = sa.Table(
    "package_redemptions",
    metadata,
    # What booking an appointment took from a package; restored when it is cancelled within
    # the policy. A rescheduled appointment keeps its row (and so its redemption).
    _id(),
    _studio_fk(),
    sa.Column(
        "package_id", sa.Integer, sa.ForeignKey("packages.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "appointment_id",
        sa.Integer,
        sa.ForeignKey("appointments.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("sessions", sa.Integer, nullable=False, server_default="0"),
    sa.Column("minutes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(16), nullable=False, server_default="redeemed"),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    sa.Column("restored_at", UTC_INSTANT),
    sa.CheckConstraint("status IN ('redeemed', 'restored')", name="status_known"),
    sa.CheckConstraint("sessions >= 0 AND minutes >= 0", name="amounts_not_negative"),
    sa.Index("ix_package_redemptions_package", "package_id"),
    # An appointment redeems at most one package at a time.
    sa.Index(
        "uq_package_redemptions_live",
        "appointment_id",
        unique=True,
        sqlite_where=sa.text("status = 'redeemed'"),
        postgresql_where=sa.text("status = 'redeemed'"),
    ),
)

package_adjustments = sa.Table(
    "package_adjustments",
    metadata,
    # Every change staff made to a balance by hand: by how much, why and who.
    _id(),
    _studio_fk(),
    sa.Column(
        "package_id", sa.Integer, sa.ForeignKey("packages.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("sessions_delta", sa.Integer, nullable=False, server_default="0"),
    sa.Column("minutes_delta", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    sa.CheckConstraint("reason <> ''", name="reason_given"),
    sa.Index("ix_package_adjustments_package", "package_id"),
)

funnel_events = sa.Table(
    "funnel_events",
    metadata,
    # One step of a booking in chat: viewed an item, started (a hold or summary), completed
    # (booked), or abandoned (a start that lapsed or was backed out of).
    _id(),
    _studio_fk(),
    sa.Column("at", UTC_INSTANT, nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("step", sa.String(16), nullable=False),
    sa.Column("item_kind", sa.String(16), nullable=False),
    sa.Column("item_key", sa.String(64), nullable=False),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="SET NULL")),
    sa.CheckConstraint("step IN ('view', 'started', 'completed', 'abandoned')", name="step_known"),
    sa.CheckConstraint(
        "item_kind IN ('class', 'service', 'pass', 'package')", name="item_kind_known"
    ),
    sa.Index("ix_funnel_events_studio_at", "studio_id", "at"),
    # Deleting a customer sets their events' customer_id to NULL: found by this, not a scan.
    sa.Index("ix_funnel_events_customer", "customer_id"),
)

handoffs = sa.Table(
    "handoffs",
    metadata,
    # A customer talking to a person (/human) instead of the bot, until /bot, staff end it,
    # or it goes quiet. At most one open per customer.
    _id(),
    _studio_fk(),
    sa.Column(
        "customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("started_at", UTC_INSTANT, nullable=False),
    sa.Column("last_activity_at", UTC_INSTANT, nullable=False),
    sa.Column("ended_at", UTC_INSTANT),
    sa.Column("ended_by", sa.String(16)),
    sa.CheckConstraint(
        "ended_by IS NULL OR ended_by IN ('customer', 'staff', 'timeout')", name="ended_by_known"
    ),
    sa.Index(
        "uq_handoffs_open",
        "studio_id",
        "customer_id",
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    ),
    # The timeout sweep walks open handoffs by their last message.
    sa.Index(
        "ix_handoffs_open_activity",
        "last_activity_at",
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    ),
)

handoff_messages = sa.Table(
    "handoff_messages",
    metadata,
    # A customer's message forwarded to the staff chat: a staff reply to that chat message
    # is routed back to the handoff's customer. The message id is known once it was sent.
    _id(),
    _studio_fk(),
    sa.Column(
        "handoff_id", sa.Integer, sa.ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("outbox_id", sa.Integer, sa.ForeignKey("outbox.id", ondelete="SET NULL")),
    sa.Column("staff_chat_id", sa.BigInteger, nullable=False),
    sa.Column("staff_message_id", sa.BigInteger),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    sa.UniqueConstraint("staff_chat_id", "staff_message_id"),
    sa.Index("ix_handoff_messages_handoff", "handoff_id"),
    sa.Index("ix_handoff_messages_outbox", "outbox_id"),
)

privacy_audit = sa.Table(
    "privacy_audit",
    metadata,
    # Every /mydata export and /forget, kept after the customer is forgotten (no foreign key
    # to the customer: the row must outlive what it records).
    _id(),
    _studio_fk(),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("at", UTC_INSTANT, nullable=False),
    sa.CheckConstraint("action IN ('export', 'forget')", name="action_known"),
    sa.Index("ix_privacy_audit_studio_at", "studio_id", "at"),
)

staff_notice_subscriptions = sa.Table(
    "staff_notice_subscriptions",
    metadata,
    # A staff chat or staff member who asked to be told of customer activity, at once or in
    # a daily digest. `events` is a comma-separated subset of the kinds below.
    _id(),
    _studio_fk(),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("events", sa.String(200), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    sa.CheckConstraint("mode IN ('instant', 'digest')", name="mode_known"),
    sa.UniqueConstraint("studio_id", "channel", "address"),
)

staff_notice_events = sa.Table(
    "staff_notice_events",
    metadata,
    # Customer activity waiting for a digest: booking, cancellation, waitlist, handoff.
    _id(),
    _studio_fk(),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("params", sa.Text, nullable=False, server_default="{}"),
    sa.Column("at", UTC_INSTANT, nullable=False),
    sa.CheckConstraint(
        "kind IN ('booking', 'cancellation', 'waitlist', 'handoff')", name="kind_known"
    ),
    sa.Index("ix_staff_notice_events_studio_at", "studio_id", "at"),
)

registration_attendees = sa.Table(
    "registration_attendees",
    metadata,
    # The details a class asks for (attendee_fields), per person of a booking: position 1 is
    # the person who booked; names of the others when the class asks for names.
    _id(),
    _studio_fk(),
    sa.Column(
        "registration_id",
        sa.Integer,
        sa.ForeignKey("registrations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("email", sa.String(254)),
    sa.Column("company", sa.String(200)),
    sa.Column("job_title", sa.String(200)),
    sa.Column("requests", sa.String(1000)),
    sa.CheckConstraint("position >= 1", name="position_positive"),
    sa.UniqueConstraint("registration_id", "position"),
)

certificates = sa.Table(
    "certificates",
    metadata,
    # Issued when staff complete a session and mark who passed; checked by its code at
    # /verify/<code>. What it certifies is copied in: it must read the same if the class or
    # the customer later changes (or the customer is forgotten).
    _id(),
    _studio_fk(),
    sa.Column(
        "registration_id", sa.Integer, sa.ForeignKey("registrations.id", ondelete="SET NULL")
    ),
    sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="SET NULL")),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="SET NULL")),
    sa.Column("attendee_position", sa.Integer, nullable=False, server_default="1"),
    sa.Column("holder_name", sa.String(200), nullable=False),
    sa.Column("course_name", sa.String(200), nullable=False),
    sa.Column("first_day", sa.Date, nullable=False),
    sa.Column("last_day", sa.Date, nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("issued_at", UTC_INSTANT, nullable=False),
    sa.Column("revoked_at", UTC_INSTANT),
    sa.Column("revoked_reason", sa.String(500)),
    sa.UniqueConstraint("code"),
    # One certificate per person of a booking for a session (issuing twice is harmless).
    sa.UniqueConstraint("session_id", "registration_id", "attendee_position"),
    sa.Index("ix_certificates_customer", "customer_id"),
)

course_feedback = sa.Table(
    "course_feedback",
    metadata,
    # A 1-5 rating and an optional comment, asked a day after the course; one per booking.
    _id(),
    _studio_fk(),
    sa.Column(
        "registration_id",
        sa.Integer,
        sa.ForeignKey("registrations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("instructor_id", sa.Integer, sa.ForeignKey("staff.id", ondelete="SET NULL")),
    sa.Column("rating", sa.Integer, nullable=False),
    sa.Column("comment", sa.String(2000), nullable=False, server_default=""),
    sa.Column("created_at", UTC_INSTANT, nullable=False),
    sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    sa.UniqueConstraint("registration_id"),
    sa.Index("ix_course_feedback_studio_created", "studio_id", "created_at"),
    sa.Index("ix_course_feedback_class", "class_id"),
    sa.Index("ix_course_feedback_instructor", "instructor_id"),
)

session_days = sa.Table(
    "session_days",
    metadata,
    # The days of a multi-day session (sessions.days > 1), each with its own wall-clock
    # start and end resolved in the studio's zone (a DST change between days moves neither).
    _id(),
    _studio_fk(),
    sa.Column(
        "session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("day_number", sa.Integer, nullable=False),
    sa.Column("local_date", sa.Date, nullable=False),
    sa.Column("starts_at", UTC_INSTANT, nullable=False),
    sa.Column("ends_at", UTC_INSTANT, nullable=False),
    sa.UniqueConstraint("session_id", "day_number"),
    sa.CheckConstraint("day_number >= 1", name="day_positive"),
    sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    sa.Index("ix_session_days_studio_starts", "studio_id", "starts_at"),
)

day_attendance = sa.Table(
    "day_attendance",
    metadata,
    # Attendance of one booked session's day: a multi-day course is attended day by day.
    _id(),
    _studio_fk(),
    sa.Column(
        "registration_session_id",
        sa.Integer,
        sa.ForeignKey("registration_sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("day_number", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("marked_at", UTC_INSTANT, nullable=False),
    sa.Column("marked_by", sa.Integer, sa.ForeignKey("staff.id", ondelete="SET NULL")),
    sa.UniqueConstraint("registration_session_id", "day_number"),
    sa.CheckConstraint("status IN ('attended', 'absent')", name="status_known"),
    sa.Index("ix_day_attendance_session_day", "session_id", "day_number"),
)

studio_channels = sa.Table(
    "studio_channels",
    metadata,
    # A studio's own bot or number: messages to it belong to that studio alone. address is
    # the bot's id (the digits before ':' in its token) or our E.164 number. The token is
    # read from the environment variable token_env when set, else kept here (demo files).
    _id(),
    _studio_fk(),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("token_env", sa.String(100)),
    sa.Column("token", sa.String(200)),
    sa.UniqueConstraint("channel", "address"),
    sa.CheckConstraint("channel IN ('telegram', 'sms', 'whatsapp')", name="channel_known"),
    sa.CheckConstraint("token_env IS NULL OR token IS NULL", name="one_token_source"),
    sa.Index("ix_studio_channels_studio", "studio_id"),
)
