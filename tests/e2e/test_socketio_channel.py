"""The chat widget's way in: socket.io with the customer token in customData."""

from __future__ import annotations

import asyncio
import uuid

import socketio

from bot.identity import make_customer_token
from tests.e2e.conftest import SHOP_SECRET, RunningAssistant


async def converse(url: str, messages: list[str], token: str | None, wait: float = 20) -> list[str]:
    """Connect as rasa-webchat does, send each message, collect the bot's texts."""
    received: list[str] = []
    arrived = asyncio.Event()
    client = socketio.AsyncClient()

    @client.on("bot_uttered")
    async def on_bot_uttered(data: dict[str, object]) -> None:
        received.append(str(data.get("text") or ""))
        arrived.set()

    session_id = uuid.uuid4().hex
    await client.connect(url, socketio_path="/socket.io", transports=["websocket"])
    await client.emit("session_request", {"session_id": session_id})
    await asyncio.sleep(0.5)
    custom = {"customer_token": token} if token else {}
    for message in messages:
        arrived.clear()
        await client.emit(
            "user_uttered",
            {"message": message, "session_id": session_id, "customData": custom},
        )
        await asyncio.wait_for(arrived.wait(), timeout=wait)
        await asyncio.sleep(1.0)  # let the rest of this turn's messages arrive
    await client.disconnect()
    return received


def test_widget_customer_with_token_hears_the_gazelle_story(assistant: RunningAssistant) -> None:
    token = make_customer_token(1001, SHOP_SECRET)
    replies = asyncio.run(
        converse(assistant.rasa_url, ["wat is er gewijzigd aan mijn bestelling?"], token)
    )
    said = "\n".join(replies)
    assert "Gazelle" in said
    assert "productie" in said


def test_widget_visitor_without_token_is_asked_to_verify(assistant: RunningAssistant) -> None:
    replies = asyncio.run(converse(assistant.rasa_url, ["where is my order?"], None))
    said = "\n".join(replies)
    assert "order number" in said
    assert "Gazelle" not in said
