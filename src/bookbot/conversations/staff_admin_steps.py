"""Staff tools that change the schedule: assigning staff, generating sessions from a
pattern (preview, then confirm), and restoring auto-cancelled reservations.

Every value an option carries is looked up again, scoped to the studio, before it is used:
an id from a forged or stale option finds nothing.
"""

from __future__ import annotations

from bookbot.conversations import staff_lists
from bookbot.conversations.states import Choice, Context, Screen, State, Transition
from bookbot.engine import errors
from bookbot.engine.generation import Plan
from bookbot.presentation.i18n import render_error
from bookbot.services import attendance, generation, staff_views, staffing
from bookbot.services import staff_lists as staff_lists_service

ASSIGN_SESSIONS = 12  # sessions a page of /assign lists
PREVIEW_DATES = 8


def nav(ctx: Context) -> list[Choice]:
    """Back, and the staff menu."""
    _ = ctx.t._
    return [
        Choice("back", _("⬅ Back"), aliases=(_("back"), "back", "atras")),
        Choice("staff_menu", _("🧰 Staff menu"), aliases=(_("staff menu"), "staff")),
    ]


def int_value(value: object) -> int | None:
    """An id an option carries (never a bool, a string or a list)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


REASON_LIMIT = 300  # characters of a reason staff type (told to the member, or audited)


def typed_reason(typed: str) -> str | None:
    """A reason staff typed: printable characters, spaces collapsed; None when nothing is
    left or it is longer than REASON_LIMIT (`reason_refusal` says so)."""
    kept = "".join(ch for ch in typed if ch.isprintable() or ch.isspace())
    reason = " ".join(kept.split())
    return reason if reason and len(reason) <= REASON_LIMIT else None


def reason_refusal(ctx: Context) -> str:
    refusal = ctx.t._("Please type a short reason (at most {n} characters). Nothing was changed.")
    return refusal.format(n=REASON_LIMIT)


def cancel_screen(ctx: Context) -> Screen:
    """Asks staff why they cancel a customer's appointment (the reason is passed on)."""
    text = ctx.t._(
        "Why are you cancelling? Type the reason: we pass it on to the customer in your words."
    )
    return Screen(text, nav(ctx))


# --- assigning staff -------------------------------------------------------------------


def back_to(ctx: Context, state: State, notice: str | None = None) -> Transition:
    """Return to `state`, an earlier screen (a list), as ⬅ Back would: the history is cut
    back to where it was then, so Back from there goes where it went before."""
    history = ctx.data.get("history", [])
    if state.value in history:
        del history[len(history) - 1 - history[::-1].index(state.value) :]
    return Transition(state, notice, back=True)


async def _assigned_line(ctx: Context) -> staff_views.SessionLine | None:
    session_id = int_value(ctx.data.get("assign_session"))
    return await staff_views.session_line(ctx.db, ctx.studio.id, session_id) if session_id else None


async def assign_screen(ctx: Context) -> Screen:
    """The sessions to assign staff to, a page at a time (a typed date jumps)."""
    return await staff_lists.sessions_screen(
        ctx,
        size=ASSIGN_SESSIONS,
        action="staff_assign_session",
        prompt=ctx.t._("Choose a session to assign staff to:"),
        extra=nav(ctx),
    )


async def assign_session_screen(ctx: Context) -> Screen:
    """Who works the session now, and who may be added: qualified and free then."""
    line = await _assigned_line(ctx)
    if line is None:
        return await assign_screen(ctx)
    head = [f"{line.class_name} · {staff_lists.line_when(ctx, line)}"]
    head += _staffing_lines(ctx, await staff_views.session_staffing(ctx.db, ctx.studio.id, line.id))
    people = await staff_lists_service.free_qualified(
        ctx.db, ctx.studio.id, line.id, line.starts_at
    )
    if not people:
        head.append(ctx.t._("Nobody else is qualified and free at that time."))
        return Screen("\n".join(head), nav(ctx))
    head.append(ctx.t._("Who should work this session? (Qualified and free then.)"))
    choices = [Choice("staff_assign_person", p.name, p.id) for p in people]
    return Screen("\n".join(head), choices + nav(ctx))


async def assign_role_screen(ctx: Context) -> Screen:
    line = await _assigned_line(ctx)
    person = await _staff_member(ctx, ctx.data.get("assign_staff"))
    if line is None or person is None:
        return await assign_session_screen(ctx)
    head = [f"{line.class_name} · {staff_lists.line_when(ctx, line)}"]
    head.append(
        ctx.t._("Add {name} as the instructor or as an assistant?").format(name=person.name)
    )
    return Screen("\n".join(head), _roles(ctx) + nav(ctx))


