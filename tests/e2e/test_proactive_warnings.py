"""The assistant speaks first: warnings pushed live into an open chat, and
promises that are not kept are told without anyone asking."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import requests

from bot.clock import shop_today
from bot.dates import spoken_date
from bot.identity import make_customer_token
from tests.e2e.chat_client import ChatClient
from tests.e2e.conftest import ORDER_API_TOKEN, SHOP_SECRET, RunningAssistant


@pytest.fixture(scope="module", params=["sql", "http"])
def order_system(request: pytest.FixtureRequest) -> str:
    """Once against the demo shop, once against a separate shop behind the REST adapter."""
    return str(request.param)


def test_erik_hears_the_gazelle_delay_live_and_chooses(assistant: RunningAssistant) -> None:
    today = shop_today("Europe/Amsterdam")

    async def scenario() -> None:
        async with ChatClient(assistant.rasa_url, make_customer_token(1001, SHOP_SECRET)) as chat:
            await chat.say("hoi")  # the widget's customer is known from here on
            new_date = today + timedelta(days=24)
            start = len(chat.received)
            response = assistant.report_delay(
                {
                    "supplier": "Gazelle",
                    "new_date": new_date.isoformat(),
                    "reason_code": "production_problem",
                    "reason": "een onderdeel van het frame is afgekeurd",
                },
            )
            assert response.status_code == 202, response.text
            assert response.json()["order_ids"] == [10001]
            seconds = await chat.wait_for(
                lambda texts: any(spoken_date(new_date, "nl", today) in t for t in texts),
                since=start,
                timeout=10,
            )
            await asyncio.sleep(1.0)
            warning = "\n".join(chat.texts(start))
            assert seconds < 10
            assert "Gazelle" in warning
            assert "een onderdeel van het frame is afgekeurd" in warning
            assert "productie" in warning
            buttons = [
                b["title"]
                for item in chat.received[start:]
                for b in item.get("quick_replies") or item.get("buttons") or []
            ]
            assert "Ik wacht" in buttons and "Kosteloos annuleren" in buttons
            kept = "\n".join(await chat.say("wachten"))
            assert "blijft staan" in kept
            assert assistant.order_status(10001) == "changed"

            # A second delay; this time the customer cancels.
            start = len(chat.received)
            assert (
                assistant.report_delay(
                    {
                        "supplier": "Gazelle",
                        "delay_days": 3,
                        "reason_code": "supplier_delay",
                        "reason": "transport uit de fabriek vertraagd",
                    },
                ).status_code
                == 202
            )
            await chat.wait_for(
                lambda texts: any("transport uit de fabriek" in t for t in texts),
                since=start,
                timeout=10,
            )
            await asyncio.sleep(1.0)
            confirm = "\n".join(await chat.say("annuleren"))
            assert "annuleren?" in confirm
            assert assistant.order_status(10001) == "changed"
            done = "\n".join(await chat.say("ja"))
            assert "geannuleerd" in done
            assert assistant.order_status(10001) == "cancelled"
            if assistant.shop is not None:
                # The separate shop was asked, over HTTP: read, and told to cancel.
                asked = assistant.shop.api.faults.requests
                assert "GET /orders/10001" in asked and "POST /orders/10001/cancel" in asked

    asyncio.run(scenario())


def outbox(assistant: RunningAssistant) -> list[dict[str, object]]:
    response = requests.get(
        f"{assistant.web_url}/api/v1/outbox",
        headers={"Authorization": f"Bearer {ORDER_API_TOKEN}"},
        timeout=10,
    )
    response.raise_for_status()
    return list(response.json()["warnings"])


def test_a_closed_widget_gets_the_warning_when_it_opens_again(assistant: RunningAssistant) -> None:
    """Emma chatted, closed the page; the Abus delay waits for her return and
    reaches her as soon as her chat connects again, before she writes."""
    token = make_customer_token(1005, SHOP_SECRET)

    async def scenario() -> None:
        async with ChatClient(assistant.rasa_url, token) as first_visit:
            await first_visit.say("hi")
            session_id = first_visit.session_id
        response = assistant.report_delay(
            {
                "supplier": "Abus",
                "delay_days": 6,
                "reason_code": "supplier_out_of_stock",
                "reason": "the helmets in size M sold out at the factory",
            },
        )
        assert response.status_code == 202, response.text
        warning_id = response.json()["warning_ids"][0]
        deadline = asyncio.get_running_loop().time() + 15
        while True:
            status = {w["id"]: w["status"] for w in outbox(assistant)}.get(warning_id)
            if status == "unread" or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.3)
        assert status == "unread", "a push to a closed widget would have gone nowhere"
        async with ChatClient(assistant.rasa_url, token, session_id) as next_visit:
            seconds = await next_visit.wait_for(
                lambda texts: any("sold out at the factory" in t for t in texts), timeout=15
            )
            said = "\n".join(next_visit.texts())
            later = "\n".join(await next_visit.say("hello again"))
        assert "Abus" in said
        assert "the helmets in size M sold out at the factory" in said
        assert "sold out" not in later, "told once"
        assert {w["id"]: w["status"] for w in outbox(assistant)}[warning_id] == "sent"
        print(f"the warning reached Emma's reopened chat after {seconds:.1f}s")

    asyncio.run(scenario())


def test_anouks_broken_promise_is_told_without_any_intake(assistant: RunningAssistant) -> None:
    """The watcher found the promise for D-2 broken; Anouk hears it when she comes by."""
    token = make_customer_token(1002, SHOP_SECRET)
    today = shop_today("Europe/Amsterdam")
    said = "\n".join(assistant.say("anouk-visit", "hoi", token))
    assert "beloofd" in said
    assert spoken_date(today - timedelta(days=2), "nl", today) in said
    assert "TabletWereld" in said
    assert spoken_date(today + timedelta(days=9), "nl", today) in said
    # Told once: the next visit does not repeat it.
    again = "\n".join(assistant.say("anouk-visit-2", "hoi", token))
    assert "beloofd" not in again


def test_the_intake_api_needs_its_token_and_a_valid_body(assistant: RunningAssistant) -> None:
    url = f"{assistant.web_url}/api/v1/supplier-delays"
    assert requests.post(url, json={}, timeout=10).status_code == 401
    bad = requests.post(
        f"{assistant.web_url}/api/v1/orders/10001/events",
        json={"field": "promised_date", "new_value": "morgen"},
        headers={"Authorization": f"Bearer {ORDER_API_TOKEN}"},
        timeout=10,
    )
    assert bad.status_code == 422
    assert bad.json()["fields"]
    missing = requests.post(
        f"{assistant.web_url}/api/v1/orders/99999/events",
        json={"field": "status", "new_value": "processing"},
        headers={"Authorization": f"Bearer {ORDER_API_TOKEN}"},
        timeout=10,
    )
    assert missing.status_code == 404


def test_the_shop_registers_an_address_for_a_customer(assistant: RunningAssistant) -> None:
    url = f"{assistant.web_url}/api/v1/customers/1004/channels"
    auth = {"Authorization": f"Bearer {ORDER_API_TOKEN}"}
    body = {"channel": "telegram", "address": "987654321"}
    assert requests.put(url, json=body, timeout=10).status_code == 401
    wrong = requests.put(url, json={"channel": "fax", "address": "1"}, headers=auth, timeout=10)
    assert wrong.status_code == 422 and wrong.json()["fields"][0]["field"] == "channel"
    unknown = f"{assistant.web_url}/api/v1/customers/99999/channels"
    assert requests.put(unknown, json=body, headers=auth, timeout=10).status_code == 404
    done = requests.put(url, json=body, headers=auth, timeout=10)
    assert done.status_code == 200 and done.json()["channel"] == "telegram"
