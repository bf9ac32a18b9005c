"""The channel's receipt for a pushed warning: written once the platform took
it, and the reason a warning shown again after a lost turn is not sent twice."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import socketio
from aiohttp import ClientError
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.callback import CallbackOutput, endpoint_client
from bot.channels.platform_api import PlatformError
from bot.channels.receipts import (
    AGAIN_KEY,
    WARNING_KEY,
    ReceiptedOutput,
    WarningReceipts,
    use_receipts,
)
from bot.channels.socketio_once import DeliveredInMemory, OnceManager
from bot.channels.webchat import WebchatOutput
from bot.database import create_db_engine
from bot.memory.warnings import WarningRow
from tests.memory_reads import take
from tests.socketio_servers import EVENT, instance, settled, widget

NOW = datetime(2026, 1, 1, 12, 0)
ERIK = 1001
CHAT = "erik-chat"


class Platform(ReceiptedOutput, CollectingOutputChannel):
    """Rasa's collecting channel as the platform: what it took, it keeps."""


class SlowPlatform(ReceiptedOutput, CollectingOutputChannel):
    """Takes the message at once, answers a moment later."""

    async def _persist_message(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        await asyncio.sleep(0.3)


class RefusingPlatform(ReceiptedOutput, CollectingOutputChannel):
    async def _persist_message(self, message: dict[str, Any]) -> None:
        raise ClientError("platform answered 503")


@pytest.fixture
def shown(
    warned: tuple[sessionmaker[Session], int], any_database_url: str
) -> Iterator[tuple[sessionmaker[Session], int]]:
    """Erik's Gazelle warning, marked shown in his chat: the push under way."""
    shop, warning_id = warned
    assert take(shop, warning_id, ERIK, CHAT, NOW) is not None
    use_receipts(WarningReceipts(create_db_engine(any_database_url)))
    yield shop, warning_id
    use_receipts(None)


def warning_message(warning_id: int, again: bool) -> dict[str, Any]:
    return {
        "text": "Je Gazelle komt later, zodat je het van ons hoort.",
        "buttons": [{"title": "Ik wacht", "payload": "/wait"}],
        WARNING_KEY: warning_id,
        AGAIN_KEY: again,
    }


def received_at(shop: sessionmaker[Session], warning_id: int) -> datetime | None:
    with shop() as session:
        row = session.get(WarningRow, warning_id)
        assert row is not None
        return row.received_at


def test_a_pushed_warning_leaves_a_receipt_and_is_not_sent_again(
    shown: tuple[sessionmaker[Session], int],
) -> None:
    shop, warning_id = shown
    platform = Platform()
    asyncio.run(platform.send_response(CHAT, warning_message(warning_id, again=False)))
    assert [m["text"] for m in platform.messages] == [
        "Je Gazelle komt later, zodat je het van ons hoort."
    ]
    assert received_at(shop, warning_id) is not None
    # The instance died before saving the turn; the retry shows it again.
    asyncio.run(platform.send_response(CHAT, warning_message(warning_id, again=True)))
    assert len(platform.messages) == 1, "the receipt says it arrived: not sent twice"


def test_without_a_receipt_a_warning_shown_again_is_sent_again(
    shown: tuple[sessionmaker[Session], int],
) -> None:
    """Rasa dropped the turn without sending it: nothing arrived, so never lose it."""
    shop, warning_id = shown
    platform = Platform()
    asyncio.run(platform.send_response(CHAT, warning_message(warning_id, again=True)))
    assert len(platform.messages) == 1
    assert received_at(shop, warning_id) is not None


def test_a_receipt_counts_only_for_the_conversation_it_was_shown_in(
    shown: tuple[sessionmaker[Session], int],
) -> None:
    shop, warning_id = shown
    platform = Platform()
    asyncio.run(platform.send_response("someone-else", warning_message(warning_id, again=False)))
    assert received_at(shop, warning_id) is None
    asyncio.run(platform.send_response(CHAT, warning_message(warning_id, again=True)))
    assert len(platform.messages) == 2


def test_a_refused_push_leaves_no_receipt(shown: tuple[sessionmaker[Session], int]) -> None:
    shop, warning_id = shown
    with pytest.raises(ClientError):
        asyncio.run(
            RefusingPlatform().send_response(CHAT, warning_message(warning_id, again=False))
        )
    assert received_at(shop, warning_id) is None


def test_the_receipt_keys_never_reach_the_platform_and_other_messages_pass(
    shown: tuple[sessionmaker[Session], int],
) -> None:
    _, warning_id = shown
    platform = Platform()
    asyncio.run(platform.send_response(CHAT, {"text": "Hallo Erik"}))
    asyncio.run(platform.send_response(CHAT, warning_message(warning_id, again=False)))
    assert [m["text"] for m in platform.messages][0] == "Hallo Erik"
    assert all(WARNING_KEY not in m and AGAIN_KEY not in m for m in platform.messages)


def test_an_unreachable_database_sends_rather_than_loses(tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = create_db_engine(f"sqlite:///{tmp_path}/gone/x.db")
    (tmp_path / "gone").rmdir()
    use_receipts(WarningReceipts(broken))
    try:
        platform = Platform()
        asyncio.run(platform.send_response(CHAT, warning_message(7, again=True)))
        assert len(platform.messages) == 1
    finally:
        use_receipts(None)


class Endpoint:
    """A local HTTP endpoint answering every POST with `status`."""

    def __init__(self, status: int) -> None:
        self.bodies: list[bytes] = []
        self.headers: list[str | None] = []
        self.paths: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                endpoint.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.headers.append(self.headers.get("X-Shop-Key"))
                endpoint.paths.append(self.path)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/bot"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("status", [500, 404])
def test_the_callback_channel_raises_when_the_endpoint_refuses(
    shown: tuple[sessionmaker[Session], int], status: int
) -> None:
    """Rasa's own callback channel logs a refusal and carries on: the warning
    would count as delivered. Ours raises, so the notifier tries again."""
    shop, warning_id = shown
    endpoint = Endpoint(status)
    try:
        config = EndpointConfig(endpoint.url)
        output = CallbackOutput(config, endpoint_client(config))

        async def push() -> None:
            try:
                await output.send_response(CHAT, warning_message(warning_id, again=False))
            finally:
                await output.client.close()

        with pytest.raises(PlatformError):
            asyncio.run(push())
        assert len(endpoint.bodies) == 1
        assert received_at(shop, warning_id) is None
    finally:
        endpoint.close()


def test_the_callback_channel_delivers_with_a_receipt(
    shown: tuple[sessionmaker[Session], int],
) -> None:
    shop, warning_id = shown
    endpoint = Endpoint(200)
    try:
        config = EndpointConfig(endpoint.url, headers={"X-Shop-Key": "k1"})
        output = CallbackOutput(config, endpoint_client(config))

        async def push_twice() -> None:
            await output.send_response(CHAT, warning_message(warning_id, again=False))
            await output.send_response(CHAT, warning_message(warning_id, again=True))
            await output.client.close()

        asyncio.run(push_twice())
        assert len(endpoint.bodies) == 1 and endpoint.headers == ["k1"]
        assert endpoint.paths == ["/bot"]
        assert b"warning_id" not in endpoint.bodies[0]
        assert received_at(shop, warning_id) is not None
    finally:
        endpoint.close()


def test_a_push_cut_off_after_the_platform_took_it_still_leaves_a_receipt(
    shown: tuple[sessionmaker[Session], int],
) -> None:
    """The notifier gave up waiting, Rasa cancelled the turn while the platform
    answered: the retry must find the receipt."""
    shop, warning_id = shown
    platform = SlowPlatform()

    async def cut_off() -> None:
        push = asyncio.create_task(
            platform.send_response(CHAT, warning_message(warning_id, again=False))
        )
        await asyncio.sleep(0.1)
        push.cancel()
        with pytest.raises(asyncio.CancelledError):
            await push
        await asyncio.sleep(0.6)

    asyncio.run(cut_off())
    assert len(platform.messages) == 1
    assert received_at(shop, warning_id) is not None


def lose_the_receipt(shop: sessionmaker[Session], warning_id: int) -> None:
    """What a SIGKILL between the platform's answer and the receipt leaves."""
    with shop.begin() as session:
        session.execute(
            update(WarningRow).where(WarningRow.id == warning_id).values(received_at=None)
        )


def test_every_copy_of_a_warning_carries_the_same_message_id_to_the_endpoint(
    shown: tuple[sessionmaker[Session], int],
) -> None:
    """The shop's endpoint can drop the second copy a lost receipt lets through."""
    shop, warning_id = shown
    endpoint = Endpoint(200)
    try:
        config = EndpointConfig(endpoint.url)
        output = CallbackOutput(config, endpoint_client(config))
        in_two_parts = {**warning_message(warning_id, again=False), "buttons": None}
        in_two_parts["text"] = "Je Gazelle komt later.\n\nZodat je het van ons hoort."

        async def push_lose_push() -> None:
            await output.send_response(CHAT, {"text": "Hallo Erik"})
            await output.send_response(CHAT, dict(in_two_parts))
            lose_the_receipt(shop, warning_id)
            await output.send_response(CHAT, {**in_two_parts, AGAIN_KEY: True})
            await output.send_response(CHAT, {"text": "Hallo Erik"})
            await output.client.close()

        asyncio.run(push_lose_push())
        ids = [json.loads(body)["message_id"] for body in endpoint.bodies]
        first, second = f"warning-{warning_id}.1", f"warning-{warning_id}.2"
        assert ids[1:5] == [first, second, first, second]
        assert len(ids[0]) == len(ids[5]) == 32 and ids[0] != ids[5], "others: ids of their own"
    finally:
        endpoint.close()


def test_the_widget_shows_a_warning_once_when_its_receipt_was_lost(
    shown: tuple[sessionmaker[Session], int],
) -> None:
    """Sent, receipt lost, retried: the socket.io server drops the copy, and a
    plain one (Rasa's own client manager) would have shown it twice."""
    shop, warning_id = shown

    async def push_lose_push(manager: Callable[[], socketio.AsyncManager]) -> list[Any]:
        async with instance(manager, room=CHAT) as sio, widget(sio.url) as received:
            output = WebchatOutput(sio, EVENT)
            await output.send_response(CHAT, warning_message(warning_id, again=False))
            lose_the_receipt(shop, warning_id)
            await output.send_response(CHAT, warning_message(warning_id, again=True))
            await settled(lambda: len(received) == 2)
            await asyncio.sleep(0.3)
            return received

    once = asyncio.run(push_lose_push(lambda: OnceManager(DeliveredInMemory())))
    assert len(once) == 1
    # As Rasa's socket.io channel sends it: rasa-webchat renders a text with
    # buttons only when there are no other keys (an id left on shows nothing).
    assert set(once[0]) == {"text", "quick_replies"}
    assert "zodat je het van ons hoort" in once[0]["text"]
    assert received_at(shop, warning_id) is not None
    lose_the_receipt(shop, warning_id)
    assert len(asyncio.run(push_lose_push(socketio.AsyncManager))) == 2
