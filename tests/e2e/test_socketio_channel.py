"""The chat widget's way in: socket.io with the customer token in customData."""

from __future__ import annotations

import asyncio

from bot.identity import make_customer_token
from tests.e2e.chat_client import ChatClient
from tests.e2e.conftest import SHOP_SECRET, RunningAssistant


async def converse(url: str, messages: list[str], token: str | None) -> list[str]:
    async with ChatClient(url, token) as chat:
        for message in messages:
            await chat.say(message)
        return chat.texts()


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
