"""The "/" menu Telegram shows (setMyCommands): the customers' commands for everyone, in
English (the default) and Spanish; in staff chats (a staff member's own chat with the bot,
a studio's staff group) the staff commands too, scoped with BotCommandScopeChat, from the
one bot each studio speaks through: its own bot, else the deployment's default bot."""

from __future__ import annotations

from dataclasses import dataclass

from bookbot.conversations.keywords import COMMANDS, STAFF_COMMANDS
from bookbot.presentation.i18n import Translator
from bookbot.services.staff_chats import telegram_staff_chats_by_studio
from bookbot.services.studio_channels import studios_with_own
from bookbot.store.db import Reads

# Language codes the menu is published in; None is Telegram's default (English here).
LANGUAGES: tuple[str | None, ...] = (None, "es")


def customer_commands(t: Translator) -> list[tuple[str, str]]:
    """(command without the slash, description), in the order the menu lists them."""
    _ = t._
    described = [
        ("start", _("Start over: the menu")),
        ("book", _("Book a class")),
        ("my", _("My bookings")),
        ("passes", _("My passes")),
        ("help", _("Help")),
        ("cancel", _("Stop what I am doing")),
        ("human", _("Talk to a person")),
        ("mydata", _("What you hold about me")),
        ("forget", _("Forget me")),
    ]
    return [(name, text) for name, text in described if f"/{name}" in COMMANDS]


def staff_commands(t: Translator) -> list[tuple[str, str]]:
    """The staff commands the dialogue knows, described where we have words for them."""
    _ = t._
    words = {
        "staff": _("Staff menu"),
        "today": _("Today's sessions"),
        "roster": _("Who is booked on a session"),
        "noshows": _("Mark no-shows"),
        "report": _("Reports"),
        "assign": _("Assign an instructor"),
        "generate": _("Generate sessions"),
        "override": _("Restore auto-cancelled reservations"),
        "payments": _("Payments and what is owed"),
        "availability": _("My availability"),
        "upcoming": _("Upcoming appointments"),
        "pending": _("Appointments to confirm"),
        "past": _("Past appointments"),
        "cancelled": _("Cancelled appointments"),
        "conflicts": _("Appointments outside my hours"),
        "packages": _("Customers' lesson packages"),
        "session": _("Add or change a session"),
        "notices": _("Customer activity this chat hears of"),
        "complete": _("Complete a course, issue certificates"),
    }
    names = [command.removeprefix("/") for command in STAFF_COMMANDS]
    return [(name, words.get(name, name)) for name in names]


@dataclass(frozen=True)
class MenuChats:
    """Where one bot shows the staff commands, and where it takes them back."""

    staff: list[int]
    # Staff chats of studios on their own bot only: the default bot's staff menu there (set
    # before the studio got its bot, and Telegram keeps it) is deleted.
    withdrawn: list[int]


async def menu_chats(reads: Reads, studio_id: int | None) -> MenuChats:
    """A studio's own bot (`studio_id`): that studio's staff chats alone. The default bot
    (None): those of the studios it reaches, the ones without a bot of their own; a chat
    that is staff of one of those too keeps the menu."""
    by_studio = await telegram_staff_chats_by_studio(reads)
    if studio_id is not None:
        return MenuChats(sorted(by_studio.get(studio_id, set())), [])
    own = await studios_with_own(reads, "telegram")
    reached: set[int] = set()
    elsewhere: set[int] = set()
    for studio, chats in by_studio.items():
        (elsewhere if studio in own else reached).update(chats)
    return MenuChats(sorted(reached), sorted(elsewhere - reached))
