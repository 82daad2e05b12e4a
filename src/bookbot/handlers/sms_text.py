"""Fitting replies into SMS and WhatsApp messages sent through Twilio.

An SMS is billed per *segment*, and how many characters fit in a segment depends on the
encoding the whole message needs: 160 GSM-7 septets, or only 70 UCS-2 code units as soon as
one character is outside the GSM 03.38 alphabet. A single emoji or a single "á" therefore more
than doubles the cost of a reply, so before a reply goes out by SMS `for_sms` drops pictographs
and swaps typographic punctuation for GSM equivalents, and `fold_gsm` writes the letters GSM-7
lacks in their nearest GSM-7 form (á -> a, ó -> o, ç -> c, ł -> l), keeping those it has (é, ñ,
ü, ¿, ¡). A studio can turn the folding off (`studios.sms_fold_gsm`); a reply with a character
that has no GSM-7 form at all (a name in Greek lowercase or Chinese) is sent unfolded, since it
goes as UCS-2 anyway.

The GSM 03.38 tables below were compared (issue 16) with the `gsm0338` codec 1.1.0 from PyPI
and match it exactly. It is not a dependency: neither it nor the PDU libraries (smspdudecoder)
count segments or fold letters, and the tables are twenty lines.

Long replies are split into several messages (`split_message`) rather than left to carrier
concatenation, cutting between lines where possible so that numbered options stay whole.

Everything here is pure: no I/O, no clock, no configuration.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 basic character set, in table order (0x00-0x7F) without 0x1B, the escape to the
# extension table. 0x09 is the capital Ç of the standard; ç is not in the alphabet.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039eÆæßÉ"  # Δ_ΦΓΛΩΠΨΣΘΞ ÆæßÉ
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# GSM 03.38 extension table: each is sent as ESC + a septet, so it costs two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[]~|€")

_GSM7_SINGLE = 160  # septets in a message that fits one segment
_GSM7_PART = 153  # septets per segment once the 6-octet concatenation header is needed
_UCS2_SINGLE = 70  # UTF-16 code units in a single-segment message
_UCS2_PART = 67  # UTF-16 code units per segment of a concatenated message

# Twilio rejects a Body longer than 1,600 characters (error 21617), for SMS and WhatsApp alike.
TWILIO_MAX_BODY_CHARS = 1600
# Twilio would accept 1,600 characters (up to 11 segments), but every segment is billed and
# long concatenated SMS arrive out of order or in pieces on some carriers and older phones. Four
# segments (612 GSM-7 or 268 UCS-2 characters) hold any ordinary reply; longer ones are sent
# as several messages, each of which reads on its own.
SMS_MAX_SEGMENTS = 4
# WhatsApp itself allows 4,096 characters, but through Twilio a Body over 1,600 is rejected.
WHATSAPP_MAX_CHARS = TWILIO_MAX_BODY_CHARS


def encoding(text: str) -> Encoding:
    """GSM-7 if every character is in the GSM 03.38 basic or extension table, else UCS-2.

    One character outside the alphabet switches the whole message to UCS-2, which is why
    `for_sms` exists.
    """
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        return "GSM-7"
    return "UCS-2"


def _unit_sizes(text: str, enc: Encoding) -> list[int]:
    """The size of each character in the encoding's units (septets or UTF-16 code units)."""
    if enc == "GSM-7":
        return [2 if c in GSM7_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def segments(text: str) -> int:
    """How many SMS segments `text` is billed as; the empty message still costs one.

    A single segment holds 160 GSM-7 septets or 70 UCS-2 code units. Longer messages carry a
    concatenation header, leaving 153 septets or 67 code units per segment, and a character is
    never split across two segments: neither the two septets of an extension character (€, {)
    nor the surrogate pair of an emoji. So this can be one more than ceil(length / 153) or
    ceil(length / 67), which is what Twilio and handsets actually send.
    """
    enc = encoding(text)
    sizes = _unit_sizes(text, enc)
    single, part = (_GSM7_SINGLE, _GSM7_PART) if enc == "GSM-7" else (_UCS2_SINGLE, _UCS2_PART)
    if sum(sizes) <= single:
        return 1
    count, used = 1, 0
    for size in sizes:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return count


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units: how Twilio (and JavaScript, and Java) count characters."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


# Typography that is not in GSM-7 but has a plain equivalent that is. Replacing it keeps a
# reply in GSM-7 (160 characters a segment instead of 70) without changing what it says.
_GSM_FRIENDLY = str.maketrans(
    {
        "\u00b7": "-",  # · middle dot, our separator in lists
        "\u2022": "-",  # • bullet
        "\u2026": "...",  # … ellipsis
        "\u00d7": "x",  # × multiplication sign ("2 × bike")
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # – en dash, in Babel's time ranges ("18:00–20:00")
        "\u2014": "-",  # — em dash
        "\u2015": "-",  # horizontal bar
        "\u2212": "-",  # minus sign
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u201a": "'",  # ‚
        "\u201b": "'",  # ‛
        "\u2039": "'",  # ‹
        "\u203a": "'",  # ›
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201e": '"',  # „
        "\u201f": '"',  # ‟
        "\u00ab": '"',  # « Spanish quotes
        "\u00bb": '"',  # »
        "\u25b8": ">",  # ▸ small triangles, our paging arrows ("Later dates ▸", "◂ Earlier")
        "\u25b9": ">",  # ▹
        "\u25ba": ">",  # ►
        "\u25c2": "<",  # ◂
        "\u25c3": "<",  # ◃
        "\u25c4": "<",  # ◄
        "\u2192": "->",  # →
        "\u2190": "<-",  # ←
        "\u2264": "<=",  # ≤
        "\u2265": ">=",  # ≥
        "\u00a0": " ",  # no-break space, in Babel's "45,00 €"
        "\u2007": " ",  # figure space
        "\u2009": " ",  # thin space
        "\u202f": " ",  # narrow no-break space, in Babel's English times ("6:30 PM")
        "\u200b": None,  # zero-width space
        "\u2060": None,  # word joiner
        "\ufeff": None,  # byte order mark / zero-width no-break space
    }
)

# Pictographs: emoji, and the symbol blocks emoji are drawn from. In SMS they cost a UCS-2
# message and often show as boxes, and in our labels they only decorate ("📅 Book a class").
_PICTOGRAPH = (
    "\U0001f000-\U0001faff"  # mahjong .. symbols and pictographs extended-A, flags, skin tones
    "\u2600-\u27bf"  # miscellaneous symbols, dingbats (✅ ✖ ❓ ❤)
    "\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55"  # ⬅ ⬆ ⬇ ⬛ ⬜ ⭐ ⭕
    "\u231a\u231b\u2328\u23cf\u23e9-\u23f3\u23f8-\u23fa"  # ⌚ ⌛ ⌨ ⏏ ⏩..⏳ ⏸..⏺
    "\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe"  # ▪ ▫ ▶ ◀ ◻ ◼ ◽ ◾
    "\u2934\u2935"  # ⤴ ⤵
)
# Characters that are text by default and an emoji only when followed by VS16 (U+FE0F):
# "©" stays, "©️" goes.
_TEXT_DEFAULT_EMOJI = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u24c2\u3030\u303d\u3297\u3299"
)
# What may follow a pictograph within one emoji: variation selectors, skin tones, tag characters
# (subdivision flags).
_EMOJI_TAIL = "\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f"
_EMOJI_ELEMENT = rf"(?:[{_PICTOGRAPH}]|[{_TEXT_DEFAULT_EMOJI}]\ufe0f)[{_EMOJI_TAIL}]*"
_EMOJI = rf"{_EMOJI_ELEMENT}(?:\u200d{_EMOJI_ELEMENT})*"  # ZWJ sequences: 👩‍👩‍👧 is one emoji
# A run of emoji with the blanks around it; the replacement decides which blanks survive.
_EMOJI_RUN = re.compile(rf"([ \t]*)(?:{_EMOJI}[ \t]*)+")
# "1️⃣" is a digit in a box; the digit is the meaning, so it stays.
_KEYCAP = re.compile(r"([0-9#*])\ufe0f?\u20e3")
# Emoji glue left over without an emoji to attach to.
_EMOJI_GLUE = re.compile("[\ufe0e\ufe0f\u200d\u20e3\U000e0020-\U000e007f]")


