"""Rendering replies as plain text with numbered options (console, SMS, WhatsApp)."""

from __future__ import annotations

from bookbot.conversations.model import Reply


def numbered(reply: Reply) -> str:
    """The reply's text, then a line per link (`Label: URL`), then its options one per line
    as `N. Label`. Links take no number: the numbers point at the stored options only."""
    lines = [reply.text] if reply.text else []
    lines += [f"{o.label}: {o.url}" for o in reply.options if o.url]
    choices = [o for o in reply.options if not o.url]
    lines += [f"{n}. {option.label}" for n, option in enumerate(choices, start=1)]
    return "\n".join(lines)
