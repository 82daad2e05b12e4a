"""The dashboard per course and the feedback averages as monospace tables (the machinery
of `report_table`: 48 cells wide, a title, rows, totals, notes). Pure: the caller reads
`services.dashboard`.

    Dashboard by course, 1 Nov 2026 – 30 Nov 2026
               Sess.  Seats  Fill%  Done%  Pass%
    -----------------------------------------------
    Gas Safe       2      9  75.0%  66.7%  50.0%
    ...
               Revenue     Owed  At studio
    Gas Safe   £240.00  £60.00    £45.00
"""

from __future__ import annotations

from collections.abc import Sequence

from babel.numbers import format_decimal

from bookbot.presentation.funnel_report import rate_text
from bookbot.presentation.i18n import N_, Translator
from bookbot.presentation.report_table import NOT_APPLICABLE, Table, table_text
from bookbot.services.dashboard import Average, CourseFigures

# Translators: dashboard header, sessions held; at most 6 characters.
_SESSIONS = N_("Sess.")
# Translators: dashboard header, seats booked on them (people, per session); at most 6
# characters.
_SEATS = N_("Seats")
# Translators: dashboard header, seats filled of the capacity; at most 6 characters.
_FILLED = N_("Fill%")
# Translators: dashboard header, people who attended of those booked; at most 6 characters.
_DONE = N_("Done%")
# Translators: dashboard header, certificates issued of those who attended; at most 6.
_PASSED = N_("Pass%")
# Translators: dashboard money header, paid less refunded in the period.
_REVENUE = N_("Revenue")
# Translators: dashboard money header, balances and invoices not paid yet.
_OWED = N_("Owed")
# Translators: dashboard money header, bookings to be paid at the studio.
_AT_STUDIO = N_("At studio")
# Translators: label of a table's last row, all courses together.
_TOTAL = N_("Total")
_KEY = N_(
    "Seats = seats booked (a person once a session); Fill% = seats booked of capacity; "
    "Done% = people who attended of those booked; Pass% = certificates of those who attended. Revenue = paid less refunds in the period; "
    "Owed = balances and invoices unpaid now; At studio = bookings with no online payment."
)
# Translators: feedback table headers: how many ratings, their average (1-5).
_RATINGS = N_("Ratings")
_AVERAGE = N_("Avg.")
# Translators: the feedback table's row for ratings of sessions with no instructor.
_NO_INSTRUCTOR = N_("(no instructor)")


def _total(rows: Sequence[CourseFigures]) -> CourseFigures:
    def add(field: str) -> int:
        return sum(int(getattr(r, field)) for r in rows)

    return CourseFigures(
        class_name="",
        sessions=add("sessions"),
        capacity=add("capacity"),
        seats=add("seats"),
        bookings=add("bookings"),
        people=add("people"),
        attended=add("attended"),
        certificates=add("certificates"),
        revenue_minor=add("revenue_minor"),
        owed_minor=add("owed_minor"),
        at_studio_minor=add("at_studio_minor"),
    )


def _activity(f: CourseFigures, locale: str) -> list[str]:
    return [
        format_decimal(f.sessions, locale=locale),
        format_decimal(f.seats, locale=locale),  # the units Fill% counts
        rate_text(f.seats, f.capacity, locale),
        rate_text(f.attended, f.people, locale),
        rate_text(f.certificates, f.attended, locale),
    ]


def _money(f: CourseFigures, t: Translator, currency: str) -> list[str]:
    return [
        t.money(f.revenue_minor, currency),
        t.money(f.owed_minor, currency),
        t.money(f.at_studio_minor, currency),
    ]


def dashboard_table(
    rows: Sequence[CourseFigures], t: Translator, *, title: str, currency: str
) -> str:
    """Activity per course then money per course, each with a total; the key under them."""
    locale, total = t.language, _total(rows)
    activity = Table(
        [t._(m) for m in (_SESSIONS, _SEATS, _FILLED, _DONE, _PASSED)],
        [[r.class_name, *_activity(r, locale)] for r in rows],
        totals=[[t._(_TOTAL), *_activity(total, locale)]],
    )
    money = Table(
        [t._(m) for m in (_REVENUE, _OWED, _AT_STUDIO)],
        [[r.class_name, *_money(r, t, currency)] for r in rows],
        totals=[[t._(_TOTAL), *_money(total, t, currency)]],
        notes=[t._(_KEY)],
    )
    if not rows:
        return table_text(activity, t, title=title)
    return table_text(activity, t, title=title) + "\n\n" + table_text(money, t, title="")


def _average_cells(a: Average, locale: str) -> list[str]:
    shown = format_decimal(round(a.average, 1), format="0.0", locale=locale) if a.count else ""
    return [format_decimal(a.count, locale=locale), shown or NOT_APPLICABLE]


def feedback_table(
    by_class: Sequence[Average], by_instructor: Sequence[Average], t: Translator, *, title: str
) -> str:
    """Ratings (count, average of 1-5) per course, then per instructor."""
    locale = t.language
    header = [t._(_RATINGS), t._(_AVERAGE)]
    courses = Table(header, [[a.name, *_average_cells(a, locale)] for a in by_class])
    people = Table(
        header,
        [[a.name or t._(_NO_INSTRUCTOR), *_average_cells(a, locale)] for a in by_instructor],
    )
    if not by_class:
        return table_text(courses, t, title=title)
    return table_text(courses, t, title=title) + "\n\n" + table_text(people, t, title="")
