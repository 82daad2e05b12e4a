"""Short booking references ("B-7F3Q" for a class booking, "A-K2WD" for an appointment),
and finding the booking a reference names.

A reference is the row's id put through a keyed permutation (a small Feistel network) and
written in Crockford's base32: no migration, no stored column, and still reversible. The
permutation only hides the running count (so consecutive bookings do not get consecutive
references); it is not a secret. Whoever types a reference is shown the booking only if it
is theirs (`owned`), and staff look it up by studio.

Reading is forgiving: case, spaces and hyphens are ignored, O reads as 0, I and L as 1.
Ids up to 2^20 fit in 4 characters, then 6, then 8 (the width is even, for the Feistel
halves), so a reference's length says which width decoded it.
"""

from __future__ import annotations

import hashlib
import re

from bookbot.store.db import Reads

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
MISREAD = {"O": "0", "I": "1", "L": "1"}  # typed for the digit they look like
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_VALUE.update({c: _VALUE[digit] for c, digit in MISREAD.items()})
PREFIXES = {"class": "B", "appointment": "A"}
KINDS = {prefix: kind for kind, prefix in PREFIXES.items()}
WIDTHS = (4, 6, 8)  # characters; 5 bits each
ROUNDS = 4
KEY = b"bookbot-reference-v1"
_SHAPE = re.compile(r"^([A-Z])[\s\-_]*([0-9A-Z][0-9A-Z\s\-]*)$")


def _round(half: int, round_no: int, bits: int) -> int:
    digest = hashlib.blake2b(
        half.to_bytes(4, "big") + bytes([round_no, bits]), key=KEY, digest_size=4
    ).digest()
    return int.from_bytes(digest, "big") & ((1 << bits) - 1)


def _permute(value: int, chars: int, *, inverse: bool = False) -> int:
    half = chars * 5 // 2
    mask = (1 << half) - 1
    left, right = value >> half, value & mask
    rounds = range(ROUNDS - 1, -1, -1) if inverse else range(ROUNDS)
    for r in rounds:
        if inverse:
            left, right = right ^ _round(left, r, half), left
        else:
            left, right = right, left ^ _round(right, r, half)
    return (left << half) | right


def _width(ident: int) -> int:
    for chars in WIDTHS:
        if ident < 1 << (5 * chars):
            return chars
    raise ValueError(f"id {ident} is too large for a reference")


def booking_reference(kind: str, ident: int) -> str:
    """The reference of a class booking (kind "class", a registration id) or of an
    appointment (kind "appointment", an appointment id)."""
    if ident < 0:
        raise ValueError("ids are not negative")
    chars = _width(ident)
    value = _permute(ident, chars)
    body = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(chars)))
    return f"{PREFIXES[kind]}-{body}"


def parse_reference(text: str) -> tuple[str, int] | None:
    """(kind, id) of a reference as a person may type it ("b-7f3q", "B 7F3Q", "B7F3Q"), or
    None if it is not one."""
    match = _SHAPE.match(text.strip().upper())
    if match is None or match.group(1) not in KINDS:
        return None
    body = re.sub(r"[\s\-]", "", match.group(2))
    if len(body) not in WIDTHS or any(c not in _VALUE for c in body):
        return None
    value = 0
    for c in body:
        value = value * 32 + _VALUE[c]
    ident = _permute(value, len(body), inverse=True)
    # Each id has one width: a longer spelling of a small id is not its reference.
    if _width(ident) != len(body):
        return None
    return KINDS[match.group(1)], ident


async def owned(reads: Reads, studio_id: int, customer_id: int, kind: str, ident: int) -> bool:
    """Whether the booking a reference names is this customer's (in this studio)."""
    table = "registrations" if kind == "class" else "appointments"
    found = await reads.scalar(
        f"SELECT customer_id FROM {table} WHERE studio_id = :s AND id = :id",  # noqa: S608
        {"s": studio_id, "id": ident},
    )
    return found is not None and int(found) == customer_id
