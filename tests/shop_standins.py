"""Stand-ins for the shop platforms' APIs, served over real HTTP on 127.0.0.1,
answering their documented shapes and checking their authentication."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class WooCommerceStore:
    """A WooCommerce REST API v3 on 127.0.0.1: orders, notes, paging, basic auth
    (the documented shapes; tests/fixtures/sources/woocommerce/README.md)."""

    def __init__(self, consumer_key: str, consumer_secret: str) -> None:
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.orders: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.failures_left = 0  # answer 500 this many times first
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> WooCommerceStore:
        self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        store = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                url = urlsplit(self.path)
                store.requests.append((url.path, parse_qs(url.query)))
                if store.failures_left > 0:
                    store.failures_left -= 1
                    return self.answer(500, {"code": "internal_server_error"})
                if not self.authorized():
                    return self.answer(
                        401,
                        {
                            "code": "woocommerce_rest_cannot_view",
                            "message": "Sorry, you cannot list resources.",
                            "data": {"status": 401},
                        },
                    )
                store.route(self, url.path, parse_qs(url.query))

            def authorized(self) -> bool:
                token = base64.b64encode(
                    f"{store.consumer_key}:{store.consumer_secret}".encode()
                ).decode()
                return self.headers.get("Authorization") == f"Basic {token}"

            def answer(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def route(self, handler: Any, path: str, query: dict[str, list[str]]) -> None:
        parts = path.removeprefix("/wp-json/wc/v3/").strip("/").split("/")
        not_found = {
            "code": "woocommerce_rest_shop_order_invalid_id",
            "message": "Invalid ID.",
            "data": {"status": 404},
        }
        if parts == ["orders"]:
            return self.list_orders(handler, query)
        if len(parts) in (2, 3) and parts[0] == "orders" and int(parts[1]) in self.orders:
            order_id = int(parts[1])
            if len(parts) == 2:
                return handler.answer(200, self.orders[order_id])
            if parts[2] == "notes":
                return handler.answer(200, self.notes.get(order_id, []))
        return handler.answer(404, not_found)

    def list_orders(self, handler: Any, query: dict[str, list[str]]) -> None:
        after = query["modified_after"][0]
        assert query["dates_are_gmt"] == ["true"]
        per_page, page = int(query["per_page"][0]), int(query.get("page", ["1"])[0])
        changed = [o for o in self.orders.values() if o["date_modified_gmt"] > after]
        pages = max(1, -(-len(changed) // per_page))
        chunk = changed[(page - 1) * per_page : page * per_page]
        handler.answer(200, chunk, {"X-WP-Total": str(len(changed)), "X-WP-TotalPages": str(pages)})
