"""Which chat widgets are open, for the whole cluster: presence records in Redis.

With one Rasa instance the socket.io server's own rooms tell whether a
conversation has a widget open. With several, a widget is connected to one of
them and the notifier may ask another, so each instance writes its widgets into
Redis and every instance reads from there:

- one sorted set per conversation, `<prefix>:presence:<session_id>`, whose
  members are `<instance>:<socket id>` scored with the time they expire;
- `session_request` adds a member, `disconnect` removes it;
- every instance refreshes its own members every third of the TTL (a
  heartbeat), so the widgets of an instance that crashed (SIGKILL, power) stop
  counting after at most `ttl` seconds and nothing stays "connected" forever;
- a widget is open when its conversation has a member that has not expired.

Times are the writer's clock: the instances' clocks must agree to well within
the TTL (NTP does that). Redis keeps no personal data here: session ids only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class PresenceUnavailable(RuntimeError):
    """Redis did not answer: nobody can say whether the widget is open."""


class RedisPresence:
    def __init__(
        self,
        url: str,
        prefix: str,
        ttl_seconds: float,
        instance: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis: Any = aioredis.Redis.from_url(url, socket_timeout=5)
        self.prefix = prefix
        self.ttl = max(1.0, ttl_seconds)
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock = clock
        self.local: dict[str, str] = {}  # socket id -> session id, on this instance
        self._heartbeat: asyncio.Task[None] | None = None

    def key(self, session_id: str) -> str:
        return f"{self.prefix}:presence:{session_id}"

    def member(self, sid: str) -> str:
        return f"{self.instance}:{sid}"

    async def join(self, session_id: str, sid: str) -> None:
        """A widget on this instance asked for conversation `session_id`."""
        previous = self.local.get(sid)
        self.local[sid] = session_id
        self.start_heartbeat()
        try:
            if previous is not None and previous != session_id:
                await self.redis.zrem(self.key(previous), self.member(sid))
            await self._write({sid: session_id})
        except RedisError as error:
            # The widget still works; the next heartbeat writes it again.
            logger.warning("presence not recorded (%s)", type(error).__name__)

    async def leave(self, sid: str) -> None:
        session_id = self.local.pop(sid, None)
        if session_id is None:
            return
        try:
            await self.redis.zrem(self.key(session_id), self.member(sid))
        except RedisError as error:
            logger.warning("presence not removed (%s); it expires", type(error).__name__)

    async def is_connected(self, session_id: str) -> bool:
        now = self.clock()
        key = self.key(session_id)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.zcount(key, f"({now}", "+inf")
                _removed, count = await pipe.execute()
        except RedisError as error:
            raise PresenceUnavailable(type(error).__name__) from error
        return int(count) > 0

    async def refresh(self) -> None:
        """The heartbeat: this instance's widgets are still here."""
        if self.local:
            await self._write(dict(self.local))

    async def _write(self, widgets: dict[str, str]) -> None:
        expires = self.clock() + self.ttl
        async with self.redis.pipeline(transaction=False) as pipe:
            for sid, session_id in widgets.items():
                pipe.zadd(self.key(session_id), {self.member(sid): expires})
                # The whole record goes when no instance writes it any more.
                pipe.expire(self.key(session_id), int(self.ttl * 2) + 1)
            await pipe.execute()

    def start_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await self.refresh()
            except RedisError as error:
                logger.warning("presence heartbeat failed (%s)", type(error).__name__)

    async def close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        for sid in list(self.local):
            await self.leave(sid)
        await self.redis.close()
