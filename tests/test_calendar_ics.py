"""The booking .ics parses with `icalendar` (Python) and Mozilla's `ical.js` (node) alike.

The ical.js half needs node and npm: it skips without them, and fails under
BOOKBOT_REQUIRE_NODE=1 (CI). ical.js is installed once into the user's cache (tests/node_tools.py).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from bookbot.presentation.calendar_ics import (
    CalendarEvent,
    appointment_event,
    booking_calendar,
    staff_feed_calendar,
    taught_session_event,
)
from bookbot.presentation.i18n import translator
from bookbot.services.appointment_rows import Appointment
from tests import node_tools

ICALJS = "ical.js@2.2.1"
PARSE_ICS = Path(__file__).parent / "js" / "parse_ics.mjs"
LISBON = ZoneInfo("Europe/Lisbon")
STAMP = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
T18 = datetime(2027, 3, 15, 18, 0, tzinfo=UTC)

# Every character TEXT must escape, a CRLF, accents and a multi-codepoint emoji, long enough to fold.
TRICKY = (
    "Yoga, flow; and \\ back-slash — Café Açaí, São João 🧘\u200d♀️🔥 "
    "Aula de iniciação: pés descalços, tapete próprio; água à venda.\r\nSecond line"
)
TRICKY_PARSED = TRICKY.replace("\r\n", "\n")


def event(n: int = 7, **changes: Any) -> CalendarEvent:
    base = CalendarEvent(
        uid=f"registration-42-session-{n}@bookbot",
        starts_at=T18 + timedelta(weeks=n),
        ends_at=T18 + timedelta(weeks=n, hours=1),
        summary=f"Vinyasa {n}",
        location="Estúdio Lumen, Rua das Flores 12; 2º andar, Lisboa",
        description="Traga tapete.\nChegue 10 min antes, por favor; obrigado!",
    )
    return replace(base, **changes)


def build(*events: CalendarEvent) -> bytes:
    return booking_calendar(events, stamp=STAMP)


def parsed(data: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(data)


def vevents(data: bytes) -> list[icalendar.Event]:
    return list(parsed(data).walk("VEVENT"))


# --- the calendar as icalendar reads it -------------------------------------------------------


def test_one_published_calendar_with_one_event_per_session() -> None:
    cal = parsed(build(event(1), event(2), event(3)))
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["PRODID"]) == "-//bookbot//bookbot//EN"
    assert [str(e["UID"]) for e in cal.walk("VEVENT")] == [
        "registration-42-session-1@bookbot",
        "registration-42-session-2@bookbot",
        "registration-42-session-3@bookbot",
    ]


def test_prodid_names_the_given_domain() -> None:
    data = booking_calendar([event()], stamp=STAMP, prodid_domain="studio.example")
    assert str(parsed(data)["PRODID"]) == "-//studio.example//bookbot//EN"


def test_instants_are_written_in_utc_whatever_zone_they_come_in() -> None:
    start = datetime(2027, 7, 1, 19, 0, tzinfo=LISBON)  # summer time: 18:00 UTC
    data = build(event(starts_at=start, ends_at=start + timedelta(minutes=75)))
    assert b"DTSTART:20270701T180000Z\r\n" in data
    assert b"DTEND:20270701T191500Z\r\n" in data
    assert b"DTSTAMP:20270301T093000Z\r\n" in data
    (vevent,) = vevents(data)
    assert vevent["DTSTART"].dt == start
    assert vevent["DTSTART"].dt.utcoffset() == timedelta(0)
    assert vevent["DTEND"].dt == start + timedelta(minutes=75)
    assert vevent["DTSTAMP"].dt == STAMP


@pytest.mark.parametrize("field", ["summary", "location", "description"])
def test_text_round_trips(field: str) -> None:
    (vevent,) = vevents(build(event(**{field: TRICKY})))
    assert str(vevent[field.upper()]) == TRICKY_PARSED


def test_summary_escapes_are_the_rfc_ones() -> None:
    data = build(event(summary="a,b;c\\d\ne"))
    assert b"SUMMARY:a\\,b\\;c\\\\d\\ne\r\n" in data


def test_control_characters_are_dropped() -> None:
    (vevent,) = vevents(build(event(summary="bell\x07 and\ttab\x00")))
    assert str(vevent["SUMMARY"]) == "bell and\ttab"


def test_empty_location_and_description_are_left_out() -> None:
    (vevent,) = vevents(build(event(location="", description="")))
    assert "LOCATION" not in vevent
    assert "DESCRIPTION" not in vevent


def test_organizer_name_is_the_cn_of_an_unreachable_address() -> None:
    (vevent,) = vevents(build(event(organizer_name='Estúdio "Lumen": yoga, ^pilates')))
    assert vevent["ORGANIZER"].params["CN"] == 'Estúdio "Lumen": yoga, ^pilates'
    assert str(vevent["ORGANIZER"]) == "mailto:noreply@bookbot.invalid"
    assert "ORGANIZER" not in vevents(build(event()))[0]


# --- the bytes ---------------------------------------------------------------------------------


def test_lines_end_in_crlf_and_fold_at_75_octets_between_characters() -> None:
    data = build(event(summary=TRICKY * 3, description="🧘" * 100, location="é" * 200))
    assert data.endswith(b"END:VCALENDAR\r\n")
    lines = data.split(b"\r\n")[:-1]
    assert b"\n" not in b"".join(lines)
    assert b"\r" not in b"".join(lines)
    assert max(len(line) for line in lines) == 75  # something did fold, and to the limit
    for line in lines:
        line.decode()  # a fold never splits a UTF-8 sequence
    assert sum(line.startswith(b" ") for line in lines) > 10
    (vevent,) = vevents(data)
    assert str(vevent["DESCRIPTION"]) == "🧘" * 100
    assert str(vevent["LOCATION"]) == "é" * 200


def test_output_is_deterministic() -> None:
    assert build(event(1), event(2)) == build(event(1), event(2))


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
def test_naive_event_times_are_refused(field: str) -> None:
    naive = datetime(2027, 3, 15, 18, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match=f"{field} must be timezone-aware"):
        build(event(**{field: naive}))


def test_naive_stamp_is_refused() -> None:
    naive = datetime(2027, 3, 1, 9, 30)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="stamp must be timezone-aware"):
        booking_calendar([event()], stamp=naive)


def test_an_event_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="must end after it starts"):
        build(event(ends_at=T18 + timedelta(weeks=7)))


def test_no_events_and_repeated_or_blank_uids_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one event"):
        build()
    with pytest.raises(ValueError, match="its own UID"):
        build(event(1), event(1))
    with pytest.raises(ValueError, match="needs a UID"):
        build(event(uid=" "))


# --- appointments and the staff feed ----------------------------------------------------------

EN = translator("en")
MEET = "https://meet.example.com/lucia-31?pwd=a,b;c"


def appointment(**changes: Any) -> Appointment:
    base = Appointment(
        id=31,
        studio_id=1,
        service_id=2,
        service_name="Spanish lesson (60 min)",
        staff_id=3,
        staff_name="Lucía Martín",
        staff_timezone="Europe/Madrid",
        customer_id=4,
        customer_name="Ann",
        starts_at=T18,
        ends_at=T18 + timedelta(hours=1),
        guest_count=1,
        status="confirmed",
        held_until=None,
        price_minor=4000,
        currency="EUR",
        location="Calle Mayor 1, Madrid",
        online=False,
        meeting_url="",
        sequence=0,
        cancel_reason="",
    )
    return replace(base, **changes)


def test_class_events_write_no_sequence_url_or_cancellation() -> None:
    data = build(event())
    assert b"SEQUENCE" not in data
    assert b"URL" not in data
    assert b"STATUS:CONFIRMED\r\nTRANSP:OPAQUE\r\nEND:VEVENT" in data


def test_an_appointment_for_the_customer() -> None:
    made = appointment_event(appointment(), EN, studio_name="Lingua & Coach")
    (vevent,) = vevents(build(made))
    assert str(vevent["UID"]) == "appointment-31@bookbot"
    assert vevent["SEQUENCE"] == 0
    assert str(vevent["SUMMARY"]) == "Spanish lesson (60 min) · Lucía Martín"
    assert str(vevent["LOCATION"]) == "Calle Mayor 1, Madrid"
    assert "URL" not in vevent
    assert str(vevent["DESCRIPTION"]) == "Appointment 31 with Lucía Martín at Lingua & Coach."
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert vevent["DTSTART"].dt == T18


def test_a_rescheduled_online_appointment_for_the_staff_member() -> None:
    moved = appointment(online=True, meeting_url=MEET, sequence=2, guest_count=3)
    (vevent,) = vevents(build(appointment_event(moved, EN, studio_name="L", for_staff=True)))
    assert vevent["SEQUENCE"] == 2
    assert str(vevent["SUMMARY"]) == "Spanish lesson (60 min) · Ann, 3 people"
    assert str(vevent["LOCATION"]) == MEET  # the link is where it happens
    assert str(vevent["URL"]) == MEET  # a URI: written without TEXT escapes
    assert f"URL:{MEET}\r\n".encode() in build(appointment_event(moved, EN, studio_name="L"))
    assert str(vevent["DESCRIPTION"]) == f"Appointment 31 with Ann, 3 people.\nJoin online: {MEET}"


def test_an_online_service_without_a_link_keeps_its_place() -> None:
    made = appointment_event(appointment(online=True, location="Zoom"), EN, studio_name="L")
    assert (made.location, made.url) == ("Zoom", "")


@pytest.mark.parametrize("status", ["cancelled_by_customer", "cancelled_by_staff"])
def test_a_cancelled_appointment_says_so(status: str) -> None:
    gone = appointment(status=status, cancel_reason="Lucía is ill", sequence=1)
    (vevent,) = vevents(build(appointment_event(gone, EN, studio_name="L", for_staff=True)))
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert str(vevent["TRANSP"]) == "TRANSPARENT"
    assert str(vevent["DESCRIPTION"]).endswith("\nCancelled: Lucía is ill")
    plain = appointment_event(appointment(status=status), EN, studio_name="L")
    assert plain.description.endswith("\nCancelled.")


def test_a_url_with_spaces_and_a_negative_sequence_are_refused() -> None:
    with pytest.raises(ValueError, match="not a URI"):
        build(event(url="https://a.example/x y"))
    with pytest.raises(ValueError, match="negative SEQUENCE"):
        build(event(sequence=-1))


def feed(*events: CalendarEvent) -> bytes:
    return staff_feed_calendar(
        events, staff_name="Lucía Martín, tutor", stamp=STAMP, timezone="Europe/Madrid"
    )


def test_the_staff_feed_is_named_after_them_and_may_be_empty() -> None:
    cal = parsed(feed())
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == "Lucía Martín, tutor"
    assert str(cal["X-WR-TIMEZONE"]) == "Europe/Madrid"
    assert list(cal.walk("VEVENT")) == []
    assert "X-WR-CALNAME;VALUE=TEXT:Lucía Martín\\, tutor\r\n".encode() in feed()
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in feed()


def test_the_staff_feed_lists_appointments_and_taught_classes() -> None:
    taught = taught_session_event(
        session_id=9,
        class_name="Conversation club",
        starts_at=T18 + timedelta(days=1),
        ends_at=T18 + timedelta(days=1, hours=1),
        location="Room 2",
    )
    gone = appointment(id=32, status="cancelled_by_staff", starts_at=T18 + timedelta(days=2))
    gone = replace(gone, ends_at=gone.starts_at + timedelta(hours=1))
    events = [
        appointment_event(appointment(), EN, studio_name="L", for_staff=True),
        appointment_event(gone, EN, studio_name="L", for_staff=True),
        taught,
    ]
    got = vevents(feed(*events))
    assert [str(e["UID"]) for e in got] == [
        "appointment-31@bookbot",
        "appointment-32@bookbot",
        "session-9@bookbot",
    ]
    assert [str(e["STATUS"]) for e in got] == ["CONFIRMED", "CANCELLED", "CONFIRMED"]
    assert "SEQUENCE" not in got[2]
    with pytest.raises(ValueError, match="its own UID"):
        feed(taught, taught)


# --- the calendar as ical.js reads it ----------------------------------------------------------


@pytest.fixture(scope="session")
def icaljs() -> tuple[node_tools.NodeTools, Path]:
    tools = node_tools.require_node("the ical.js check")
    return tools, node_tools.npm_package(ICALJS, tools)


def parse_with_icaljs(icaljs: tuple[node_tools.NodeTools, Path], data: bytes) -> dict[str, Any]:
    tools, prefix = icaljs
    result = node_tools.run_node(tools, PARSE_ICS, packages=[prefix], stdin=data)
    assert result.returncode == 0, result.stderr.decode()
    calendar: dict[str, Any] = json.loads(result.stdout)
    return calendar


def test_icaljs_reads_every_event(icaljs: tuple[node_tools.NodeTools, Path]) -> None:
    start = datetime(2027, 7, 1, 19, 0, tzinfo=LISBON)
    events = [
        event(1, summary=TRICKY, organizer_name='Estúdio "Lumen", Lisboa'),
        event(2, starts_at=start, ends_at=start + timedelta(minutes=75), description=TRICKY),
        event(3, location=TRICKY),
    ]
    cal = parse_with_icaljs(icaljs, build(*events))
    assert cal["icaljs_version"] == ICALJS.split("@")[1]
    assert (cal["version"], cal["method"]) == ("2.0", "PUBLISH")
    assert cal["prodid"] == "-//bookbot//bookbot//EN"
    got = cal["events"]
    assert [e["uid"] for e in got] == [e.uid for e in events]
    assert [e["start"] for e in got] == [
        "2027-03-22T18:00:00.000Z",
        "2027-07-01T18:00:00.000Z",
        "2027-04-05T18:00:00.000Z",
    ]
    assert [e["end"] for e in got] == [
        "2027-03-22T19:00:00.000Z",
        "2027-07-01T19:15:00.000Z",
        "2027-04-05T19:00:00.000Z",
    ]
    assert all(e["start_is_utc"] for e in got)
    assert {e["stamp"] for e in got} == {"2027-03-01T09:30:00.000Z"}
    assert got[0]["summary"] == TRICKY_PARSED
    assert got[1]["description"] == TRICKY_PARSED
    assert got[2]["location"] == TRICKY_PARSED
    assert got[0]["location"] == events[0].location
    assert got[0]["organizer_cn"] == 'Estúdio "Lumen", Lisboa'
    assert got[1]["organizer_cn"] is None


def test_icaljs_reads_appointments_and_the_feed(icaljs: tuple[node_tools.NodeTools, Path]) -> None:
    online = appointment(online=True, meeting_url=MEET, sequence=3)
    gone = appointment(id=32, status="cancelled_by_customer", starts_at=T18 + timedelta(days=1))
    gone = replace(gone, ends_at=gone.starts_at + timedelta(minutes=30))
    events = [
        appointment_event(online, EN, studio_name="L", for_staff=True),
        appointment_event(gone, EN, studio_name="L", for_staff=True),
    ]
    cal = parse_with_icaljs(icaljs, feed(*events))
    assert (cal["method"], cal["calname"]) == ("PUBLISH", "Lucía Martín, tutor")
    got = cal["events"]
    assert [e["uid"] for e in got] == ["appointment-31@bookbot", "appointment-32@bookbot"]
    assert [e["sequence"] for e in got] == [3, 0]
    assert [e["status"] for e in got] == ["CONFIRMED", "CANCELLED"]
    assert [e["transp"] for e in got] == ["OPAQUE", "TRANSPARENT"]
    assert got[0]["url"] == MEET
    assert got[0]["location"] == MEET
    assert got[1]["url"] is None
    assert got[1]["end"] == "2027-03-16T18:30:00.000Z"
    assert parse_with_icaljs(icaljs, feed())["events"] == []


# --- node_tools' skip-or-fail rule (no node needed) --------------------------------------------


def test_missing_node_skips_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(node_tools.REQUIRE_ENV, raising=False)
    monkeypatch.setattr(node_tools.shutil, "which", lambda _name: None)
    with pytest.raises(pytest.skip.Exception, match="node and npm are needed for the ical.js"):
        node_tools.require_node("the ical.js check")


def test_missing_node_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(node_tools.REQUIRE_ENV, "1")
    monkeypatch.setattr(node_tools.shutil, "which", {"npm": "/usr/bin/npm"}.get)
    with pytest.raises(pytest.fail.Exception, match=r"node and npm are needed .*\(node not on"):
        node_tools.require_node("the ical.js check")
