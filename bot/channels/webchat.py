"""The chat widget's socket.io channel, with two additions: the notifier can
ask whether a conversation has a widget open right now, and several Rasa
instances can share one socket.io message queue.

A push to a socket.io conversation nobody is connected to goes nowhere (the
widget does not fetch missed messages), so the notifier asks first and leaves
the warning unread for the next visit instead. Answers only to `Authorization: Bearer RASA_TOKEN`.

Several instances (`SOCKETIO_MESSAGE_QUEUE=redis://...`): a widget is connected
to one instance, and a warning may be pushed through another. Every instance's
socket.io server then uses python-socketio's Redis client manager, so an emit
on any instance reaches the widget wherever it is connected, once (each
instance delivers to its own sockets only). Rasa's socket.io server takes no
client manager, so the one it builds is given ours before any client connects.
Whether a widget is open is then kept in Redis too (bot/channels/presence.py),
so that every instance answers for the whole cluster.

A conversation that connects again puts its customer's unread warnings back in
the notifier's queue (bot/proactive/revisit.py): news that came while the
widget was closed is pushed as soon as it is open, before the customer asks.

A pushed warning's messages carry their id (`message_id`, bot/channels/receipts.py)
and the client manager delivers each id to a conversation once
(bot/channels/socketio_once.py), on one instance or several.

What a widget may not do, because socket.io is a public entry:
- choose another channel's conversation: Rasa keeps one conversation per
  sender id whatever the channel, and the widget names its own session id. An
  id that is not a plain token (every platform's has a ':', such as
  `telegram:987654321`) gets a fresh session id in `session_request`, and a
  message that claims one is dropped (bot/channels/addresses.py);
- send a message over MAX_MESSAGE_BYTES: dropped before Rasa; engine.io
  closes a connection whose packet is over a few times that;
- say where it comes from: the metadata's `client_address` is always the
  address the connection came from (behind nginx on this machine the hop it
  added to X-Forwarded-For), for counting failed verifications per client.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.client_address import CLIENT_ADDRESS_KEY
from bot.channels.client_address import client_address as address_of_client
from bot.channels.presence import PresenceUnavailable, RedisPresence
from bot.channels.receipts import ReceiptedOutput
from bot.channels.redis_url import check_redis
from bot.channels.shop_db import shop_engine
from bot.channels.socketio_once import (
    MESSAGE_ID,
    DeliveredInMemory,
    DeliveredInRedis,
    OnceManager,
    OnceRedisManager,
    use_manager,
)
from bot.clock import utcnow
from bot.proactive.revisit import requeue_unread
from bot.settings import load_settings
from bot.web.auth import bearer_matches

logger = logging.getLogger(__name__)

# rasa-webchat's session ids are uuid hex; Rasa makes the same. Nothing with a
# ':' (every messaging platform's sender id has one), no spaces, not overlong.
_WIDGET_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
# engine.io closes a connection whose packet is over this many times the
# message limit (the text may be JSON-escaped, and the metadata comes along).
PACKET_FACTOR = 4


def is_widget_session_id(session_id: object) -> bool:
    """Whether a widget may use this session id as its conversation's sender id."""
    return isinstance(session_id, str) and bool(_WIDGET_SESSION_ID.fullmatch(session_id))


def client_address(environ: dict[str, Any] | None) -> str | None:
    """The address a socket.io connection came from (bot/channels/client_address.py)."""
    if not environ:
        return None
    request = environ.get("sanic.request")
    # engine.io's Sanic driver writes REMOTE_ADDR 127.0.0.1 whoever connects.
    peer = str(request.ip) if request is not None else str(environ.get("REMOTE_ADDR") or "")
    forwarded = str(environ.get("HTTP_X_FORWARDED_FOR") or "")
    return address_of_client(peer, forwarded) or None


class WebchatOutput(ReceiptedOutput, SocketIOOutput):
    """Rasa's socket.io output, with receipts and message ids for pushed warnings."""

    async def _send_message(self, socket_id: str, response: Any) -> None:
        message_id = self.message_id()
        if message_id is not None:
            response = {**response, MESSAGE_ID: message_id}
        await super()._send_message(socket_id, response)


