"""`bookbot report funnel` on both databases: counts and conversions per channel and item
for a period of local days, and the chart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bookbot.cli import main
from bookbot.engine.clock import FrozenClock
from bookbot.services import funnel
from bookbot.services.funnel import Event, Kind, Step, Who
from bookbot.store.db import connect
from tests.examples import load_example_studio

# Clay & Kiln is in Europe/London: 20 Nov 2026 is GMT, so local days are UTC days.
DAY = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


async def _seed(url: str) -> None:
    db = await connect(url)
    try:
        studio_id = await load_example_studio(db, FrozenClock(DAY))
        wheel = await db.scalar("SELECT id FROM classes WHERE key = 'wheel-taster'")
        mugs = await db.scalar("SELECT id FROM classes WHERE key = 'mug-making'")

        async def steps(channel: str, at: datetime, *events: tuple[Step, int]) -> None:
            who = Who(studio_id, None, channel, at)
            await funnel.record(db, who, [Event(step, Kind.CLASS, item) for step, item in events])

        v, s, c, a = Step.VIEW, Step.STARTED, Step.COMPLETED, Step.ABANDONED
        # Console: 4 views, 3 starts, 2 booked (one start lapsed silently).
        await steps("console", DAY, (v, wheel), (v, wheel), (v, wheel), (v, mugs))
        await steps("console", DAY, (s, wheel), (s, wheel), (s, mugs), (c, wheel), (c, mugs))
        # SMS: 2 views, 2 starts, 0 booked, one backed out of.
        await steps("sms", DAY, (v, wheel), (v, wheel), (s, wheel), (s, wheel), (a, wheel))
        # The day before the period: not counted.
        await steps("sms", DAY - timedelta(days=1), (v, wheel), (s, wheel), (c, wheel))
    finally:
        await db.close()


@pytest.fixture
def url(database_url: str) -> str:
    asyncio.run(_seed(database_url))
    return database_url


def run(url: str, *argv: str) -> int:
    return main(["--database", url, "report", "funnel", *argv])


def rows(out: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}


def test_per_channel_counts_and_conversions_for_the_days_asked(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(url, "--from", "2026-11-20", "--to", "2026-11-20") == 0

    out = capsys.readouterr().out
    assert out.startswith("Booking funnel, 2026-11-20 – 2026-11-20")
    table = rows(out)
    # Views, Starts, Booked, Aband., Start%, Book%
    assert table["console"] == ["4", "3", "2", "1", "75.0%", "66.7%"]
    assert table["sms"] == ["2", "2", "0", "2", "100.0%", "0.0%"]
    assert table["Total"] == ["6", "5", "2", "3", "83.3%", "40.0%"]
    assert "1 of them backed out in the chat" in " ".join(out.split())


def test_one_channel_per_item(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(url, "--from", "2026-11-20", "--to", "2026-11-20", "--channel", "console", "--by-item")
        == 0
    )

    out = capsys.readouterr().out
    lines = [" ".join(line.split()) for line in out.splitlines()]
    # Views, Starts, Booked, Book%
    assert "mug-making (class) 1 1 1 100.0%" in lines
    assert "wheel-taster (class) 3 2 1 50.0%" in lines
    assert "Total 4 3 2 66.7%" in lines


def test_a_wider_period_takes_the_day_before_and_the_chart_is_a_png(
    url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    chart = tmp_path / "funnel.png"

    assert run(url, "--from", "2026-11-19", "--to", "2026-11-20", "--chart", str(chart)) == 0

    table = rows(capsys.readouterr().out)
    assert table["sms"] == ["3", "3", "1", "2", "100.0%", "33.3%"]
    with Image.open(chart) as image:
        assert image.format == "PNG"
        assert image.width == 800


def test_days_and_dates_together_are_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(url, "--days", "7", "--from", "2026-11-20") != 0
    assert "not both" in capsys.readouterr().err


def test_an_empty_period_says_so(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(url, "--from", "2020-01-01", "--to", "2020-01-31") == 0
    assert "No data for this period." in capsys.readouterr().out
