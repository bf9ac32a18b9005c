"""Calls from Rasa to a messaging platform's API (Telegram, Twilio, the shop's
callback endpoint): one client
per channel, its timeout and its errors in one place.

aiohttp, not requests: these calls run inside Rasa's event loop, where a
blocking call would stall every other conversation.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)


class PlatformError(RuntimeError):
    """The platform did not take the message. Raised into Rasa, so a pushed
    warning's trigger_intent fails and the notifier tries again later."""


class PlatformClient:
    def __init__(
        self,
        name: str,
        base_url: str,
        timeout: float = 10.0,
        auth: aiohttp.BasicAuth | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.auth = auth
        self.headers = headers or {}
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running loop (never at import or start-up).
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout, auth=self.auth, headers=self.headers
            )
        return self._session

    async def post(
        self, path: str, *, json: dict[str, Any] | None = None, form: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """POST to the API (`path` "" is the base address itself); its JSON
        answer. PlatformError when it is not a success."""
        url = f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url
        try:
            async with self._client().post(url, json=json, data=form) as response:
                body = await response.text()
                if response.status >= 400:
                    # The platform's error text names the problem; it holds no message content.
                    raise PlatformError(f"{self.name} answered {response.status}: {body[:300]}")
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = {}
                return answer if isinstance(answer, dict) else {}
        except aiohttp.ClientError as error:
            raise PlatformError(f"{self.name} unreachable: {type(error).__name__}") from error
        except asyncio.TimeoutError as error:
            raise PlatformError(f"{self.name} did not answer in time") from error

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
