"""The customer's time zone, set in chat: a typed city or zone name, confirmed by the clock.

Rules:
- What the customer types is matched, ignoring case, accents, spaces and underscores,
  first against whole IANA names ("america/new_york", "UTC"), then against the last part
  of the regional ones ("Madrid", "new york"). Several matches (Indianapolis has two) are
  offered as choices; none is said plainly.
- Nothing is saved until the customer agrees that the zone's current wall time is theirs
  ("Is it 10:42 where you are?"): a city name can mean another place than the one meant.
- A phone number whose country has exactly one zone gives a guess (`phones.zone_for_phone`),
  offered as the first choice and confirmed the same way, never applied silently.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import lru_cache
from zoneinfo import available_timezones

from bookbot.conversations.booking_steps import back_and_cancel
from bookbot.conversations.matching import fold
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.phones import zone_for_phone
from bookbot.services import customers

MAX_MATCHES = 8
# The areas of the regional zone names; the rest (Etc/GMT+3, US/Eastern, SystemV…) are
# reachable by their whole name only, so a city names one place, not its aliases too.
_REGIONS = frozenset(
    {"Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian"}
    | {"Pacific", "Arctic"}
)


def city(zone_name: str) -> str:
    """'America/New_York' -> 'New York': how a zone is named to a person."""
    return zone_name.rsplit("/", 1)[-1].replace("_", " ")


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Folded whole names -> zone, and folded last parts -> regional zones (sorted)."""
    whole: dict[str, str] = {}
    by_city: dict[str, list[str]] = {}
    for name in sorted(available_timezones()):
        whole[fold(name.replace("_", " "))] = name
        if name.split("/", 1)[0] in _REGIONS and "/" in name:
            by_city.setdefault(fold(city(name)), []).append(name)
    return whole, by_city


def zones_named(typed: str) -> list[str]:
    """The zones `typed` may name: one for a whole name or a single city, several when
    more zones share the city's name, none when nothing matches."""
    key = fold(typed.replace("_", " "))
    if not key:
        return []
    whole, by_city = _index()
    if key in whole:
        return [whole[key]]
    return by_city.get(key, [])[:MAX_MATCHES]


def _guess(ctx: Context) -> str | None:
    phone = ctx.customer.phone
    guess = zone_for_phone(phone) if phone else None
    return None if guess == ctx.zone else guess


async def timezone_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    matches: list[str] = ctx.data.get("tz_matches") or []
    if matches:
        choices = [Choice("tz_pick", name, name) for name in matches]
        return Screen(_("Which one do you mean?"), choices + back_and_cancel(ctx))
    text = _(
        "I show times in {city} time ({zone}); it is {time} there now.\n"
        "To change it, type your city or your time zone (for example Madrid, New York or "
        "America/New_York)."
    ).format(city=city(ctx.zone), zone=ctx.zone, time=ctx.t.time(ctx.now, ctx.zone))
    guess = _guess(ctx)
    choices = []
    if guess is not None:
        label = _("📍 {city} ({zone})").format(city=city(guess), zone=guess)
        choices.append(Choice("tz_pick", label, guess))
    return Screen(text, choices + back_and_cancel(ctx))


async def on_zone_text(ctx: Context, typed: str) -> Transition:
    """A typed city or zone name: confirm a single match, list several, or say none."""
    _ = ctx.t._
    matches = zones_named(typed)
    ctx.data.pop("tz_matches", None)
    if not matches:
        return Transition(
            State.TIMEZONE,
            _(
                'I do not know a time zone called "{typed}". Try the biggest city near you, '
                "or a zone name like Europe/Madrid."
            ).format(typed=typed[:40]),
        )
    if len(matches) > 1:
        ctx.data["tz_matches"] = matches
        return Transition(State.TIMEZONE)
    return _ask(ctx, matches[0])


def _ask(ctx: Context, zone_name: str) -> Transition:
    ctx.data["tz_candidate"] = zone_name
    return Transition(State.TIMEZONE_CONFIRM)


async def pick(ctx: Context, choice: Choice) -> Transition:
    ctx.data.pop("tz_matches", None)
    if str(choice.value) not in available_timezones():
        return Transition(State.TIMEZONE)
    return _ask(ctx, str(choice.value))


async def confirm_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    zone_name = str(ctx.data.get("tz_candidate", ctx.zone))
    text = _("Is it {time} where you are? ({city}, {zone})").format(
        time=ctx.t.time(ctx.now, zone_name), city=city(zone_name), zone=zone_name
    )
    yes = Choice("tz_yes", _("✅ Yes"), aliases=(_("yes"), "yes", "si"))
    no = Choice("tz_no", _("No"), aliases=(_("no"), "no"))
    return Screen(text, [yes, no, *back_and_cancel(ctx)])


async def save(ctx: Context) -> Transition:
    _ = ctx.t._
    zone_name = ctx.data.pop("tz_candidate", None)
    if zone_name is None or zone_name not in available_timezones():
        return Transition(State.TIMEZONE)
    await customers.set_timezone(ctx.db, ctx.studio.id, ctx.customer.id, zone_name)
    ctx.customer = replace(ctx.customer, timezone=zone_name)  # this turn's screens use it
    return Transition(
        State.MENU,
        _("Done: I will show times in {city} time ({zone}) from now on.").format(
            city=city(zone_name), zone=zone_name
        ),
    )


async def not_this(ctx: Context) -> Transition:
    ctx.data.pop("tz_candidate", None)
    return Transition(
        State.TIMEZONE,
        ctx.t._("Then please type your city, or a time zone name like Europe/Madrid."),
    )


SCREENS: dict[State, Callable[[Context], Awaitable[Screen]]] = {
    State.TIMEZONE: timezone_screen,
    State.TIMEZONE_CONFIRM: confirm_screen,
}
ACTIONS: dict[str, Callable[[Context, Choice], Awaitable[Transition]]] = {"tz_pick": pick}
PLAIN_ACTIONS: dict[str, Callable[[Context], Awaitable[Transition]]] = {
    "tz_yes": save,
    "tz_no": not_this,
}
TYPED: dict[State, Callable[[Context, str], Awaitable[Transition]]] = {
    State.TIMEZONE: on_zone_text,
}
