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
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.presence import PresenceUnavailable, RedisPresence
from bot.channels.receipts import ReceiptedOutput
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

        async def on_session_request(sid: str, data: dict[str, Any] | None) -> None:
            data = {} if data is None else data  # Rasa fills in a new session id here
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


def _requeue_unread(session_id: str) -> None:
    try:
        queued = requeue_unread(shop_engine(), "socketio", session_id, utcnow())
    except SQLAlchemyError as error:
        # The warnings stay unread: shown at the customer's next message.
        logger.warning("unread warnings not queued again: %s", type(error).__name__)
        return
    if queued:
        logger.info("a widget opened again: %d unread warnings queued", queued)
