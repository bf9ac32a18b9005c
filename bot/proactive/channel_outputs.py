"""The push channels' own outputs, run by the notifier: a warning it sends
itself reaches the platform exactly as one sent by Rasa would (the same
classes: the same payloads, receipts and message ids), without a Rasa turn.

The outputs are asynchronous (aiohttp, written for Rasa's event loop): they
run here on one event loop in a thread of their own, which the notifier's
delivery threads hand their sends to.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel
from rasa.shared.utils.common import class_from_module_path

from bot.channels.credentials import active_credentials, channel_name, filled_in
from bot.channels.platform_api import PlatformError
from bot.proactive.channels import SHOP_KNOWN_CHANNELS
from bot.proactive.rasa_api import PushFailed


class ChannelOutputs:
    def __init__(self, inputs: dict[str, InputChannel], timeout: float = 30.0) -> None:
        self.inputs = inputs  # by channel name (telegram, callback, ...)
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_credentials(
        cls, path: Path, environ: Mapping[str, str], channels: tuple[str, ...]
    ) -> ChannelOutputs:
        """The outputs of `channels` among those this run has (credentials.yml
        and the messaging channels whose variables are set). Never the chat
        widget's: its sockets are in Rasa's process alone."""
        inputs: dict[str, InputChannel] = {}
        for block_name, block in active_credentials(path, environ).items():
            name = channel_name(block_name)
            if name in channels and name in SHOP_KNOWN_CHANNELS:
                channel_class = class_from_module_path(block_name)
                inputs[name] = channel_class.from_credentials(filled_in(block or {}, environ))
        return cls(inputs)

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self.inputs)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                # Started on first use, never at import or construction.
                self._loop = asyncio.new_event_loop()
                threading.Thread(
                    target=self._loop.run_forever, name="channel-outputs", daemon=True
                ).start()
            return self._loop

    def send(self, channel: str, address: str, messages: list[dict[str, Any]]) -> None:
        """Send a turn's messages to `address` on `channel`, in order.
        PushFailed when the platform did not take them (tried again later)."""
        output = self.inputs[channel].get_output_channel()

        async def send_all() -> None:
            for message in messages:
                await output.send_response(address, dict(message))

        future = asyncio.run_coroutine_threadsafe(send_all(), self._running_loop())
        try:
            future.result(self.timeout)
        except PlatformError as error:
            raise PushFailed(str(error)) from error
        except FutureTimeout as error:
            future.cancel()
            raise PushFailed(f"{channel} did not answer in time") from error
        except Exception as error:  # noqa: BLE001 - a platform SDK's own errors (Slack's)
            raise PushFailed(f"{channel} refused the message: {type(error).__name__}") from error

    def close(self) -> None:
        """Close the platforms' connections and stop the loop."""
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is None:
            return
        for channel_input in self.inputs.values():
            client = getattr(channel_input, "api", None) or getattr(channel_input, "client", None)
            if client is not None and hasattr(client, "close"):
                asyncio.run_coroutine_threadsafe(client.close(), loop).result(self.timeout)
        loop.call_soon_threadsafe(loop.stop)
