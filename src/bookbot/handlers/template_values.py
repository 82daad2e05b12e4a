"""Values as the notice templates say them: an instant, a session's dates, an amount."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bookbot.presentation.i18n import Translator


def when_of(t: Translator, params: dict[str, Any], key: str, zone: str) -> str:
    return t.when(datetime.fromisoformat(params[key]), zone)


def session_when(t: Translator, params: dict[str, Any], zone: str) -> str:
    """The session's (new) start; a multi-day course's dates and daily hours (params with
    `days` > 1 carry `ends_at`)."""
    days = int(params.get("days", 1))
    if days <= 1:
        return when_of(t, params, "starts_at", zone)
    starts, ends = (datetime.fromisoformat(params[k]) for k in ("starts_at", "ends_at"))
    return t.days(starts, ends, days, zone, with_year=True)


def money(t: Translator, params: dict[str, Any], key: str = "amount") -> str:
    return t.money(int(params[key]), str(params["currency"]))
