"""What a typed answer says, in English or Spanish: a party size, a day, a time, yes or no.

Each parser reads untrusted text: it reads at most `answer_words.LIMIT` characters, splits
them into words with one linear regular expression, works on the list, never raises, and
answers None when the text does not say what it asks for.

Month and day names come from Babel's locale data (wide and abbreviated, folded), so
"sábado", "sabado", "sáb", "Saturday" and "sat" all name a Saturday; a name is looked up
in the reader's language first, then in the other supported ones.

Dates written with numbers are read day first ("5/12" is 5 December), as in Spain and the
UK, the studios this is written for; a date that cannot be day first ("12/25") is read
month first. A date without a year that has passed this year means next year's.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from babel.dates import get_day_names, get_month_names

from bookbot.conversations import answer_words as w
from bookbot.conversations.matching import fold
from bookbot.conversations.time_answers import time_of_day, time_range
from bookbot.presentation.i18n import SUPPORTED

__all__ = [
    "calendar_word",
    "day",
    "number_word",
    "party_size",
    "time_of_day",
    "time_range",
    "yes_no",
]

_ORDINAL = frozenset({"st", "nd", "rd", "th", "o", "a", "er"})  # 5th, 1º (folded "1o"), 1er
_NEXT = frozenset({"next", "proximo", "proxima", "siguiente"})
_TODAY = frozenset({"today", "tonight", "tonite", "hoy", "tdy"})
_TOMORROW = frozenset(
    {"tomorrow", "tmrw", "tmr", "tmw", "tomorow", "tommorow", "tommorrow", "tomoz", "manana"}
)
_MARKS = frozenset({"/", ":", ".", "-"})


@cache
def _names(kind: str, language: str) -> dict[str, int]:
    """Folded month (1-12) or weekday (0 = Monday) names of `language`, wide and abbreviated,
    and every prefix of three letters or more of a wide name that names only one."""
    read = get_month_names if kind == "month" else get_day_names
    found: dict[str, int] = {}
    prefixes: dict[str, set[int]] = {}
    for width in ("wide", "abbreviated"):
        for context in ("format", "stand-alone"):
            for number, name in read(width, context=context, locale=language).items():
                found.setdefault(fold(name), number)
                if width == "wide":
                    folded = fold(name)
                    for end in range(3, len(folded)):
                        prefixes.setdefault(folded[:end], set()).add(number)
    for prefix, numbers in prefixes.items():
        if len(numbers) == 1:
            found.setdefault(prefix, next(iter(numbers)))
    return found


def _lookup(kind: str, word: str, lang: str) -> int | None:
    for language in (lang, *(s for s in SUPPORTED if s != lang)):
        number = _names(kind, language).get(word)
        if number is not None:
            return number
    return None


def _number(word: str, lang: str) -> int | None:
    """A small number in digits or words ('2', 'two', 'dos'); None past four digits."""
    if word.isdigit():
        return int(word) if len(word) <= 4 else None
    mine = w.NUMBER_WORDS.get(lang, {})
    if word in mine:
        return mine[word]
    for other, table in w.NUMBER_WORDS.items():
        if other != lang and word in table and word not in ("once", "un", "una"):
            return table[word]
    return None


def calendar_word(word: str, lang: str) -> bool:
    """Whether a folded word names a month or a weekday ('sat', 'enero') or a day near
    ('today', 'mañana'): words of a date, not of a class's name."""
    return (
        word in _TODAY
        or word in _TOMORROW
        or word in _NEXT
        or _lookup("month", word, lang) is not None
        or _lookup("day", word, lang) is not None
    )


def number_word(word: str, lang: str) -> bool:
    """Whether a folded word is a small number in words ('two', 'dos')."""
    return not word.isdigit() and _number(word, lang) is not None


# --- party size --------------------------------------------------------------------------


def party_size(text: str, lang: str) -> int | None:
    """How many people: '2', 'two', '2 people', 'for 2', 'dos personas', 'just me' (1),
    'me and my friend' (2), '2 adults and 1 child' (3). None if it does not say."""
    toks = [t for t in w.words(text) if t not in _MARKS]
    if not toks:
        return None
    kept = [t for t in toks if t not in w.FILLER]
    if " ".join(toks) in w.ALONE or " ".join(kept) in w.ALONE:
        return 1
    found = _with_units(toks, lang) or _company(toks, lang) or _led(toks, lang)
    if found is None and len(kept) == 1:
        found = _number(kept[0], lang)
    if found is None and _alone_inside(toks):
        found = 1  # "just me on saturday", "solo yo el sábado"
    return found if found is not None and found >= 1 else None


_ALONE_PHRASES = tuple(p.split() for p in sorted(w.ALONE) if " " in p)


