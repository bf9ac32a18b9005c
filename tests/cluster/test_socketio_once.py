"""A pushed warning's message reaches a conversation's widget once, whichever
instance emits its copies: real socket.io servers, real clients, a real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import socketio

from bot.channels.socketio_once import (
    DeliveredIds,
    DeliveredInMemory,
    DeliveredInRedis,
    OnceManager,
    OnceRedisManager,
)
from bot.processes import free_port
from tests.cluster.conftest import REDIS_URL
from tests.socketio_servers import EVENT, ROOM, instance, settled, widget

WARNING = {"text": "Je Gazelle komt later.", "message_id": "warning-7.1"}


@pytest.fixture
def prefix(redis_prefix: str) -> str:
    """This test's own keys (the module's prefix still deletes them afterwards)."""
    return f"{redis_prefix}{uuid.uuid4().hex[:6]}"


def redis_manager(prefix: str, delivered: DeliveredIds) -> Callable[[], socketio.AsyncManager]:
    return lambda: OnceRedisManager(REDIS_URL, f"{prefix}:socketio", delivered)


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(scenario())


def test_a_copy_emitted_on_another_instance_is_not_delivered_twice(prefix: str) -> None:
    """Instance A pushed the warning and died before its receipt; the retry
    through B emits it again. The widget on B shows it once."""

    async def scenario() -> list[dict[str, Any]]:
        delivered = DeliveredInRedis(REDIS_URL, prefix)
        async with (
            instance(redis_manager(prefix, delivered)) as a,
            instance(redis_manager(prefix, delivered)) as b,
            widget(b.url) as received,
        ):
            await a.emit(EVENT, WARNING, room=ROOM)
            await settled(lambda: len(received) == 1)
            await b.emit(EVENT, WARNING, room=ROOM)  # the retry's copy
            await a.emit(EVENT, {"text": "Wil je wachten?", "message_id": "warning-7.2"}, room=ROOM)
            await a.emit(EVENT, {"text": "Hallo"}, room=ROOM)
            await a.emit(EVENT, {"text": "Hallo"}, room=ROOM)  # no id: passes untouched
            await settled(lambda: len(received) == 4)
            await asyncio.sleep(0.3)  # time for a wrong fifth one to arrive
            return received

    received = run(scenario)
    assert all(set(m) == {"text"} for m in received), "the id never reaches the widget"
    assert [m["text"] for m in received] == [
        "Je Gazelle komt later.",
        "Wil je wachten?",
        "Hallo",
        "Hallo",
    ]


def test_a_widget_that_reconnected_to_another_instance_does_not_get_it_twice(
    prefix: str,
) -> None:
    """The widget was on A when A delivered it; A died, the widget is now on B,
    and the retry's copy reaches B."""

    async def scenario() -> tuple[int, int]:
        delivered = DeliveredInRedis(REDIS_URL, prefix)
        async with (
            instance(redis_manager(prefix, delivered)) as a,
            instance(redis_manager(prefix, delivered)) as b,
        ):
            async with widget(a.url) as on_a:
                await a.emit(EVENT, WARNING, room=ROOM)
                await settled(lambda: len(on_a) == 1)
            async with widget(b.url) as on_b:
                await b.emit(EVENT, WARNING, room=ROOM)
                await b.emit(EVENT, {"text": "Hallo"}, room=ROOM)
                await settled(lambda: len(on_b) == 1)
                await asyncio.sleep(0.3)
                return len(on_a), len(on_b)

    assert run(scenario) == (1, 1)


def test_an_instance_nobody_is_connected_to_does_not_use_up_the_id(prefix: str) -> None:
    """Every instance hears every emit; only the one that writes to a socket
    may mark the id delivered, or the widget would never get it."""

    async def scenario() -> int:
        delivered = DeliveredInRedis(REDIS_URL, prefix)
        async with (
            instance(redis_manager(prefix, delivered)) as a,
            instance(redis_manager(prefix, delivered)),
        ):
            await a.emit(EVENT, WARNING, room=ROOM)  # nobody connected anywhere
            await asyncio.sleep(0.3)
            async with widget(a.url) as received:
                await a.emit(EVENT, WARNING, room=ROOM)
                await settled(lambda: len(received) == 1)
                return len(received)

    assert run(scenario) == 1


def test_one_instance_remembers_in_memory() -> None:
    async def scenario() -> list[str]:
        async with (
            instance(lambda: OnceManager(DeliveredInMemory())) as only,
            widget(only.url) as received,
        ):
            await only.emit(EVENT, WARNING, room=ROOM)
            await only.emit(EVENT, WARNING, room=ROOM)
            await only.emit(EVENT, {"text": "Hallo"}, room=ROOM)
            await settled(lambda: len(received) == 2)
            await asyncio.sleep(0.3)
            return [m["text"] for m in received]

    assert run(scenario) == ["Je Gazelle komt later.", "Hallo"]


def test_redis_down_delivers_rather_than_loses() -> None:
    async def scenario() -> list[bool]:
        down = DeliveredInRedis(f"redis://127.0.0.1:{free_port()}/0", "down")
        return [await down.first_time(ROOM, "warning-7.1") for _ in range(2)]

    assert run(scenario) == [True, True]


def test_memory_forgets_the_oldest_beyond_its_size() -> None:
    async def scenario() -> list[bool]:
        memory = DeliveredInMemory(size=2)
        for message_id in ("a", "b", "c"):
            await memory.first_time(ROOM, message_id)
        return [await memory.first_time(ROOM, "a"), await memory.first_time(ROOM, "c")]

    assert run(scenario) == [True, False]
