"""Settings from the environment, read once at the edge (CLI, bot start-up), never in the engine."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///bookbot.db"


@dataclass(frozen=True)
class Settings:
    database_url: str

    @classmethod
    def from_env(cls, database_url: str | None = None) -> Settings:
        return cls(
            database_url=database_url
            or os.environ.get("BOOKBOT_DATABASE_URL")
            or DEFAULT_DATABASE_URL
        )