def _roles(ctx: Context) -> list[Choice]:
    _ = ctx.t._
    return [
        Choice("staff_assign_as", _("Instructor (replaces the current one)"), "instructor"),
        Choice("staff_assign_as", _("Assistant"), "assistant"),
    ]


def _staffing_lines(ctx: Context, now: staff_views.Staffing) -> list[str]:
    _ = ctx.t._
    lines = [
        _("Instructor: {name}").format(name=now.instructor)
        if now.instructor
        else _("No instructor yet.")
    ]
    if now.assistants:
        lines.append(_("Assistants: {names}").format(names=", ".join(now.assistants)))
    return lines


async def _staff_member(ctx: Context, value: object) -> staff_views.StaffMember | None:
    wanted = int_value(value)
    people = await staff_views.staff_members(ctx.db, ctx.studio.id) if wanted else []
    return next((p for p in people if p.id == wanted), None)


async def choose_assign(ctx: Context, choice: Choice) -> Transition:
    data = ctx.data
    if choice.action == "staff_assign_session":
        found = int_value(choice.value)
        line = await staff_views.session_line(ctx.db, ctx.studio.id, found) if found else None
        data.pop("assign_staff", None)
        if line is None:
            data.pop("assign_session", None)
            return Transition(State.STAFF_ASSIGN, ctx.t._("That session was not found."))
        data["assign_session"] = line.id
        return Transition(State.STAFF_ASSIGN_SESSION)
    if choice.action == "staff_assign_person":
        person = await _staff_member(ctx, choice.value)
        if person is None or "assign_session" not in data:
            return Transition(State.STAFF_ASSIGN_SESSION)
        data["assign_staff"] = person.id
        return Transition(State.STAFF_ASSIGN_ROLE)
    if choice.action == "staff_assign_as" and choice.value in ("instructor", "assistant"):
        return await _assign(ctx, as_instructor=choice.value == "instructor")
    # A fresh start: /assign or the staff menu
    data.pop("assign_session", None)
    data.pop("assign_staff", None)
    staff_lists.reset(ctx)
    return Transition(State.STAFF_ASSIGN)


async def _assign(ctx: Context, *, as_instructor: bool) -> Transition:
    """Assign, then back to the session's screen (its staff as they are now)."""
    _ = ctx.t._
    member = await _staff_member(ctx, ctx.data.pop("assign_staff", None))
    line = await _assigned_line(ctx)
    if member is None or line is None:
        return back_to(ctx, State.STAFF_ASSIGN_SESSION)
    try:
        await staffing.assign(
            ctx.db, ctx.studio.id, line.id, member.id, as_instructor=as_instructor
        )
    except errors.BookingError as error:
        return back_to(ctx, State.STAFF_ASSIGN_SESSION, render_error(error, ctx.t, ctx.zone))
    done = (
        _("{name} now teaches {class_name} on {date}.")
        if as_instructor
        else _("{name} now assists at {class_name} on {date}.")
    )
    return back_to(
        ctx,
        State.STAFF_ASSIGN_SESSION,
        done.format(
            name=member.name, class_name=line.class_name, date=staff_lists.line_when(ctx, line)
        ),
    )


# --- generating sessions ----------------------------------------------------------------


async def generate_screen(ctx: Context) -> Screen:
    """The patterns to generate sessions from."""
    found = await staff_views.patterns(ctx.db, ctx.studio.id)
    choices = [
        Choice("staff_generate_pattern", f"{p.class_name} · {p.key}", p.id, (p.key,)) for p in found
    ]
    return Screen(ctx.t._("Generate sessions from which pattern?"), choices + nav(ctx))


async def preview_screen(ctx: Context) -> Screen:
    """What generating from the pattern picked would do, and ✅ Confirm."""
    pattern = await _pattern(ctx, ctx.data.get("generate_pattern"))
    if pattern is None:
        return await generate_screen(ctx)
    report = await generation.generate_sessions(
        ctx.db, ctx.clock, ctx.studio.id, pattern.id, preview=True
    )
    lines = [
        ctx.t._("Preview for {name} ({key}):").format(name=pattern.class_name, key=pattern.key)
    ]
    lines += _plan_lines(ctx, report.plan)
    if not (report.plan.create or report.plan.update or report.plan.delete):
        lines.append(ctx.t._("Nothing to do: the sessions already follow the pattern."))
        return Screen("\n".join(lines), nav(ctx))
    _ = ctx.t._
    confirm = Choice("staff_generate_confirm", _("✅ Confirm"), aliases=(_("confirm"), "confirm"))
    return Screen("\n".join(lines), [confirm, *nav(ctx)])


