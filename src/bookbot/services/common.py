"""Pieces every service needs: the studio row, id lists, and time formatting for errors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from bookbot.engine import errors
from bookbot.store.db import Reads, Row

T = TypeVar("T")


@dataclass(frozen=True)
class Studio:
    id: int
    slug: str
    name: str
    timezone: str
    currency: str
    default_language: str
    booking_cutoff: timedelta
    cancellation_cutoff_hours: int
    waitlist_offer: timedelta
    hold: timedelta = timedelta(minutes=10)
    # Whether it offers one-to-one services now (the menu then offers appointments), and
    # whether it ever had any (its customers may then have appointments to list): read with
    # the studio, so neither costs a statement of its own.
    offers_appointments: bool = False
    has_services: bool = False
    # Whether any class sells passes: else "My passes" leaves the menu (unless the studio
    # has services, whose packages are listed there too).
    sells_passes: bool = True
    address: str | None = None
    # The staff's Telegram group: where /human conversations go (none: no handoff).
    staff_chat_id: int | None = None
    # Quiet hours in local minutes after midnight; equal: none.
    quiet_start_minute: int = 21 * 60
    quiet_end_minute: int = 8 * 60
    sms_fold_gsm: bool = True
    # Whether anyone subscribes to staff notices (`staff_activity`): False only where it
    # was read with the studio (a booking's lock), so that the booking need not ask.
    staff_notices: bool = True


_STUDIO_COLUMNS = (
    "id",
    "slug",
    "name",
    "timezone",
    "currency",
    "default_language",
    "booking_cutoff_minutes",
    "cancellation_cutoff_hours",
    "waitlist_offer_minutes",
    "hold_minutes",
    "address",
    "staff_chat_id",
    "quiet_start_minute",
    "quiet_end_minute",
    "sms_fold_gsm",
)


def studio_columns(table: str = "", prefix: str = "") -> str:
    """The select list `studio_from` reads: the columns of `table` (an alias, or none), each
    named `prefix` + its name, so a query that joins other tables names them apart."""
    source = f"{table}." if table else ""
    columns = [f"{source}{name} AS {prefix}{name}" for name in _STUDIO_COLUMNS]
    owner = f"{table or 'studios'}.id"
    services = "EXISTS (SELECT 1 FROM services offered WHERE offered.studio_id = {}{})"
    offered = services.format(owner, " AND offered.active")
    columns.append(f"{offered} AS {prefix}offers_appointments")
    columns.append(f"{services.format(owner, '')} AS {prefix}has_services")
    sold = f"EXISTS (SELECT 1 FROM pass_offers sold WHERE sold.studio_id = {owner})"  # noqa: S608
    columns.append(f"{sold} AS {prefix}sells_passes")
    return ", ".join(columns)


def studio_from(row: Row, prefix: str = "") -> Studio:
    """The studio in a row read with `studio_columns(..., prefix)`."""
    return Studio(
        id=row[f"{prefix}id"],
        slug=row[f"{prefix}slug"],
        name=row[f"{prefix}name"],
        timezone=row[f"{prefix}timezone"],
        currency=row[f"{prefix}currency"],
        default_language=row[f"{prefix}default_language"],
        booking_cutoff=timedelta(minutes=row[f"{prefix}booking_cutoff_minutes"]),
        cancellation_cutoff_hours=row[f"{prefix}cancellation_cutoff_hours"],
        waitlist_offer=timedelta(minutes=row[f"{prefix}waitlist_offer_minutes"]),
        hold=timedelta(minutes=row[f"{prefix}hold_minutes"]),
        offers_appointments=bool(row[f"{prefix}offers_appointments"]),
        has_services=bool(row[f"{prefix}has_services"]),
        sells_passes=bool(row[f"{prefix}sells_passes"]),
        address=row[f"{prefix}address"],
        staff_chat_id=row[f"{prefix}staff_chat_id"],
        quiet_start_minute=row[f"{prefix}quiet_start_minute"],
        quiet_end_minute=row[f"{prefix}quiet_end_minute"],
        sms_fold_gsm=bool(row[f"{prefix}sms_fold_gsm"]),
    )


async def studio_by_id(reads: Reads, studio_id: int) -> Studio:
    row = await reads.one(
        f"SELECT {studio_columns()} FROM studios WHERE id = :id",  # noqa: S608 - fixed names
        {"id": studio_id},
    )
    if row is None:
        raise errors.NotFound(what="studio", ident=studio_id)
    return studio_from(row)


async def studio_by_slug(reads: Reads, slug: str) -> Studio:
    row = await reads.one(
        f"SELECT {studio_columns()} FROM studios WHERE slug = :slug",  # noqa: S608 - fixed names
        {"slug": slug},
    )
    if row is None:
        raise errors.NotFound(what="studio", ident=slug)
    return studio_from(row)


@dataclass(frozen=True)
class DefaultStudio:
    """The studio a command acts on when none is named, and the other studios' slugs."""

    studio: Studio
    others: tuple[str, ...] = ()


async def default_studio(reads: Reads, configured: str | None = None) -> DefaultStudio:
    """The configured studio (BOOKBOT_DEFAULT_STUDIO), else the only one, else the first
    loaded (the demo's pottery studio beside its tutor studio), with the others named so the
    caller can say how to pick one. One read: a deployment has a handful of studios."""
    if configured:
        return DefaultStudio(await studio_by_slug(reads, configured))
    rows = await reads.all(f"SELECT {studio_columns()} FROM studios ORDER BY id")  # noqa: S608
    if not rows:
        raise errors.ChooseStudio(studios="none loaded yet")
    return DefaultStudio(studio_from(rows[0]), tuple(r["slug"] for r in rows[1:]))


def in_list(prefix: str, values: Iterable[T]) -> tuple[str, dict[str, T]]:
    """An `IN (...)` body with one named parameter per value, for either database."""
    params = {f"{prefix}{i}": v for i, v in enumerate(values)}
    if not params:
        return "NULL", {}
    return ", ".join(f":{name}" for name in params), params
