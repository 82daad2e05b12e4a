"""Taking a staff member's time: hold, confirm, reschedule (issue 14).

Race safety. Each of these runs in one transaction that first locks the staff row(s) it
books (`tx.lock("staff", ...)`, in id order; SQLite's write lock is taken up front), then
marks that staff member's lapsed holds expired, then reads the busy time overlapping the
footprint and re-checks the start with the engine's `fits`, and only then writes. The
instructor assignment of a class (`staffing.assign_in`) takes the same staff lock and reads
the same appointments, so a class and an appointment cannot both take one person's hour.
On PostgreSQL the exclusion constraint `appointments_no_overlap` is the backstop: its
refusal becomes `SlotTaken`, as does a failed re-check.

A hold keeps the slot for the studio's `hold_minutes`; a lapsed hold counts for nothing at
once (sweep or not). Confirming a lapsed hold re-checks the time and books it afresh if it
is still free. A customer has one appointment hold at a time: a new one lets the old go.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bookbot.engine import errors
from bookbot.engine.clock import Clock
from bookbot.engine.slots import fits
from bookbot.services import appointment_notices as notices
from bookbot.services import packages, staff_activity
from bookbot.services.appointment_rows import (
    Appointment,
    Service,
    appointment_by_id,
    expect_moved,
    expire_lapsed_of,
    offers,
    provider_by_id,
    service_by_id_in,
)
from bookbot.services.availability import availability_of, busy_of
from bookbot.services.common import studio_by_id
from bookbot.store.db import Busy, Database, ExclusionViolation, Tx, retrying

MARGIN = timedelta(days=1)  # around a footprint: the windows and blocks it may touch


async def check_free(
    tx: Tx,
    now: datetime,
    studio_id: int,
    *,
    staff_id: int,
    service: Service,
    starts_at: datetime,
    moving: int | None = None,
) -> None:
    """SlotTaken if the start is busy now, SlotNotAvailable if it is no slot at all (outside
    the hours, too soon, too far ahead, off the grid). Call under the staff row lock."""
    rules = service.rules()
    footprint_from = starts_at - rules.buffer_before
    footprint_until = starts_at + rules.duration + rules.buffer_after
    availability = await availability_of(
        tx, studio_id, staff_id, start=footprint_from - MARGIN, end=footprint_until + MARGIN
    )
    busy = await busy_of(
        tx,
        studio_id,
        staff_id,
        start=footprint_from,
        end=footprint_until,
        now=now,
        except_appointment=moving,
    )
    if fits(availability, rules, busy, now=now, slot_start=starts_at):
        return
    if busy and fits(availability, rules, [], now=now, slot_start=starts_at):
        raise errors.SlotTaken()
    raise errors.SlotNotAvailable(when=starts_at)


async def offered(tx: Tx, studio_id: int, service_id: int, staff_id: int) -> Service:
    service = await service_by_id_in(tx, studio_id, service_id)
    provider = await provider_by_id(tx, studio_id, staff_id)
    if not await offers(tx, studio_id, service_id, staff_id):
        raise errors.ServiceNotOffered(staff=provider.name, service=service.name)
    return service


async def hold(
    db: Database,
    clock: Clock,
    studio_id: int,
    *,
    customer_id: int,
    service_id: int,
    staff_id: int,
    starts_at: datetime,
    guests: int = 1,
) -> Appointment:
    """Hold the slot for the customer (the appointment says until when); SlotTaken if it
    went, SlotNotAvailable if it is no slot, ServiceNotOffered, NotFound."""

    async def attempt() -> Appointment:
        now = clock.now()
        async with db.transaction() as tx:
            await tx.lock("staff", [staff_id])
            studio = await studio_by_id(tx, studio_id)
            service = await offered(tx, studio_id, service_id, staff_id)
            _check_guests(service, guests, starts_at)
            await _customer_exists(tx, studio_id, customer_id)
            await expire_lapsed_of(tx, now, [staff_id])
            await _release_in(tx, studio_id, customer_id)
            await check_free(
                tx, now, studio_id, staff_id=staff_id, service=service, starts_at=starts_at
            )
            new_id = await insert_appointment(
                tx,
                now,
                studio_id,
                customer_id=customer_id,
                service=service,
                staff_id=staff_id,
                starts_at=starts_at,
                guests=guests,
                currency=studio.currency,
                status="held",
                held_until=now + studio.hold,
            )
            return await appointment_by_id(tx, studio_id, new_id)

    result: Appointment = await retrying(attempt)
    return result


def _check_guests(service: Service, guests: int, starts_at: datetime) -> None:
    if guests < 1:
        raise errors.GuestCountInvalid(guests=guests)
    if guests > service.capacity:
        raise errors.NotEnoughSeats(seats_left=service.capacity, when=starts_at, needed=guests)


async def _customer_exists(tx: Tx, studio_id: int, customer_id: int) -> None:
    found = await tx.scalar(
        "SELECT 1 FROM customers WHERE studio_id = :studio_id AND id = :id",
        {"studio_id": studio_id, "id": customer_id},
    )
    if found is None:
        raise errors.NotFound(what="customer", ident=customer_id)


async def insert_appointment(  # noqa: PLR0913 - one keyword per column written
    tx: Tx,
    now: datetime,
    studio_id: int,
    *,
    customer_id: int,
    service: Service,
    staff_id: int,
    starts_at: datetime,
    guests: int,
    currency: str,
    status: str,
    held_until: datetime | None = None,
    recurring_booking_id: int | None = None,
    occurrence_date: date | None = None,
) -> int:
    """Write an appointment row (a hold, or a series occurrence booked 'confirmed'); the
    caller holds the staff row lock and has run `check_free`. An occurrence of a series
    (`recurring_booking_id` and its `occurrence_date`) has origin 'recurring'."""
    ends_at = starts_at + service.duration
    try:
        new_id = await tx.scalar(
            "INSERT INTO appointments (studio_id, service_id, staff_id, customer_id, starts_at,"
            " ends_at, busy_from, busy_until, guest_count, status, held_until, price_minor,"
            " currency, origin, recurring_booking_id, occurrence_date, meeting_url, sequence,"
            " cancel_reason, created_at, updated_at)"
            " VALUES (:studio_id, :service_id, :staff_id, :customer_id, :starts_at, :ends_at,"
            " :busy_from, :busy_until, :guests, :status, :held_until, :price, :currency,"
            " :origin, :series, :occurrence, '', 0, '', :now, :now) RETURNING id",
            {
                "status": status,
                "origin": "one_time" if recurring_booking_id is None else "recurring",
                "series": recurring_booking_id,
                "occurrence": occurrence_date,
                "studio_id": studio_id,
                "service_id": service.id,
                "staff_id": staff_id,
                "customer_id": customer_id,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "busy_from": starts_at - service.buffer_before,
                "busy_until": ends_at + service.buffer_after,
                "guests": guests,
                "held_until": held_until,
                "price": service.price_minor,
                "currency": currency,
                "now": now,
            },
        )
    except ExclusionViolation as error:  # the backstop: another writer got there
        raise errors.SlotTaken() from error
    if service.meeting_url:
        await tx.execute(
            "UPDATE appointments SET meeting_url = :url WHERE id = :id",
            {"url": service.meeting_url.replace("{appointment}", str(new_id)), "id": new_id},
        )
    return int(new_id)


async def _release_in(tx: Tx, studio_id: int, customer_id: int) -> int:
    return await tx.execute(
        "UPDATE appointments SET status = 'expired' WHERE studio_id = :studio_id"
        " AND customer_id = :customer_id AND status = 'held'",
        {"studio_id": studio_id, "customer_id": customer_id},
    )


async def release_holds(db: Database, studio_id: int, customer_id: int) -> None:
    """Let go of the customer's appointment holds (they backed out of the summary)."""
    await db.execute(
        "UPDATE appointments SET status = 'expired' WHERE studio_id = :studio_id"
        " AND customer_id = :customer_id AND status = 'held'",
        {"studio_id": studio_id, "customer_id": customer_id},
    )


