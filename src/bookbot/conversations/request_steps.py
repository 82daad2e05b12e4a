"""One-line requests: "book wheel taster for 2 on saturday", "reservar taster para dos el
sábado", "2 people wheel taster tomorrow" start a booking with what they say, on every
channel.

The class is the one whose name has the most of the words typed (whole words, a typo
allowed in long ones; weekday and month names and the small words of a request do not
count); the date is the class's first bookable session on the day named (for a course, the
run starting that day); the party is the size typed. The booking then goes to the nearest
step with what is still missing: the summary (seats held), else the party size, else the
class's dates. What the request said and a later step still needs (the day when the class
is asked for, the party when the date is) waits in ctx.data["request"] until used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date

from bookbot.conversations import answer_words, answers, class_dates
from bookbot.conversations import booking_steps as booking
from bookbot.conversations.matching import close, fold
from bookbot.conversations.states import Context, State, Transition
from bookbot.engine.pricing import ClassKind, RegistrationKind
from bookbot.engine.recurrence import zone
from bookbot.services import browse

_AT = "request_at"  # ctx.turn: the time of day a request named, if any
REQUEST = "request"  # ctx.data: {"day": ISO date or None, "guests": int or None}
# Sessions read to find the one on the day asked for (a drop-in runs most days).
LOOK_AHEAD = 60
# Words of a request that name no class.
_REQUEST_WORDS = frozenset(
    {
        "book",
        "booking",
        "reserve",
        "reservar",
        "reserva",
        "reservame",
        "quiero",
        "quisiera",
        "want",
        "would",
        "like",
        "need",
        "i",
        "id",
        "to",
        "an",
        "for",
        "para",
        "on",
        "at",
        "los",
        "las",
        "de",
        "del",
        "con",
        "y",
        "and",
        "in",
        "en",
        "me",
        "my",
        "mi",
        "of",
        "this",
        "este",
        "esta",
        "next",
        "proximo",
        "proxima",
        "class",
        "clase",
        "session",
        "sesion",
        "people",
        "personas",
        "persona",
        "person",
        "can",
        "could",
        "puedo",
        "am",
        "pm",
        "place",
        "places",
        "plazas",
        "spot",
        "spots",
        "una",
        "un",
        "uno",
    }
)
_BOOK_VERBS = frozenset(
    {"book", "reserve", "reservar", "reserva", "reservame", "quiero", "quisiera", "want"}
)


_ON_A_CLASS = (State.CLASS, State.GUESTS, State.CONFIRM)


def _today(ctx: Context) -> date:
    return ctx.now.astimezone(zone(ctx.zone)).date()


def _class_words(text: str, lang: str) -> list[str]:
    """The typed words that may name a class."""
    kept = []
    for word in fold(text[: answer_words.LIMIT]).split():
        if word in _REQUEST_WORDS or word in answer_words.FILLER or word.isdigit():
            continue
        if answers.calendar_word(word, lang) or answers.number_word(word, lang):
            continue
        kept.append(word)
    return kept


def named_classes(text: str, cards: list[browse.ClassCard], lang: str) -> list[browse.ClassCard]:
    """The classes whose names have the most of the words typed (none: no word names one)."""
    typed = _class_words(text, lang)
    scores = []
    for card in cards:
        own = fold(card.name).split()
        scores.append(sum(1 for word in set(typed) if any(close(word, o) for o in own)))
    best = max(scores, default=0)
    return [c for c, s in zip(cards, scores, strict=True) if best and s == best]


async def asks_to_book(ctx: Context, text: str) -> bool:
    """Whether a first message (or one after a long pause) is a booking request: it names a
    class, or asks to book for a day or a party ("book for 2 on saturday")."""
    lang = ctx.t.language
    cards = await browse.class_cards(ctx.db, ctx.studio.id, ctx.now)
    if named_classes(text, cards, lang):
        return True
    said = answers.party_size(text, lang) or answers.day(text, lang, _today(ctx))
    return bool(said) and bool(_BOOK_VERBS & set(fold(text[: answer_words.LIMIT]).split()))


async def start(ctx: Context, text: str) -> Transition | None:
    """A booking from a one-line request, or None when the text asks for none."""
    state = State(ctx.conversation.state)
    if state.value.startswith("staff_"):
        return None
    lang = ctx.t.language
    guests = answers.party_size(text, lang)
    day = answers.day(text, lang, _today(ctx))
    ctx.turn[_AT] = answers.time_of_day(text, lang)
    cards = await browse.class_cards(ctx.db, ctx.studio.id, ctx.now)
    named = named_classes(text, cards, lang)
    wants = bool(_BOOK_VERBS & set(fold(text[: answer_words.LIMIT]).split()))
    wants = wants or state is State.CLASSES  # at the class list: booking already
    if not named:
        current = ctx.data.get("class_id") if state in _ON_A_CLASS else None
        card = next((c for c in cards if c.id == current), None)
        if card is not None and day is None and guests and state is State.CLASS:
            # The party for the dates still to choose here ("for 2"): kept for the next step.
            ctx.data[REQUEST] = {"day": None, "guests": guests}
            people = ctx.t.n_("{n} person", "{n} people", guests).format(n=guests)
            return Transition(state, ctx.t._("Noted: {people}.").format(people=people))
        if guests and day is None and state is State.CONFIRM and ctx.data.get("session_ids"):
            return await booking.choose_guests(ctx, guests)  # "for 2" at the summary
        if card is not None and (guests or day):
            return await book(ctx, card, day, guests)
        if (guests or day) and wants:
            _remember(ctx, day, guests)
            return Transition(State.CLASSES, ctx.t._("Which class would you like to book?"))
        return None
    named = await _narrow(ctx, named, day) if len(named) > 1 else named
    if len(named) > 1:
        _remember(ctx, day, guests)
        names = [c.name for c in named]
        listed = ctx.t._("{some} or {last}").format(some=", ".join(names[:-1]), last=names[-1])
        return Transition(
            State.CLASSES, ctx.t._("Which class did you mean: {options}?").format(options=listed)
        )
    return await book(ctx, named[0], day, guests)


def _remember(ctx: Context, day: date | None, guests: int | None) -> None:
    ctx.data.clear()
    ctx.data[REQUEST] = {"day": day.isoformat() if day else None, "guests": guests}


async def book(
    ctx: Context, card: browse.ClassCard, day: date | None, guests: int | None
) -> Transition:
    """The nearest step of booking `card` with what is known: the summary, the party size,
    or the class's dates (the party, if known, waits for the date)."""
    ctx.data.clear()
    ctx.data["class_id"] = card.id
    chosen = Transition(State.CLASS) if day is None else await _choose_day(ctx, card, day)
    if chosen is not None:
        if guests is not None:
            ctx.data[REQUEST] = {"day": None, "guests": guests}
        return chosen
    if guests is None:
        return Transition(State.GUESTS)
    return await booking.choose_guests(ctx, guests)


