"""Real socket.io servers and widgets for tests: one instance's server on a
free port (a client that connects joins one room, as Rasa's session_request
does), and a client that keeps what it receives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import socketio
from aiohttp import web

from bot.channels.socketio_once import use_manager
from bot.processes import free_port

ROOM = "erik-session"
EVENT = "bot_uttered"


@asynccontextmanager
async def instance(
    make_manager: Callable[[], socketio.AsyncManager], room: str = ROOM
) -> AsyncIterator[Any]:
    """One instance's socket.io server on a free port; a client that connects joins `room`."""
    sio = socketio.AsyncServer(async_mode="aiohttp")
    use_manager(sio, make_manager())

    @sio.event
    async def connect(sid: str, _environ: Any) -> None:
        sio.enter_room(sid, room)

    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    sio.url = f"http://127.0.0.1:{port}"
    try:
        yield sio
    finally:
        await runner.cleanup()


@asynccontextmanager
async def widget(url: str) -> AsyncIterator[list[dict[str, Any]]]:
    client = socketio.AsyncClient()
    received: list[dict[str, Any]] = []

    @client.on(EVENT)
    async def on_message(data: dict[str, Any]) -> None:
        received.append(data)

    await client.connect(url, transports=["websocket"])
    await asyncio.sleep(0.2)  # in the room on the server's side
    try:
        yield received
    finally:
        await client.disconnect()


async def settled(condition: Callable[[], bool], seconds: float = 3.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