async def customers_appointment(
    db: Database, studio_id: int, customer_id: int, appointment_id: int
) -> Appointment:
    """The appointment, if it is this customer's; NotFound otherwise."""
    found = await appointment_by_id(db, studio_id, appointment_id)
    if found.customer_id != customer_id:
        raise errors.NotFound(what="appointment", ident=appointment_id)
    return found


class StaffChanged(Busy):
    """The appointment moved to another staff member between its read and the lock: the
    whole transaction runs again (`retrying`), reading it afresh."""


async def locked(
    tx: Tx, studio_id: int, appointment_id: int, staff_ids: list[int]
) -> Appointment | None:
    """Lock the staff rows, then the appointment's; the appointment as it is now, or None
    if its staff member changed before the lock (the caller runs again: `StaffChanged`)."""
    await tx.lock("staff", staff_ids)
    await tx.lock("appointments", [appointment_id])
    found = await appointment_by_id(tx, studio_id, appointment_id)
    return found if found.staff_id in staff_ids else None


async def confirm(
    db: Database,
    clock: Clock,
    studio_id: int,
    *,
    appointment_id: int,
    customer_id: int,
    package_id: int | None = None,
) -> Appointment:
    """Book the customer's hold: reminders queued, staff told. A lapsed (or swept) hold is
    re-checked and booked afresh if the time is still free (SlotTaken if not); a second
    confirm returns the booking; a cancelled one is AppointmentNotActive. With
    `package_id`, the package pays for it in the same transaction (a Package* refusal
    books nothing)."""

    async def attempt() -> Appointment:
        now = clock.now()
        seen = await customers_appointment(db, studio_id, customer_id, appointment_id)
        async with db.transaction() as tx:
            found = await locked(tx, studio_id, appointment_id, [seen.staff_id])
            if found is None:
                raise StaffChanged(appointment_id)
            return await confirm_locked(tx, now, studio_id, found, package_id=package_id)

    result: Appointment = await retrying(attempt)
    return result


