"""Attendee details in chat (issue 17): asked after the seats are held, before the summary.

A class may ask for the booker's name, email, company, job title and special requests, and
the names of the others in the party (`services.attendees`). Once the party size is
accepted and the seats held (`booking_steps.hold_seats`), each detail is asked in turn in
one state, ATTENDEE_DETAILS, whose step is `ctx.data["attendee"]["step"]`; ⬅ Back goes to
the previous question (from the first: back where the booking came from). Answers given
before (the customer went back) are offered to keep. The last answer writes them all to
the held registration in one transaction, and the summary lists them.

A hold made again with the answers already complete (back from a payment link) is given
the same details at once; choosing the party size again asks them again. A lapsed hold
booked afresh takes its details with it (`holds.confirm_hold`).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from email_validator import EmailNotValidError, validate_email

from bookbot.conversations.matching import fold
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.services import attendees
from bookbot.services.attendees import Attendee

KEY = "attendee"  # ctx.data: {"fields", "step", "names", "email", ..., "done"}
MAX_TEXT = 200  # a name, company or job title
MAX_REQUESTS = 1000
MAX_EMAIL = 254
KEEP_SHOWN = 60  # the most of an earlier answer the question shows
_NO_REQUESTS = frozenset({"none", "no", "nothing", "n a", "ninguna", "ninguno", "nada"})


def _state(ctx: Context) -> dict[str, Any]:
    found = ctx.data.get(KEY)
    if not isinstance(found, dict):
        found = {}
        ctx.data[KEY] = found
    return found


def _steps(fields: list[str], guests: int) -> list[tuple[str, int]]:
    """The questions: the booker's name first, their other details, then the others' names."""
    names = "names" in fields
    steps = [("names", 1)] if names else []
    steps += [(f, 1) for f in fields if f != "names"]
    steps += [("names", p) for p in range(2, guests + 1)] if names else []
    return steps


def ask_again(ctx: Context) -> None:
    """The party size was chosen (again): the details are asked again (earlier answers are
    offered to keep)."""
    _state(ctx).pop("done", None)


async def after_hold(ctx: Context) -> Transition:
    """The seats are held: the first question, or the summary when the class asks nothing
    (or every answer was given for this party and only the hold is new)."""
    class_id = ctx.data.get("class_id")
    fields = _fields_read(ctx, class_id)
    if fields is None:
        fields = (
            await attendees.class_fields(ctx.db, ctx.studio.id, int(class_id))
            if class_id is not None
            else ()
        )
    if not fields:
        ctx.data.pop(KEY, None)
        return Transition(State.CONFIRM)
    state = _state(ctx)
    state["fields"] = list(fields)
    if state.get("done") and _complete(ctx):
        await _save(ctx, int(ctx.data["hold_id"]))
        return Transition(State.CONFIRM)
    state["step"] = 0
    return Transition(State.ATTENDEE_DETAILS)


def _fields_read(ctx: Context, class_id: object) -> tuple[str, ...] | None:
    """The class's fields from the dates this update read to check the party (with their
    class), so asking them costs no statement; None when it read none."""
    read = ctx.turn.get("dates")
    for d in read[2] if read else ():
        if d.klass is not None and d.klass.id == class_id:
            return attendees.parse_fields(d.class_attendee_fields)
    return None


def _complete(ctx: Context) -> bool:
    state = _state(ctx)
    return all(
        _answer(state, field, person) is not None
        for field, person in _steps(state.get("fields", []), int(ctx.data.get("guests", 1)))
    )


def _answer(state: dict[str, Any], field: str, person: int) -> str | None:
    """The answer given to a question; '' for requests skipped; None: not answered."""
    if field == "names":
        names = state.get("names", [])
        return names[person - 1] if person <= len(names) and names[person - 1] else None
    if field == "requests":
        return state.get("requests") if "requests" in state else None
    return state.get(field) or None


def _people(ctx: Context) -> list[Attendee]:
    """The attendees to write: the booker (with their details), and the others by name."""
    state = _state(ctx)
    guests = int(ctx.data.get("guests", 1))
    names = list(state.get("names", []))
    first = names[0] if names else ctx.customer.name
    booker = Attendee(
        1,
        first or "",
        email=state.get("email"),
        company=state.get("company"),
        job_title=state.get("job_title"),
        requests=state.get("requests") or None,
    )
    others = [Attendee(p, names[p - 1]) for p in range(2, guests + 1) if p <= len(names)]
    return [booker, *others]


async def _save(ctx: Context, registration_id: int) -> None:
    await attendees.save(ctx.db, ctx.studio.id, registration_id, _people(ctx))


# --- the questions ---------------------------------------------------------------------------


def _current(ctx: Context) -> tuple[str, int, int, int]:
    """The question asked now: field, person, its number and how many there are."""
    state = _state(ctx)
    steps = _steps(state.get("fields", []), int(ctx.data.get("guests", 1)))
    step = min(int(state.get("step", 0)), max(len(steps) - 1, 0))
    field, person = steps[step] if steps else ("names", 1)
    return field, person, step + 1, len(steps)


def _question(ctx: Context, field: str, person: int) -> str:
    _ = ctx.t._
    guests = int(ctx.data.get("guests", 1))
    if field == "names" and person == 1:
        return _("What is your full name, for the booking?")
    if field == "names":
        return _("Name of person {n} of {total}?").format(n=person, total=guests)
    return {
        "email": _("What is your email address?"),
        "company": _("What is the name of your company?"),
        "job_title": _("What is your job title?"),
        "requests": _(
            "Any special requests (dietary needs, access)? Send them, or choose No requests."
        ),
    }[field]


def _shown(value: str) -> str:
    return value if len(value) <= KEEP_SHOWN else value[: KEEP_SHOWN - 1] + "…"


async def details_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    field, person, number, count = _current(ctx)
    text = [
        _("Details for your booking ({n} of {total}):").format(n=number, total=count),
        _question(ctx, field, person),
    ]
    choices = []
    earlier = _answer(_state(ctx), field, person)
    if field == "names" and person == 1 and earlier is None and ctx.customer.name:
        earlier = ctx.customer.name
    if earlier:
        text.append(_("Now: {value}").format(value=_shown(earlier)))
        label = _("✓ Use this name") if field == "names" else _("✓ Keep this")
        choices.append(Choice("attendee_keep", label, aliases=(_("yes"), "yes", "si")))
    if field == "requests":
        choices.append(
            Choice("attendee_skip", _("No requests"), aliases=(_("no"), "no", _("none"), "none"))
        )
    back = Choice("attendee_back", _("⬅ Back"), aliases=(_("back"), "back", "atras"))
    if ctx.texting:  # a lone CANCEL texted to Twilio unsubscribes: call it Menu there
        menu = Choice("menu", _("✖ Menu"), aliases=(_("menu"), "menu"))
    else:
        menu = Choice("menu", _("✖ Cancel"), aliases=(_("cancel"), _("menu"), "menu"))
    return Screen("\n".join(text), [*choices, back, menu])


async def _next(ctx: Context) -> Transition:
    """On to the next question, or, after the last, write the details: the summary."""
    state = _state(ctx)
    _field, _person, number, count = _current(ctx)
    if number < count:
        state["step"] = number  # the next question's index
        return Transition(State.ATTENDEE_DETAILS)
    state["done"] = True  # the step stays at the last question: Back from the summary
    hold_id = ctx.data.get("hold_id")
    if hold_id is not None:
        await _save(ctx, int(hold_id))
    return Transition(State.CONFIRM)


def _store(ctx: Context, field: str, person: int, value: str) -> None:
    state = _state(ctx)
    if field == "names":
        names = list(state.get("names", []))
        names += [""] * (person - len(names))
        names[person - 1] = value
        state["names"] = names
    else:
        state[field] = value


def clean(typed: str) -> str:
    """Typed text as one printable line (as `matching.clean_name` cleans a name): control,
    format and bidi-override characters dropped, spaces collapsed."""
    kept = "".join(
        " " if c.isspace() else c
        for c in typed
        if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    return " ".join(kept.split())


def _email_problem(ctx: Context, typed: str, reason: str) -> str:
    """What is wrong with a typed email address, in the customer's language."""
    _ = ctx.t._
    if "@" not in typed:
        return _("An email address needs an @, like name@company.com. Please send it again.")
    local, _at, domain = typed.partition("@")
    if not local:
        return _("Something is missing before the @. Please send the whole address.")
    if not domain:
        return _("Something is missing after the @. Please send the whole address.")
    if "after the @" in reason:
        return _(
            "The part after the @ should be a domain like company.com. Please check it and "
            "send it again."
        )
    return _("That email address has characters it cannot have. Please check it and send it again.")


