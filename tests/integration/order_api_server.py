"""A local order REST API for the HTTP adapter's tests.

It serves the contract in bot/orders/http_system.py from a real SQL order
system, and can be told to fail: answer 503 for the next N requests, stall
longer than the client's timeout, or send garbage.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.orders.serialization import customer_to_json, order_to_json
from bot.orders.sql.system import SqlOrderSystem


class Faults:
    def __init__(self) -> None:
        self.fail_next = 0
        self.fail_status = 503
        self.stall_seconds = 0.0
        self.garbage = False
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def take_failure(self) -> bool:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return True
            return False


class OrderApiServer:
    def __init__(self, orders: SqlOrderSystem, api_key: str = "test-api-key") -> None:
        self.orders = orders
        self.api_key = api_key
        self.faults = Faults()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> OrderApiServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _send(self, status: int, body: Any = None) -> None:
                payload = b"" if body is None else json.dumps(body).encode()
                if api.faults.garbage:
                    payload = b"<html>oops</html>"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _guard(self) -> bool:
                api.faults.requests.append(f"{self.command} {self.path}")
                if api.faults.stall_seconds:
                    time.sleep(api.faults.stall_seconds)
                if api.faults.take_failure():
                    self._send(api.faults.fail_status, {"error": "injected"})
                    return False
                if self.headers.get("Authorization") != f"Bearer {api.api_key}":
                    self._send(401, {"error": "unauthorized"})
                    return False
                return True

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if not self._guard():
                    return
                if match := re.fullmatch(r"/customers/(\d+)/orders", self.path):
                    orders = api.orders.orders_for_customer(int(match.group(1)))
                    self._send(200, [order_to_json(order) for order in orders])
                elif match := re.fullmatch(r"/customers/(\d+)", self.path):
                    customer = api.orders.get_customer(int(match.group(1)))
                    self._send(200, customer_to_json(customer)) if customer else self._send(404)
                elif match := re.fullmatch(r"/orders/(\d+)", self.path):
                    order = api.orders.get_order(int(match.group(1)))
                    self._send(200, order_to_json(order)) if order else self._send(404)
                else:
                    self._send(404)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                if not self._guard():
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if match := re.fullmatch(r"/orders/(\d+)/verify", self.path):
                    ok = api.orders.verify_order(
                        int(match.group(1)), body.get("postcode"), body.get("email")
                    )
                    self._send(200, {"match": ok})
                elif match := re.fullmatch(r"/orders/(\d+)/cancel", self.path):
                    done = api.orders.cancel_order(int(match.group(1)), str(body["reason"]))
                    self._send(200, {"cancelled": done})
                elif self.path == "/follow-up-requests":
                    request_id = api.orders.request_follow_up(
                        int(body["order_id"]),
                        int(body["customer_id"]),
                        str(body["topic"]),
                        body.get("event_id"),
                    )
                    self._send(201, {"id": request_id})
                else:
                    self._send(404)

        return Handler
