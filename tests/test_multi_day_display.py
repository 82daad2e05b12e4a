"""A multi-day session shown as one item and exported as an event per day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import icalendar

from bookbot.handlers.session_change_ics import calendar_attachment
from bookbot.handlers.templates import render
from bookbot.presentation.calendar_ics import CalendarEvent, booking_calendar, day_events
from bookbot.presentation.formatting import date_range, local_days
from bookbot.presentation.i18n import translator

# Wed 13 - Fri 15 Jan 2027, 09:00-17:00 London (GMT = UTC in January).
STARTS = datetime(2027, 1, 13, 9, 0, tzinfo=UTC)
ENDS = datetime(2027, 1, 15, 17, 0, tzinfo=UTC)
# Fri 26 - Sun 28 Mar 2027 across the spring change (BST from the 28th).
SPRING_STARTS = datetime(2027, 3, 26, 9, 0, tzinfo=UTC)
SPRING_ENDS = datetime(2027, 3, 28, 16, 0, tzinfo=UTC)


def test_one_item_for_the_whole_course_in_english() -> None:
    assert translator("en").days(STARTS, ENDS, 3, "Europe/London") == (
        "Wed 13 – Fri 15 Jan, 09:00–17:00 daily"
    )
    assert translator("en").span(STARTS, ENDS, "Europe/London", days=3) == (
        "Wed 13 – Fri 15 Jan 2027, 09:00–17:00 daily GMT"
    )


def test_dates_across_a_month_and_in_spanish() -> None:
    assert date_range(date(2027, 1, 29), date(2027, 2, 2)) == "Fri 29 Jan – Tue 2 Feb"
    assert date_range(date(2027, 1, 13), date(2027, 1, 15), "es") == "mié 13 – vie 15 ene"
    spanish = local_days(
        STARTS, ENDS, 3, "Europe/London", "es", template="{dates}, {start}–{end} cada día"
    )
    assert spanish == "mié 13 – vie 15 ene, 09:00–17:00 cada día"


def test_the_daily_hours_stay_on_the_wall_clock_across_a_dst_change() -> None:
    text = translator("en").days(SPRING_STARTS, SPRING_ENDS, 3, "Europe/London")
    assert text == "Fri 26 – Sun 28 Mar, 09:00–17:00 daily"


def test_an_event_per_day_with_its_own_uid() -> None:
    event = CalendarEvent(
        uid="registration-7@bristol.bookbot",
        starts_at=SPRING_STARTS,
        ends_at=SPRING_ENDS,
        summary="Gas Safe ACS Core",
        location="Bay 2",
        description="Booking 7.",
        sequence=2,
    )
    data = booking_calendar(day_events(event, 3, "Europe/London"), stamp=STARTS)

    found = list(icalendar.Calendar.from_ical(data).walk("VEVENT"))
    assert [str(e["UID"]) for e in found] == [
        "registration-7-day-1@bristol.bookbot",
        "registration-7-day-2@bristol.bookbot",
        "registration-7-day-3@bristol.bookbot",
    ]
    assert [(e.decoded("DTSTART"), e.decoded("DTEND")) for e in found] == [
        (SPRING_STARTS, datetime(2027, 3, 26, 17, 0, tzinfo=UTC)),
        (datetime(2027, 3, 27, 9, 0, tzinfo=UTC), datetime(2027, 3, 27, 17, 0, tzinfo=UTC)),
        (datetime(2027, 3, 28, 8, 0, tzinfo=UTC), SPRING_ENDS),  # 09:00-17:00 BST
    ]
    assert [e["SEQUENCE"] for e in found] == [2, 2, 2]


def test_the_change_notice_sends_every_day_again_with_the_new_sequence() -> None:
    params = {
        "registration": 7,
        "studio_slug": "bristol",
        "studio_name": "Bristol Gas Training",
        "session_id": 3,
        "dates": 1,
        "starts_at": STARTS.isoformat(),
        "ends_at": ENDS.isoformat(),
        "days": 3,
        "timezone": "Europe/London",
        "class_name": "Gas Safe ACS Core",
        "location": "",
        "sequence": 1,
    }
    ics = calendar_attachment(params, translator("en"), stamp=STARTS).content

    found = list(icalendar.Calendar.from_ical(ics).walk("VEVENT"))
    assert len(found) == 3
    assert [e["SEQUENCE"] for e in found] == [1, 1, 1]
    assert found[2].decoded("DTSTART") == datetime(2027, 1, 15, 9, 0, tzinfo=UTC)


def test_the_change_notice_names_the_new_dates_and_daily_hours() -> None:
    params = {
        "class_name": "Gas Safe ACS Core",
        "starts_at": STARTS.isoformat(),
        "ends_at": ENDS.isoformat(),
        "days": 3,
        "was": datetime(2027, 1, 6, 9, 0, tzinfo=UTC).isoformat(),
        "moved": True,
        "location": "",
        "was_location": "",
        "kind": "booking",
    }
    text = render("session_changed", params, translator("en"), "Europe/London")
    assert "has moved to Wed 13 – Fri 15 Jan 2027, 09:00–17:00 daily." in text
