"""Which widgets are open, across instances: presence records in a real Redis."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.presence import PresenceUnavailable, RedisPresence
from bot.processes import free_port
from tests.cluster.conftest import REDIS_URL


def test_a_widget_on_one_instance_is_seen_from_another_until_it_leaves(redis_prefix: str) -> None:
    async def scenario() -> list[bool]:
        on_b = RedisPresence(REDIS_URL, redis_prefix, 30, instance="b")
        on_a = RedisPresence(REDIS_URL, redis_prefix, 30, instance="a")
        try:
            seen = [await on_a.is_connected("erik-session")]
            await on_b.join("erik-session", "sid-1")
            seen.append(await on_a.is_connected("erik-session"))
            await on_b.join("erik-session", "sid-2")  # a second tab
            await on_b.leave("sid-1")
            seen.append(await on_a.is_connected("erik-session"))
            await on_b.leave("sid-2")
            seen.append(await on_a.is_connected("erik-session"))
            return seen
        finally:
            await on_a.close()
            await on_b.close()

    assert asyncio.run(scenario()) == [False, True, True, False]


def test_a_crashed_instances_widgets_stop_counting_after_the_ttl(redis_prefix: str) -> None:
    async def scenario() -> tuple[bool, bool, bool]:
        alive = RedisPresence(REDIS_URL, redis_prefix, 1.5, instance="alive")
        crashed = RedisPresence(REDIS_URL, redis_prefix, 1.5, instance="crashed")
        reader = RedisPresence(REDIS_URL, redis_prefix, 1.5, instance="reader")
        try:
            await alive.join("kept-open", "sid-a")
            await crashed.join("lost", "sid-c")
            # SIGKILL: no disconnect handler runs, no heartbeat follows.
            assert crashed._heartbeat is not None
            crashed._heartbeat.cancel()
            before = await reader.is_connected("lost")
            await asyncio.sleep(2.5)  # past the TTL; the live instance beat meanwhile
            return before, await reader.is_connected("lost"), await reader.is_connected("kept-open")
        finally:
            await alive.close()
            await reader.close()

    assert asyncio.run(scenario()) == (True, False, True)


def test_redis_down_is_said_not_guessed() -> None:
    async def scenario() -> None:
        presence = RedisPresence(f"redis://127.0.0.1:{free_port()}/0", "down", 30)
        try:
            await presence.is_connected("anyone")
        finally:
            await presence.close()

    with pytest.raises(PresenceUnavailable):
        asyncio.run(scenario())
