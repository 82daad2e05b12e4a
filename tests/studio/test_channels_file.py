"""The studio file's [channels]: a studio's own bot and numbers, loaded into studio_channels."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from tests.studio.test_loader import EXAMPLES, example_data

from bookbot.cli import main
from bookbot.services import studio_channels
from bookbot.store.db import Database
from bookbot.studio.channels import ChannelConflict
from bookbot.studio.loader import load_studio
from bookbot.studio.model import StudioFileError, parse_studio_data


def with_channels(slug: str, **channels: Any) -> dict[str, Any]:
    data = copy.deepcopy(example_data())
    data["studio"]["slug"] = slug
    if channels:
        data["channels"] = channels
    return data


async def owned(db: Database, studio_id: int) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (c.channel, c.address, c.token_env, c.token)
        for c in await studio_channels.studio_channels(db, studio_id)
    ]


async def test_a_studios_bot_and_numbers_are_loaded_and_follow_the_file(db: Database) -> None:
    data = with_channels(
        "alpha",
        telegram_token="700000001:FAKE-demo-token",
        sms_numbers=["+44 117 496 0001"],
        whatsapp_numbers=["+441174960002"],
    )
    report = await load_studio(db, parse_studio_data(data))
    assert await owned(db, report.studio_id) == [
        ("sms", "+441174960001", None, None),  # stored E.164, as Twilio's To says it
        ("telegram", "700000001", None, "700000001:FAKE-demo-token"),
        ("whatsapp", "+441174960002", None, None),
    ]
    # Edited: the token moves to a variable, a number is dropped.
    data["channels"] = {"telegram_token_env": "ALPHA_BOT", "telegram_bot_id": "700000001"}
    await load_studio(db, parse_studio_data(data))
    assert await owned(db, report.studio_id) == [("telegram", "700000001", "ALPHA_BOT", None)]
    del data["channels"]
    await load_studio(db, parse_studio_data(data))
    assert await owned(db, report.studio_id) == []


async def test_a_bot_id_is_read_from_the_variable_when_it_is_set(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHA_BOT", "700000009:secret")
    report = await load_studio(
        db, parse_studio_data(with_channels("alpha", telegram_token_env="ALPHA_BOT"))
    )
    assert await owned(db, report.studio_id) == [("telegram", "700000009", "ALPHA_BOT", None)]


async def test_an_unset_variable_without_the_bot_id_is_a_load_error(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOBODY_SET_THIS", raising=False)
    spec = parse_studio_data(with_channels("alpha", telegram_token_env="NOBODY_SET_THIS"))
    with pytest.raises(ChannelConflict, match="NOBODY_SET_THIS is not set here"):
        await load_studio(db, spec)


async def test_a_bot_or_number_of_another_studio_is_a_clear_load_error(db: Database) -> None:
    await load_studio(
        db,
        parse_studio_data(
            with_channels("alpha", telegram_token="700000001:a", sms_numbers=["+441174960001"])
        ),
    )
    for channels in (
        {"telegram_token": "700000001:b"},
        {"sms_numbers": ["+441174960001"]},
    ):
        with pytest.raises(ChannelConflict, match="already belongs to studio 'alpha'"):
            await load_studio(db, parse_studio_data(with_channels("beta", **channels)))
    async with db.transaction(write=False) as tx:  # nothing of beta was loaded
        assert await tx.scalar("SELECT COUNT(*) FROM studios WHERE slug = 'beta'") == 0
    # The same number on the other channel is another endpoint: allowed.
    beta = with_channels("beta", whatsapp_numbers=["+441174960001"])
    await load_studio(db, parse_studio_data(beta))


@pytest.mark.parametrize(
    ("channels", "problem"),
    [
        ({"telegram_token": "not-a-token"}, "channels.telegram_token"),
        ({"telegram_token_env": "A", "telegram_token": "1:a"}, "not both"),
        ({"telegram_token_env": "not a name"}, "environment variable"),
        ({"sms_numbers": ["01174960001"]}, "channels.sms_numbers"),
        ({"sms_numbers": ["+441174960001", "+44 117 496 0001"]}, "twice"),
        ({"telegram_token": "1:a", "telegram_bot_id": "2"}, "not the token's bot id"),
        ({"signal_numbers": ["+441174960001"]}, "signal_numbers"),
    ],
)
def test_a_bad_channels_section_is_refused(channels: dict[str, Any], problem: str) -> None:
    with pytest.raises(StudioFileError) as error:
        parse_studio_data(with_channels("alpha", **channels))
    assert any(problem in p for p in error.value.problems), error.value.problems


def test_the_load_command_names_the_studio_that_has_the_number(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (EXAMPLES / "clay-studio.toml").read_text(encoding="utf-8")
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text(text + '\n[channels]\nsms_numbers = ["+441174960001"]\n', encoding="utf-8")
    second.write_text(
        text.replace('slug = "clay-studio"', 'slug = "clay-two"')
        + '\n[channels]\nsms_numbers = ["+441174960001"]\n',
        encoding="utf-8",
    )
    assert main(["--database", database_url, "studio", "load", str(first)]) == 0
    capsys.readouterr()
    assert main(["--database", database_url, "studio", "load", str(second)]) == 2
    assert capsys.readouterr().out.splitlines()[-1] == (
        "  - channels: sms +441174960001 already belongs to studio 'clay-studio';"
        " a bot or number serves one studio"
    )
