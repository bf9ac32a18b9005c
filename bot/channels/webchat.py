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

A pushed warning's messages carry their id (`message_id`, bot/channels/receipts.py)
and the client manager delivers each id to a conversation once
(bot/channels/socketio_once.py), on one instance or several.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.presence import PresenceUnavailable, RedisPresence
from bot.channels.receipts import ReceiptedOutput
from bot.channels.socketio_once import (
    MESSAGE_ID,
    DeliveredInMemory,
    DeliveredInRedis,
    OnceManager,
    OnceRedisManager,
    use_manager,
)
from bot.settings import load_settings
from bot.web.auth import bearer_matches

logger = logging.getLogger(__name__)


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
        if self.sio is not None and queue:
            delivered = DeliveredInRedis(queue, prefix)
            use_manager(self.sio, OnceRedisManager(queue, f"{prefix}:socketio", delivered))
            self.presence = RedisPresence(queue, prefix, settings.presence_ttl_seconds)
            self._record_presence(self.sio, self.presence)
        elif self.sio is not None:
            use_manager(self.sio, OnceManager(DeliveredInMemory()))

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

    def _record_presence(self, sio: socketio.AsyncServer, presence: RedisPresence) -> None:
        """Wrap Rasa's session_request and disconnect handlers to keep the records."""
        namespace = self.namespace or "/"
        handlers = sio.handlers[namespace]
        session_request, disconnect = handlers["session_request"], handlers["disconnect"]

        async def on_session_request(sid: str, data: dict[str, Any] | None) -> None:
            data = {} if data is None else data  # Rasa fills in a new session id here
            await session_request(sid, data)
            if self.session_persistence and data.get("session_id"):
                await presence.join(str(data["session_id"]), sid)

        async def on_disconnect(sid: str) -> None:
            await presence.leave(sid)
            await disconnect(sid)

        sio.on("session_request", handler=on_session_request, namespace=self.namespace)
        sio.on("disconnect", handler=on_disconnect, namespace=self.namespace)
