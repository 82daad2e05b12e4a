"""Seat counts of a class or session over a period, and the rates reports show from them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UtilizationRow:
    """Seat counts of one class or session over a period.

    `capacity` is the total of seats over the `sessions`, `booked` the seats booked or reserved
    and not cancelled; `attended` and `no_shows` are out of `booked` (bookings still unmarked
    count in neither).
    """

    label: str
    sessions: int
    capacity: int
    booked: int
    attended: int
    no_shows: int

    def __post_init__(self) -> None:
        counts = (self.sessions, self.capacity, self.booked, self.attended, self.no_shows)
        if min(counts) < 0:
            raise ValueError(f"negative count in utilization row {self.label!r}")

    @property
    def fill_rate(self) -> float:
        """booked / capacity, 0.0 without capacity."""
        return _ratio(self.booked, self.capacity)

    @property
    def attendance_rate(self) -> float:
        """attended / booked, 0.0 when nothing was booked."""
        return _ratio(self.attended, self.booked)

    @property
    def no_show_rate(self) -> float:
        """no_shows / booked, 0.0 when nothing was booked."""
        return _ratio(self.no_shows, self.booked)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
