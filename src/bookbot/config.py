"""Settings from the environment, read once at the edge (CLI, bot start-up), never in the engine."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite:///bookbot.db"


@dataclass(frozen=True)
class Settings:
    database_url: str
    telegram_token: str | None = None
    telegram_api_base: str | None = None
    public_url: str | None = None
    webhook_secret: str | None = None
    host: str = "0.0.0.0"  # noqa: S104 - a server's default; set BOOKBOT_HOST to narrow it
    port: int = 8080
    default_studio: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_sms_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_whatsapp_from: str | None = None
    twilio_api_base: str | None = None
    whatsapp_template_sid: str | None = None
    # Outbound requests a second to Twilio for SMS: Twilio queues what it accepts and sends at
    # each number's own rate (1/s for a long code), so this paces our API calls, not the
    # carrier; raise it for a Messaging Service or short code.
    sms_rate: float = 10.0
    # PostgreSQL connections each process may open (its asyncpg pool's size). Every `bookbot`
    # process has its own pool, so processes x pool size, plus room for psql and admin
    # commands, must stay within the server's max_connections (100 by default): 5 lets
    # about 18 processes share a default server. SQLite keeps one connection per process.
    db_pool_size: int = 5
    # Kept out of repr: a logged Settings must not carry them.
    stripe_secret_key: str | None = field(default=None, repr=False)
    stripe_webhook_secret: str | None = field(default=None, repr=False)
    stripe_api_base: str | None = None  # a local stand-in instead of https://api.stripe.com

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def payments_configured(self) -> bool:
        """Online payments are on: Stripe's key, its webhook secret and our public URL (for
        the webhook and the return pages) are all set. See `check_payments` for a partial
        setting."""
        return bool(self.stripe_secret_key and self.stripe_webhook_secret and self.public_url)

    def check_payments(self) -> None:
        """A partial Stripe setting is a mistake, never a quiet "pay at the studio": raise
        ValueError naming what is missing. Nothing set at all is fine (payments off)."""
        stripe_set = {
            "BOOKBOT_STRIPE_SECRET_KEY": self.stripe_secret_key,
            "BOOKBOT_STRIPE_WEBHOOK_SECRET": self.stripe_webhook_secret,
            "BOOKBOT_STRIPE_API_BASE": self.stripe_api_base,
        }
        if not any(stripe_set.values()):
            return
        needed = {**stripe_set, "BOOKBOT_PUBLIC_URL": self.public_url}
        needed.pop("BOOKBOT_STRIPE_API_BASE")
        missing = [name for name, value in needed.items() if not value]
        if missing:
            given = ", ".join(name for name, value in stripe_set.items() if value)
            raise ValueError(
                f"Stripe payments are half configured: {given} set but not {', '.join(missing)}"
                " (set them all for online payments, or none for pay-at-the-studio only)"
            )
        base = self.stripe_api_base
        if base and not base.startswith(("https://", "http://")):
            raise ValueError(f"BOOKBOT_STRIPE_API_BASE must be an http(s) URL, not {base!r}")

    @classmethod
    def from_env(cls, database_url: str | None = None) -> Settings:
        env = os.environ.get
        return cls(
            database_url=database_url or env("BOOKBOT_DATABASE_URL") or DEFAULT_DATABASE_URL,
            telegram_token=env("BOOKBOT_TELEGRAM_TOKEN") or None,
            telegram_api_base=env("BOOKBOT_TELEGRAM_API_BASE") or None,
            public_url=(env("BOOKBOT_PUBLIC_URL") or "").rstrip("/") or None,
            webhook_secret=env("BOOKBOT_WEBHOOK_SECRET") or None,
            host=env("BOOKBOT_HOST") or cls.host,
            port=int(env("BOOKBOT_PORT") or cls.port),
            default_studio=env("BOOKBOT_DEFAULT_STUDIO") or None,
            twilio_account_sid=env("BOOKBOT_TWILIO_ACCOUNT_SID") or None,
            twilio_auth_token=env("BOOKBOT_TWILIO_AUTH_TOKEN") or None,
            twilio_sms_from=env("BOOKBOT_TWILIO_SMS_FROM") or None,
            twilio_messaging_service_sid=env("BOOKBOT_TWILIO_MESSAGING_SERVICE_SID") or None,
            twilio_whatsapp_from=env("BOOKBOT_TWILIO_WHATSAPP_FROM") or None,
            twilio_api_base=env("BOOKBOT_TWILIO_API_BASE") or None,
            whatsapp_template_sid=env("BOOKBOT_WHATSAPP_TEMPLATE_SID") or None,
            sms_rate=_positive(env("BOOKBOT_SMS_RATE"), "BOOKBOT_SMS_RATE", cls.sms_rate),
            db_pool_size=_count(
                env("BOOKBOT_DB_POOL_SIZE"), "BOOKBOT_DB_POOL_SIZE", cls.db_pool_size
            ),
            stripe_secret_key=env("BOOKBOT_STRIPE_SECRET_KEY") or None,
            stripe_webhook_secret=env("BOOKBOT_STRIPE_WEBHOOK_SECRET") or None,
            stripe_api_base=(env("BOOKBOT_STRIPE_API_BASE") or "").rstrip("/") or None,
        )


def _positive(raw: str | None, name: str, default: float) -> float:
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be more than 0, not {raw!r}")
    return value


def _count(raw: str | None, name: str, default: int) -> int:
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be 1 or more, not {raw!r}")
    return value
