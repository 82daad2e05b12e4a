"""The GSM 03.38 alphabet, and what a text costs as SMS: its encoding and its segments.

An SMS is billed per *segment*, and how many characters fit in a segment depends on the
encoding the whole message needs: 160 GSM-7 septets, or only 70 UCS-2 code units as soon as
one character is outside the GSM 03.38 alphabet. A single emoji or a single "á" therefore more
than doubles the cost of a reply (`sms_friendly` keeps replies in GSM-7).

The GSM 03.38 tables below were compared (issue 16) with the `gsm0338` codec 1.1.0 from PyPI
and match it exactly. It is not a dependency: neither it nor the PDU libraries (smspdudecoder)
count segments or fold letters, and the tables are twenty lines.

Pure: no I/O, no clock, no configuration.
"""

from __future__ import annotations

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
