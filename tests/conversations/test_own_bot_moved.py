"""A studio's own bot moved to another studio (its [channels] section, then the other's)
takes its dialogues along: a person writing to it is never answered in the studio it left."""

from __future__ import annotations

from bookbot.cli.demo import TUTOR_EXAMPLE
from bookbot.conversations.dialogue import Dialogues
from bookbot.conversations.model import Channel, Inbound
from bookbot.engine.clock import FrozenClock
from bookbot.store.db import Database
from tests.examples import NOW, load_example_studio

BOT = "5001"


async def _own_bot(db: Database, studio_id: int) -> None:
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM studio_channels WHERE address = :a", {"a": BOT})
        await tx.execute(
            "INSERT INTO studio_channels (studio_id, channel, address, token_env, token)"
            " VALUES (:s, 'telegram', :a, NULL, :t)",
            {"s": studio_id, "a": BOT, "t": f"{BOT}:TOKEN"},
        )


async def _studio_of_dialogue(db: Database) -> int:
    found = await db.scalar(
        "SELECT studio_id FROM conversations WHERE channel = 'telegram' AND endpoint = :e",
        {"e": BOT},
    )
    assert found is not None
    return int(found)


async def test_a_dialogue_follows_its_bot_to_the_studio_that_owns_it_now(db: Database) -> None:
    clock = FrozenClock(NOW)
    clay = await load_example_studio(db, clock, weeks=1)
    tutor = await load_example_studio(db, clock, weeks=1, name=TUTOR_EXAMPLE)
    dialogues = Dialogues(db, clock)
    await _own_bot(db, clay)
    await dialogues.handle(Inbound(Channel.TELEGRAM, "900", text="/start", endpoint=BOT))
    assert await _studio_of_dialogue(db) == clay

    await _own_bot(db, tutor)
    await dialogues.handle(Inbound(Channel.TELEGRAM, "900", text="/start", endpoint=BOT))
    assert await _studio_of_dialogue(db) == tutor
    owner = await db.scalar(
        "SELECT cu.studio_id FROM conversations c JOIN customers cu ON cu.id = c.customer_id"
        " WHERE c.endpoint = :e",
        {"e": BOT},
    )
    assert owner == tutor  # they are the tutor's customer now, not the clay studio's


async def test_a_bot_no_studio_owns_any_more_keeps_its_dialogues_until_a_restart(
    db: Database,
) -> None:
    """Its studio dropped it from [channels]; this process still serves it: answered there."""
    clock = FrozenClock(NOW)
    clay = await load_example_studio(db, clock, weeks=1)
    dialogues = Dialogues(db, clock)
    await _own_bot(db, clay)
    await dialogues.handle(Inbound(Channel.TELEGRAM, "900", text="/start", endpoint=BOT))
    await db.execute("DELETE FROM studio_channels WHERE address = :a", {"a": BOT})
    replies = await dialogues.handle(Inbound(Channel.TELEGRAM, "900", text="/start", endpoint=BOT))
    assert replies
    assert await _studio_of_dialogue(db) == clay
