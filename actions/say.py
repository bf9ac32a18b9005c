"""Saying what a use case returns (bot/usecases/said.py) through Rasa."""

from __future__ import annotations

from collections.abc import Iterable

from rasa_sdk.executor import CollectingDispatcher

from bot.usecases.said import Message


def say(dispatcher: CollectingDispatcher, messages: Iterable[Message]) -> None:
    for message in messages:
        if message.custom is not None:
            dispatcher.utter_message(json_message=message.custom, **message.extra)
        elif message.text:
            buttons = [{"title": b.title, "payload": b.payload} for b in message.buttons]
            dispatcher.utter_message(text=message.text, buttons=buttons, **message.extra)