class WebchatInput(SocketIOInput):
    """`socketio` as Rasa ships it, plus GET /webhooks/socketio/presence/<session_id>
    and, when configured, a message queue shared by every instance."""

    presence: RedisPresence | None = None

    def is_connected_here(self, session_id: str) -> bool:
        """A widget on this instance's own socket.io server (one instance only)."""
        if self.sio is None:
            return False
        rooms = self.sio.manager.rooms.get(self.namespace or "/", {})
        return session_id in rooms and bool(rooms[session_id])

    async def is_connected(self, session_id: str) -> bool:
        if self.presence is not None:
            return await self.presence.is_connected(session_id)
        return self.is_connected_here(session_id)

    def get_output_channel(self) -> OutputChannel | None:
        # What pushes (trigger_intent) go through; a reply to the customer's own
        # message goes back with the message instead.
        if self.sio is None:
            return super().get_output_channel()
        return WebchatOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        settings = load_settings()
        expected = settings.rasa_token
        queue, prefix = settings.socketio_message_queue, settings.redis_key_prefix
        if self.sio is not None:
            self.sio.eio.max_http_buffer_size = PACKET_FACTOR * settings.max_message_bytes
            self._guard_messages(self.sio, settings.max_message_bytes)
        if self.sio is not None and queue:
            check_redis(queue, "SOCKETIO_MESSAGE_QUEUE")  # a refused password stops the start
            delivered = DeliveredInRedis(queue, prefix)
            use_manager(self.sio, OnceRedisManager(queue, f"{prefix}:socketio", delivered))
            self.presence = RedisPresence(queue, prefix, settings.presence_ttl_seconds)
        elif self.sio is not None:
            use_manager(self.sio, OnceManager(DeliveredInMemory()))
        if self.sio is not None:
            self._watch_sessions(self.sio, self.presence)

        @webhook.route("/presence/<session_id>", methods=["GET"])
        async def presence(request: Request, session_id: str) -> HTTPResponse:
            if not bearer_matches(request, expected):
                return response.json({"error": "unauthorized"}, status=401)
            try:
                connected = await self.is_connected(session_id)
            except PresenceUnavailable as error:
                # The notifier retries later rather than guess.
                return response.json({"error": f"presence unknown ({error})"}, status=503)
            return response.json({"connected": connected})

        return webhook

    def _watch_sessions(self, sio: socketio.AsyncServer, presence: RedisPresence | None) -> None:
        """Wrap Rasa's session_request (and disconnect) handlers: a conversation
        that connects sends its customer's unread warnings out again, and with
        several instances the presence records are kept."""
        namespace = self.namespace or "/"
        handlers = sio.handlers[namespace]
        session_request, disconnect = handlers["session_request"], handlers["disconnect"]

        async def on_session_request(sid: str, data: Any) -> None:
            data = data if isinstance(data, dict) else {}  # Rasa fills in a new session id here
            if data.get("session_id") is not None and not is_widget_session_id(data["session_id"]):
                # Perhaps another channel's conversation: this widget gets a new one.
                logger.warning("a widget asked for a session id it may not use: given a new one")
                data["session_id"] = uuid.uuid4().hex
            await session_request(sid, data)
            session_id = data.get("session_id") if self.session_persistence else None
            if not session_id:
                return
            if presence is not None:
                await presence.join(str(session_id), sid)
            await asyncio.to_thread(_requeue_unread, str(session_id))

        sio.on("session_request", handler=on_session_request, namespace=self.namespace)
        if presence is None:
            return

        async def on_disconnect(sid: str) -> None:
            await presence.leave(sid)
            await disconnect(sid)

        sio.on("disconnect", handler=on_disconnect, namespace=self.namespace)

    def _guard_messages(self, sio: socketio.AsyncServer, max_bytes: int) -> None:
        """Wrap Rasa's handler of the widget's messages: nothing with a session
        id a widget may not use, nothing over `max_bytes`, and `client_address`
        in the metadata is the connection's, whatever the widget sent."""
        namespace = self.namespace or "/"
        handle_message = sio.handlers[namespace][self.user_message_evt]
        metadata_key = self.metadata_key or "metadata"

        async def on_user_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                logger.warning("a widget message that is not an object was dropped")
                return
            if self.session_persistence and not is_widget_session_id(data.get("session_id")):
                logger.warning("a widget message with a session id it may not use was dropped")
                return
            text = data.get("message")
            if text is None:
                text = ""
            if not isinstance(text, str) or len(text.encode("utf-8")) > max_bytes:
                logger.warning(
                    "a widget message over %d bytes (or not text) was dropped", max_bytes
                )
                return
            metadata = _metadata(data.get(metadata_key))
            metadata[CLIENT_ADDRESS_KEY] = client_address(sio.get_environ(sid, namespace))
            await handle_message(sid, {**data, "message": text, metadata_key: metadata})

        sio.on(self.user_message_evt, handler=on_user_message, namespace=self.namespace)


def _metadata(value: Any) -> dict[str, Any]:
    """The widget's metadata as a dict (Rasa also takes it as a JSON string)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dict(value) if isinstance(value, dict) else {}


def _requeue_unread(session_id: str) -> None:
    try:
        queued = requeue_unread(shop_engine(), "socketio", session_id, utcnow())
    except SQLAlchemyError as error:
        # The warnings stay unread: shown at the customer's next message.
        logger.warning("unread warnings not queued again: %s", type(error).__name__)
        return
    if queued:
        logger.info("a widget opened again: %d unread warnings queued", queued)
