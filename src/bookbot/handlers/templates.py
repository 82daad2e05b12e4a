"""The words of each outbox message, rendered when it is sent: in the customer's language
and zone as they are then, not as they were when it was queued."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bookbot.presentation.i18n import Translator


def _when(t: Translator, params: dict[str, Any], key: str, zone: str) -> str:
    return t.when(datetime.fromisoformat(params[key]), zone)


def render(template: str, params: dict[str, Any], t: Translator, zone: str) -> str:
    """The text of a message; unknown templates are a programming error (KeyError)."""
    _ = t._
    name = params.get("class_name", "")
    if template == "reminder_24h":
        return _(
            "Reminder: {name} is tomorrow, {when}. Send MY to see or cancel your bookings."
        ).format(name=name, when=_when(t, params, "starts_at", zone))
    if template == "reminder_1h":
        extra = _("Send HERE when you arrive to check in.") if params.get("reservation") else ""
        return " ".join(
            filter(
                None,
                [
                    _("{name} starts in an hour, {when}.").format(
                        name=name, when=_when(t, params, "starts_at", zone)
                    ),
                    extra,
                ],
            )
        )
    if template == "waitlist_offer":
        people = t.n_("{n} person", "{n} people", int(params["guests"])).format(n=params["guests"])
        return _(
            "A place freed up in {name} on {when}, for {people}. It is held for you until "
            "{until}: send ACCEPT to book it, or DECLINE to pass it on."
        ).format(
            name=name,
            when=_when(t, params, "starts_at", zone),
            people=people,
            until=_when(t, params, "expires_at", zone),
        )
    if template == "auto_cancelled":
        dates = ", ".join(t.when(datetime.fromisoformat(d), zone) for d in params["cancelled"])
        return t.n_(
            "You missed {name} on {missed}, so your other reservation ({dates}) was cancelled, "
            "as the studio's rules say. Send MENU to book again.",
            "You missed {name} on {missed}, so your other reservations ({dates}) were cancelled, "
            "as the studio's rules say. Send MENU to book again.",
            len(params["cancelled"]),
        ).format(name=name, missed=_when(t, params, "missed", zone), dates=dates)
    raise KeyError(template)
