"""Who may teach a session: qualified for the class's role and free at that time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookbot.engine import errors


@dataclass(frozen=True)
class Booking:
    """A session a staff member already works, as instructor or assistant."""

    session_id: int
    starts_at: datetime
    ends_at: datetime
    label: str


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals: a session ending at 18:00 does not clash with one at 18:00."""
    return a_start < b_end and b_start < a_end


def check_qualified(
    staff_name: str, staff_roles: set[int], required_role: int | None, role_name: str
) -> None:
    if required_role is not None and required_role not in staff_roles:
        raise errors.StaffNotQualified(staff=staff_name, role=role_name)


def check_free(
    staff_name: str, session_id: int, starts_at: datetime, ends_at: datetime, work: list[Booking]
) -> None:
    for other in work:
        if other.session_id != session_id and overlaps(
            starts_at, ends_at, other.starts_at, other.ends_at
        ):
            raise errors.StaffDoubleBooked(staff=staff_name, other=other.label)
