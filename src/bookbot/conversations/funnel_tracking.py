"""The booking funnel as the dialogue sees it: one function maps a turn's state change to
funnel steps (`services.funnel`), so no step module records anything itself.

The events are kept on the dialogue (`Conversation.funnel`) and written by its save, in
the same statement (PostgreSQL) or the same transaction (SQLite): a message costs no
transaction of its own for them, and a turn that saves nothing records nothing.

What counts (the item is the one the dialogue is about, read before and after the step,
since a booking clears the dialogue's data):

* view: a class's page (CLASS), a service's first booking screen (APPOINTMENT_STAFF), a
  pass or package offer, each when it is newly shown (not re-rendered, not gone back to);
* started: a summary reached, seats or time held (CONFIRM, APPOINTMENT_CONFIRM), from
  outside the summary; a pass or package offer answered with "get" or "pay";
* completed: the summary left with the booking made (`Transition.settled`, other than
  towards a payment link: a payment completes when the money arrives), a pass or package
  got at the studio;
* abandoned: the summary left otherwise, which lets its hold go.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bookbot.conversations.states import Context, State, Transition
from bookbot.services.funnel import Event, Kind, Step

# The class summary and its company-invoice questions hold seats; the appointment summary
# holds a time (the dispatcher's HOLDING, repeated here to keep this module below it).
_SUMMARY = frozenset(
    {
        State.CONFIRM.value,
        State.COMPANY_NAME.value,
        State.COMPANY_EMAIL.value,
        State.COMPANY_PO.value,
        State.APPOINTMENT_CONFIRM.value,
    }
)
_PAYING = State.PAY.value


@dataclass(frozen=True)
class _Offer:
    """A screen selling something outright (no hold, no summary): the item it shows, and
    the screens its "get it at the studio" leads to (anything else but paying: backed out)."""

    kind: Kind
    key: str  # where the dialogue's data holds the item's id
    got: frozenset[str]


# By state name: the package offer's state belongs to the packages' steps.
_OFFERS = {
    State.OFFER.value: _Offer(Kind.PASS, "class_id", frozenset({State.TICKET.value})),
    "package_offer": _Offer(
        Kind.PACKAGE, "package_offer", frozenset({State.APPOINTMENT_STAFF.value})
    ),
}
_VIEWS = {State.CLASS.value, State.APPOINTMENT_STAFF.value, *_OFFERS}
_BEFORE = "funnel_item"


def _item(data: dict[str, Any], state: str) -> tuple[Kind, int] | None:
    """The item a dialogue in `state` with `data` is about, if any."""
    offer = _OFFERS.get(state)
    if offer is not None:
        found = data.get(offer.key)
        return None if found is None else (offer.kind, int(found))
    if data.get("service_id") is not None and state.startswith("appointment"):
        return Kind.SERVICE, int(data["service_id"])
    if data.get("class_id") is not None:
        return Kind.CLASS, int(data["class_id"])
    return None


def remember(ctx: Context) -> None:
    """Before the step: the item the dialogue is about now (the step may clear it)."""
    ctx.turn[_BEFORE] = _item(ctx.data, ctx.conversation.state)


def _summary(previous: str, transition: Transition) -> tuple[Step, bool] | None:
    """Around the summary: a start (about the item after the step) or an end (before)."""
    new = transition.state.value
    if new in _SUMMARY and previous not in _SUMMARY | {_PAYING}:
        return Step.STARTED, False
    if previous in _SUMMARY and new not in _SUMMARY | {_PAYING}:
        return (Step.COMPLETED if transition.settled else Step.ABANDONED), True
    return None  # within the summary, or on to a payment link (it completes when paid)


def observe(ctx: Context, previous: str, transition: Transition) -> None:
    """After the step, before the new state is entered: the turn's funnel events."""
    new = transition.state.value
    before, after = ctx.turn.get(_BEFORE), _item(ctx.data, new)
    steps: list[tuple[Step, tuple[Kind, int] | None]] = []
    around = _summary(previous, transition)
    if around is not None:
        steps.append((around[0], before if around[1] else after))
    elif previous in _OFFERS and (new == _PAYING or new in _OFFERS[previous].got):
        steps.append((Step.STARTED, before))
        if new != _PAYING:  # got at the studio: it is theirs now
            steps.append((Step.COMPLETED, before))
    fresh = previous != new or before != after
    if new in _VIEWS and not transition.back and fresh:
        steps.append((Step.VIEW, after))
    ctx.conversation.funnel.extend(Event(step, *item) for step, item in steps if item is not None)
