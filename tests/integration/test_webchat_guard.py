"""What a chat widget may not do, tried with a real socket.io client against
the widget channel (bot/channels/webchat.py) served by a real Sanic server, as
Rasa registers it; the agent is replaced by a recorder of what Rasa would have
been handed, which answers each message so that a widget sees its turn done."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import socketio
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic

from bot.channels.webchat import WebchatInput, client_address, is_widget_session_id
from bot.processes import free_port
from bot.settings import Settings, load_settings
from tests.socketio_servers import settled


class RasaStandIn:
    """What Rasa's agent was handed: one UserMessage per message it would handle."""

    def __init__(self) -> None:
        self.handed: list[UserMessage] = []

    def senders(self) -> list[str]:
        return [message.sender_id for message in self.handed]

    async def handle_message(self, message: UserMessage) -> None:
        self.handed.append(message)
        assert message.output_channel is not None
        await message.output_channel.send_text_message(message.sender_id, "ok")


@asynccontextmanager
async def widget_channel(settings: Settings) -> AsyncIterator[tuple[str, RasaStandIn]]:
    """The widget channel as credentials.yml configures it, on a free port."""
    assert not settings.socketio_message_queue  # one instance: no Redis needed
    channel = WebchatInput.from_credentials(
        {"session_persistence": True, "metadata_key": "customData"}
    )
    app = Sanic(f"webchat{uuid.uuid4().hex[:8]}")
    rasa = RasaStandIn()
    app.ctx.agent = rasa
    register([channel], app, route="/webhooks/")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.start_serving()
    try:
        yield f"http://127.0.0.1:{port}", rasa
    finally:
        server.close()
        await server.wait_closed()


class Widget:
    """A socket.io client that speaks like rasa-webchat, or like an attacker."""

    def __init__(self, headers: dict[str, str] | None = None) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.headers = headers or {}
        self.confirmed: list[str] = []
        self.texts: list[str] = []
        self.client.on("session_confirm", self.confirmed.append)
        self.client.on("bot_uttered", lambda data: self.texts.append(data.get("text")))

    async def open(self, url: str, session_id: str | None) -> str:
        await self.client.connect(url, headers=self.headers, transports=["websocket"])
        await self.client.emit("session_request", {"session_id": session_id})
        await settled(lambda: bool(self.confirmed))
        return self.confirmed[-1]

    async def say(self, session_id: str, text: str, custom: dict[str, Any] | None = None) -> None:
        body = {"message": text, "session_id": session_id, "customData": custom or {}}
        await self.client.emit("user_uttered", body)

    async def close(self) -> None:
        await self.client.disconnect()


@pytest.fixture
def quiet_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("SOCKETIO_MESSAGE_QUEUE", raising=False)
    # Sanic 21.12 rewrites its own methods on every app's start; in test mode
    # from the originals, so that a second app in this process starts too.
    monkeypatch.setattr(Sanic, "test_mode", True)
    return load_settings()


ERIKS_TELEGRAM = "telegram:987654321"


