"""Stripe's settings: payments are on with key, webhook secret and public URL all set; a
partial setting is a startup error, never a quiet "pay at the studio"."""

from __future__ import annotations

import pytest

from bookbot.config import Settings

FULL = {
    "BOOKBOT_STRIPE_SECRET_KEY": "sk_test_123",
    "BOOKBOT_STRIPE_WEBHOOK_SECRET": "whsec_456",
    "BOOKBOT_PUBLIC_URL": "https://bot.example.com/",
}


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    names = [*FULL, "BOOKBOT_STRIPE_API_BASE"]
    for name in names:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env("sqlite:///:memory:")


def test_all_set_turns_payments_on(monkeypatch: pytest.MonkeyPatch) -> None:
    configured = settings(monkeypatch, **FULL, BOOKBOT_STRIPE_API_BASE="http://127.0.0.1:12111/")
    configured.check_payments()
    assert configured.payments_configured
    assert configured.stripe_api_base == "http://127.0.0.1:12111"
    assert configured.public_url == "https://bot.example.com"
    assert "sk_test_123" not in repr(configured)
    assert "whsec_456" not in repr(configured)


def test_nothing_set_is_payments_off(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = settings(monkeypatch, BOOKBOT_PUBLIC_URL="https://bot.example.com")
    plain.check_payments()
    assert not plain.payments_configured


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("BOOKBOT_STRIPE_SECRET_KEY", "BOOKBOT_STRIPE_SECRET_KEY"),
        ("BOOKBOT_STRIPE_WEBHOOK_SECRET", "BOOKBOT_STRIPE_WEBHOOK_SECRET"),
        ("BOOKBOT_PUBLIC_URL", "BOOKBOT_PUBLIC_URL"),
    ],
)
def test_partial_setting_is_an_error(
    monkeypatch: pytest.MonkeyPatch, missing: str, named: str
) -> None:
    partial = settings(monkeypatch, **{k: v for k, v in FULL.items() if k != missing})
    assert not partial.payments_configured
    with pytest.raises(ValueError, match=f"not {named}") as raised:
        partial.check_payments()
    assert "sk_test_123" not in str(raised.value)
    assert "whsec_456" not in str(raised.value)


def test_api_base_alone_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="BOOKBOT_STRIPE_SECRET_KEY"):
        settings(monkeypatch, BOOKBOT_STRIPE_API_BASE="http://127.0.0.1:1").check_payments()


def test_api_base_must_be_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="http"):
        settings(monkeypatch, **FULL, BOOKBOT_STRIPE_API_BASE="127.0.0.1:1").check_payments()
