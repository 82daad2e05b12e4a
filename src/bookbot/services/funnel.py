"""The booking funnel: how many people look at a class or a service, start booking it,
and finish, per channel, and the report staff read from it.

Steps, as the chat records them (`conversations.funnel_tracking` maps the dialogue's state
changes to them; the events ride on the dialogue's save, so a message that records one
costs no transaction of its own):

* `view`: a class's page, a service's first booking screen, or a pass or package offer
  was shown;
* `started`: the summary was reached with the places or the time held (for a pass or a
  package: the customer chose to get it, at the studio or by paying);
* `completed`: booked, or bought. Paid online, it completes when the money arrives
  (`record_paid`, in the payment's transaction), on the channel the customer last used;
* `abandoned`: the customer backed out of a summary (Back, Menu, anything else), which
  lets the hold go. A start that just lapses records nothing: the report counts every
  start not completed as abandoned (`started - completed`), and shows the recorded
  back-outs beside that as `backed_out`.

The item is the class's, service's or package offer's key, resolved in the INSERT from the
id the dialogue holds (no read of its own). A pass is filed under its class's key; a
package paid online under its offer's key (a package staff issued by service has none:
the service's key). An id that is not the studio's records nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bookbot.store.db import Database, Tx


class Step(StrEnum):
    VIEW = "view"
    STARTED = "started"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


class Kind(StrEnum):
    CLASS = "class"
    SERVICE = "service"
    PASS = "pass"  # noqa: S105 - an item kind, not a password
    PACKAGE = "package"


# Where each kind's key is read from: its table, by the id the dialogue holds.
_KEY_TABLE = {
    Kind.CLASS: "classes",
    Kind.SERVICE: "services",
    Kind.PASS: "classes",
    Kind.PACKAGE: "package_offers",
}


@dataclass(frozen=True)
class Event:
    """One step of one item, as the dialogue saw it: the item by its row id."""

    step: Step
    kind: Kind
    item_id: int


@dataclass(frozen=True)
class Who:
    """Whose turn recorded the events, and where and when."""

    studio_id: int
    customer_id: int | None
    channel: str
    at: datetime


# PostgreSQL cannot type a bare parameter in a UNION's select list: it is cast there.
_CASTS = {"f_studio": "INTEGER", "f_at": "TIMESTAMPTZ", "f_customer": "INTEGER"}


def _value(name: str, dialect: str) -> str:
    if dialect != "postgresql":
        return f":{name}"
    return f"CAST(:{name} AS {_CASTS.get(name, 'VARCHAR')})"


def statement(
    events: Sequence[Event], who: Who, dialect: str, *, source: str = ""
) -> tuple[str, dict[str, Any]]:
    """One INSERT for all of a turn's events. `source` (PostgreSQL) names a CTE joined to
    every row, one that returns a row only when the dialogue's save matched, so a turn that
    lost its lease records nothing. The item's key is read from its table in the INSERT."""
    params: dict[str, Any] = {
        "f_studio": who.studio_id,
        "f_at": who.at,
        "f_channel": who.channel,
        "f_customer": who.customer_id,
    }
    head = ", ".join(_value(n, dialect) for n in ("f_studio", "f_at", "f_channel"))
    customer = _value("f_customer", dialect)
    joined = f" JOIN {source} ON TRUE" if source else ""
    selects = []
    for n, event in enumerate(events):
        params |= {f"f_step{n}": event.step.value, f"f_kind{n}": event.kind.value}
        params[f"f_item{n}"] = event.item_id
        step, kind = _value(f"f_step{n}", dialect), _value(f"f_kind{n}", dialect)
        selects.append(
            f"SELECT {head}, {step}, {kind}, k.key, {customer}"  # noqa: S608 - fixed names
            f" FROM {_KEY_TABLE[event.kind]} k{joined}"
            f" WHERE k.studio_id = :f_studio AND k.id = :f_item{n}"
        )
    sql = (
        "INSERT INTO funnel_events (studio_id, at, channel, step, item_kind, item_key,"
        " customer_id)\n" + "\nUNION ALL\n".join(selects)
    )
    return sql, params


async def record_in(tx: Tx, who: Who, events: Sequence[Event]) -> None:
    """Record events inside the caller's transaction (one statement)."""
    if events:
        sql, params = statement(events, who, tx.dialect)
        await tx.execute(sql, params)


async def record(db: Database, who: Who, events: Sequence[Event]) -> None:
    """Record events on their own (one statement; it commits by itself)."""
    if events:
        sql, params = statement(events, who, db.dialect)
        await db.execute(sql, params)