@dataclass(frozen=True)
class _Found:
    """What booking a class on a day takes: its sessions, the kind, a course's run."""

    session_ids: list[int]
    kind: RegistrationKind
    pattern_id: int | None = None


async def _find(ctx: Context, card: browse.ClassCard, day: date) -> _Found | None:
    """The class's first bookable session on `day` (a course: the run starting that day)."""
    here = zone(ctx.zone)
    if card.kind is ClassKind.COURSE:
        runs = await browse.course_runs(ctx.db, ctx.studio.id, card.id, ctx.now)
        run = next((r for r in runs if r.first.starts_at.astimezone(here).date() == day), None)
        if run is None:
            return None
        sessions = await browse.run_sessions(ctx.db, ctx.studio.id, run.pattern_id)
        return _Found([s.id for s in sessions], RegistrationKind.FULL_SCHEDULE, run.pattern_id)
    floor = ctx.now + ctx.studio.booking_cutoff
    dates = await browse.upcoming_dates(ctx.db, ctx.studio.id, card.id, ctx.now, limit=LOOK_AHEAD)
    that_day = [
        d.session
        for d in dates
        if d.session.starts_at > floor and d.session.starts_at.astimezone(here).date() == day
    ]
    at = ctx.turn.get(_AT)  # a time the request named ("at 2pm"): that session, if one is
    timed = [s for s in that_day if s.starts_at.astimezone(here).time() == at]
    if not that_day:
        return None
    drop_in = card.kind is ClassKind.DROP_IN
    kind = RegistrationKind.DROP_IN if drop_in else RegistrationKind.SINGLE
    return _Found([(timed or that_day)[0].id], kind)


async def _narrow(
    ctx: Context, named: list[browse.ClassCard], day: date | None
) -> list[browse.ClassCard]:
    """Of several classes a request names, the one that has the day asked for, if only one
    does ("wheel class on saturday": the taster runs then, the course does not)."""
    if day is None:
        return named
    having = [card for card in named if await _find(ctx, card, day) is not None]
    return having if len(having) == 1 else named


async def _choose_day(ctx: Context, card: browse.ClassCard, day: date) -> Transition | None:
    """Put the class's session (or run) on `day` in ctx.data; else where to go instead."""
    found = await _find(ctx, card, day)
    if found is None:
        if card.kind is ClassKind.COURSE:
            return Transition(State.CLASS, _none_on(ctx, card, day))
        return await _elsewhere(ctx, card, day)
    ctx.data.update(
        session_ids=found.session_ids, kind=found.kind.value, pattern_id=found.pattern_id
    )
    if found.kind is RegistrationKind.DROP_IN:
        ctx.data["selected"] = list(found.session_ids)
    return None


async def _elsewhere(ctx: Context, card: browse.ClassCard, day: date) -> Transition:
    """No session of the class that day: say so, with its dates from then on."""
    shown = await class_dates.show_from(ctx, day)
    notice = shown.notice or _none_on(ctx, card, day)
    return Transition(shown.state, notice)


def _none_on(ctx: Context, card: browse.ClassCard, day: date) -> str:
    when = format_date(day, "EEE d MMM", locale=ctx.t.language)
    return ctx.t._("{name} has nothing to book on {date}. Here are its dates:").format(
        name=card.name, date=when
    )


async def go_on(ctx: Context, transition: Transition) -> Transition:
    """After a choice, use what a request said and this step needs: the day once its class
    is chosen, the party once its date is."""
    request = ctx.data.get(REQUEST)
    if not isinstance(request, dict) or transition.notice is not None:
        return transition
    if transition.state is State.CLASS and request.get("day") and ctx.data.get("class_id"):
        card = await browse.class_card(ctx.db, ctx.studio.id, int(ctx.data["class_id"]), ctx.now)
        if card is not None:
            return await book(ctx, card, date.fromisoformat(request["day"]), request["guests"])
    if transition.state is State.GUESTS and request.get("guests") and ctx.data.get("session_ids"):
        ctx.data.pop(REQUEST)
        return await booking.choose_guests(ctx, int(request["guests"]))
    return transition
