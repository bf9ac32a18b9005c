"""The chat widget's socket.io server delivers a message id to a conversation once.

A pushed warning's messages carry an id that is the same in every copy
(bot/channels/receipts.py). A second copy exists only when a Rasa instance died
after sending the first and before writing its receipt; the notifier's retry,
through another instance, then sends it again. The instance the widget is
connected to drops that copy here, just before writing to the widget's socket:
the one place where "delivered" is known, and a crash there takes the socket
with it.

Which ids a conversation (a socket.io room) got is kept in Redis when the
instances share a message queue, so that it survives the widget reconnecting to
another instance (nginx keeps one browser on one instance while it lives), and
in memory with one instance. The id is taken off before the message reaches
the widget. Messages without an id (answers, staff replies) pass untouched.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any, Protocol

import socketio
from redis import asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

MESSAGE_ID = "message_id"
# Long past the notifier's last retry of a warning.
REMEMBER_SECONDS = 3 * 24 * 3600


class DeliveredIds(Protocol):
    async def first_time(self, room: str, message_id: str) -> bool:
        """Marks the id delivered to the room; False when it was already."""


class DeliveredInMemory:
    """One instance: the ids of the last `size` messages delivered."""

    def __init__(self, size: int = 10_000, seconds: float = REMEMBER_SECONDS) -> None:
        self.size, self.seconds = size, seconds
        self.delivered: OrderedDict[tuple[str, str], float] = OrderedDict()

    async def first_time(self, room: str, message_id: str) -> bool:
        now = time.monotonic()
        key = (room, message_id)
        if now - self.delivered.get(key, -self.seconds) < self.seconds:
            return False
        self.delivered[key] = now
        self.delivered.move_to_end(key)
        while len(self.delivered) > self.size:
            self.delivered.popitem(last=False)
        return True


class DeliveredInRedis:
    """Several instances: one key per delivered id, `<prefix>:delivered:<room>:<id>`."""

    def __init__(self, url: str, prefix: str, seconds: int = REMEMBER_SECONDS) -> None:
        self.redis: Any = aioredis.Redis.from_url(url, socket_timeout=5)
        self.prefix, self.seconds = prefix, seconds

    async def first_time(self, room: str, message_id: str) -> bool:
        key = f"{self.prefix}:delivered:{room}:{message_id}"
        try:
            return bool(await self.redis.set(key, 1, nx=True, ex=self.seconds))
        except RedisError as error:
            # Unknown: a second copy beats a lost warning.
            logger.warning("delivered ids unavailable: %s", type(error).__name__)
            return True


async def _deliverable(
    manager: socketio.AsyncManager,
    delivered: DeliveredIds,
    data: Any,
    namespace: str | None,
    room: str | None,
) -> tuple[bool, Any]:
    """Whether this instance writes the message to its sockets in the room, and
    the message as they get it: without the id, which the widget does not know
    (rasa-webchat shows a text only when it has no other keys than its own)."""
    if not isinstance(data, dict) or MESSAGE_ID not in data:
        return True, data
    message_id = str(data[MESSAGE_ID])
    data = {key: value for key, value in data.items() if key != MESSAGE_ID}
    if not room or not manager.rooms.get(namespace or "/", {}).get(room):
        return True, data  # nobody in the room here: nothing is written, nothing to remember
    if await delivered.first_time(room, message_id):
        return True, data
    logger.info("message %s delivered before to this conversation: dropped", message_id)
    return False, data


class OnceManager(socketio.AsyncManager):
    """One instance's client manager."""

    def __init__(self, delivered: DeliveredIds) -> None:
        super().__init__()
        self.delivered = delivered

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: str | None = None,
        skip_sid: Any = None,
        callback: Any = None,
        **kwargs: Any,
    ) -> None:
        deliver, data = await _deliverable(self, self.delivered, data, namespace, room)
        if deliver:
            await super().emit(event, data, namespace, room, skip_sid, callback, **kwargs)


class OnceRedisManager(socketio.AsyncRedisManager):
    """A client manager on the shared message queue: every instance hears every
    emit and writes it to its own sockets (`_handle_emit`); that is where a copy
    is dropped."""

    def __init__(self, url: str, channel: str, delivered: DeliveredIds) -> None:
        super().__init__(url, channel=channel)
        self.delivered = delivered

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        deliver, data = await _deliverable(
            self, self.delivered, message.get("data"), message.get("namespace"), message.get("room")
        )
        if deliver:
            await super()._handle_emit({**message, "data": data})


def use_manager(sio: socketio.AsyncServer, manager: socketio.AsyncManager) -> None:
    """Give a socket.io server that no client has connected to yet another client manager."""
    manager.set_server(sio)
    sio.manager = manager
    sio.manager_initialized = False
