"""Outages a test can switch: a TCP proxy in front of PostgreSQL that is cut
and restored, and a stand-in for Rasa's HTTP API that answers or fails.

The proxy is the database going away as a client sees it: connections in use
are dropped, new ones refused, until it is restored on the same port. The
stand-in answers what the notifier asks of Rasa (trigger_intent, the widget's
presence, execute) and records each push it took.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy.engine import make_url

from bot.processes import free_port


class CuttableProxy:
    """127.0.0.1:<port> forwarding to `target_host`:`target_port`; `cut()` takes
    the database away, `restore()` brings it back."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._open = threading.Event()

    def url_for(self, database_url: str) -> str:
        """`database_url` (its user, database and options) through this proxy."""
        url = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)

    def restore(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        self._open.set()
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    start = restore

    def cut(self) -> None:
        """Refuse new connections and drop every one in use."""
        self._open.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            dropped, self._sockets = self._sockets, set()
        for sock in dropped:
            _close(sock)

    stop = cut

    def _accept(self, listener: socket.socket) -> None:
        while self._open.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self._lock:
                if not self._open.is_set():
                    _close(client)
                    _close(upstream)
                    return
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class RasaStandIn:
    """Rasa's HTTP API as the notifier uses it. `up` False: every call gets 503.
    `on_push` runs before a taken push is answered (to cut the database then)."""

    def __init__(self) -> None:
        self.up = True
        self.on_push: Callable[[], None] | None = None
        self.taken: list[dict[str, Any]] = []  # pushes answered 200, in order
        self.refused = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> RasaStandIn:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def pushes_of(self, warning_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return [push for push in self.taken if push["warning_id"] == warning_id]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if not standin.up:
                    self._answer(503, {})
                    return
                self._answer(200, {"connected": False})

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not standin.up:
                    with standin._lock:
                        standin.refused += 1
                    self._answer(503, {})
                    return
                parts = urlsplit(self.path)
                if parts.path.endswith("/trigger_intent"):
                    sender = unquote(parts.path.split("/")[2])
                    entities = body.get("entities") or {}
                    push = {
                        "sender": sender,
                        "channel": parse_qs(parts.query).get("output_channel", [""])[0],
                        "warning_id": int(entities.get("warning_id", 0)),
                    }
                    if standin.on_push is not None:
                        standin.on_push()
                    with standin._lock:
                        standin.taken.append(push)
                self._answer(200, {})

        return Handler
