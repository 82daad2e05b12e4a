"""Staff tools in chat: the gate, today's sessions, rosters and check-in, no-shows, reports,
assigning staff, generating sessions and restoring auto-cancelled reservations.

The example studio at Fri 20 Nov 2026 09:00 (London, GMT): today's only session is the
Open Studio Drop-in at 16:00 (Tom teaches it; Ana is not a wheel instructor, Sam is).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel
from bookbot.engine.clock import FrozenClock
from bookbot.engine.reservations import PassKind
from bookbot.services import attendance, booking, passes, reservations
from bookbot.services.customers import customer_for
from bookbot.store.db import Database
from tests.conversations.chat import Chat

TODAY_16 = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # Open Studio Drop-in, today
SATURDAY_TASTER = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
MAYA_TELEGRAM = "5001"
STAFF_COMMANDS = {
    "/staff": "staff_menu",
    "/today": "staff_today",
    "/roster": "staff_roster",
    "/noshows": "staff_noshows",
    "/report": "staff_report",
    "/assign": "staff_assign",
    "/generate": "staff_generate",
    "/override": "staff_override",
}
NOT_STAFF = "Sorry, that is for studio staff only."


async def _all(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.transaction(write=False) as tx:
        return list(await tx.all(sql, params))


async def _scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.transaction(write=False) as tx:
        return await tx.scalar(sql, params)


async def staff_chat(dialogues: Dialogues, db: Database, studio_id: int) -> Chat:
    """Maya, staff of the studio, on Telegram (her Telegram id put on the staff list)."""
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE staff SET telegram_user_id = :tg WHERE studio_id = :s AND key = 'maya'",
            {"tg": int(MAYA_TELEGRAM), "s": studio_id},
        )
    maya = Chat(dialogues, address=MAYA_TELEGRAM, name="Maya", channel=Channel.TELEGRAM)
    await maya.say("/start")
    return maya


async def customer(db: Database, clock: FrozenClock, studio_id: int, name: str, phone: str) -> int:
    return (await customer_for(db, clock, studio_id, "sms", phone, name=name, phone=phone)).id


async def session_at(db: Database, studio_id: int, class_key: str, starts_at: datetime) -> int:
    return int(
        await _scalar(
            db,
            "SELECT s.id FROM sessions s JOIN classes c ON c.id = s.class_id"
            " WHERE s.studio_id = :s AND c.key = :key AND s.starts_at = :at",
            s=studio_id,
            key=class_key,
            at=starts_at,
        )
    )


async def reserve(
    db: Database, clock: FrozenClock, studio_id: int, customer_id: int, starts: list[datetime]
) -> list[int]:
    """An unlimited drop-in pass for the customer, and reservations on the given dates."""
    class_id = await _scalar(
        db, "SELECT id FROM classes WHERE studio_id = :s AND key = 'open-studio'", s=studio_id
    )
    terms = passes.PassTerms(PassKind.UNLIMITED, valid_days=28)
    pass_id = await passes.issue_pass(
        db,
        clock.now(),
        studio_id,
        customer_id,
        class_id,
        terms=terms,
        payment="staff_issued",
        valid_from=clock.now().date(),
    )
    made = []
    for at in starts:
        session_id = await session_at(db, studio_id, "open-studio", at)
        made.append(
            (
                await reservations.reserve(
                    db, clock, studio_id, customer_id, pass_id, session_id=session_id
                )
            ).id
        )
    return made


async def ben_and_cleo_today(db: Database, clock: FrozenClock, studio_id: int) -> dict[str, int]:
    """Ben books today's drop-in for two; Cleo reserves it with her pass."""
    ben = await customer(db, clock, studio_id, "Ben Baker", "+447700900201")
    cleo = await customer(db, clock, studio_id, "Cleo Cruz", "+447700900202")
    today = await session_at(db, studio_id, "open-studio", TODAY_16)
    await booking.book_drop_in(db, clock, studio_id, ben, [today], guests=2)
    (reservation,) = await reserve(db, clock, studio_id, cleo, [TODAY_16])
    return {"ben": ben, "cleo": cleo, "session": today, "reservation": reservation}