async def on_typed(ctx: Context, typed: str) -> Transition:
    """An answer to the question asked now: checked, kept, and on to the next."""
    _ = ctx.t._
    field, person, _number, _count = _current(ctx)
    value = clean(typed)
    if field == "email":
        if len(value) > MAX_EMAIL:
            return Transition(State.ATTENDEE_DETAILS, _("That email address is too long."))
        try:
            value = validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as error:
            return Transition(State.ATTENDEE_DETAILS, _email_problem(ctx, value, str(error)))
    elif field == "requests":
        if fold(value) in _NO_REQUESTS:
            return await skip(ctx)
        if len(value) > MAX_REQUESTS:
            too_long = _("Please keep requests under {n} characters.").format(n=MAX_REQUESTS)
            return Transition(State.ATTENDEE_DETAILS, too_long)
    elif not any(c.isalnum() for c in value):
        return Transition(State.ATTENDEE_DETAILS, _("Please send it in letters or numbers."))
    elif len(value) > MAX_TEXT:
        too_long = _("Please keep it under {n} characters.").format(n=MAX_TEXT)
        return Transition(State.ATTENDEE_DETAILS, too_long)
    _store(ctx, field, person, value)
    return await _next(ctx)


async def keep(ctx: Context) -> Transition:
    """The answer shown (given before, or the customer's own name) stays."""
    field, person, _number, _count = _current(ctx)
    earlier = _answer(_state(ctx), field, person)
    if earlier is None and field == "names" and person == 1:
        earlier = ctx.customer.name
    if not earlier:
        return Transition(State.ATTENDEE_DETAILS)
    _store(ctx, field, person, earlier)
    return await _next(ctx)