async def confirm_locked(
    tx: Tx, now: datetime, studio_id: int, found: Appointment, *, package_id: int | None = None
) -> Appointment:
    """Book `found`, whose staff row and own row the caller locked: a live hold is confirmed;
    a lapsed or let-go one is re-checked and booked afresh if its time is still free
    (SlotTaken if not); a confirmed one comes back as it is; a cancelled one is
    AppointmentNotActive. Reminders queued, the staff member told. A customer's Confirm and
    a payment's webhook both end here."""
    if found.status == "confirmed":
        return found
    if found.status not in ("held", "expired"):
        raise errors.AppointmentNotActive(status=found.status)
    live = found.status == "held" and found.held_until is not None and found.held_until > now
    if not live:
        service = await service_by_id_in(tx, studio_id, found.service_id)
        await expire_lapsed_of(tx, now, [found.staff_id])
        await check_free(
            tx,
            now,
            studio_id,
            staff_id=found.staff_id,
            service=service,
            starts_at=found.starts_at,
            moving=found.id,
        )
    try:
        moved = await tx.execute(
            "UPDATE appointments SET status = 'confirmed', held_until = NULL, updated_at = :now"
            " WHERE id = :id AND status IN ('held', 'expired')",
            {"id": found.id, "now": now},
        )
    except ExclusionViolation as error:
        raise errors.SlotTaken() from error
    expect_moved(moved, f"confirming appointment {found.id}")
    booked = await appointment_by_id(tx, studio_id, found.id)
    if package_id is not None:  # only once the row moved: a repeat confirm redeems nothing
        await packages.redeem_in(tx, now, studio_id, booked, package_id)
    await notices.queue_reminders(tx, now, booked)
    await notices.tell_staff(tx, now, booked, "staff_appointment_booked")
    await staff_activity.record(
        tx,
        now,
        studio_id=studio_id,
        kind="booking",
        params={
            "customer_name": booked.customer_name,
            "service_name": booked.service_name,
            "starts_at": booked.starts_at.isoformat(),
            "guests": booked.guest_count,
        },
    )
    return booked
