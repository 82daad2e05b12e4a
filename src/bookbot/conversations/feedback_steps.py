"""Feedback after a course or class (services.feedback): a 1-5 rating, then an optional
comment.

The request arrives as a notice a day after the course. On Telegram it carries ⭐1…⭐5
buttons for that booking; by text (and anywhere) RATE 4 rates the latest booking asked
about, and RATE alone shows the stars. A rating is stored at once; the comment that may
follow is added to it (SKIP, NO or OMITIR leaves none). A booking is rated once: a second
rating is answered with the one recorded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bookbot.conversations import answer_words
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.services import feedback

NOTICE_PREFIX = "feedback_request"
_STAR_SIGNS = ("⭐", "★", "*")


def stars(ctx: Context, registration_id: int) -> list[Choice]:
    """⭐1…⭐5 for the booking (typed, the option number is the rating), and Not now."""
    return [
        *(
            Choice("feedback_rate", f"⭐{n}", [registration_id, n], aliases=(str(n),))
            for n in range(1, 6)
        ),
        Choice("menu", ctx.t._("Not now"), aliases=(ctx.t._("not now"), "later", "luego")),
    ]


async def notice_choices(ctx: Context, template: str) -> list[Choice]:
    """The stars under a feedback request (`feedback_request:<booking id>`); none when there
    is nothing left to rate (the notice then offers the menu)."""
    raw = template.partition(":")[2]
    if raw.isdigit():
        return stars(ctx, int(raw))
    asked = await feedback.pending(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    return stars(ctx, asked.registration_id) if asked is not None else []


async def rating_screen(ctx: Context) -> Screen:
    text = ctx.t._("How would you rate {name}? 1 = poor, 5 = excellent.").format(
        name=ctx.data.get("feedback_class", "")
    )
    return Screen(text, stars(ctx, int(ctx.data["feedback_registration"])))


async def comment_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    skip = Choice("feedback_skip", _("Skip"), aliases=(_("skip"), "skip", "no", "omitir"))
    return Screen(_("Would you like to add a comment? Write it here, or send SKIP."), [skip])


async def open_rating(ctx: Context, choice: Choice) -> Transition:
    """RATE: the stars for the latest booking asked about; RATE 4: that rating at once."""
    asked = await feedback.pending(ctx.db, ctx.studio.id, ctx.customer.id, ctx.now)
    if asked is None:
        return Transition(State.MENU, ctx.t._("There is nothing waiting for your rating."))
    if isinstance(choice.value, int):
        return await _rate(ctx, asked.registration_id, choice.value)
    ctx.data["feedback_registration"] = asked.registration_id
    ctx.data["feedback_class"] = asked.class_name
    return Transition(State.FEEDBACK_RATING)


async def on_star(ctx: Context, choice: Choice) -> Transition:
    """⭐n pressed (or its number typed): that rating for the booking it was offered for."""
    registration_id, rating = choice.value
    return await _rate(ctx, int(registration_id), int(rating))


async def on_typed_rating(ctx: Context, typed: str) -> Transition:
    """A rating typed in words or stars at the stars ("four", "cuatro", "⭐⭐⭐")."""
    rating = rating_of(typed, ctx.t.language)
    if rating is None:
        return Transition(State.FEEDBACK_RATING, ctx.t._("Please choose a number from 1 to 5."))
    return await _rate(ctx, int(ctx.data["feedback_registration"]), rating)


def rating_of(text: str, language: str) -> int | None:
    """1-5 from a typed answer: a digit, a number word (either language) or stars."""
    signs = sum(text.count(s) for s in _STAR_SIGNS)
    if signs and not any(c.isdigit() for c in text):
        return signs if 1 <= signs <= 5 else None
    found = []
    tables = [answer_words.NUMBER_WORDS.get(language, {}), *answer_words.NUMBER_WORDS.values()]
    for word in answer_words.words(text):
        number = int(word) if word.isdigit() else next((t[word] for t in tables if word in t), None)
        if number is not None:
            found.append(number)
    if len(found) == 2 and found[1] == 5:  # "4/5", "4 of 5", "4 de 5"
        found = found[:1]
    return found[0] if len(found) == 1 and 1 <= found[0] <= 5 else None


async def _rate(ctx: Context, registration_id: int, rating: int) -> Transition:
    _ = ctx.t._
    rated = await feedback.rate(
        ctx.db,
        ctx.now,
        studio_id=ctx.studio.id,
        customer_id=ctx.customer.id,
        registration_id=registration_id,
        rating=rating,
    )
    if rated is None:
        return Transition(State.MENU, _("There is nothing to rate for that booking."))
    if not rated.new:
        return Transition(
            State.MENU,
            _("Your rating of {name} was already recorded: ⭐{rating}. Thank you!").format(
                name=rated.class_name, rating=rated.rating
            ),
        )
    ctx.data["feedback_registration"] = registration_id
    return Transition(
        State.FEEDBACK_COMMENT,
        _("Thank you for rating {name} ⭐{rating}!").format(name=rated.class_name, rating=rating),
    )


async def on_comment(ctx: Context, typed: str) -> Transition:
    """The comment, added to the rating just given."""
    await feedback.comment(
        ctx.db,
        studio_id=ctx.studio.id,
        customer_id=ctx.customer.id,
        registration_id=int(ctx.data["feedback_registration"]),
        text=typed,
    )
    ctx.data.pop("feedback_registration", None)
    return Transition(State.MENU, ctx.t._("Thank you! We have passed your comment on."))


async def skip_comment(ctx: Context) -> Transition:
    ctx.data.pop("feedback_registration", None)
    return Transition(State.MENU, ctx.t._("Thank you!"))


SCREENS: dict[State, Callable[[Context], Awaitable[Screen]]] = {
    State.FEEDBACK_RATING: rating_screen,
    State.FEEDBACK_COMMENT: comment_screen,
}
TYPED: dict[State, Callable[[Context, str], Awaitable[Transition]]] = {
    State.FEEDBACK_RATING: on_typed_rating,
    State.FEEDBACK_COMMENT: on_comment,
}
ACTIONS: dict[str, Callable[[Context, Choice], Awaitable[Transition]]] = {
    "feedback": open_rating,
    "feedback_rate": on_star,
}
PLAIN_ACTIONS: dict[str, Callable[[Context], Awaitable[Transition]]] = {
    "feedback_skip": skip_comment,
}
