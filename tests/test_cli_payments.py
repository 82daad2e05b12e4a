"""`bookbot payments list|refund|reconcile` against the demo studio and the local Stripe
stand-in (real HTTP, the real `stripe` library)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bookbot.cli import build_parser, main
from bookbot.cli.common import CommandError
from bookbot.cli.payments import minor_units
from bookbot.config import Settings
from bookbot.handlers.stripe_gateway import StripeGateway
from bookbot.services.payment_gateway import CheckoutRequest
from bookbot.services.payments import link_expiry
from bookbot.store.db import connect
from tests.stripe_standin import StripeStandIn

KEY = "sk_test_cli"
SECRET = "whsec_cli"


@pytest.fixture
def url(database_url: str) -> str:
    """A migrated, empty database on each backend (the test loads the demo into it)."""
    return database_url


@pytest.fixture
async def standin() -> AsyncIterator[StripeStandIn]:
    async with StripeStandIn(secret_key=KEY, webhook_secret=SECRET) as running:
        yield running


def settings_for(url: str, standin: StripeStandIn | None) -> Settings:
    if standin is None:
        return Settings(database_url=url)
    return Settings(
        database_url=url,
        public_url="https://bot.example",
        stripe_secret_key=KEY,
        stripe_webhook_secret=SECRET,
        stripe_api_base=standin.base_url,
    )


async def command(settings: Settings, *argv: str) -> int:
    """Parse as `bookbot` does, then await the command (the stand-in shares this loop)."""
    args = build_parser().parse_args(["--database", settings.database_url, *argv])
    return int(await args.run(settings, args))


async def paid_payment(
    url: str, standin: StripeStandIn, *, status: str = "paid", ref: int = 1
) -> int:
    """A payment of £90.00 paid through a real Checkout Session at the stand-in."""
    gateway = StripeGateway(KEY, api_base=standin.base_url, max_network_retries=0)
    now = datetime.now(UTC)
    try:
        session = await gateway.create_checkout(
            CheckoutRequest(
                payment_id=ref,  # the stand-in replays a Session created with the same key
                attempt=1,
                amount_minor=9000,
                currency="gbp",
                description="Wheel Throwing Taster",
                expires_at=link_expiry(now, 30),  # exactly 30 min fails when a second ticks
                success_url="https://bot.example/pay/success",
                cancel_url="https://bot.example/pay/cancel",
            )
        )
    finally:
        await gateway.close()
    intent = standin.pay(session.id)["data"]["object"]["payment_intent"]
    db = await connect(url)
    try:
        async with db.transaction() as tx:
            studio = await tx.scalar("SELECT MIN(id) FROM studios")
            await tx.execute(
                "INSERT INTO customers (studio_id, name, phone, created_at)"
                " VALUES (:s, 'Ana', :phone, :now)",
                {"s": studio, "now": now, "phone": f"+44770090{ref:04d}"},
            )
            customer = await tx.scalar("SELECT MAX(id) FROM customers")
            await tx.execute(
                "INSERT INTO payments (studio_id, customer_id, purpose, amount_minor, currency,"
                " status, stripe_session_id, stripe_payment_intent, paid_at, created_at,"
                " updated_at) VALUES (:s, :c, 'full', 9000, 'GBP', :status, :sid, :pi, :now,"
                " :now, :now)",
                {
                    "s": studio,
                    "c": customer,
                    "status": status,
                    "sid": session.id,
                    "pi": intent,
                    "now": now,
                },
            )
            return int(await tx.scalar("SELECT MAX(id) FROM payments"))
    finally:
        await db.close()


async def test_list_refund_and_list_again(
    url: str, standin: StripeStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, ["--database", url, "demo"]) == 0
    settings = settings_for(url, standin)
    capsys.readouterr()
    assert await command(settings, "payments", "list") == 0
    assert capsys.readouterr().out == "no payments\n"

    payment_id = await paid_payment(url, standin)
    assert await command(settings, "payments", "list", "--status", "paid") == 0
    out = capsys.readouterr().out
    assert f"#{payment_id}" in out
    assert "paid" in out
    assert "£90.00" in out
    assert "Ana" in out
    assert await command(settings, "payments", "list", "--status", "refunded") == 0
    assert capsys.readouterr().out == "no payments\n"

    argv = ["payments", "refund", str(payment_id), "--amount", "30", "--reason", "broken mug"]
    assert await command(settings, *argv) == 0
    out = capsys.readouterr().out
    assert f"of £30.00 for payment #{payment_id}" in out
    assert "(reason: broken mug)" in out
    refunds = standin.calls_to("POST", "/v1/refunds")
    assert len(refunds) == 1
    assert refunds[0].params["amount"] == "3000"
    assert refunds[0].idempotency_key == f"refund:{payment_id}:staff:1"
    # The same command again (run twice by accident) asks Stripe nothing.
    assert await command(settings, *argv) == 0
    assert "was asked already: pending (reason: broken mug)" in capsys.readouterr().out
    assert len(standin.calls_to("POST", "/v1/refunds")) == 1
    assert await command(settings, "payments", "list") == 0
    assert "(refunded £30.00)" in capsys.readouterr().out


async def test_refund_refusals(url: str, standin: StripeStandIn) -> None:
    assert await asyncio.to_thread(main, ["--database", url, "demo"]) == 0
    settings = settings_for(url, standin)
    paid = await paid_payment(url, standin)
    with pytest.raises(CommandError, match="only £90.00 left"):
        await command(settings, "payments", "refund", str(paid), "--amount", "91", "--reason", "x")
    with pytest.raises(CommandError, match="no payment #999"):
        await command(settings, "payments", "refund", "999", "--reason", "x")
    pending = await paid_payment(url, standin, status="pending", ref=2)
    with pytest.raises(CommandError, match="is pending: nothing to refund"):
        await command(settings, "payments", "refund", str(pending), "--reason", "x")
    with pytest.raises(CommandError, match="payments are not configured"):
        await command(settings_for(url, None), "payments", "reconcile")
    assert standin.calls_to("POST", "/v1/refunds") == []


async def test_reconcile_once(
    url: str, standin: StripeStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, ["--database", url, "demo"]) == 0
    capsys.readouterr()
    assert await command(settings_for(url, standin), "payments", "reconcile") == 0
    assert capsys.readouterr().out.startswith("reconciled: 0 payment(s) settled")


def test_amounts_in_minor_units() -> None:
    assert minor_units("12.50", "gbp") == 1250
    assert minor_units("30", "EUR") == 3000
    assert minor_units("500", "JPY") == 500
    for bad in ("12.505", "-1", "0", "abc", "nan", "5.5"):
        currency = "JPY" if bad == "5.5" else "GBP"
        with pytest.raises(CommandError):
            minor_units(bad, currency)


def test_refund_needs_a_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payments", "refund", "3"]) == 1
    assert "--reason" in capsys.readouterr().err


async def _refund_rows(url: str, payment_id: int) -> list[dict[str, object]]:
    db = await connect(url)
    try:
        rows = await db.all(
            "SELECT amount_minor, reason, note, status, idempotency_key FROM refunds"
            " WHERE payment_id = :p ORDER BY id",
            {"p": payment_id},
        )
        return [
            {key: row[key] for key in ("amount_minor", "note", "idempotency_key")} for row in rows
        ]
    finally:
        await db.close()


async def _unsent(url: str) -> int:
    db = await connect(url)
    try:
        found = await db.scalar("SELECT COUNT(*) FROM refunds WHERE stripe_refund_id IS NULL")
        return int(found)
    finally:
        await db.close()


async def test_staff_refund_more_than_once_never_above_what_is_left(
    url: str, standin: StripeStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, ["--database", url, "demo"]) == 0
    settings = settings_for(url, standin)
    payment_id = await paid_payment(url, standin)
    refund = ["payments", "refund", str(payment_id)]
    capsys.readouterr()

    assert await command(settings, *refund, "--amount", "30", "--reason", "broken  mug") == 0
    assert await command(settings, *refund, "--amount", "30", "--reason", "broken mug") == 0
    assert "was asked already" in capsys.readouterr().out  # the typed spacing is not news
    assert await command(settings, *refund, "--amount", "30", "--reason", "second mug") == 0
    assert f"of £30.00 for payment #{payment_id}: pending" in capsys.readouterr().out
    with pytest.raises(CommandError, match="only £30.00 left"):
        await command(settings, *refund, "--amount", "30.01", "--reason", "third mug")
    # No amount: all that is left; the same again is a repeat, not a refusal.
    assert await command(settings, *refund, "--reason", "closing the account") == 0
    assert f"refund 3 of £30.00 for payment #{payment_id}: pending" in capsys.readouterr().out
    assert await command(settings, *refund, "--reason", "closing the account") == 0
    assert "was asked already" in capsys.readouterr().out
    with pytest.raises(CommandError, match="is refunded: nothing to refund"):
        await command(settings, *refund, "--amount", "1", "--reason", "one more")

    sent = standin.calls_to("POST", "/v1/refunds")
    assert [c.params["amount"] for c in sent] == ["3000", "3000", "3000"]
    keys = [f"refund:{payment_id}:staff:{n}" for n in (1, 2, 3)]
    assert [c.idempotency_key for c in sent] == keys
    assert await _refund_rows(url, payment_id) == [
        {"amount_minor": 3000, "note": note, "idempotency_key": key}
        for note, key in zip(("broken mug", "second mug", "closing the account"), keys, strict=True)
    ]
    assert await command(settings, "payments", "list", "--status", "refunded") == 0
    assert "(refunded £90.00)" in capsys.readouterr().out


async def test_a_repeat_sends_a_refund_stripe_never_took_once(
    url: str, standin: StripeStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, ["--database", url, "demo"]) == 0
    settings = settings_for(url, standin)
    payment_id = await paid_payment(url, standin)
    argv = ["payments", "refund", str(payment_id), "--amount", "20", "--reason", "late start"]
    standin.outage(60)  # Stripe is down: the refund is written, not taken
    assert await command(settings, *argv) == 0
    standin.outage(0)
    assert await _unsent(url) == 1
    assert ": pending (reason: late start)" in capsys.readouterr().out
    # Written but not taken: it counts against what is left until Stripe answers.
    with pytest.raises(CommandError, match="only £70.00 left"):
        await command(
            settings, "payments", "refund", str(payment_id), "--amount", "71", "--reason", "x"
        )

    assert await command(settings, *argv) == 0  # the same request again: sent, with its key
    assert "was asked already: pending" in capsys.readouterr().out
    assert await _unsent(url) == 0
    assert await command(settings, *argv) == 0
    assert "was asked already: pending" in capsys.readouterr().out
    sent = standin.calls_to("POST", "/v1/refunds")
    assert {c.idempotency_key for c in sent} == {f"refund:{payment_id}:staff:1"}
    assert await command(settings, "payments", "list") == 0
    assert "(refunded £20.00)" in capsys.readouterr().out
    assert [row["idempotency_key"] for row in await _refund_rows(url, payment_id)] == [
        f"refund:{payment_id}:staff:1"
    ]


async def test_refunding_all_of_a_package_payment_says_the_package_is_cancelled(
    url: str, standin: StripeStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await asyncio.to_thread(main, ["--database", url, "demo"]) == 0
    settings = settings_for(url, standin)
    payment_id = await paid_payment(url, standin)
    db = await connect(url)
    try:
        async with db.transaction() as tx:
            row = await tx.one(
                "SELECT studio_id, customer_id FROM payments WHERE id = :id", {"id": payment_id}
            )
            assert row is not None
            service = await tx.scalar(
                "INSERT INTO services (studio_id, key, name, duration_minutes, price_minor)"
                " VALUES (:s, 'lesson', 'Lesson', 60, 1800) RETURNING id",
                {"s": row["studio_id"]},
            )
            package_id = await tx.scalar(
                "INSERT INTO packages (studio_id, customer_id, service_id, name, sessions_total,"
                " sessions_remaining, expires_on, status, payment, price_minor, created_at,"
                " updated_at) VALUES (:s, :c, :sv, '5 lessons', 5, 5, :until, 'active',"
                " 'online', 9000, :now, :now) RETURNING id",
                {
                    "s": row["studio_id"],
                    "c": row["customer_id"],
                    "sv": service,
                    "until": datetime(2099, 1, 1, tzinfo=UTC).date(),
                    "now": datetime.now(UTC),
                },
            )
            await tx.execute(
                "UPDATE payments SET purpose = 'package', package_id = :p WHERE id = :id",
                {"p": package_id, "id": payment_id},
            )
    finally:
        await db.close()
    capsys.readouterr()

    argv = ["payments", "refund", str(payment_id), "--reason", "moving away"]
    assert await command(settings, *argv) == 0

    out = capsys.readouterr().out
    assert f"of £90.00 for payment #{payment_id}" in out
    assert f"lesson package {package_id} cancelled: its money was refunded" in out