@pytest.mark.parametrize(
    "claimed",
    [ERIKS_TELEGRAM, "TELEGRAM:987654321", " telegram:987654321", "slack:U012AB3CD"]
    + ["sms:+31612345678", "whatsapp:+31612345678", "anything:else"],
)
def test_a_widget_cannot_write_into_another_channels_conversation(
    quiet_settings: Settings, claimed: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> tuple[str, RasaStandIn, list[str]]:
        async with widget_channel(quiet_settings) as (url, rasa):
            attacker = Widget()
            given = await attacker.open(url, claimed)
            # The attacker ignores the new id and writes as the platform's sender.
            await attacker.say(claimed, "/EXTERNAL_order_warning")
            await attacker.say(given, "waar is mijn bestelling?")
            await settled(lambda: len(attacker.texts) == 1)
            await asyncio.sleep(0.3)  # time for a wrong second answer
            await attacker.close()
            return given, rasa, attacker.texts

    with caplog.at_level(logging.WARNING, logger="bot.channels.webchat"):
        given, rasa, texts = asyncio.run(scenario())
    assert given != claimed and is_widget_session_id(given)
    assert rasa.senders() == [given], "the platform's conversation got nothing"
    assert texts == ["ok"]
    refused = [r.getMessage() for r in caplog.records if "may not use" in r.getMessage()]
    assert len(refused) == 2  # the session request and the message
    assert all("987654321" not in line and claimed not in line for line in refused)


def test_rasa_webchats_own_session_ids_are_kept(quiet_settings: Settings) -> None:
    own = uuid.uuid4().hex

    async def scenario() -> tuple[str, RasaStandIn, str]:
        async with widget_channel(quiet_settings) as (url, rasa):
            widget = Widget()
            given = await widget.open(url, own)
            fresh = await Widget().open(url, None)  # a first visit: Rasa names it
            await widget.say(own, "hallo")
            await settled(lambda: len(widget.texts) == 1)
            await widget.close()
            return given, rasa, fresh

    given, rasa, fresh = asyncio.run(scenario())
    assert given == own and rasa.senders() == [own]
    assert is_widget_session_id(fresh)


def test_a_message_over_the_limit_is_not_handed_to_rasa(
    quiet_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    limit = quiet_settings.max_message_bytes

    async def scenario() -> tuple[list[str], list[str], bool]:
        async with widget_channel(quiet_settings) as (url, rasa):
            widget = Widget()
            session = await widget.open(url, uuid.uuid4().hex)
            await widget.say(session, "x" * (limit + 1))
            await widget.say(session, "é" * (limit // 2 + 1))  # over in bytes, not in chars
            await widget.say(session, "x" * limit)  # just within: handled
            await settled(lambda: len(rasa.handed) == 1)
            await asyncio.sleep(0.3)
            # Far over: engine.io closes the connection before anything is read.
            await widget.say(session, "x" * (5 * limit))
            await settled(lambda: not widget.client.connected)
            still_connected = widget.client.connected
            if still_connected:
                await widget.close()
            return [m.text or "" for m in rasa.handed], widget.texts, still_connected

    with caplog.at_level(logging.WARNING, logger="bot.channels.webchat"):
        handed, texts, still_connected = asyncio.run(scenario())
    assert [len(text) for text in handed] == [limit]
    assert texts == ["ok"]
    assert not still_connected
    assert caplog.text.count(f"over {limit} bytes") == 2


def test_the_client_address_is_the_connections_whatever_the_widget_says(
    quiet_settings: Settings,
) -> None:
    async def scenario() -> list[dict[str, Any]]:
        async with widget_channel(quiet_settings) as (url, rasa):
            direct = Widget()
            # Behind nginx: the client wrote a hop itself, nginx appended the real one.
            proxied = Widget(headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
            for widget, custom in (
                (direct, {"client_address": "6.6.6.6", "customer_token": "t"}),
                (proxied, {"client_address": "6.6.6.6"}),
            ):
                session = await widget.open(url, uuid.uuid4().hex)
                await widget.say(session, "hallo", custom)
                await settled(lambda w=widget: len(w.texts) == 1)  # type: ignore[misc]
                await widget.close()
            return [dict(message.metadata or {}) for message in rasa.handed]

    direct, proxied = asyncio.run(scenario())
    assert direct == {"client_address": "127.0.0.1", "customer_token": "t"}
    assert proxied == {"client_address": "203.0.113.7"}


class _Request:
    def __init__(self, ip: str) -> None:
        self.ip = ip


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("127.0.0.1", "", "127.0.0.1"),
        ("127.0.0.1", "198.51.100.4", "198.51.100.4"),
        ("127.0.0.1", "6.6.6.6, 198.51.100.4, 127.0.0.1", "198.51.100.4"),
        ("127.0.0.1", "6.6.6.6, not-an-address", "127.0.0.1"),
        ("::1", "2001:db8::1", "2001:db8::1"),
        # Not from a proxy on this machine: the header is the client's own say.
        ("198.51.100.9", "6.6.6.6", "198.51.100.9"),
    ],
)
def test_which_hop_is_the_client(peer: str, forwarded: str, expected: str) -> None:
    environ = {
        "sanic.request": _Request(peer),
        "REMOTE_ADDR": "127.0.0.1",  # what engine.io's Sanic driver always writes
        "HTTP_X_FORWARDED_FOR": forwarded,
    }
    assert client_address(environ) == expected