def _alone_inside(toks: list[str]) -> bool:
    """A phrase of two words or more meaning one person, inside a longer message."""
    for phrase in _ALONE_PHRASES:
        size = len(phrase)
        if any(toks[i : i + size] == phrase for i in range(len(toks) - size + 1)):
            return True
    return False


def _not_a_party(toks: list[str], at: int, lang: str) -> bool:
    """The number at `at` is a time ('for 6pm', 'for 6:30') or a date ('for 5 dec')."""
    after = toks[at + 1] if at + 1 < len(toks) else ""
    return after in w.TIME_MARKS or _lookup("month", after, lang) is not None


def _with_units(toks: list[str], lang: str) -> int | None:
    total = None
    for i, tok in enumerate(toks[:-1]):
        n = _number(tok, lang)
        unit = toks[i + 1]
        if n is None or unit not in w.PARTY_UNITS and unit.rstrip("s") not in _KIDS:
            continue
        if unit == "of" and (i + 2 >= len(toks) or toks[i + 2] not in ("us", "we")):
            continue
        total = (total or 0) + n
    return total


_KIDS = frozenset({"child", "children", "kid", "nino", "nina", "hijo", "hija", "nene", "nena"})


def _company(toks: list[str], lang: str) -> int | None:
    """'me and my friend' (2), 'yo y dos amigas' (3), 'my partner and I' (2)."""
    if not any(t in w.ME for t in toks) or not any(t in w.AND for t in toks):
        return None
    for i, tok in enumerate(toks):
        single = tok.removesuffix("es") if tok.endswith("es") else tok.removesuffix("s")
        if tok in w.COMPANIONS or single in w.COMPANIONS:
            n = _number(toks[i - 1], lang) if i else None
            return 1 + (n if n is not None else 1)
    return None


def _led(toks: list[str], lang: str) -> int | None:
    for i, tok in enumerate(toks[1:], start=1):
        n = _number(tok, lang)
        if n is None or _not_a_party(toks, i, lang):
            continue
        if toks[i - 1] in w.PARTY_LEADS or tuple(toks[max(0, i - 2) : i]) in w.PARTY_LEAD_PAIRS:
            return n
    return None


# --- day ---------------------------------------------------------------------------------


def day(text: str, lang: str, today: date) -> date | None:
    """The day a text names: 'saturday', 'el sábado', 'next monday', 'today', 'mañana',
    'pasado mañana', '5 dec', 'dec 5', '12 de enero', '5/12', '5/12/2027', 'the 5th'.

    A weekday is the next such day, today included; "next"/"próximo" skips today. A date
    without a year that has passed this year is next year's."""
    toks = w.words(text)
    return (
        _day_month(toks, lang, today)
        or _numeric(toks, today)
        or _relative(toks, today)
        or _weekday(toks, lang, today)
        or _day_of_month(toks, today)
    )


def _dated(year: int | None, month: int, number: int, today: date) -> date | None:
    try:
        found = date(year if year is not None else today.year, month, number)
        if year is None and found < today:
            found = date(today.year + 1, month, number)
    except ValueError:
        return None
    return found


def _year(word: str | None) -> int | None:
    if word is None or not word.isdigit():
        return None
    if len(word) == 4:
        return int(word)
    return 2000 + int(word) if len(word) == 2 else None


def _day_month(toks: list[str], lang: str, today: date) -> date | None:
    """'5 dec', '5th of december', '12 de enero', 'dec 5', 'december 5th 2027'."""
    words = [t for t in toks if t not in ("de", "of", "del", "the", ",", ".", "-")]
    for i, tok in enumerate(words):
        month = _lookup("month", tok, lang)
        if month is None:
            continue
        before = [t for t in words[max(0, i - 2) : i] if t not in _ORDINAL]
        after = [t for t in words[i + 1 : i + 4] if t not in _ORDINAL]
        if before and before[-1].isdigit() and len(before[-1]) <= 2:
            year = _year(after[0]) if after else None
            return _dated(year, month, int(before[-1]), today)
        if after and after[0].isdigit() and len(after[0]) <= 2:
            year = _year(after[1]) if len(after) > 1 else None
            return _dated(year, month, int(after[0]), today)
    return None


def _numeric(toks: list[str], today: date) -> date | None:
    """'5/12', '05-12-2026', '5.12.26': day first unless only month first is a date;
    '2027-01-12' (ISO, year first) as written."""
    iso = _iso(toks)
    if iso is not None:
        return iso
    for i in range(len(toks) - 2):
        first, mark, second = toks[i : i + 3]
        if mark not in ("/", "-", ".") or not (first.isdigit() and second.isdigit()):
            continue
        if len(first) > 2 or len(second) > 2:
            continue
        year = None
        if i + 4 < len(toks) and toks[i + 3] == mark:
            year = _year(toks[i + 4])
            if year is None:
                continue
        a, b = int(first), int(second)
        day_first = 1 <= b <= 12
        found = _dated(year, b, a, today) if day_first else _dated(year, a, b, today)
        if found is not None:
            return found
    return None


