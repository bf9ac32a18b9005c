"""The socket.io message queue carries JSON only (CVE-2025-61765): a pickle
published on the channel runs nothing, and every feature of the queue still
works across instances. Real socket.io servers and clients, a real Redis."""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis
import socketio

from bot.channels.socketio_once import DeliveredInRedis, OnceRedisManager
from tests.cluster.conftest import REDIS_URL
from tests.socketio_servers import EVENT, ROOM, instance, settled, widget


class WritesAFile:
    """What an attacker publishes: unpickling it creates a file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (open, (self.path, "w"))


@pytest.fixture
def prefix(redis_prefix: str) -> str:
    return f"{redis_prefix}{uuid.uuid4().hex[:6]}"


def manager_on(prefix: str) -> Any:
    delivered = DeliveredInRedis(REDIS_URL, prefix)
    return lambda: OnceRedisManager(REDIS_URL, f"{prefix}:socketio", delivered)


def publish(channel: str, payload: bytes) -> int:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return int(client.publish(channel, payload))
    finally:
        client.close()


def test_a_pickle_on_the_queue_runs_nothing_and_the_queue_keeps_working(
    prefix: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    planted = tmp_path / "pwned"
    evil = pickle.dumps(
        {"method": "emit", "event": EVENT, "data": WritesAFile(str(planted)), "room": ROOM}
    )

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        make = manager_on(prefix)
        async with (
            instance(make) as a,
            instance(make) as b,
            widget(a.url) as on_a,
            widget(b.url) as on_b,  # a connection starts an instance's listener
        ):
            listeners = publish(f"{prefix}:socketio", evil)
            assert listeners == 2, "both instances listen on the channel"
            await asyncio.sleep(0.5)
            await a.emit(EVENT, {"text": "Je Gazelle komt later."}, room=ROOM)
            await settled(lambda: len(on_a) == 1 and len(on_b) == 1)
            return on_a, on_b

    with caplog.at_level(logging.WARNING, logger="bot.channels.socketio_once"):
        on_a, on_b = asyncio.run(scenario())
    assert not planted.exists(), "the pickle was unpickled"
    assert on_a == on_b == [{"text": "Je Gazelle komt later."}]
    dropped = [r for r in caplog.records if "not ours was dropped" in r.getMessage()]
    assert len(dropped) == 2  # one line per instance
    assert all(str(planted) not in r.getMessage() for r in caplog.records)


def test_what_goes_on_the_queue_is_json(prefix: str) -> None:
    async def scenario() -> list[Any]:
        listener = redis.asyncio.Redis.from_url(REDIS_URL)
        pubsub = listener.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(f"{prefix}:socketio")
        try:
            async with instance(manager_on(prefix)) as a:
                await a.emit(EVENT, {"text": "Hallo", "message_id": "warning-9.1"}, room=ROOM)
                await a.emit(EVENT, ("two", "arguments"), room=ROOM)
                seen: list[Any] = []
                for _ in range(40):
                    message = await pubsub.get_message(timeout=0.1)
                    if message is not None:
                        seen.append(json.loads(message["data"]))  # a pickle would raise
                    if len(seen) == 2:
                        break
                return seen
        finally:
            await pubsub.close()
            await listener.close()

    first, second = asyncio.run(scenario())
    assert first["method"] == "emit" and first["data"]["text"] == "Hallo"
    assert second["data"] == ["two", "arguments"]


def test_json_of_another_shape_is_dropped_and_ours_is_delivered(prefix: str) -> None:
    channel = f"{prefix}:socketio"

    async def scenario() -> list[Any]:
        async with instance(manager_on(prefix)) as a, widget(a.url) as received:
            publish(channel, b"[1, 2, 3]")
            publish(channel, b'{"method": "exec", "code": "print(1)"}')
            publish(channel, b"\xff\xfe not json")
            # What another instance publishes: plain JSON.
            message = {"method": "emit", "event": EVENT, "data": {"text": "Hallo"}}
            publish(channel, json.dumps({**message, "namespace": "/", "room": ROOM}).encode())
            await settled(lambda: len(received) == 1)
            await asyncio.sleep(0.3)
            return received

    assert asyncio.run(scenario()) == [{"text": "Hallo"}]


def test_several_arguments_callbacks_and_disconnect_cross_instances(prefix: str) -> None:
    """Rasa uses none of these today; the JSON queue keeps them working anyway."""

    async def scenario() -> tuple[list[Any], Any, bool]:
        make = manager_on(prefix)
        # A's widget starts A's listener, which hears the answer to its question.
        async with instance(make) as a, instance(make) as b, widget(a.url):
            client = socketio.AsyncClient()
            arguments: list[Any] = []

            @client.on("two")
            async def on_two(first: str, second: str) -> None:
                arguments.extend([first, second])

            @client.on("question")
            async def on_question(data: dict[str, Any]) -> str:
                return f"answer to {data['q']}"

            await client.connect(b.url, transports=["websocket"])
            await asyncio.sleep(0.2)
            sid_on_b = next(iter(b.manager.rooms["/"][ROOM]))
            answers: list[Any] = []
            await a.emit("two", ("een", "twee"), room=ROOM)
            await a.emit("question", {"q": "x"}, to=sid_on_b, callback=answers.append)
            await settled(lambda: len(arguments) == 2 and len(answers) == 1)
            await a.disconnect(sid_on_b)
            await settled(lambda: not client.connected)
            connected = client.connected
            if connected:
                await client.disconnect()
            return arguments, answers, connected

    arguments, answers, connected = asyncio.run(scenario())
    assert arguments == ["een", "twee"]
    assert answers == ["answer to x"]
    assert connected is False
