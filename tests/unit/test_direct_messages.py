"""A warning the notifier sends itself reaches the channel as the very
message Rasa would have handed it (bot/proactive/direct.py), and the person
taking over reads it in its place in the conversation."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

import pytest
from rasa.core.actions.action import RemoteAction
from rasa_sdk.executor import CollectingDispatcher

from actions.say import say
from bot.channels.credentials import filled_in
from bot.channels.receipts import AGAIN_KEY, WARNING_KEY
from bot.handoff.conversation import with_warnings_sent
from bot.handoff.queue import Said
from bot.proactive.direct import channel_messages
from bot.usecases.said import Button, Message


def through_rasa(message: Message) -> list[dict[str, Any]]:
    """The action's dispatcher, then Rasa's own handling of its answer."""
    dispatcher = CollectingDispatcher()
    say(dispatcher, [message])
    uttered = asyncio.run(RemoteAction._utter_responses(dispatcher.messages, None, None, None))
    return [event.message() for event in uttered]


def without_time(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in m.items() if k != "timestamp"} for m in messages]


@pytest.mark.parametrize(
    "message",
    [
        Message(
            "Je Gazelle komt later.\n\nWat wil je doen?",
            (Button("Wachten", '/keep_order{"order_number": "10001"}'),),
            extra={WARNING_KEY: 7, AGAIN_KEY: False},
        ),
        Message("Alleen tekst", extra={WARNING_KEY: 8, AGAIN_KEY: True}),
        Message(custom={"template": "order_update", "values": ["x"]}, extra={WARNING_KEY: 9}),
        Message(extra={WARNING_KEY: 10}),
    ],
)
def test_the_channel_gets_what_rasa_would_have_given_it(message: Message) -> None:
    assert without_time(channel_messages(message)) == without_time(through_rasa(message))


def test_the_warnings_sent_take_their_place_in_the_conversation() -> None:
    at = datetime(2026, 11, 28, 12, 0)  # naive UTC, as the memory keeps it
    unix = at.replace(tzinfo=timezone.utc).timestamp()
    said = [Said("customer", "hoi", unix - 60), Said("customer", "annuleren", unix + 60)]
    merged = with_warnings_sent(said, [(at, "Je Gazelle komt later.")])
    assert [line.text for line in merged] == ["hoi", "Je Gazelle komt later.", "annuleren"]
    assert merged[1].who == "assistant"


def test_credentials_are_filled_in_from_the_environment_as_rasa_fills_them() -> None:
    block = {"url": "${CALLBACK_URL}", "headers": {"x": "a-${MISSING}-b"}, "n": 3}
    assert filled_in(block, {"CALLBACK_URL": "http://shop/bot"}) == {
        "url": "http://shop/bot",
        "headers": {"x": "a--b"},
        "n": 3,
    }
