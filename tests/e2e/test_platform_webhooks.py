"""The shop platforms' webhooks on the running stack: a Shopify fulfillment
event, a WooCommerce hold and a Sendcloud parcel status each reach the
customer's open chat widget live, with the platform's reason."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from bot.clock import shop_today
from bot.dates import spoken_date
from bot.identity import make_customer_token
from tests import platform_webhooks as hooks
from tests.e2e.chat_client import ChatClient
from tests.e2e.conftest import SHOP_SECRET, RunningAssistant
from tests.shop_standins import WooCommerceStore

WC_KEY, WC_SECRET = "ck_" + "7d1e5a9c3b2f" * 3, "cs_" + "2a6c8e0b4d1f" * 3


@pytest.fixture(scope="module")
def woocommerce_api() -> Iterator[WooCommerceStore]:
    store = WooCommerceStore(WC_KEY, WC_SECRET).start()
    yield store
    store.close()


@pytest.fixture(scope="module")
def assistant_env(woocommerce_api: WooCommerceStore) -> dict[str, str]:
    return {
        **hooks.source_env(),
        "WOOCOMMERCE_URL": woocommerce_api.url,
        "WOOCOMMERCE_CONSUMER_KEY": WC_KEY,
        "WOOCOMMERCE_CONSUMER_SECRET": WC_SECRET,
    }


def accepted(
    assistant: RunningAssistant, platform: str, request: tuple[bytes, dict[str, str]]
) -> None:
    response = hooks.post(assistant.web_url, platform, request)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted", response.text


def test_a_shopify_delay_reaches_eriks_open_widget_with_the_carriers_reason(
    assistant: RunningAssistant,
) -> None:
    today = shop_today("Europe/Amsterdam")
    new_date = today + timedelta(days=21)
    order = hooks.fixture("shopify", "orders_updated_unfulfilled.json")  # #10001

    async def scenario() -> None:
        async with ChatClient(assistant.rasa_url, make_customer_token(1001, SHOP_SECRET)) as chat:
            await chat.say("hoi")
            start = len(chat.received)
            # Shopify sent the order before; the event names it only by Shopify's id.
            accepted(assistant, "shopify", hooks.shopify("orders/updated", order))
            event = hooks.fixture("shopify", "fulfillment_events_create.json")
            happened = datetime.now(timezone.utc).replace(microsecond=0)
            event.update(
                order_id=order["id"],
                status="DELAYED",
                message="Vertraging door storm in het sorteercentrum",
                happened_at=happened.isoformat(),
                created_at=happened.isoformat(),
                estimated_delivery_at=f"{new_date.isoformat()}T12:00:00+01:00",
            )
            accepted(assistant, "shopify", hooks.shopify("fulfillment_events/create", event))
            seconds = await chat.wait_for(
                lambda texts: any(spoken_date(new_date, "nl", today) in t for t in texts),
                since=start,
                timeout=15,
            )
            await asyncio.sleep(1.0)
            warning = "\n".join(chat.texts(start))
            assert seconds < 15
            assert "Vertraging door storm in het sorteercentrum" in warning
            assert "vertraging bij het bezorgen" in warning  # carrier_delay, in Dutch

    asyncio.run(scenario())


def test_a_woocommerce_hold_with_a_note_reaches_anouk(
    assistant: RunningAssistant, woocommerce_api: WooCommerceStore
) -> None:
    order = hooks.fixture("woocommerce", "order_updated_on_hold.json")  # number 10002
    modified = datetime.now(timezone.utc).replace(microsecond=0)
    order.update(date_modified_gmt=modified.strftime("%Y-%m-%dT%H:%M:%S"))
    woocommerce_api.orders[order["id"]] = order
    note = "TabletWereld levert de tablet pas volgende week; tot dan staat je bestelling stil."
    woocommerce_api.notes[order["id"]] = [
        {
            "id": 9102,
            "author": "Sanne Bakker",
            "date_created_gmt": modified.strftime("%Y-%m-%dT%H:%M:%S"),
            "note": note,
            "customer_note": True,
        },
        {
            "id": 9101,
            "author": "Sanne Bakker",
            "date_created_gmt": modified.strftime("%Y-%m-%dT%H:%M:%S"),
            "note": "Order status changed from Processing to On hold.",
            "customer_note": False,
        },
    ]

    async def scenario() -> None:
        async with ChatClient(assistant.rasa_url, make_customer_token(1002, SHOP_SECRET)) as chat:
            await chat.say("hallo")
            start = len(chat.received)
            accepted(assistant, "woocommerce", hooks.woocommerce(order))
            seconds = await chat.wait_for(
                lambda texts: any(note in t for t in texts), since=start, timeout=15
            )
            await asyncio.sleep(1.0)
            warning = "\n".join(chat.texts(start))
            assert seconds < 15
            assert "staat even stil" in warning
            assert "Sanne Bakker" in warning

    asyncio.run(scenario())


def test_a_sendcloud_failed_attempt_reaches_sam_in_english(assistant: RunningAssistant) -> None:
    payload = hooks.fixture("sendcloud", "parcel_status_changed_delivery_attempt_failed.json")
    payload["parcel"]["order_number"] = "10003"

    async def scenario() -> None:
        async with ChatClient(assistant.rasa_url, make_customer_token(1003, SHOP_SECRET)) as chat:
            await chat.say("hi")
            start = len(chat.received)
            accepted(assistant, "sendcloud", hooks.sendcloud(payload))
            seconds = await chat.wait_for(
                lambda texts: any("tried to deliver your parcel" in t for t in texts),
                since=start,
                timeout=15,
            )
            await asyncio.sleep(1.0)
            warning = "\n".join(chat.texts(start))
            assert seconds < 15
            assert "PostNL" in warning
            assert "Delivery attempt failed" in warning
            # "Where is my parcel?" names the carrier's event, not just "on its way".
            where = "\n".join(await chat.say("where is my parcel?"))
            assert "tried to deliver your parcel" in where, where

    asyncio.run(scenario())
