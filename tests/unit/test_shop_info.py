"""General questions: a short true answer from the shop's settings, or a
colleague (with a button) when the shop did not say."""

from __future__ import annotations

import pytest

from bot.bootstrap import customer_texts
from bot.settings import load_settings
from bot.usecases.shop_info import answer_shop_info, spoken_days


@pytest.fixture
def shop(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def configured(**values: str):  # type: ignore[no-untyped-def]
        for name in ("SHOP_DELIVERY_DAYS", "SHOP_RETURN_DAYS", "STORE_PICKUP_LOCATION"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("DEMO_SHOP", "false")
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        settings = load_settings()
        return settings, customer_texts(settings)

    return configured


def test_the_shops_delivery_time_and_return_days_are_told(shop) -> None:  # type: ignore[no-untyped-def]
    settings, texts = shop(SHOP_DELIVERY_DAYS="1-3", SHOP_RETURN_DAYS="14")
    [delivery] = answer_shop_info(settings, texts, "delivery_times", "nl")
    assert "1-3 werkdagen" in delivery.text and not delivery.buttons
    [returns] = answer_shop_info(settings, texts, "returns", "en")
    assert "14 days" in returns.text


def test_what_the_shop_did_not_say_goes_to_a_colleague(shop) -> None:  # type: ignore[no-untyped-def]
    settings, texts = shop()
    for topic in ("delivery_times", "returns"):
        [answer] = answer_shop_info(settings, texts, topic, "nl")
        assert answer.text == texts.message("shop_info_unknown", "nl")
        assert [b.payload for b in answer.buttons] == ["/request_human"]


def test_service_hours_and_the_store(shop) -> None:  # type: ignore[no-untyped-def]
    settings, texts = shop(
        SERVICE_DAYS="mon-fri", SERVICE_HOURS_START="9", STORE_PICKUP_LOCATION="Oudegracht 101"
    )
    [hours] = answer_shop_info(settings, texts, "opening_hours", "nl")
    assert "maandag t/m vrijdag van 9:00 tot 17:00" in hours.text
    assert "Oudegracht 101" in hours.text


def test_days_are_spoken_as_a_run_or_a_list() -> None:
    assert spoken_days(frozenset({0, 1, 2, 3, 4}), "en") == "Monday to Friday"
    assert spoken_days(frozenset({0, 2, 5}), "nl") == "maandag, woensdag en zaterdag"
    assert spoken_days(frozenset({5}), "nl") == "zaterdag"


def test_a_malformed_delivery_time_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import SettingsError

    monkeypatch.setenv("SHOP_DELIVERY_DAYS", "soon")
    with pytest.raises(SettingsError, match="SHOP_DELIVERY_DAYS"):
        load_settings()
