"""`[[staff_notices]]` in the studio file: who among staff is told of customer activity.

    [[staff_notices]]
    chat = -100123456          # a Telegram chat (a group's id is negative), or
    # staff = "maya"           # a staff member, on their telegram_user_id
    events = ["booking", "cancellation", "waitlist", "handoff"]
    mode = "instant"           # or "digest" (one message a day), or "off" (unsubscribe)

Loading upserts a subscription per entry and deletes those marked "off"; subscriptions made
in chat (/notices) and not named in the file are left alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Literal

from pydantic import Field

from bookbot.studio.fields import FileModel, Key

Event = Literal["booking", "cancellation", "waitlist", "handoff"]
EVENTS: tuple[Event, ...] = ("booking", "cancellation", "waitlist", "handoff")
ChatId = Annotated[int, Field(strict=True, ge=-(2**63) + 1, le=2**63 - 1)]


class StaffNoticeSpec(FileModel):
    chat: ChatId | None = None
    staff: Key | None = None
    events: tuple[Event, ...] = EVENTS
    mode: Literal["instant", "digest", "off"] = "instant"

    def events_csv(self) -> str:
        """The events in canonical order, as stored."""
        return ",".join(e for e in EVENTS if e in self.events)


def staff_notice_problems(
    notices: Sequence[StaffNoticeSpec], staff_telegram: dict[str, int | None]
) -> Iterator[str]:
    """What is wrong with `[[staff_notices]]`, given each staff key's telegram_user_id."""
    seen: dict[str, int] = {}
    for index, notice in enumerate(notices):
        where = f"staff_notices[{index}]"
        if (notice.chat is None) == (notice.staff is None):
            yield f"{where}: give either chat (a Telegram chat id) or staff (a staff key), not both"
            continue
        if notice.staff is not None:
            if notice.staff not in staff_telegram:
                yield f'{where}.staff: no staff member "{notice.staff}"'
                continue
            if staff_telegram[notice.staff] is None:
                yield (f'{where}.staff: "{notice.staff}" has no telegram_user_id to be told on')
                continue
        if not notice.events and notice.mode != "off":
            yield f'{where}.events: empty (name at least one, or set mode = "off")'
        if len(set(notice.events)) != len(notice.events):
            yield f"{where}.events: an event is named twice"
        target = address_of(notice, staff_telegram)
        if target in seen:
            yield f"{where}: the same chat as staff_notices[{seen[target]}]"
        seen.setdefault(target, index)


def address_of(notice: StaffNoticeSpec, staff_telegram: dict[str, int | None]) -> str:
    """The Telegram chat the notices go to."""
    if notice.chat is not None:
        return str(notice.chat)
    return str(staff_telegram.get(notice.staff or "") or "")
