"""Staff tools in chat (placeholder wiring; the screens arrive in the next commit)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bookbot.conversations.account_steps import menu_choices
from bookbot.conversations.states import Choice, Context, Screen, State, Transition


async def staff_menu_screen(ctx: Context) -> Screen:
    return Screen(ctx.t._("Staff tools are coming soon."), menu_choices(ctx))


SCREENS: dict[State, Callable[[Context], Awaitable[Screen]]] = {State.STAFF_MENU: staff_menu_screen}


async def choose(ctx: Context, choice: Choice) -> Transition:
    """A staff action: the caller has checked the person is staff of this studio."""
    return Transition(State.STAFF_MENU)
