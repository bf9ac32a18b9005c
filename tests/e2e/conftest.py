"""A real Rasa server and action server (`python -m bot run`) on free ports,
with a fresh demo database, for the end-to-end tests.

A module's assistant reads the demo shop's tables (ORDER_SYSTEM=sql), or, when
the module asks for it (`order_system` fixture with params), a separate test
shop behind the REST adapter (ORDER_SYSTEM=http): its own database, served
over HTTP by tests/integration/order_api_server.py. Then the shop moves its
own orders and reports each change to the intake API, as a real shop would."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import shop_today, utcnow
from bot.database import create_db_engine, make_session_factory
from bot.memory.changes import OrderEventRow
from bot.orders.sql.tables import OrderRow
from bot.proactive.intake import apply_supplier_delay
from bot.processes import free_port, wait_until_ready
from bot.settings import PROJECT_ROOT
from bot.web.requests import SupplierDelayBody
from tests.conftest import _seeded
from tests.integration.order_api_server import OrderApiServer

MODEL = PROJECT_ROOT / "models" / "order-assistant.tar.gz"
SHOP_SECRET = "e2e-shop-secret-at-least-32-bytes-long"
RASA_TOKEN = "e2e-rasa-token"
ORDER_API_TOKEN = "e2e-order-api-token"
SHOP_API_KEY = "e2e-separate-shop-api-key"


@dataclass
class ShopReport:
    """A separate shop's report of the orders it moved, in the intake API's
    answer's shape (so a test reads both order systems' answers alike)."""

    status_code: int
    body: dict[str, Any]

    @property
    def text(self) -> str:
        return json.dumps(self.body)

    def json(self) -> dict[str, Any]:
        return self.body


@dataclass
class SeparateShop:
    """A shop with its own order system and database, behind the REST adapter."""

    api: OrderApiServer
    sessions: sessionmaker[Session]

    def move_orders(self, web_url: str, body: dict[str, Any]) -> ShopReport:
        """The shop applies a supplier delay in its own system, then tells the
        assistant each order's change (POST /api/v1/orders/{id}/events)."""
        result = apply_supplier_delay(self.sessions, SupplierDelayBody(**body).to_delay(), utcnow())
        warning_ids: list[int] = []
        with self.sessions() as session:
            events = [session.get(OrderEventRow, event_id) for event_id in result.event_ids]
        for event in events:
            assert event is not None
            response = requests.post(
                f"{web_url}/api/v1/orders/{event.order_id}/events",
                json={
                    "field": event.field,
                    "old_value": event.old_value,
                    "new_value": event.new_value,
                    "reason_code": event.reason_code,
                    "reason": event.reason_text,
                    "party_type": event.party_type,
                    "party_name": event.party_name,
                },
                headers={"Authorization": f"Bearer {ORDER_API_TOKEN}"},
                timeout=30,
            )
            if response.status_code != 202:
                return ShopReport(response.status_code, {"error": response.text})
            warning_ids += response.json()["warning_ids"]
        body = {"order_ids": result.order_ids, "warning_ids": warning_ids}
        return ShopReport(202, {**body, "warnings_queued": len(warning_ids)})

    def order_status(self, order_id: int) -> str:
        with self.sessions() as session:
            return str(session.get(OrderRow, order_id).status)  # type: ignore[union-attr]


