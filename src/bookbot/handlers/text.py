"""Rendering replies as plain text with numbered options (console, SMS, WhatsApp)."""

from __future__ import annotations

from bookbot.conversations.model import Reply


def numbered(reply: Reply) -> str:
    """The reply's text, then its options one per line as `N. Label`."""
    lines = [reply.text] if reply.text else []
    lines += [f"{n}. {option.label}" for n, option in enumerate(reply.options, start=1)]
    return "\n".join(lines)
