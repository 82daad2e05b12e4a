"""Fitting replies into SMS and WhatsApp messages sent through Twilio.

An SMS is billed per *segment* (`gsm7`: 160 GSM-7 septets, or only 70 UCS-2 code units
as soon as one character is outside the GSM 03.38 alphabet), so a reply going out by SMS is
first made GSM-friendly (`sms_friendly`: emoji dropped, typography and letters folded to
GSM-7).

Long replies are split into several messages (`split_message`) rather than left to carrier
concatenation, cutting between lines where possible so that numbered options stay whole.

Everything here is pure: no I/O, no clock, no configuration.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from bookbot.handlers.gsm7 import segments
from bookbot.handlers.sms_friendly import fold_gsm, for_sms

# Twilio rejects a Body longer than 1,600 characters (error 21617), for SMS and WhatsApp alike.
TWILIO_MAX_BODY_CHARS = 1600
# Twilio would accept 1,600 characters (up to 11 segments), but every segment is billed and
# long concatenated SMS arrive out of order or in pieces on some carriers and older phones. Four
# segments (612 GSM-7 or 268 UCS-2 characters) hold any ordinary reply; longer ones are sent
# as several messages, each of which reads on its own.
SMS_MAX_SEGMENTS = 4
# WhatsApp itself allows 4,096 characters, but through Twilio a Body over 1,600 is rejected.
WHATSAPP_MAX_CHARS = TWILIO_MAX_BODY_CHARS


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units: how Twilio (and JavaScript, and Java) count characters."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


# Leading lines that hold only whitespace, and leading blanks up to the first line break.
_BLANK_LINES_HEAD = re.compile(r"\A(?:[^\S\n]*\n)+")
_BLANKS_HEAD = re.compile(r"\A[^\S\n]+")


def _trim_head(text: str) -> str:
    """`text` without its leading blank lines (the indentation of its first line stays)."""
    return _BLANK_LINES_HEAD.sub("", text)


def _inside_cluster(text: str, i: int) -> bool:
    """Whether cutting before `text[i]` would split a character from its accents or emoji glue."""
    char, before = text[i], text[i - 1]
    return (
        unicodedata.combining(char) != 0
        or unicodedata.category(char) in ("Mn", "Me")
        or char in "\u200d\ufe0e\ufe0f"
        or before == "\u200d"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
    )


def _longest_fitting_prefix(text: str, fits: Callable[[str], bool], at_most: int) -> int:
    """The length of the longest prefix of `text` that `fits`, at least 1.

    A prefix never needs more segments or characters than a longer one, so bisection works.
    """
    low, high = 1, min(len(text), at_most)
    while low < high:
        mid = (low + high + 1) // 2
        if fits(text[:mid]):
            low = mid
        else:
            high = mid - 1
    return low


def _cut(text: str, end: int, fits: Callable[[str], bool]) -> tuple[str, str]:
    """`text` cut at or before `end` (where `text[:end]` fits and `text` does not), as the
    message and what is left, at the first of these that exists:

    - the last line break, unless the line after it would not fit a message of its own
      either: that line is cut between words anyway, so its first words fill this message
      rather than leaving a short one;
    - the last blank after the first word;
    - `end` itself, the middle of a word longer than a message.

    The whitespace at the cut belongs to neither side.
    """
    line_break = text.rfind("\n", 0, end + 1)
    if line_break > 0:
        after = _trim_head(text[line_break + 1 :])
        if fits(after.partition("\n")[0].rstrip()):
            return text[:line_break].rstrip(), after
    first_word = len(text) - len(text.lstrip())
    blank = next((i for i in range(end, first_word, -1) if text[i].isspace()), None)
    if blank is not None:
        return text[:blank].rstrip(), _trim_head(_BLANKS_HEAD.sub("", text[blank:]))
    cut = end
    while cut > 1 and _inside_cluster(text, cut):
        cut -= 1
    if _inside_cluster(text, cut):  # one cluster longer than a whole message: cut it anyway
        cut = end
    # Only indentation longer than a message leaves `text[:cut]` blank; it is cut whitespace.
    return text[:cut].rstrip(), text[cut:]


def split_message(text: str, *, max_segments: int, max_chars: int) -> list[str]:
    """`text` as consecutive messages, each at most `max_segments` SMS segments and
    `max_chars` characters, the latter counted in UTF-16 code units as Twilio counts them
    (an emoji outside the Basic Multilingual Plane counts two).

    Messages are cut between lines, so that each holds as many whole lines as fit. A line that
    does not fit in a message of its own is cut between words (its first words filling up the
    message before it), and a word that does not fit is cut where the limit falls (but not
    between a letter and its combining accent). The only characters lost are the whitespace
    at a cut; a message never starts or ends with blank lines, nor ends with spaces. Text that
    is empty or only whitespace gives no messages at all, `[]`, because there is nothing worth
    sending.

    `max_chars` must be at least 2 so that any single character fits, and `max_segments` at
    least 1.
    """
    if max_segments < 1 or max_chars < 2:
        raise ValueError("split_message needs max_segments >= 1 and max_chars >= 2")

    def fits(part: str) -> bool:
        # A character is at least one UTF-16 unit: len() rules out long text without a scan.
        return (
            len(part) <= max_chars
            and _utf16_len(part) <= max_chars
            and segments(part) <= max_segments
        )

    parts: list[str] = []
    rest = _trim_head(text).rstrip()
    while rest:
        if fits(rest):
            parts.append(rest)
            break
        part, rest = _cut(rest, _longest_fitting_prefix(rest, fits, max_chars), fits)
        if part:
            parts.append(part)
    return parts


def sms_body(text: str, *, fold: bool = True) -> str:
    """`text` as it goes out by SMS, before splitting: `for_sms`, then `fold_gsm` unless the
    studio turned folding off. The one place SMS text is made GSM-friendly."""
    friendly = for_sms(text)
    return fold_gsm(friendly) if fold else friendly


def sms_parts(text: str, *, fold: bool = True) -> list[str]:
    """`text` as the SMS messages to send: made SMS-friendly (and folded to GSM-7 unless
    `fold` is False), then split to the cost cap."""
    return split_message(
        sms_body(text, fold=fold), max_segments=SMS_MAX_SEGMENTS, max_chars=TWILIO_MAX_BODY_CHARS
    )


def whatsapp_parts(text: str) -> list[str]:
    """`text` as the WhatsApp messages to send: emoji kept (WhatsApp shows them and charges
    per conversation, not per segment), split only at Twilio's body limit."""
    return split_message(text, max_segments=10**9, max_chars=WHATSAPP_MAX_CHARS)
