"""A customer's deadline and making up for a delay, with the real assistant over REST."""

from __future__ import annotations

import uuid
from typing import Any

import requests
from sqlalchemy import create_engine, text

from bot.identity import make_customer_token
from tests.e2e.conftest import SHOP_SECRET, RunningAssistant


def ask(
    assistant: RunningAssistant, sender: str, message: str, customer: int
) -> list[dict[str, Any]]:
    response = requests.post(
        f"{assistant.rasa_url}/webhooks/rest/webhook",
        json={
            "sender": sender,
            "message": message,
            "metadata": {"customer_token": make_customer_token(customer, SHOP_SECRET)},
        },
        timeout=30,
    )
    response.raise_for_status()
    return list(response.json())


def said(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(reply.get("text") or "") for reply in replies)


def payloads(replies: list[dict[str, Any]]) -> list[str]:
    return [button["payload"] for reply in replies for button in reply.get("buttons") or []]


def compensations(assistant: RunningAssistant, order_id: int) -> list[tuple[str, str]]:
    engine = create_engine(assistant.env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT rule, status FROM compensations WHERE order_id = :o"), {"o": order_id}
            )
            return [(str(rule), str(status)) for rule, status in rows]
    finally:
        engine.dispose()


def test_erik_needs_the_bike_on_saturday_for_his_wedding(assistant: RunningAssistant) -> None:
    sender = f"e2e-{uuid.uuid4().hex[:10]}"
    replies = ask(assistant, sender, "ik heb hem zaterdag nodig voor mijn bruiloft", 1001)
    answer = said(replies)
    # Promised in 10 days: Saturday is too late, said plainly, with what we can do.
    assert "voor je bruiloft" in answer and "te laat" in answer
    assert "alternatief" in answer and "collega" in answer
    assert '/choose_alternative{"order_number": "10001"}' in payloads(replies)
    assert "/request_human" in payloads(replies)
    # The alternative, from its button: a colleague looks, with a time to hear back by.
    chosen = said(ask(assistant, sender, '/choose_alternative{"order_number": "10001"}', 1001))
    assert "alternatief" in chosen and "uiterlijk" in chosen


def test_sam_needs_the_cufflinks_tomorrow(assistant: RunningAssistant) -> None:
    sender = f"e2e-{uuid.uuid4().hex[:10]}"
    answer = said(ask(assistant, sender, "I need them by tomorrow for my wedding", 1003))
    assert "for your wedding" in answer and "too late" in answer
    assert "colleague" in answer


def test_a_delay_of_a_week_gives_the_maintenance_service_once(
    assistant: RunningAssistant,
) -> None:
    sender = f"e2e-{uuid.uuid4().hex[:10]}"
    first = ask(assistant, sender, "wat is er gewijzigd aan mijn bestelling?", 1001)
    assert "gratis onderhoudsbeurt" in said(first)
    [accept] = [p for p in payloads(first) if p.startswith("/accept_compensation")]
    again = said(ask(assistant, sender, "waarom is mijn fiets te laat?", 1001))
    assert "Gazelle" in again and "onderhoudsbeurt" not in again
    assert compensations(assistant, 10001) == [("maintenance_voucher", "offered")]
    taken = said(ask(assistant, sender, accept, 1001))
    assert "staat op je naam" in taken
    assert compensations(assistant, 10001) == [("maintenance_voucher", "accepted")]
