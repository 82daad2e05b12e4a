"""Replies made cheaper and more legible as SMS: before a reply goes out by SMS `for_sms`
drops pictographs and swaps typographic punctuation for GSM equivalents, and `fold_gsm` writes
the letters GSM-7 lacks in their nearest GSM-7 form (á -> a, ó -> o, ç -> c, ł -> l), keeping
those it has (é, ñ, ü, ¿, ¡). A studio can turn the folding off (`studios.sms_fold_gsm`); a
reply with a character that has no GSM-7 form at all (a name in Greek lowercase or Chinese)
is sent unfolded, since it goes as UCS-2 anyway (`gsm7`).

Pure: no I/O, no clock, no configuration.
"""

from __future__ import annotations

import re
import unicodedata

from bookbot.handlers.gsm7 import GSM7_BASIC, GSM7_EXTENSION, encoding

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
