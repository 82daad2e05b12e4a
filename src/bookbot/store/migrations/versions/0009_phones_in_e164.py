"""phones in E.164: customers' and staff phones written before normalisation

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 11:00:00

Phones now compare in E.164 (+442079460101). Rows written before, by the command line or a
studio file ("+44 20 7946 0101"), are rewritten, so a text from that number finds them. A
customer row is left as it is where its E.164 form already belongs to another customer of
the studio (two records of one person: merging them is a staff decision, not a
migration's), and so is anything that does not read as a number. Self-contained on purpose:
a migration must not change when the application's code does.
"""

from collections.abc import Sequence

import phonenumbers
import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _e164(raw: str) -> str | None:
    text = raw.strip().removeprefix("whatsapp:")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def upgrade() -> None:
    conn = op.get_bind()
    for table in ("customers", "staff"):
        rows = conn.execute(
            sa.text(f"SELECT id, studio_id, phone FROM {table} WHERE phone IS NOT NULL")  # noqa: S608
        ).all()
        taken = {(r.studio_id, r.phone) for r in rows}
        for row in rows:
            new = _e164(row.phone)
            if new is None or new == row.phone:
                continue
            if table == "customers" and (row.studio_id, new) in taken:
                continue  # another record already has it: left for staff to merge
            conn.execute(
                sa.text(f"UPDATE {table} SET phone = :new WHERE id = :id"),  # noqa: S608
                {"new": new, "id": row.id},
            )
            taken.add((row.studio_id, new))


def downgrade() -> None:
    """Nothing to undo: the E.164 form is a valid spelling of the same number."""