async def skip(ctx: Context) -> Transition:
    """No special requests."""
    field, person, _number, _count = _current(ctx)
    if field != "requests":
        return Transition(State.ATTENDEE_DETAILS)
    _store(ctx, field, person, "")
    return await _next(ctx)


async def back(ctx: Context) -> Transition:
    """The previous question; from the first, where the booking came from (as ⬅ Back)."""
    state = _state(ctx)
    step = int(state.get("step", 0))
    if step > 0:
        state["step"] = step - 1
        return Transition(State.ATTENDEE_DETAILS, back=True)
    history = ctx.data.get("history", [])
    return Transition(State(history.pop()) if history else State.MENU, back=True)


def summary_lines(ctx: Context) -> list[str]:
    """The details, for the summary (nothing when the class asks none)."""
    _ = ctx.t._
    state = ctx.data.get(KEY)
    if not isinstance(state, dict) or not state.get("done"):
        return []
    people = _people(ctx)
    booker = people[0]
    lines = []
    if "names" in state.get("fields", []):
        lines.append(_("Names: {names}").format(names=", ".join(p.name for p in people)))
    labelled = (
        (_("Email: {value}"), booker.email),
        (_("Company: {value}"), booker.company),
        (_("Job title: {value}"), booker.job_title),
    )
    lines += [label.format(value=value) for label, value in labelled if value]
    if "requests" in state.get("fields", []):
        lines.append(_("Requests: {value}").format(value=booker.requests or _("none")))
    return lines


TYPED = {State.ATTENDEE_DETAILS: on_typed}
SCREENS = {State.ATTENDEE_DETAILS: details_screen}
PLAIN_ACTIONS = {"attendee_keep": keep, "attendee_skip": skip, "attendee_back": back}
