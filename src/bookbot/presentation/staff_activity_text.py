"""The words of staff notices of customer activity (services.staff_activity): one event at
once ('staff_activity'), or a day's digest ('staff_digest'), in the studio's language and zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bookbot.presentation.i18n import Translator


def _who(params: dict[str, Any], t: Translator) -> str:
    who = str(params.get("customer_name") or t._("A customer"))
    guests = int(params.get("guests") or 1)
    if guests > 1:
        who = t._("{who} (party of {n})").format(who=who, n=guests)
    return who


def _what(params: dict[str, Any], t: Translator, zone: str) -> str:
    name = str(params.get("class_name") or params.get("service_name") or "")
    if not params.get("starts_at"):
        return name
    starts = datetime.fromisoformat(params["starts_at"])
    when = t.when(starts, zone)
    if int(params.get("days") or 1) > 1 and params.get("ends_at"):  # a multi-day course
        ends = datetime.fromisoformat(params["ends_at"])
        when = t.span(starts, ends, zone, int(params["days"]))
    sessions = int(params.get("sessions") or 1)
    if sessions > 1:
        return t.n_(
            "{name}, {n} date from {when}", "{name}, {n} dates from {when}", sessions
        ).format(name=name, n=sessions, when=when)
    return t._("{name} on {when}").format(name=name, when=when)


def event_line(params: dict[str, Any], t: Translator, zone: str) -> str:
    """One event, as a line: who did what."""
    _ = t._
    kind = params.get("kind")
    who, what = _who(params, t), _what(params, t, zone)
    if kind == "booking":
        return _("New booking: {who}, {what}.").format(who=who, what=what)
    if kind == "cancellation":
        return _("Cancelled: {who}, {what}.").format(who=who, what=what)
    if kind == "waitlist":
        return _("Joined the waitlist: {who}, {what}.").format(who=who, what=what)
    if kind == "handoff":
        return _("{who} asked to talk to a person.").format(who=who)
    raise KeyError(kind)


def _counts(counts: dict[str, int], t: Translator) -> list[str]:
    n_ = t.n_
    words = {
        "booking": lambda n: n_("{n} booking", "{n} bookings", n),
        "cancellation": lambda n: n_("{n} cancellation", "{n} cancellations", n),
        "waitlist": lambda n: n_("{n} waitlist join", "{n} waitlist joins", n),
        "handoff": lambda n: n_("{n} request for a person", "{n} requests for a person", n),
    }
    return [words[k](int(n)).format(n=n) for k, n in counts.items() if k in words]


def render(template: str, params: dict[str, Any], t: Translator, zone: str) -> str:
    """'staff_activity' (one event) or 'staff_digest' (a day's)."""
    if template == "staff_activity":
        return event_line(params, t, zone)
    lines = [
        t._("Yesterday, {day}: {counts}.").format(
            day=t.date(date.fromisoformat(params["day"])),
            counts=", ".join(_counts(params["counts"], t)),
        )
    ]
    lines += [f"- {event_line(item, t, zone)}" for item in params.get("items", [])]
    more = int(params.get("more") or 0)
    if more:
        lines.append(t.n_("…and {n} more.", "…and {n} more.", more).format(n=more))
    return "\n".join(lines)
