"""The staff "/" menu comes from the bot each studio speaks through (issue 17): a studio on
its own bot gets the staff commands in its staff chats from that bot alone; the default bot
shows them only in the chats of the studios it reaches, and takes back the menu it had set
in a studio's chats before that studio got its own bot. No bot sets another studio's."""

from __future__ import annotations

import json
from collections import defaultdict

from bookbot.cli.demo import EXAMPLE, example_path
from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database
from bookbot.studio.loader import load_studio
from bookbot.studio.model import parse_studio_file

from .emulator import Emulator, eventually
from .test_studio_bots import CLAY_TOKEN, DEFAULT_TOKEN, GYM_TOKEN, _load, running

CLAY_GROUP, TUTOR_GROUP = -100100, -100300
BOTH = 7001  # on the staff of the pottery studio (own bot) and the tutor studio (default)
CLAY_ONLY = 7002


def chat_scopes(emulator: Emulator, token: str, method: str) -> dict[int, set[str]]:
    """The chats a bot scoped `method` to, each with the languages it did."""
    found: dict[int, set[str]] = defaultdict(set)
    for call in emulator.calls(token, method):
        scope = json.loads(call["params"].get("scope", '{"type": "default"}'))
        if scope["type"] == "chat":
            found[int(scope["chat_id"])].add(call["params"].get("language_code", ""))
    return dict(found)


async def _staff(db: Database, studio_id: int, group: int, people: list[int]) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE studios SET staff_chat_id = :group WHERE id = :s",
            {"group": group, "s": studio_id},
        )
        rows = await tx.all(
            "SELECT id FROM staff WHERE studio_id = :s ORDER BY id LIMIT :n",
            {"s": studio_id, "n": len(people)},
        )
        for row, person in zip(rows, people, strict=True):
            await tx.execute(
                "UPDATE staff SET telegram_user_id = :u WHERE studio_id = :s AND id = :id",
                {"u": person, "s": studio_id, "id": row["id"]},
            )


async def test_each_studios_staff_menu_comes_from_the_bot_it_speaks_through(
    db: Database, clock: FrozenClock, emulator: Emulator
) -> None:
    clay = await _load(db, clock, EXAMPLE, CLAY_TOKEN)
    await _load(db, clock, "harbour-fitness.toml", GYM_TOKEN)  # no staff chats here
    tutor = (await load_studio(db, parse_studio_file(example_path("tutor-studio.toml")))).studio_id
    await _staff(db, clay, CLAY_GROUP, [BOTH, CLAY_ONLY])
    await _staff(db, tutor, TUTOR_GROUP, [BOTH])
    both_languages = {"", "es"}

    async with running(db, clock, emulator, default_token=DEFAULT_TOKEN):

        async def published() -> bool:
            return (
                all(
                    len(emulator.calls(token, "setMyCommands")) >= 2
                    for token in (DEFAULT_TOKEN, CLAY_TOKEN, GYM_TOKEN)
                )
                and len(emulator.calls(DEFAULT_TOKEN, "deleteMyCommands")) == 4
            )

        await eventually(published)

    assert chat_scopes(emulator, DEFAULT_TOKEN, "setMyCommands") == {
        TUTOR_GROUP: both_languages,
        BOTH: both_languages,  # staff of the tutor studio too, which the default bot reaches
    }
    assert chat_scopes(emulator, DEFAULT_TOKEN, "deleteMyCommands") == {
        CLAY_GROUP: both_languages,
        CLAY_ONLY: both_languages,
    }
    assert chat_scopes(emulator, CLAY_TOKEN, "setMyCommands") == {
        CLAY_GROUP: both_languages,
        BOTH: both_languages,
        CLAY_ONLY: both_languages,
    }
    assert chat_scopes(emulator, GYM_TOKEN, "setMyCommands") == {}  # nobody else's chats
    for token in (CLAY_TOKEN, GYM_TOKEN):
        assert emulator.calls(token, "deleteMyCommands") == []