async def test_everyone_else_is_refused_every_staff_command_and_each_attempt_is_logged(
    dialogues: Dialogues, db: Database
) -> None:
    eve = Chat(dialogues, address="6002", name="Eve", channel=Channel.TELEGRAM)
    await eve.say("/start")

    for command in STAFF_COMMANDS:
        await eve.say(command)
        assert NOT_STAFF in eve.text, command
        assert eve.labels[0] == "📅 Book a class"  # back at the customer menu

    logged = await _all(
        db, "SELECT command, allowed FROM staff_audit WHERE address = '6002' ORDER BY id"
    )
    assert [row[0] for row in logged] == list(STAFF_COMMANDS.values())
    assert not any(row[1] for row in logged)


async def test_staff_menu_and_every_attempt_of_staff_is_logged_as_allowed(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/staff")
    assert "Staff tools for Clay & Kiln:" in maya.text
    assert maya.labels[:3] == ["📋 Today", "🧾 Roster and check-in", "🚫 No-shows"]
    await maya.press("📋 Today")
    logged = await _all(db, "SELECT command, allowed FROM staff_audit ORDER BY id")
    assert [tuple(row) for row in logged] == [("staff_menu", True), ("staff_today", True)]


async def test_the_staff_menu_reaches_sessions_certificates_and_notices(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    maya = await staff_chat(dialogues, db, studio_id)
    for label, screen in (
        ("🛠 Add or change a session", "staff_session"),
        ("🎓 Complete a course", "staff_complete"),
        ("🔔 Notices", "staff_notices"),
    ):
        await maya.say("/staff")
        await maya.press(label)
        state = await _scalar(
            db, "SELECT state FROM conversations WHERE address = :a", a=maya.address
        )
        assert state.startswith(screen), (label, state)


async def test_today_lists_todays_sessions_with_booked_and_checked_in_counts(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    await ben_and_cleo_today(db, clock, studio_id)
    maya = await staff_chat(dialogues, db, studio_id)

    await maya.say("/today")

    assert "Today, Fri 20 Nov:" in maya.text
    assert maya.last.preformatted  # a table (Telegram: <pre>)
    rows = [line.split("  ") for line in maya.text.splitlines() if "  " in line]
    assert [[cell.strip() for cell in row if cell] for row in rows] == [
        ["Time", "Class", "Booked", "Checked in"],
        ["16:00", "Open Studio Drop-in", "3/8", "0"],
    ]
    assert maya.labels == [
        "16:00 Open Studio Drop-in",
        "◂ Earlier",
        "Later ▸",
        "⬅ Back",
        "🧰 Staff menu",
    ]


async def test_staff_by_sms_from_the_phone_on_the_staff_list(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE staff SET phone = '+447700900555' WHERE studio_id = :s AND key = 'tom'",
            {"s": studio_id},
        )
    tom = Chat(dialogues, address="+447700900555", name="", channel=Channel.SMS)
    await tom.say("hi")
    await tom.say("/today")
    assert "• 16:00 Open Studio Drop-in · 0/8 booked · 0 checked in" in tom.text


async def test_roster_tap_a_name_to_check_in_then_all_present(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    made = await ben_and_cleo_today(db, clock, studio_id)
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/today")

    await maya.press("16:00 Open Studio Drop-in")
    assert "Open Studio Drop-in · Fri 20 Nov, 16:00" in maya.text
    assert maya.labels == [
        "Ben Baker · 2 people",
        "Cleo Cruz",
        "✅ All present",
        "📝 Notes",  # the session's instructor notes (issue 17)
        "⬅ Back",
        "🧰 Staff menu",
    ]

    await maya.press("Cleo Cruz")
    assert "Cleo Cruz is checked in." in maya.text
    assert "3/8 booked · 1 checked in" in maya.text
    assert maya.labels[:2] == ["Ben Baker · 2 people", "✅ Cleo Cruz · checked in"]
    maya_id = await _scalar(db, "SELECT id FROM staff WHERE key = 'maya'")
    row = (
        await _all(
            db,
            "SELECT status, checked_in_by FROM reservations WHERE id = :id",
            id=made["reservation"],
        )
    )[0]
    assert tuple(row) == ("checked_in", f"staff:{maya_id}")

    await maya.press("✅ All present")
    assert "All present: 1 more checked in." in maya.text
    assert maya.labels[:2] == ["✅ Ben Baker · checked in · 2 people", "✅ Cleo Cruz · checked in"]
    assert "✅ All present" not in maya.labels
    attendance_now = await _scalar(
        db, "SELECT attendance FROM registration_sessions WHERE customer_id = :c", c=made["ben"]
    )
    assert attendance_now == "checked_in"

    await maya.say("/today")
    row = next(line for line in maya.text.splitlines() if line.startswith("16:00"))
    assert row.split()[-2:] == ["3/8", "3"]


async def test_a_name_no_longer_on_the_roster_is_not_checked_in(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    made = await ben_and_cleo_today(db, clock, studio_id)
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("/today")
    await maya.press("16:00 Open Studio Drop-in")
    token = maya.token("Cleo Cruz")
    await reservations.cancel(db, clock, studio_id, made["reservation"], customer_id=made["cleo"])

    await maya.press_token(token)

    assert "That person is not on this roster." in maya.text
    assert maya.labels[0] == "Ben Baker · 2 people"
    status = await _scalar(
        db, "SELECT status FROM reservations WHERE id = :id", id=made["reservation"]
    )
    assert status == "cancelled"


async def test_staff_check_in_is_refused_when_it_is_not_the_class_day(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    ben = await customer(db, clock, studio_id, "Ben Baker", "+447700900201")
    taster = await session_at(db, studio_id, "wheel-taster", SATURDAY_TASTER)
    await booking.book_session(db, clock, studio_id, ben, taster, guests=1)
    maya = await staff_chat(dialogues, db, studio_id)

    await maya.say("/roster")  # the coming week's sessions to pick from
    assert "Choose a session to see its roster:" in maya.text
    await maya.press("Sat 21 Nov, 14:00 · Wheel Throwing Taster")
    await maya.press("Ben Baker")
    assert "Staff can check people in only on the day of the class." in maya.text
    await maya.press("✅ All present")
    assert "Staff can check people in only on the day of the class." in maya.text

    assert await _scalar(db, "SELECT attendance FROM registration_sessions") is None


async def test_noshows_after_the_class_closed_and_the_utilization_report(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    made = await ben_and_cleo_today(db, clock, studio_id)
    maya_id = await _scalar(db, "SELECT id FROM staff WHERE key = 'maya'")
    await reservations.check_in(db, clock, studio_id, made["reservation"], staff_id=maya_id)
    clock.set(datetime(2026, 11, 20, 18, 0, tzinfo=UTC))  # the drop-in ended at 17:30
    await attendance.close_ended(db, clock)
    maya = await staff_chat(dialogues, db, studio_id)

    await maya.say("/noshows")
    assert (
        "No-shows in the last 7 days:\n• Fri 20 Nov, 16:00 · Open Studio Drop-in · Ben Baker"
        in (maya.text)
    )
    assert "Cleo Cruz" not in maya.text  # she came

    await maya.say("/report")
    replies = await maya.press("By class, last 7 days")
    chart = replies[0].attachment
    assert chart is not None
    assert (chart.filename, chart.mime_type) == ("utilization.png", "image/png")
    assert chart.content.startswith(b"\x89PNG\r\n\x1a\n")
    # The table follows the chart, preformatted (Telegram: <pre>), with the report menu.
    table = replies[-1].text
    assert replies[-1].preformatted
    assert table.startswith("Utilization by class, Fri 13 Nov – Fri 20 Nov")
    row = next(line for line in table.splitlines() if line.startswith("Open Studio"))
    assert row.split()[-5:] == ["1", "3/8", "38%", "33%", "67%"]
    assert "By session, last 7 days" in maya.labels  # the report menu again, for another one

    replies = await maya.press("By session, last 7 days")
    assert "\n20 Nov 16:00 Ope… " in replies[-1].text
    assert replies[0].attachment is not None

    await maya.press("⬅ Back")
    assert "Which report?" not in maya.text  # back to where /report was asked from


async def test_assign_offers_only_qualified_free_staff_and_assigns_one(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    today = await session_at(db, studio_id, "open-studio", TODAY_16)
    maya = await staff_chat(dialogues, db, studio_id)

    await maya.say("/assign")
    await maya.press("Fri 20 Nov, 16:00 · Open Studio Drop-in")
    assert "Instructor: Tom Hargreaves" in maya.text
    # Ana is no wheel instructor; Tom teaches it already.
    assert maya.labels == ["Maya Okafor", "Sam Whitfield", "⬅ Back", "🧰 Staff menu"]

    await maya.press("Sam Whitfield")
    assert "Add Sam Whitfield as the instructor or as an assistant?" in maya.text
    await maya.press("Assistant")

    assert "Sam Whitfield now assists at Open Studio Drop-in on Fri 20 Nov, 16:00." in maya.text
    assert "Assistants: Sam Whitfield" in maya.text  # the session again, as it is now
    assert maya.labels == ["Maya Okafor", "⬅ Back", "🧰 Staff menu"]
    assistants = await _all(
        db,
        "SELECT st.key FROM session_assistants a JOIN staff st ON st.id = a.staff_id"
        " WHERE a.session_id = :id",
        id=today,
    )
    assert [row[0] for row in assistants] == ["sam"]


async def test_generate_shows_a_preview_then_creates_the_sessions(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    count = (
        "SELECT COUNT(*) FROM sessions s JOIN schedule_patterns p ON p.id = s.pattern_id"
        " WHERE p.key = 'weekday-dropin'"
    )
    before = await _scalar(db, count)
    maya = await staff_chat(dialogues, db, studio_id)

    await maya.say("/generate")
    await maya.press("Open Studio Drop-in · weekday-dropin")
    assert "Preview for Open Studio Drop-in (weekday-dropin):" in maya.text
    assert "20 new sessions:\n• Fri 18 Dec, 16:00\n• Mon 21 Dec, 16:00" in maya.text
    assert "… and 12 more" in maya.text
    assert await _scalar(db, count) == before  # a preview changes nothing

    await maya.press("✅ Confirm")

    assert "Done for weekday-dropin: 20 created, 0 changed, 0 removed." in maya.text
    assert await _scalar(db, count) == before + 20
    await maya.press("Open Studio Drop-in · weekday-dropin")
    assert "Nothing to do: the sessions already follow the pattern." in maya.text
    assert "✅ Confirm" not in maya.labels


async def test_override_restores_auto_cancelled_reservations(
    dialogues: Dialogues, db: Database, clock: FrozenClock, studio_id: int
) -> None:
    cleo = await customer(db, clock, studio_id, "Cleo Cruz", "+447700900202")
    monday, tuesday = datetime(2026, 11, 23, 16, tzinfo=UTC), datetime(2026, 11, 24, 16, tzinfo=UTC)
    made = await reserve(db, clock, studio_id, cleo, [TODAY_16, monday, tuesday])
    clock.set(datetime(2026, 11, 20, 18, 0, tzinfo=UTC))
    await attendance.close_ended(db, clock)  # she did not come today
    clock.set(datetime(2026, 11, 21, 1, 0, tzinfo=UTC))  # the 01:00 run
    assert await attendance.auto_cancel_absences(db, clock, studio_id)
    maya = await staff_chat(dialogues, db, studio_id)

    await maya.say("/override")
    assert maya.labels[0] == "Cleo Cruz · 2 reservations"
    await maya.press("Cleo Cruz")

    assert "Restored 2 reservations for Cleo Cruz." in maya.text
    assert "Nobody has auto-cancelled reservations coming up." in maya.text
    statuses = await _all(
        db, "SELECT status FROM reservations WHERE customer_id = :c ORDER BY id", c=cleo
    )
    assert [row[0] for row in statuses] == ["no_show", "pending", "pending"]
    assert len(made) == 3


async def test_staff_tools_speak_the_staff_members_language(
    dialogues: Dialogues, db: Database, studio_id: int
) -> None:
    maya = await staff_chat(dialogues, db, studio_id)
    await maya.say("idioma es")
    await maya.say("/staff")
    assert "Herramientas de personal de Clay & Kiln:" in maya.text
    assert maya.labels[0] == "📋 Hoy"

    await maya.say("/report")
    replies = await maya.press("Por clase, últimos 7 días")
    assert replies[-1].text.startswith("Ocupación por clase, vie 13 nov – vie 20 nov")