def _iso(toks: list[str]) -> date | None:
    for i in range(len(toks) - 4):
        year, mark, month, again, number = toks[i : i + 5]
        dated = len(year) == 4 and mark in ("-", "/") and again == mark
        parts = (year, month, number)
        if dated and all(p.isdigit() for p in parts) and max(len(month), len(number)) <= 2:
            try:
                return date(int(year), int(month), int(number))
            except ValueError:
                return None
    return None


def _relative(toks: list[str], today: date) -> date | None:
    joined = " " + " ".join(toks) + " "
    if " pasado manana " in joined or " day after tomorrow " in joined:
        return today + timedelta(days=2)
    for i, tok in enumerate(toks):
        if tok in _TODAY or tok == "esta" and toks[i + 1 : i + 2] == ["noche"]:
            return today
        # "por la mañana" / "de la mañana" is the morning, not tomorrow
        if tok in _TOMORROW and not (tok == "manana" and toks[i - 1 : i] == ["la"]):
            return today + timedelta(days=1)
    return None


def _weekday(toks: list[str], lang: str, today: date) -> date | None:
    for i, tok in enumerate(toks):
        weekday = _lookup("day", tok, lang)
        if weekday is None or tok in ("sun", "mar", "sat") and _is_word_use(toks, i):
            continue
        ahead = (weekday - today.weekday()) % 7
        near = toks[max(0, i - 2) : i + 3]
        if ahead == 0 and (any(t in _NEXT for t in near) or "que" in near and "viene" in near):
            ahead = 7
        return today + timedelta(days=ahead)
    return None


_PRONOUNS = frozenset({"we", "i", "you", "they", "he", "she", "it", "the", "just", "had", "was"})


def _is_word_use(toks: list[str], i: int) -> bool:
    """'mar' (martes) next to a number is March ('5 mar'); 'sat' and 'sun' after a pronoun
    or an article ('we sat down', 'in the sun') are English words, not days."""
    before = toks[i - 1] if i else ""
    after = toks[i + 1] if i + 1 < len(toks) else ""
    if toks[i] == "mar":
        return before.isdigit() or after.isdigit()
    return before in _PRONOUNS


def _day_of_month(toks: list[str], today: date) -> date | None:
    """'the 5th', 'el 5', 'el día 5': that day of this month, else of the next."""
    for i, tok in enumerate(toks):
        if not tok.isdigit() or len(tok) > 2:
            continue
        after = toks[i + 1] if i + 1 < len(toks) else ""
        before = toks[i - 1] if i else ""
        if after in ("st", "nd", "rd", "th") or before in ("dia", "el"):
            number = int(tok)
            month, year = today.month, today.year
            for _ in range(2):
                try:
                    found = date(year, month, number)
                except ValueError:
                    return None
                if found >= today:
                    return found
                month, year = (1, year + 1) if month == 12 else (month + 1, year)
    return None


# --- yes or no ---------------------------------------------------------------------------

_THANKS = frozenset({"please", "pls", "plz", "thanks", "thank", "you", "thx", "gracias", "porfa"})


def greeting(text: str) -> bool:
    """Whether the text only greets ("hello", "Hi there!", "buenos días")."""
    said = [t for t in w.words(text) if t.isalpha()]
    others = w.GREETINGS | w.GREETING_WORDS | w.FILLER
    return bool(w.GREETINGS & set(said)) and all(t in others for t in said)


def yes_no(text: str, lang: str) -> bool | None:  # noqa: ARG001 - both languages are read
    """True for yes ('yes', 'yep', 'sure', 'ok', 'confirm', '👍', 'sí', 'vale', 'claro',
    'de acuerdo'), False for no ('no', 'nope', 'nah', 'no gracias'), else None."""
    raw = text[: w.LIMIT]
    signs_yes = any(s in raw for s in w.YES_SIGNS)
    signs_no = any(s in raw for s in w.NO_SIGNS)
    words = [t for t in fold(raw).split() if t not in _THANKS]
    if words[-2:] == ["por", "favor"]:
        words = words[:-2]
    if not words:
        return True if signs_yes and not signs_no else False if signs_no and not signs_yes else None
    if len(words) > 8:
        return None
    joined = " ".join(words)
    if joined in ("no problem", "no worries", "no hay problema", "no problema"):
        return True
    if joined in w.NO_PHRASES or all(t in w.NO for t in words):
        return False
    if joined in w.YES_PHRASES or all(t in w.YES for t in words):
        return True
    rest = set(words[1:])
    if words[0] in w.NO and not rest & w.YES:
        return False
    if words[0] in w.YES - {"k", "y", "right", "fine", "bueno", "va"} and not rest & (
        w.NO | {"but", "pero", "not", "instead"}
    ):
        return True
    return None
