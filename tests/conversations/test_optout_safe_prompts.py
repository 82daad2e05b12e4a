"""No prompt by SMS or WhatsApp invites an answer that the carrier reads as an opt-out.

Twilio unsubscribes a number that texts exactly one of its opt-out keywords (any case, nothing
else in the message), before the message reaches us: a customer who answers "Cancel" to "Cancel
this booking?" is unsubscribed from SMS and WhatsApp, and the booking is kept. So over texting
channels no option may be called by such a word alone, and no text may ask for one, except the
sentences that say how to unsubscribe (HELP must say STOP).

The test walks every screen a customer of the demo studio can reach over SMS, in English and in
Spanish, by typing option numbers as an SMS customer does (breadth first, each path replayed by
a new customer; a screen is expanded once per distinct set of options, a few times per state),
from a first contact and from a customer who has a booking that can still be cancelled, and
checks each reply as it is sent by SMS (numbered options, folded to GSM-7).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field

import pytest

from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.matching import fold
from bookbot.conversations.model import Channel, Reply
from bookbot.handlers.sms_text import sms_body
from bookbot.handlers.twilio_webhook import reply_text
from bookbot.services.optouts import OPT_OUT_WORDS
from bookbot.store.db import Database
from tests.conversations.chat import Chat

# Twilio's default opt-out keywords for long codes and toll-free numbers ("STOP, UNSUBSCRIBE,
# END, QUIT, STOPALL, REVOKE, OPTOUT, CANCEL"), and the French ones it honours on Canadian
# numbers (ARRET, ARRETE, ARRETT). Twilio has no Spanish defaults; a studio that adds some
# through Advanced Opt-Out must keep them out of its prompts too.
TWILIO_OPT_OUT = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
    | {"arret", "arrete", "arrett"}
)
_WORDS = "|".join(sorted(TWILIO_OPT_OUT, key=len, reverse=True))
# A keyword written as one: in capitals ("send QUIT"), or quoted ('"quit"').
_CAPITALS = re.compile(rf"\b(?:{_WORDS.upper()})\b")
_QUOTED = re.compile(rf"[\"'“‘«]\s*(?:{_WORDS})\s*[\"'”’»]", re.IGNORECASE)
# Or asked for with a verb: "reply cancel", "type quit", "responde con stop".
_ASKED = re.compile(
    r"\b(?:reply|send|text|type|say|answer|write|enter|responde|envia|escribe|contesta|manda)"
    rf"\s+(?:with\s+|con\s+)?(?:{_WORDS})\b",
    re.IGNORECASE,
)
# A sentence that says how to unsubscribe (or warns that a word does) may name the keyword.
_ABOUT_UNSUBSCRIBING = re.compile(
    r"unsubscrib|opt(?:s|ed)?[ -]?out|no more messages|stop receiving|"
    r"de baja|no recibir|dejar de recibir|mas mensajes",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?\n]+")

MOST_PER_STATE = 4  # distinct option sets expanded per dialogue state
DEEPEST = 9  # typed answers after the start
_numbers = itertools.count(100000)


def test_our_opt_out_record_knows_every_twilio_default_keyword() -> None:
    english = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
    assert english <= OPT_OUT_WORDS


def prompt_problems(sent: str) -> list[str]:
    """What in an SMS body invites an opt-out keyword as the answer."""
    problems = []
    for line in sent.splitlines():
        option = re.match(r"^\d+\. (.*)$", line)
        if option and fold(option.group(1)) in TWILIO_OPT_OUT:
            problems.append(f"option {line!r} is an opt-out keyword")
    for sentence in _SENTENCE.findall(sent):
        if _ABOUT_UNSUBSCRIBING.search(sentence):
            continue
        for pattern in (_CAPITALS, _QUOTED, _ASKED):
            found = pattern.search(sentence)
            if found:
                problems.append(f"{found.group(0)!r} asked for in {sentence.strip()!r}")
                break
    return problems


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("Cancel this booking?\n1. Yes, cancel it\n2. No, keep it", 0),
        ("Cancel this booking?\n1. Cancel\n2. Keep", 1),
        ("1. ✖ Quit", 1),
        ("Send QUIT to leave.", 1),
        ('Type "end" to finish.', 1),
        ("Reply cancel to cancel.", 1),
        ("Responde con STOP para salir.", 1),
        ("STOP: no more messages from us (START to come back).", 0),
        ("Note that texting only CANCEL also unsubscribes you: use MY.", 0),
        ("STOP: no recibir mas mensajes nuestros.", 0),
        ("Cancellations close 48 h before the start.", 0),
        ("1. End this series\n2. Cancel appointment", 0),
    ],
)
def test_what_counts_as_inviting_an_opt_out(sent: str, expected: int) -> None:
    assert len(prompt_problems(sent)) == expected, prompt_problems(sent)


@dataclass
class Walk:
    db: Database
    dialogues: Dialogues
    language: str
    start: list[str]  # what every customer of this walk says first
    problems: dict[str, list[str]] = field(default_factory=dict)
    seen: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    per_state: Counter[str] = field(default_factory=Counter)
    screens: int = 0

    async def replay(self, path: list[str]) -> tuple[Chat, list[Reply]]:
        prefix = "+44791" if self.language == "en" else "+34611"
        chat = Chat(
            self.dialogues,
            address=f"{prefix}{next(_numbers)}",
            language=self.language,
            channel=Channel.SMS,
        )
        replies: list[Reply] = []
        for said in ["hi" if self.language == "en" else "hola", *self.start, *path]:
            replies = await chat.say(said)
        return chat, replies

    async def state(self, chat: Chat) -> str:
        async with self.db.transaction(write=False) as tx:
            found = await tx.scalar(
                "SELECT state FROM conversations WHERE channel = 'sms' AND address = :a",
                {"a": chat.address},
            )
        return str(found)

    async def run(self) -> None:
        queue: list[list[str]] = [[]]
        while queue:
            path = queue.pop(0)
            chat, replies = await self.replay(path)
            for reply in replies:
                sent = sms_body(reply_text(reply))
                for problem in prompt_problems(sent):
                    where = " > ".join([*self.start, *path]) or "(first message)"
                    self.problems.setdefault(problem, []).append(f"{where}:\n{sent}")
            state = await self.state(chat)
            choices = [o for o in chat.last.options if not o.url] if replies else []
            shape = tuple(re.sub(r"\d+", "#", fold(o.label)) for o in choices)
            if (state, shape) in self.seen or self.per_state[state] >= MOST_PER_STATE:
                continue
            self.seen.add((state, shape))
            self.per_state[state] += 1
            self.screens += 1
            if len(path) < DEEPEST:
                queue += [[*path, str(n)] for n in range(1, len(choices) + 1)]


async def roomy(db: Database) -> None:
    """Room for every walker's bookings: each path is a new customer, and some book."""
    async with db.transaction() as tx:
        await tx.execute("UPDATE sessions SET capacity = 500 WHERE capacity < 500")
        await tx.execute("UPDATE resources SET total_quantity = 500 WHERE total_quantity < 500")


