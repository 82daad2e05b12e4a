"""What goes into and comes out of a dialogue, whatever the channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Channel(StrEnum):
    TELEGRAM = "telegram"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    CONSOLE = "console"


# The channels whose address is the person's phone number (by Twilio).
TEXTING = (Channel.SMS.value, Channel.WHATSAPP.value)


@dataclass(frozen=True)
class Inbound:
    """One thing a person did: typed `text`, or pressed the option `token`.

    `address` identifies the person on the channel (Telegram user id, phone number).
    Tokens and typed numbers are only pointers into the dialogue's stored options and are
    validated like any other input.
    """

    channel: Channel
    address: str
    text: str | None = None
    token: str | None = None
    display_name: str = ""
    language_hint: str | None = None
    phone: str | None = None
    # Telegram: the message the pressed button was on (a press on any other is stale),
    # and whether it was in a chat shared with others (a group), not the person's own.
    message_ref: str | None = None
    shared_chat: bool = False
    # Which of our bots or numbers it came to ('' the default one): a studio's own one
    # fixes the studio (`services.studio_channels`).
    endpoint: str = ""


@dataclass(frozen=True)
class Option:
    """Something to choose (`token` points into the dialogue's stored options), or, with a
    `url`, a link to open (a payment page): Telegram shows it as a link button, text
    channels as a line with the address. A link is never a numbered option."""

    token: str
    label: str
    url: str | None = None


@dataclass(frozen=True)
class Attachment:
    filename: str
    mime_type: str
    content: bytes


@dataclass(frozen=True)
class Reply:
    """A message: text plus the options offered with it.

    `edit` asks channels that can (Telegram) to replace the message the person pressed a
    button on instead of sending a new one. `notice` is a short acknowledgement a channel
    may show on its own (Telegram's callback answer); a `toast` is only that, never a
    message in the chat. `preformatted` text is a table aligned with spaces: Telegram
    shows it in `<pre>` (HTML, escaped), other channels as it is.
    """

    text: str
    options: tuple[Option, ...] = ()
    attachment: Attachment | None = None
    edit: bool = False
    notice: str | None = field(default=None, compare=False)
    toast: bool = False
    preformatted: bool = False
