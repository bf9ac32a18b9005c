"""The widget's message queue and presence records through a Redis that wants
a password (a second, real redis-server with --requirepass), and what a wrong
password does: a clear error at start-up, a log line, never a tight loop."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis.asyncio.connection import SSLConnection

from bot.channels.presence import PresenceUnavailable, RedisPresence
from bot.channels.redis_url import RedisRefused, check_redis, without_password
from bot.channels.socketio_once import DeliveredInRedis, OnceRedisManager
from bot.processes import free_port
from tests.socketio_servers import EVENT, ROOM, instance, settled, widget

PASSWORD = "queue-pw-7f3a9c"
WARNING = {"text": "Je Gazelle komt later.", "message_id": "warning-7.1"}


@pytest.fixture(scope="module")
def guarded_redis() -> Iterator[int]:
    """A redis-server of this module's own that wants PASSWORD: its port."""
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--requirepass", PASSWORD]
        + ["--save", "", "--appendonly", "no", "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port, password=PASSWORD, socket_connect_timeout=1)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("the password-protected redis-server did not start")
        client.close()
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def url(port: int, password: str = PASSWORD, user: str = "") -> str:
    return f"redis://{user}:{password}@127.0.0.1:{port}/0"


def managers(queue_url: str) -> Any:
    delivered = DeliveredInRedis(queue_url, "pw")
    return lambda: OnceRedisManager(queue_url, "pw:socketio", delivered)


@pytest.mark.parametrize("user", ["", "default"], ids=["password only", "acl user"])
def test_the_queue_and_its_once_delivery_work_through_a_password(
    guarded_redis: int, user: str
) -> None:
    queue_url = url(guarded_redis, user=user)
    check_redis(queue_url, "SOCKETIO_MESSAGE_QUEUE")  # accepted: no error

    async def scenario() -> list[dict[str, Any]]:
        make = managers(queue_url)
        async with instance(make) as a, instance(make) as b, widget(b.url) as received:
            await a.emit(EVENT, {**WARNING, "message_id": f"warning-{user}"}, room=ROOM)
            await b.emit(EVENT, {**WARNING, "message_id": f"warning-{user}"}, room=ROOM)
            await settled(lambda: len(received) == 1)
            await asyncio.sleep(0.3)  # time for a wrong second copy
            return received

    assert asyncio.run(scenario()) == [{"text": "Je Gazelle komt later."}]


def test_presence_works_through_a_password(guarded_redis: int) -> None:
    async def scenario() -> list[bool]:
        on_a = RedisPresence(url(guarded_redis), "pw", 30, instance="a")
        on_b = RedisPresence(url(guarded_redis), "pw", 30, instance="b")
        try:
            await on_b.join("erik-session", "sid-1")
            seen = [await on_a.is_connected("erik-session")]
            await on_b.leave("sid-1")
            return [*seen, await on_a.is_connected("erik-session")]
        finally:
            await on_a.close()
            await on_b.close()

    assert asyncio.run(scenario()) == [True, False]


def test_a_wrong_password_stops_the_start_with_the_setting_named(guarded_redis: int) -> None:
    wrong = url(guarded_redis, "not-the-password")
    with pytest.raises(RedisRefused) as refused:
        check_redis(wrong, "SOCKETIO_MESSAGE_QUEUE")
    said = str(refused.value)
    assert "SOCKETIO_MESSAGE_QUEUE" in said and "refused the credentials" in said
    assert "not-the-password" not in said
    with pytest.raises(RedisRefused):
        check_redis(f"redis://127.0.0.1:{guarded_redis}/0", "SOCKETIO_MESSAGE_QUEUE")


def test_redis_down_at_start_is_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.channels.redis_url"):
        check_redis(url(free_port()), "SOCKETIO_MESSAGE_QUEUE")
    assert "not reachable at start-up" in caplog.text
    assert PASSWORD not in caplog.text


def test_a_wrong_password_is_said_by_presence_and_the_queue(
    guarded_redis: int, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = url(guarded_redis, "not-the-password")

    async def scenario() -> tuple[str, list[dict[str, Any]], bool]:
        presence = RedisPresence(wrong, "pw", 30)
        try:
            with pytest.raises(PresenceUnavailable) as unknown:
                await presence.is_connected("anyone")
        finally:
            await presence.close()
        delivered = DeliveredInRedis(wrong, "pw")
        # Unknown whether delivered: a second copy beats a lost warning.
        first = await delivered.first_time(ROOM, "warning-1")
        make = managers(wrong)
        async with instance(make) as a, instance(make) as b, widget(b.url) as received:
            await a.emit(EVENT, {"text": "Hallo"}, room=ROOM)
            await asyncio.sleep(0.5)
            return str(unknown.value), received, first

    with caplog.at_level(logging.WARNING):
        unknown, received, first = asyncio.run(scenario())
    assert unknown == "AuthenticationError"
    assert received == [] and first is True
    listening = [r.getMessage() for r in caplog.records if "listening again" in r.getMessage()]
    assert listening and "refused the credentials" in listening[0]
    assert len(listening) <= 2, "a backoff, not a tight loop"
    assert "not-the-password" not in caplog.text


def test_rediss_and_the_password_reach_every_client() -> None:
    """No TLS Redis here: the clients are built, nothing connects."""
    secure = "rediss://shop:s3cret@redis.internal:6380/2"
    presence = RedisPresence(secure, "p", 30)
    clients = {
        "queue": OnceRedisManager(secure, "p:socketio", DeliveredInRedis(secure, "p")).redis,
        "delivered": DeliveredInRedis(secure, "p").redis,
        "presence": presence.redis,
    }
    for name, client in clients.items():
        pool = client.connection_pool
        assert pool.connection_class is SSLConnection, name
        assert pool.connection_kwargs["password"] == "s3cret", name
        assert pool.connection_kwargs["username"] == "shop", name
        assert pool.connection_kwargs["host"] == "redis.internal", name
        assert pool.connection_kwargs["db"] == 2, name
    assert without_password(secure) == "rediss://shop:***@redis.internal:6380/2"
    assert without_password("redis://:pw@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert without_password("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


async def _ignore(_message: Any) -> None:
    return None


def test_the_widget_channel_does_not_start_on_a_refused_password(
    guarded_redis: int, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.channels.webchat import WebchatInput

    monkeypatch.setenv("SOCKETIO_MESSAGE_QUEUE", url(guarded_redis, "not-the-password"))
    with pytest.raises(RedisRefused, match="SOCKETIO_MESSAGE_QUEUE"):
        WebchatInput.from_credentials({"session_persistence": True}).blueprint(_ignore)
    monkeypatch.setenv("SOCKETIO_MESSAGE_QUEUE", url(guarded_redis))
    channel = WebchatInput.from_credentials({"session_persistence": True})
    channel.blueprint(_ignore)
    assert isinstance(channel.sio.manager if channel.sio else None, OnceRedisManager)
