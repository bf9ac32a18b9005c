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

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any, Protocol

import socketio
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from bot.channels.redis_url import refused

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


# What travels on the shared queue: python-socketio's own four kinds of message.
QUEUE_METHODS = frozenset({"emit", "callback", "disconnect", "close_room"})
# An emit whose data is a tuple sends its items as separate arguments; JSON
# has no tuples, so such a message says so.
_ARGUMENTS = "data_is_arguments"


def encode_message(message: dict[str, Any]) -> bytes:
    """A queue message as JSON (never a pickle: CVE-2025-61765). Data that JSON
    cannot carry raises TypeError, so that the emit fails where it was made."""
    if message.get("method") == "emit" and isinstance(message.get("data"), tuple):
        message = {**message, "data": list(message["data"]), _ARGUMENTS: True}
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode("utf-8")


def decode_message(raw: Any) -> dict[str, Any] | None:
    """The message published on the queue, or None for anything that is not one
    of ours in JSON: a pickle, other bytes, JSON of another shape."""
    if not isinstance(raw, (bytes, str)):
        return None
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    if not isinstance(message, dict) or message.get("method") not in QUEUE_METHODS:
        return None
    if message.pop(_ARGUMENTS, False) is True and isinstance(message.get("data"), list):
        message["data"] = tuple(message["data"])
    return message


class OnceRedisManager(socketio.AsyncRedisManager):
    """A client manager on the shared message queue: every instance hears every
    emit and writes it to its own sockets (`_handle_emit`); that is where a copy
    is dropped.

    python-socketio 5.9 pickles what it publishes and unpickles every message it
    reads (CVE-2025-61765, fixed in 5.14, which Rasa 3.6 cannot use): whoever can
    publish on the channel would run code in every instance. Here messages go
    out as JSON (`_publish`) and `_listen` hands the library's reader only the
    dicts decoded from JSON: the reader unpickles only what is not a dict, so
    nothing reaches `pickle.loads`. Anything else is dropped with one log line.

    The password and TLS come from the URL (`redis://:pw@host/0`, `rediss://`);
    a refused password is logged and retried with a backoff instead of the
    library's tight loop of tracebacks.
    """

    def __init__(self, url: str, channel: str, delivered: DeliveredIds) -> None:
        super().__init__(url, channel=channel, redis_options={"socket_connect_timeout": 5})
        self.delivered = delivered

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        deliver, data = await _deliverable(
            self, self.delivered, message.get("data"), message.get("namespace"), message.get("room")
        )
        if deliver:
            await super()._handle_emit({**message, "data": data})

    async def _publish(self, data: dict[str, Any]) -> Any:
        try:
            payload = encode_message(data)
        except (TypeError, ValueError) as error:
            method = data.get("method")
            logger.error("socket.io queue: a %s message is not JSON (%s)", method, error)
            raise TypeError("socket.io queue messages must be JSON") from error
        for attempt in (1, 2):
            try:
                if attempt == 2:
                    self._redis_connect()
                return await self.redis.publish(self.channel, payload)
            except RedisError as error:
                logger.error(
                    "socket.io queue: publish failed (%s)%s",
                    type(error).__name__,
                    ", retrying" if attempt == 1 else ", giving up",
                )
        return None

    async def _listen(self) -> AsyncIterator[dict[str, Any]]:
        channel = self.channel.encode("utf-8")
        pause = 1.0
        while True:
            try:
                await self.pubsub.subscribe(self.channel)
                pause = 1.0
                async for raw in self.pubsub.listen():
                    if raw.get("type") != "message" or raw.get("channel") != channel:
                        continue
                    message = decode_message(raw.get("data"))
                    if message is None:
                        # Not a word of the payload: it may be an attacker's.
                        logger.warning("socket.io queue: a message that is not ours was dropped")
                        continue
                    yield message
            except RedisError as error:
                why = "refused the credentials" if refused(error) else "unavailable"
                logger.error(
                    "socket.io queue: Redis %s (%s), listening again in %.0f s",
                    why,
                    type(error).__name__,
                    pause,
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 60.0)
                await self._reconnect()

    async def _reconnect(self) -> None:
        with contextlib.suppress(RedisError):
            await self.pubsub.reset()  # the old connection goes back
        self._redis_connect()


def use_manager(sio: socketio.AsyncServer, manager: socketio.AsyncManager) -> None:
    """Give a socket.io server that no client has connected to yet another client manager."""
    manager.set_server(sio)
    sio.manager = manager
    sio.manager_initialized = False