@dataclass
class RunningAssistant:
    process: subprocess.Popen[bytes]
    rasa_url: str
    web_url: str
    log_path: Path
    env: dict[str, str]
    shop: SeparateShop | None = None  # None: the demo shop in the assistant's database

    def say(
        self, sender: str, message: str, token: str | None = None, timeout: float = 30
    ) -> list[str]:
        body: dict[str, object] = {"sender": sender, "message": message}
        if token is not None:
            body["metadata"] = {"customer_token": token}
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=timeout
        )
        response.raise_for_status()
        return [item.get("text", "") for item in response.json()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def order_status(self, order_id: int) -> str:
        """The order's status in the shop that holds it."""
        if self.shop is not None:
            return self.shop.order_status(order_id)
        path = self.env["DATABASE_URL"].removeprefix("sqlite:///")
        with sqlite3.connect(path) as db:
            row = db.execute("select status from orders where id = ?", (order_id,)).fetchone()
        return str(row[0])

    def report_delay(self, body: dict[str, Any]) -> requests.Response | ShopReport:
        """A supplier delay: the demo shop takes it through the intake API; a
        separate shop moves its orders itself and reports each one's change."""
        if self.shop is not None:
            return self.shop.move_orders(self.web_url, body)
        return requests.post(
            f"{self.web_url}/api/v1/supplier-delays",
            json=body,
            headers={"Authorization": f"Bearer {ORDER_API_TOKEN}"},
            timeout=30,
        )


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    if not wait_until_ready(url, process, timeout=240):
        raise RuntimeError(f"assistant not ready:\n{log_path.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def order_system() -> str:
    """The order system a module's assistant reads: "sql" (the demo shop) or
    "http" (a separate shop behind the REST adapter). A module that runs
    against both overrides this fixture with params=["sql", "http"]."""
    return "sql"


@pytest.fixture(scope="module")
def assistant_env() -> dict[str, str]:
    """Extra environment for a module's assistant (a module overrides it, for
    example to set up a messaging channel)."""
    return {}


# One per test module: each module starts from the fresh demo shop (the
# proactive tests move and cancel the orders the conversation tests ask about).
@pytest.fixture(scope="module")
def assistant(
    tmp_path_factory: pytest.TempPathFactory, assistant_env: dict[str, str], order_system: str
) -> Iterator[RunningAssistant]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run 'make train'", pytrace=False)
    folder = tmp_path_factory.mktemp("e2e")
    rasa_port, action_port, web_port = free_port(), free_port(), free_port()
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'shop.db'}",
            "ORDER_SYSTEM": "sql",
            # The demo shop's site and seed; its secrets as set here.
            "DEMO_SHOP": "true",
            "SHOP_TOKEN_SECRET": SHOP_SECRET,
            "RASA_TOKEN": RASA_TOKEN,
            "RASA_PORT": str(rasa_port),
            "ACTION_PORT": str(action_port),
            "WEB_PORT": str(web_port),
            "ORDER_API_TOKEN": ORDER_API_TOKEN,
            # Warnings go out at any hour in tests: no quiet hours.
            "QUIET_HOURS_START": "0",
            "QUIET_HOURS_END": "0",
            "NOTIFIER_POLL_SECONDS": "0.2",
            "PYTHONPATH": str(PROJECT_ROOT),
            **assistant_env,
        }
    )
    shop: SeparateShop | None = None
    if order_system == "http":
        shop_url = f"sqlite:///{folder / 'the-shop.db'}"
        api = OrderApiServer(_seeded(shop_url, shop_today("Europe/Amsterdam")), SHOP_API_KEY)
        api.__enter__()
        shop = SeparateShop(api, make_session_factory(create_db_engine(shop_url)))
        env.update(
            {"ORDER_SYSTEM": "http", "ORDER_API_URL": api.url, "ORDER_API_KEY": SHOP_API_KEY}
        )
    subprocess.run(
        [sys.executable, "-m", "bot", "seed"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    log_path = folder / "assistant.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--model", str(MODEL)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = RunningAssistant(
        process,
        f"http://127.0.0.1:{rasa_port}",
        f"http://127.0.0.1:{web_port}",
        log_path,
        env,
        shop,
    )
    try:
        _wait_ready(f"{running.rasa_url}/", process, log_path)
        _wait_ready(f"http://127.0.0.1:{action_port}/health", process, log_path)
        _wait_ready(f"{running.web_url}/health", process, log_path)
        yield running
    finally:
        stopped_cleanly = False
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                stopped_cleanly = process.wait(timeout=30) == 0
            except subprocess.TimeoutExpired:
                process.kill()
        if shop is not None:
            shop.api.__exit__()
    # `make run` must stop both servers on SIGTERM, leaving their ports free.
    assert stopped_cleanly, f"did not stop cleanly on SIGTERM:\n{log_path.read_text()[-3000:]}"
    for port in (rasa_port, action_port, web_port):
        with socket.socket() as sock:
            # REUSEADDR ignores closed connections in TIME_WAIT, not a listener.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