# Marks that say something when they end a line after words ("Ana ✅", "1. ✖", "Later ➡"):
# there they become a short text instead of vanishing. At the start of a label they only
# decorate what the words say ("✅ Confirm booking") and go like any emoji.
_MARK_TEXT = {
    "\u2705": "OK",  # ✅
    "\u2714": "OK",  # ✔
    "\u2611": "OK",  # ☑
    "\u2713": "OK",  # ✓
    "\u2717": "X",  # ✗
    "\u274c": "X",  # ❌
    "\u2716": "X",  # ✖
    "\u274e": "X",  # ❎
    "\u2b05": "<",  # ⬅
    "\u27a1": ">",  # ➡
    "\u2b06": "^",  # ⬆
    "\u2b07": "v",  # ⬇
}


def _mark_text(run: str) -> str | None:
    """The text for a run that is exactly one meaningful mark, else None."""
    bare = _EMOJI_GLUE.sub("", run).strip(" \t")
    return _MARK_TEXT.get(bare)


def _drop_emoji_run(match: re.Match[str]) -> str:
    """Nothing at the start or end of a line; between words, one space if there was one;
    a meaningful mark ending a line after words becomes its text.

    "📅 Book" -> "Book", "Booked! 🎉" -> "Booked!", "Hi 🎉 there" -> "Hi there",
    "Ana ✅" -> "Ana OK".
    """
    line = match.string
    if match.end() == len(line) and line[: match.start()].strip():
        mark = _mark_text(match.group(0))
        if mark is not None:
            return " " + mark
    if match.start() == 0 or match.end() == len(line):
        return ""
    had_blank = bool(match.group(1)) or match.group(0)[-1] in " \t"
    return " " if had_blank else ""


