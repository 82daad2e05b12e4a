"""Sessions held per member in a month, for invoicing (`bookbot report sessions`).

A session held is a staff member's appointment that took place: 'completed', or 'no_show'
(the time was kept for the member, so it is billable; the report shows no-shows apart so
staff can waive them). Cancelled, expired and still-confirmed appointments are not held.
The month is the staff member's local calendar month. Each appointment counts at the price
it was booked at; what was paid online (net of refunds) or with a package is not left to
invoice. Occurrences of recurring bookings and one-time appointments both count; the report
says how many came from a series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from bookbot.engine.recurrence import resolve_local
from bookbot.services.appointment_rows import Provider, provider_by_id
from bookbot.services.availability import LONGEST_FOOTPRINT
from bookbot.store.db import Reads


@dataclass(frozen=True)
class MemberSessions:
    customer_id: int
    customer_name: str
    phone: str
    held: int  # completed + no_show
    no_shows: int
    from_series: int
    amount_minor: int  # the booked price of every session held
    paid_minor: int  # paid online (net of refunds) or covered by a package
    currency: str

    @property
    def to_invoice_minor(self) -> int:
        return max(self.amount_minor - self.paid_minor, 0)


@dataclass(frozen=True)
class SessionsReport:
    staff: Provider
    month: date  # its first day
    members: tuple[MemberSessions, ...]

    @property
    def held(self) -> int:
        return sum(m.held for m in self.members)

    @property
    def to_invoice_minor(self) -> int:
        return sum(m.to_invoice_minor for m in self.members)


def month_bounds(month: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC instants of the local month's first moment and the next month's."""
    after = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    start = resolve_local(datetime.combine(month.replace(day=1), time(0)), zone)[0]
    return start, resolve_local(datetime.combine(after, time(0)), zone)[0]


# Through ix_appointments_staff_busy (staff_id, busy_from): the month's range only.
_HELD_SQL = """SELECT a.customer_id, COALESCE(c.name, '') AS customer_name,
    COALESCE(c.phone, '') AS phone, a.status, a.recurring_booking_id, a.price_minor,
    a.currency,
    COALESCE((SELECT SUM(p.amount_minor - p.refunded_minor) FROM payments p
        WHERE p.appointment_id = a.id AND p.status IN ('paid', 'partially_refunded')), 0)
        AS paid_minor,
    EXISTS (SELECT 1 FROM package_redemptions r WHERE r.appointment_id = a.id
        AND r.status = 'redeemed') AS by_package
FROM appointments a JOIN customers c ON c.id = a.customer_id
WHERE a.studio_id = :studio_id AND a.staff_id = :staff_id
  AND a.busy_from >= :floor AND a.busy_from < :end
  AND a.starts_at >= :start AND a.starts_at < :end
  AND a.status IN ('completed', 'no_show')
ORDER BY a.starts_at, a.id"""


async def sessions_report(
    reads: Reads, studio_id: int, *, staff_id: int, month: date
) -> SessionsReport:
    staff = await provider_by_id(reads, studio_id, staff_id)
    start, end = month_bounds(month, staff.timezone)
    rows = await reads.all(
        _HELD_SQL,
        {
            "studio_id": studio_id,
            "staff_id": staff_id,
            "floor": start - LONGEST_FOOTPRINT,
            "start": start,
            "end": end,
        },
    )
    by_member: dict[int, MemberSessions] = {}
    for row in rows:
        price = int(row["price_minor"])
        paid = price if row["by_package"] else min(int(row["paid_minor"]), price)
        seen = by_member.get(row["customer_id"])
        by_member[row["customer_id"]] = MemberSessions(
            customer_id=row["customer_id"],
            customer_name=row["customer_name"],
            phone=row["phone"],
            held=(seen.held if seen else 0) + 1,
            no_shows=(seen.no_shows if seen else 0) + (row["status"] == "no_show"),
            from_series=(seen.from_series if seen else 0)
            + (row["recurring_booking_id"] is not None),
            amount_minor=(seen.amount_minor if seen else 0) + price,
            paid_minor=(seen.paid_minor if seen else 0) + paid,
            currency=row["currency"],
        )
    members = sorted(by_member.values(), key=lambda m: (m.customer_name.lower(), m.customer_id))
    return SessionsReport(staff, month.replace(day=1), tuple(members))