def _plan_lines(ctx: Context, plan: Plan) -> list[str]:
    n_ = ctx.t.n_
    lines = []
    if plan.create:
        count = len(plan.create)
        lines.append(n_("{n} new session:", "{n} new sessions:", count).format(n=count))
        lines += [f"• {ctx.when(t.occurrence.starts_at)}" for t in plan.create[:PREVIEW_DATES]]
        if count > PREVIEW_DATES:
            lines.append(ctx.t._("… and {n} more").format(n=count - PREVIEW_DATES))
    if plan.update:
        count = len(plan.update)
        lines.append(
            n_(
                "{n} session will be moved or changed.",
                "{n} sessions will be moved or changed.",
                count,
            ).format(n=count)
        )
    if plan.delete:
        count = len(plan.delete)
        lines.append(
            n_("{n} session will be removed.", "{n} sessions will be removed.", count).format(
                n=count
            )
        )
    return lines + _conflicts(ctx, len(plan.conflicts))


def _conflicts(ctx: Context, count: int) -> list[str]:
    if not count:
        return []
    text = ctx.t.n_(
        "{n} session with bookings no longer fits the pattern; it stays as it is.",
        "{n} sessions with bookings no longer fit the pattern; they stay as they are.",
        count,
    )
    return [text.format(n=count)]


async def _pattern(ctx: Context, value: object) -> staff_views.PatternLine | None:
    wanted = int_value(value)
    found = await staff_views.patterns(ctx.db, ctx.studio.id) if wanted else []
    return next((p for p in found if p.id == wanted), None)


async def choose_generate(ctx: Context, choice: Choice) -> Transition:
    if choice.action == "staff_generate_pattern":
        pattern = await _pattern(ctx, choice.value)
        if pattern is None:
            return Transition(State.STAFF_GENERATE)
        ctx.data["generate_pattern"] = pattern.id
        return Transition(State.STAFF_GENERATE_PREVIEW)
    if choice.action == "staff_generate_confirm":
        return await _generate(ctx)
    ctx.data.pop("generate_pattern", None)
    return Transition(State.STAFF_GENERATE)


async def _generate(ctx: Context) -> Transition:
    """Generate, then back to the patterns with what was done."""
    pattern = await _pattern(ctx, ctx.data.pop("generate_pattern", None))
    if pattern is None:
        return back_to(ctx, State.STAFF_GENERATE)
    try:
        report = await generation.generate_sessions(
            ctx.db, ctx.clock, ctx.studio.id, pattern.id, preview=False
        )
    except errors.BookingError as error:
        return back_to(ctx, State.STAFF_GENERATE, render_error(error, ctx.t, ctx.zone))
    plan = report.plan
    lines = [
        ctx.t._("Done for {key}: {created} created, {updated} changed, {deleted} removed.").format(
            key=pattern.key,
            created=len(plan.create),
            updated=len(plan.update),
            deleted=len(plan.delete),
        )
    ]
    lines += _conflicts(ctx, len(plan.conflicts))
    if report.staffing_problems:
        lines.append(ctx.t._("Default staff could not be assigned:"))
        lines += [f"• {problem}" for problem in report.staffing_problems]
    return back_to(ctx, State.STAFF_GENERATE, "\n".join(lines))


# --- restoring auto-cancelled reservations -------------------------------------------------


async def override_screen(ctx: Context) -> Screen:
    _ = ctx.t._
    found = await staff_views.auto_cancelled(ctx.db, ctx.studio.id, ctx.now)
    if not found:
        return Screen(_("Nobody has auto-cancelled reservations coming up."), nav(ctx))
    choices = []
    for c in found:
        count = ctx.t.n_("{n} reservation", "{n} reservations", c.reservations)
        label = f"{c.name} · {count.format(n=c.reservations)}"
        choices.append(Choice("staff_override_customer", label, c.customer_id, (c.name,)))
    text = _(
        "These customers had reservations cancelled automatically after a no-show. "
        "Choose one to restore their reservations:"
    )
    return Screen(text, choices + nav(ctx))


async def choose_override(ctx: Context, choice: Choice) -> Transition:
    wanted = int_value(choice.value) if choice.action == "staff_override_customer" else None
    if wanted is None:
        return Transition(State.STAFF_OVERRIDE)
    found = await staff_views.auto_cancelled(ctx.db, ctx.studio.id, ctx.now)
    customer = next((c for c in found if c.customer_id == wanted), None)
    if customer is None:
        return Transition(State.STAFF_OVERRIDE, ctx.t._("There is nothing to restore for them."))
    restored = await attendance.restore_auto_cancelled(
        ctx.db, ctx.clock, ctx.studio.id, customer.customer_id
    )
    if not restored:
        text = ctx.t._("Nothing restored for {name}: those seats have been taken since.")
    else:
        text = ctx.t.n_(
            "Restored {n} reservation for {name}.",
            "Restored {n} reservations for {name}.",
            restored,
        )
    return Transition(State.STAFF_OVERRIDE, text.format(n=restored, name=customer.name))
