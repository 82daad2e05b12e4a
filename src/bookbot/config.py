"""Settings from the environment, read once at the edge (CLI, bot start-up), never in the engine."""

from __future__ import annotations

import os
from dataclasses import dataclass

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
        )