# What the screens say does not depend on the database; the walk is long, so SQLite only.
@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("language", ["en", "es"])
async def test_no_sms_prompt_invites_an_opt_out_word(
    db: Database, dialogues: Dialogues, language: str
) -> None:
    await roomy(db)
    # A first contact; and a customer with a booking that can still be cancelled (the third
    # Saturday's taster is more than 48 hours ahead), for My bookings and the cancel prompt.
    book, confirm = ("Book a class", "Confirm") if language == "en" else ("Reservar", "Confirmar")
    starts = [[], [book, "Wheel Throwing Taster", "3", "1", confirm, "menu"]]
    screens = 0
    problems: dict[str, list[str]] = {}
    for start in starts:
        walk = Walk(db, dialogues, language, start)
        await walk.run()
        screens += walk.screens
        problems.update(walk.problems)
    assert screens > 30, screens  # the walk did get around
    report = [f"{problem}\n  e.g. after {where[0]}" for problem, where in problems.items()]
    assert not report, "\n\n".join(report)


def number_of(chat: Chat, label_start: str) -> str:
    """The number an SMS customer types for the option whose label starts with `label_start`."""
    labels = [fold(o.label) for o in chat.last.options if not o.url]
    found = [i for i, label in enumerate(labels, start=1) if label.startswith(fold(label_start))]
    assert len(found) == 1, (label_start, labels)
    return str(found[0])


@pytest.mark.parametrize(
    ("language", "words", "yes"),
    [
        ("en", ("Book a class", "Confirm", "My bookings", "Cancel this booking"), "YES"),
        ("es", ("Reservar", "Confirmar", "Mis reservas", "Cancelar esta reserva"), "SI"),
        ("es", ("Reservar", "Confirmar", "Mis reservas", "Cancelar esta reserva"), "sí"),
    ],
)
async def test_the_cancel_question_is_answered_yes_by_sms(
    dialogues: Dialogues, language: str, words: tuple[str, str, str, str], yes: str
) -> None:
    book, confirm, mine, cancel = words
    chat = Chat(dialogues, address="+447911000777", language=language, channel=Channel.SMS)
    await chat.say("hi")
    await chat.say(number_of(chat, book))
    await chat.say("Wheel Throwing Taster")
    await chat.say("3")  # the third Saturday: more than 48 hours ahead, so it can be cancelled
    await chat.say("1")  # one person
    await chat.say(number_of(chat, confirm))
    await chat.say(number_of(chat, mine))
    await chat.say("1")
    await chat.say(number_of(chat, cancel))
    assert not prompt_problems(sms_body(reply_text(chat.last)))

    await chat.say(yes)

    assert "cancelled" in chat.text or "cancelada" in chat.text, chat.text