# A payment that completes a purchase started in chat (a balance or an invoice completes
# nothing new: the booking was counted when it was made).
_PAID = f"""INSERT INTO funnel_events (studio_id, at, channel, step, item_kind, item_key,
    customer_id)
SELECT p.studio_id, :now, COALESCE(cu.preferred_channel, 'unknown'), '{Step.COMPLETED.value}',
    CASE WHEN p.appointment_id IS NOT NULL THEN 'service'
         WHEN p.package_id IS NOT NULL THEN 'package'
         WHEN p.pass_id IS NOT NULL THEN 'pass' ELSE 'class' END,
    COALESCE(sv.key, po.key, psv.key, pk.key, rk.key),
    p.customer_id
FROM payments p
JOIN customers cu ON cu.studio_id = p.studio_id AND cu.id = p.customer_id
LEFT JOIN appointments a ON a.studio_id = p.studio_id AND a.id = p.appointment_id
LEFT JOIN services sv ON sv.studio_id = p.studio_id AND sv.id = a.service_id
LEFT JOIN packages pa ON pa.studio_id = p.studio_id AND pa.id = p.package_id
LEFT JOIN package_offers po ON po.studio_id = p.studio_id AND po.id = pa.offer_id
LEFT JOIN services psv ON psv.studio_id = p.studio_id AND psv.id = pa.service_id
LEFT JOIN passes ps ON ps.studio_id = p.studio_id AND ps.id = p.pass_id
LEFT JOIN classes pk ON pk.studio_id = p.studio_id AND pk.id = ps.class_id
LEFT JOIN registrations r ON r.studio_id = p.studio_id AND r.id = p.registration_id
LEFT JOIN classes rk ON rk.studio_id = p.studio_id AND rk.id = r.class_id
WHERE p.studio_id = :studio AND p.id = :payment AND p.purpose IN ('full', 'deposit', 'pass',
    'package')
    AND COALESCE(sv.key, po.key, psv.key, pk.key, rk.key) IS NOT NULL"""  # noqa: S608


async def record_paid(tx: Tx, now: datetime, studio_id: int, payment_id: int) -> None:
    """A purchase paid online completed: record it in the payment's own transaction."""
    await tx.execute(_PAID, {"now": now, "studio": studio_id, "payment": payment_id})


# --- the report ------------------------------------------------------------------------------


@dataclass
class Line:
    """One row of the report: counts per step and the conversions between them."""

    channel: str
    kind: str = ""
    key: str = ""
    viewed: int = 0
    started: int = 0
    completed: int = 0
    backed_out: int = 0

    @property
    def abandoned(self) -> int:
        """Starts that did not complete: backed out of, or left to lapse."""
        return max(self.started - self.completed, 0)

    def add(self, step: str, n: int) -> None:
        if step == Step.VIEW:
            self.viewed += n
        elif step == Step.STARTED:
            self.started += n
        elif step == Step.COMPLETED:
            self.completed += n
        elif step == Step.ABANDONED:
            self.backed_out += n


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, one decimal; None when there is no whole to divide."""
    return None if whole <= 0 else round(100.0 * part / whole, 1)


@dataclass
class Report:
    """The funnel of one studio over [since, until): per channel, the total, and per item
    (class, service, pass or package, over the channels the report covers)."""

    since: datetime
    until: datetime
    channels: list[Line] = field(default_factory=list)
    total: Line = field(default_factory=lambda: Line("all"))
    items: list[Line] = field(default_factory=list)


_COUNTS = """SELECT channel, item_kind, item_key, step, COUNT(*) AS n
FROM funnel_events
WHERE studio_id = :studio AND at >= :since AND at < :until{channel}
GROUP BY channel, item_kind, item_key, step"""


async def report(
    db: Database,
    studio_id: int,
    *,
    since: datetime,
    until: datetime,
    channel: str | None = None,
) -> Report:
    """Counts per step for the period, read through ix_funnel_events_studio_at."""
    sql = _COUNTS.format(channel=" AND channel = :channel" if channel else "")
    params: dict[str, Any] = {"studio": studio_id, "since": since, "until": until}
    if channel:
        params["channel"] = channel
    rows = await db.all(sql, params)
    found = Report(since, until)
    per_channel: dict[str, Line] = {}
    per_item: dict[tuple[str, str], Line] = {}
    for row in rows:
        step, n = row["step"], int(row["n"])
        name, kind, key = row["channel"], row["item_kind"], row["item_key"]
        per_channel.setdefault(name, Line(name)).add(step, n)
        per_item.setdefault((kind, key), Line(channel or "all", kind, key)).add(step, n)
        found.total.add(step, n)
    found.channels = [per_channel[c] for c in sorted(per_channel)]
    found.items = [per_item[k] for k in sorted(per_item)]
    return found