# Letters outside GSM-7 that Unicode does not decompose into a GSM-7 letter and an accent.
_FOLD_EXTRA = {
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ð": "d",
    "Ð": "D",
    "þ": "th",
    "Þ": "Th",
    "œ": "oe",
    "Œ": "OE",
    "ı": "i",
    "ª": "a",  # Spanish ordinals: 1ª, 2º
    "º": "o",
    "°": "o",
    "ç": "c",  # GSM-7 has only the capital Ç
}


def _fold_char(char: str) -> str:
    """`char` in its nearest GSM-7 form: itself if GSM-7 has it, else without its accents,
    else a plain Latin spelling; unchanged when there is none."""
    if char in GSM7_BASIC or char in GSM7_EXTENSION:
        return char
    if char in _FOLD_EXTRA:
        return _FOLD_EXTRA[char]
    bare = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return bare if bare and encoding(bare) == "GSM-7" else char


def fold_gsm(text: str) -> str:
    """`text` with every letter GSM-7 lacks written in its nearest GSM-7 form, so that the
    message goes as GSM-7: "Sesión" -> "Sesion", "Çà" -> "Ça", while é, ñ, ü, ¿ and ¡ stay.

    Run after `for_sms` (emoji and typography). If a character is left that has no GSM-7
    form, the message needs UCS-2 whatever is folded, so `text` comes back unchanged: dropping
    accents would then lose information and save nothing.
    """
    if encoding(text) == "GSM-7":
        return text
    text = unicodedata.normalize("NFC", text)
    folded = "".join(_fold_char(c) for c in text)
    return folded if encoding(folded) == "GSM-7" else text


def for_sms(text: str) -> str:
    """`text` made cheaper and more legible as an SMS.

    Emoji and pictographs go, with the space that separated them from the words
    ("✅ Confirm booking" -> "Confirm booking"); a line that held nothing but emoji goes
    entirely, while blank lines that were already there stay. Typographic punctuation becomes
    its GSM-7 equivalent ("·" and "•" -> "-", "…" -> "...", "×" -> "x", dashes -> "-", curly
    quotes -> straight, no-break spaces -> " "). Letters are left to `fold_gsm`.
    """
    text = _KEYCAP.sub(r"\1", text.translate(_GSM_FRIENDLY))
    lines = []
    for line in text.split("\n"):
        cleaned = _EMOJI_GLUE.sub("", _EMOJI_RUN.sub(_drop_emoji_run, line))
        if cleaned.strip() or not line.strip():
            lines.append(cleaned)
    return "\n".join(lines)


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
