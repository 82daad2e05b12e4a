"""Rendering replies as plain text with numbered options (console, SMS, WhatsApp).

Screens written for buttons often describe each option in the text ("• Mug Making · £65.00 ·
next Sun 6 Dec") and then offer it as a button ("Mug Making"). On Telegram that reads well:
the words above, the buttons below. As numbered lines it would name every option twice, so a
text line that is a bullet starting with an option's label becomes that option's numbered line
("3. Mug Making · £65.00 · next Sun 6 Dec"): one line per option, nothing lost.
"""

from __future__ import annotations

import re

from bookbot.conversations.model import Option, Reply

# A bulleted line: its indentation, the bullet, and what it says.
_BULLET = re.compile(r"^\s*[•·\-*]\s+(?P<body>.+?)\s*$")
# What may follow a label at the start of a bullet for the line to be about that option:
# punctuation right after it, or a separator after a blank ("Mug Making · £65.00"), never
# another word ("Wheel" does not describe "Wheel Throwing Taster").
_RIGHT_AFTER = frozenset(",:;")
_SEPARATORS = frozenset("·•-–—(|/")


def _words(label: str) -> str:
    """The label without leading decoration (emoji, symbols) or surrounding blanks."""
    start = next((i for i, c in enumerate(label) if c.isalnum()), len(label))
    return label[start:].strip()


def _describes(body: str, words: str) -> bool:
    """Whether a bullet saying `body` is about the option whose words are `words`."""
    if not words or not body.startswith(words):
        return False
    rest = body[len(words) :]
    if not rest or rest[0] in _RIGHT_AFTER:
        return True
    return rest[0].isspace() and rest.lstrip()[:1] in _SEPARATORS


def _option_lines(text_lines: list[str], choices: list[Option]) -> tuple[list[str], list[str]]:
    """The text lines left, and each choice's line: its bullet's words when a bullet line
    describes it (the label's decoration kept in front), else its label."""
    labels = [o.label for o in choices]
    words = [_words(label) for label in labels]
    # A label shared by two options cannot say which bullet is whose: leave those alone.
    unique = {w for w in words if words.count(w) == 1}
    merged: dict[int, str] = {}
    kept = []
    for line in text_lines:
        bullet = _BULLET.match(line)
        body = bullet.group("body") if bullet is not None else ""
        found = None
        if body:
            found = next(
                (
                    i
                    for i, w in enumerate(words)
                    if i not in merged and w in unique and _describes(body, w)
                ),
                None,
            )
        if found is None:
            kept.append(line)
            continue
        label = labels[found]
        merged[found] = label[: label.find(words[found])] + body
    return kept, [merged.get(i, label) for i, label in enumerate(labels)]


def numbered(reply: Reply) -> str:
    """The reply's text, then a line per link (`Label: URL`), then its options one per line
    as `N. Label`. Links take no number: the numbers point at the stored options only. A
    bullet line of the text that describes an option is that option's line instead."""
    choices = [o for o in reply.options if not o.url]
    text_lines = reply.text.split("\n") if reply.text else []
    text_lines, option_lines = _option_lines(text_lines, choices)
    lines = ["\n".join(text_lines)] if text_lines else []
    lines += [f"{o.label}: {o.url}" for o in reply.options if o.url]
    lines += [f"{n}. {line}" for n, line in enumerate(option_lines, start=1)]
    return "\n".join(lines)
