"""A socket.io chat client that behaves like rasa-webchat, for the tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import socketio


class ChatClient:
    """Connects like rasa-webchat: session_request, then user_uttered with customData."""

    def __init__(self, url: str, token: str | None = None, session_id: str | None = None) -> None:
        self.url = url
        self.token = token
        # The widget keeps its session id across visits (local storage).
        self.session_id = session_id or uuid.uuid4().hex
        self.received: list[dict[str, Any]] = []
        self.client = socketio.AsyncClient()
        self.client.on("bot_uttered", self._on_bot_uttered)

    async def _on_bot_uttered(self, data: dict[str, Any]) -> None:
        self.received.append(data)

    async def __aenter__(self) -> ChatClient:
        await self.client.connect(self.url, socketio_path="/socket.io", transports=["websocket"])
        await self.client.emit("session_request", {"session_id": self.session_id})
        await asyncio.sleep(0.3)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.client.disconnect()

    async def say(self, message: str, settle: float = 1.0, wait: float = 20) -> list[str]:
        """Send a message; the texts that came back for it."""
        start = len(self.received)
        custom = {"customer_token": self.token} if self.token else {}
        await self.client.emit(
            "user_uttered",
            {"message": message, "session_id": self.session_id, "customData": custom},
        )
        await self.wait_for(lambda texts: bool(texts), since=start, timeout=wait)
        await asyncio.sleep(settle)  # the rest of this turn's messages
        return self.texts(since=start)

    def texts(self, since: int = 0) -> list[str]:
        return [str(item.get("text") or "") for item in self.received[since:]]

    async def wait_for(
        self, predicate: Callable[[list[str]], bool], since: int = 0, timeout: float = 10
    ) -> float:
        """Seconds until the texts since `since` satisfy `predicate` (TimeoutError otherwise)."""
        started = time.monotonic()
        while not predicate(self.texts(since)):
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"nothing matching after {timeout}s: {self.texts(since)}")
            await asyncio.sleep(0.1)
        return time.monotonic() - started
