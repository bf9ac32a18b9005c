"""Actions for testing the action server itself (tests/integration/test_action_server.py)."""

from __future__ import annotations

import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


class ActionSlowLookup(Action):
    """A synchronous action that waits, as a slow query or order API would."""

    def name(self) -> str:
        return "action_slow_lookup"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        time.sleep(3)
        dispatcher.utter_message(text="slow done")
        return []


class ActionQuick(Action):
    def name(self) -> str:
        return "action_quick"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=f"quick for {tracker.sender_id}")
        return []


class ActionAsyncQuick(Action):
    def name(self) -> str:
        return "action_async_quick"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="async done")
        return []


class ActionBroken(Action):
    def name(self) -> str:
        return "action_broken"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        raise RuntimeError(f"secret detail of {tracker.sender_id}")
