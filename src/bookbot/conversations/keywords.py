"""What a person can type at any step: commands (/start, /today…) and keywords (HELP, MY…)."""

from __future__ import annotations

import re

from bookbot.conversations.matching import fold
from bookbot.conversations.model import Inbound
from bookbot.conversations.states import Choice
from bookbot.presentation.i18n import SUPPORTED

_REFERENCE = re.compile(r"^[a-z]{1,2} ?[0-9a-z]{4,8}$")

# Words that work from any step, on any channel, in English and Spanish (matched folded:
# case and accents ignored). A lone CANCEL is deliberately not one: on SMS it is Twilio's
# opt-out word, so cancelling a booking goes through MY and the numbered list.
KEYWORDS = {
    "help": "help",
    "ayuda": "help",
    "info": "help",
    "menu": "menu",
    "inicio": "menu",
    "start over": "menu",
    "book": "browse",
    "reservar": "browse",
    "my": "mine",
    "my bookings": "mine",
    "bookings": "mine",
    "mis": "mine",
    "mis reservas": "mine",
    "reservas": "mine",
    "lang": "language",
    "language": "language",
    "idioma": "language",
    "here": "here",
    "aqui": "here",
    "estoy aqui": "here",
    "check in": "here",
    "passes": "passes",
    "my passes": "passes",
    "bonos": "passes",
    "mis bonos": "passes",
    "packages": "passes",
    "my packages": "passes",
    "paquetes": "passes",
    # An appointment (a studio without services says there are none to book).
    "appointment": "book_appointment",
    "book an appointment": "book_appointment",
    "book appointment": "book_appointment",
    "cita": "book_appointment",
    "pedir cita": "book_appointment",
    "reservar cita": "book_appointment",
    "reservar una cita": "book_appointment",
    "accept": "accept_offer",
    "aceptar": "accept_offer",
    "decline": "decline_offer",
    "rechazar": "decline_offer",
    # Leaving whatever is under way (parser): the menu.
    "quit": "menu",
    "exit": "menu",
    "salir": "menu",
    # Privacy (privacy_steps): what we hold, and forgetting it (after a confirmation).
    "mydata": "mydata",
    "my data": "mydata",
    "misdatos": "mydata",
    "mis datos": "mydata",
    "forget": "forget",
    "forget me": "forget",
    "olvidame": "forget",
    # Talking to a person (handoff_steps); during the handoff BOT ends it, otherwise it is
    # the menu.
    "human": "human",
    "humano": "human",
    "agent": "human",
    "agente": "human",
    "talk to a person": "human",
    "hablar con una persona": "human",
    "bot": "menu",
    "volver al bot": "menu",
    # Feedback after a course (issue 17, feedback_steps): RATE alone shows the stars.
    "rate": "feedback",
    "valorar": "feedback",
    "feedback": "feedback",
    "opinion": "feedback",
}

# Staff commands: they lead to staff_* actions, which only staff of the studio may use.
STAFF_COMMANDS = {
    "/staff": "staff_menu",
    "/today": "staff_today",
    "/roster": "staff_roster",
    "/noshows": "staff_noshows",
    "/report": "staff_report",
    "/assign": "staff_assign",
    "/generate": "staff_generate",
    "/override": "staff_override",
    "/payments": "staff_payments",
    "/availability": "staff_availability",
    "/upcoming": "staff_upcoming",
    "/pending": "staff_pending",
    "/past": "staff_past",
    "/cancelled": "staff_cancelled",
    "/conflicts": "staff_conflicts",
    "/packages": "staff_packages",
    "/notices": "staff_notices",
    "/session": "staff_session",  # issue 17: add or change a session
    "/complete": "staff_complete",  # issue 17: mark who passed, issue certificates
}

COMMANDS = {
    **STAFF_COMMANDS,
    "/start": "menu",
    "/menu": "menu",
    "/help": "help",
    "/book": "browse",
    "/my": "mine",
    "/bookings": "mine",
    "/lang": "language",
    "/language": "language",
    "/passes": "passes",
    "/cancel": "stop",  # stop what I am doing (back to the menu); never cancels a booking
    "/mydata": "mydata",
    "/forget": "forget",
    "/human": "human",
    "/bot": "menu",
}


def keyword(typed: str) -> Choice | None:
    """HELP, MENU, BOOK, MY, LANG es… as a choice, or None."""
    words = fold(typed)
    for prefix in ("lang ", "language ", "idioma "):
        if words.startswith(prefix) and words[len(prefix) :] in SUPPORTED:
            return Choice("set_language", "", words[len(prefix) :])
    for prefix in ("rate ", "valorar ", "feedback "):  # RATE 4: that rating at once
        if words.startswith(prefix) and words[len(prefix) :] in ("1", "2", "3", "4", "5"):
            return Choice("feedback", "", int(words[len(prefix) :]))
    action = KEYWORDS.get(words)
    if action is None and (ref := _reference(words)) is not None:
        return Choice("by_reference", "", ref)  # MY B-7F3Q: that booking, if theirs
    return None if action is None else Choice(action, "")


def _reference(words: str) -> str | None:
    """The reference typed after MY / MIS ("my b 7f3q", "mis b7f3q"): one with a digit or
    a gap after its letter, so "my booking" and "mis bonos" stay what they were."""
    head, _, ref = words.partition(" ")
    if head not in ("my", "mis") or not _REFERENCE.match(ref):
        return None
    if any(c.isdigit() for c in ref) or " " in ref:
        return ref  # one that names no booking of theirs is told so (account_steps)
    return None


def command(inbound: Inbound) -> str | None:
    text = (inbound.text or "").strip()
    if not text.startswith("/"):
        return None
    return COMMANDS.get(text.split()[0].split("@")[0].lower())


# Commands whose next word says where to go at once ("/session add"): it comes to the
# action as the choice's value. Other commands ignore what follows them.
WORD_COMMANDS = frozenset({"staff_session"})


def command_word(inbound: Inbound) -> str | None:
    """The word after a command that takes one, folded ("/session Add" → "add")."""
    words = (inbound.text or "").split()
    if len(words) < 2 or command(inbound) not in WORD_COMMANDS:
        return None
    return fold(words[1])[:40]
